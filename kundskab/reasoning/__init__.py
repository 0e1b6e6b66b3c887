"""The reasoning: from a case to an answer (sources -> knowledge base -> rules -> answers).

- `cases`: a case (reference, age, factors true/false/unknown, ...) read strictly
- `rules`: the rules as data (rules/*.yaml), checked, cached, and a reference evaluator
- `engine`: durable-rules' C engine behind an interface of our own
- `ranking`: which catalogue interventions fit a case, and in what order
- `whatif`: the rules as bit masks: which unknown factor would change the answer
- `recommendation`: `recommend` and `Recommender`: tier, fora and interventions, explained
- `lint`: `kundskab rules lint`, the rules as a graph (networkx)
"""
