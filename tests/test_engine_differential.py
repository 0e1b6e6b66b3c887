"""The engine gives the reference evaluator's answer for every case, under load.

Before the engine drove durable-rules without its background threads, this found wrong
answers within seconds: durable's timer threads ran actions of the case being reasoned
over: at this size that engine gave 4 to 7 mismatches a run (three seeds tried), engine
errors among them. The long version is benchmarks/bench_engine_differential.py.
"""

from __future__ import annotations

from kundskab.reasoning.rules import RuleSet
from tests.differential import run_all


def test_engine_agrees_with_the_reference_in_threads_and_processes(ruleset: RuleSet, recommender) -> None:  # type: ignore[no-untyped-def]
    tally = run_all(ruleset, recommender, cases=1000, threads=4, processes=2)
    # Each of 3 processes: 4 engine threads and 1 recommender thread over 1000 cases.
    assert tally.compared == 3 * 5 * 1000
    assert tally.mismatches == []
