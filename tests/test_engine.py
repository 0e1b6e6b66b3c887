"""The durable-rules engine behind our interface: isolation, clean-up, surfaced errors,
and no thread but the caller's."""

from __future__ import annotations

import subprocess
import sys

import durable_rules_engine
import pytest

from kundskab import EngineError
from kundskab.reasoning.engine import RulesEngine
from kundskab.reasoning.rules import Facts, RuleSet

CASES = [
    Facts(15, frozenset({"truancy"})),
    Facts(16, frozenset({"offence-committed", "charged-above-fine-level"})),
    Facts(30, frozenset({"released-from-custody"})),
    Facts(4, frozenset({"family-problems"})),
    Facts(None, frozenset()),
    Facts(19, frozenset({"radicalisation-signs"}), frozenset({"truancy"})),
    # Fires rules that join two facts (the RUG committee, § 115 for an offence with signs).
    Facts(15, frozenset({"street-group", "gang-proximity", "offence-committed", "truancy"})),
]


def _summary(engine: RulesEngine, facts: Facts) -> tuple[object, ...]:
    d = engine.run(facts)
    return d.tier, {k: sorted(v) for k, v in d.conclusions.items()}, sorted(f.rule.id for f in d.firings)


def test_interleaved_cases_do_not_leak(ruleset: RuleSet) -> None:
    alone = [_summary(RulesEngine(ruleset), facts) for facts in CASES]
    shared = RulesEngine(ruleset)
    # The same cases, interleaved and repeated in one engine, give the same answers.
    order = [0, 1, 0, 2, 3, 1, 4, 5, 2, 0, 5, 3, 4]
    for index in order:
        assert _summary(shared, CASES[index]) == alone[index]


def test_the_state_is_empty_after_each_case(ruleset: RuleSet) -> None:
    engine = RulesEngine(ruleset)
    for facts in CASES:
        derivation = engine.run(facts)
        assert derivation.firings  # something was asserted and fired …
        assert engine._state_facts() == []  # … and nothing of it is left


def test_a_case_is_retracted_unless_a_rule_joining_two_facts_fired(ruleset: RuleSet,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # durable's retraction reads past a fired match of two facts (see the engine's note):
    # the engine retracts only cases whose firings each matched one fact, and drops the
    # state after the others. Ages are folded into the facts they go with, so that a rule
    # on an age and a factor matches one fact.
    engine = RulesEngine(ruleset)
    assert {"forum-rug-committee", "forum-section-115-offence-and-signs"} <= engine._joins
    assert not {"group-at-risk-youth", "forum-ssp", "forum-youth-crime-board"} & engine._joins
    dropped: list[int] = []
    reset = engine._reset
    monkeypatch.setattr(engine, "_reset", lambda: (dropped.append(1), reset()))
    one_fact = engine.run(Facts(16, frozenset({"offence-committed", "serious-offence"})))
    assert {"group-at-risk-youth", "forum-ssp", "forum-youth-crime-board"} <= one_fact.fired
    assert dropped == [] and engine._state_facts() == []
    joined = engine.run(CASES[-1])
    assert "forum-rug-committee" in joined.fired
    assert dropped == [1] and engine._state_facts() == []


def test_provenance_names_the_rule_and_the_matched_facts(ruleset: RuleSet) -> None:
    d = RulesEngine(ruleset).run(Facts(16, frozenset({"offence-committed", "truancy"})))
    premises = {f.rule.id: set() for f in d.firings}
    for firing in d.firings:
        premises[firing.rule.id].add(firing.premises)
    assert premises["tier-individual-offence"] == {("factor:offence-committed=true",)}
    # One firing per matching fact: both facts that make the youth at risk are recorded.
    assert {("age:16", "factor:offence-committed=true"), ("age:16", "factor:truancy=true")} \
        <= premises["group-at-risk-youth"]
    # Chaining: the tier concluded by one rule is a premise of another.
    assert premises["forum-ssp"] == {("age:16", "tier:individual")}


def test_an_exception_while_recording_a_firing_is_surfaced(ruleset: RuleSet,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    engine = RulesEngine(ruleset)

    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("kundskab.reasoning.engine.Firing", boom)
    with pytest.raises(EngineError, match=r"rule action failed: .*boom"):
        engine.run(Facts(15, frozenset({"truancy"})))
    monkeypatch.undo()
    # The failed case left nothing behind: the next case is answered as usual.
    assert engine._state_facts() == []
    assert engine.run(Facts(15, frozenset({"truancy"}))).tier == "specific"


def test_an_error_of_durable_rules_is_an_engine_error_and_the_next_case_starts_clean(
        ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = RulesEngine(ruleset)
    expected = _summary(RulesEngine(ruleset), CASES[1])

    def fail(*_: object) -> None:
        raise durable_rules_engine.error("Could not complete and start action, error code: 307")

    monkeypatch.setattr(durable_rules_engine, "complete_and_start_action", fail)
    with pytest.raises(EngineError, match="durable-rules failed"):
        engine.run(CASES[1])
    monkeypatch.undo()
    assert engine._state_facts() == []
    assert _summary(engine, CASES[1]) == expected


def test_two_engines_live_side_by_side(ruleset: RuleSet) -> None:
    first, second = RulesEngine(ruleset), RulesEngine(ruleset)
    assert _summary(first, CASES[1]) == _summary(second, CASES[1])


def test_facts_no_rule_reads_are_harmless(ruleset: RuleSet) -> None:
    engine = RulesEngine(ruleset)
    d = engine.run(Facts(40, frozenset(), frozenset({"truancy", "gang-member"})))
    assert d.tier == "general"
    assert engine._state_facts() == []


def test_no_thread_but_the_callers_and_no_durable_python_wrapper() -> None:
    # durable.engine.Host starts timer threads that dispatch actions on their own; the
    # engine must never start them (nor import the module that would).
    code = (
        "import sys, threading, warnings\n"
        "warnings.simplefilter('error')\n"
        "import kundskab\n"
        "rec = kundskab.recommend({'age': 39, 'factors': ['released-from-custody']})\n"
        "assert rec.tier == 'individual' and rec.fora == ['ksp'], rec\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert 'durable.engine' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_rule_set_without_a_rule_for_every_case_survives_a_partial_match() -> None:
    # durable-rules crashes dropping a state in which a fact matched part of a rule and no
    # rule fired; the engine drops the state after every case, so it adds a rule of its own
    # that fires for every case when the rule set has none. Here (the initiatives' rules have
    # none) a fresh engine sees only the first condition of a two-condition rule, case after
    # case: nothing may fire, and nothing may crash (a subprocess, since a crash is a signal).
    code = (
        "from kundskab import load\n"
        "from kundskab.reasoning.engine import RulesEngine\n"
        "from kundskab.reasoning.rules import Facts, RuleSet\n"
        "kb = load()\n"
        "rules = RuleSet.load(kb, applies_to='initiatives')\n"
        "assert not any(all(c.kind == 'case' for c in r.conditions) for r in rules)\n"
        "rule = next(r for r in rules if len(r.conditions) > 1)\n"
        "first = frozenset(rule.conditions[0].ids[:1])\n"
        "engine = RulesEngine(rules)\n"
        "for facts in [first, first, frozenset(), first]:\n"
        "    assert engine.run(Facts(None, facts)).firings == [], facts\n"
        "    assert engine._state_facts() == []\n"
        "print('survived')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.strip() == "survived"

