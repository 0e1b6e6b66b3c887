"""The durable-rules engine behind our interface: isolation, clean-up, surfaced errors."""

from __future__ import annotations

import pytest
from durable.engine import Host

from kundskab import EngineError
from kundskab.engine import RulesEngine
from kundskab.rules import Facts, RuleSet

CASES = [
    Facts(15, frozenset({"truancy"})),
    Facts(16, frozenset({"offence-committed", "charged-above-fine-level"})),
    Facts(30, frozenset({"released-from-custody"})),
    Facts(4, frozenset({"family-problems"})),
    Facts(None, frozenset()),
    Facts(19, frozenset({"radicalisation-signs"}), frozenset({"truancy"})),
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


def test_state_is_deleted_after_each_case(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = RulesEngine(ruleset)
    deleted: list[str] = []
    original = Host.delete_state

    def spy(self: Host, name: str, sid: str | None = None) -> None:
        deleted.append(str(sid))
        original(self, name, sid)

    monkeypatch.setattr(Host, "delete_state", spy)
    for facts in CASES:
        engine.run(facts)
    assert len(deleted) == len(CASES) == len(set(deleted))
    assert engine._current is None
    with pytest.raises(Exception):  # noqa: B017 - durable raises a bare error for a gone state
        engine._host.get_state(engine._name, deleted[0])


def test_an_exception_in_an_action_is_surfaced(ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = RulesEngine(ruleset)

    def boom(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("kundskab.engine.Firing", boom)
    with pytest.raises(EngineError, match=r"rule action failed: .*boom"):
        engine.run(Facts(15, frozenset({"truancy"})))
    monkeypatch.undo()
    # The failed case left nothing behind: the next case is answered as usual.
    assert engine.run(Facts(15, frozenset({"truancy"}))).tier == "specific"


def test_two_engines_live_side_by_side(ruleset: RuleSet) -> None:
    # durable's module-level API allows a ruleset name once per process; ours does not care.
    first, second = RulesEngine(ruleset), RulesEngine(ruleset)
    assert _summary(first, CASES[1]) == _summary(second, CASES[1])


def test_facts_no_rule_reads_are_harmless(ruleset: RuleSet) -> None:
    engine = RulesEngine(ruleset)
    d = engine.run(Facts(40, frozenset(), frozenset({"truancy", "gang-member"})))
    assert d.tier == "general"
