"""The reference semantics of the rules in plain Python: fire rules until nothing new
follows (`closure`). The recommender reasons with durable-rules
(kundskab.reasoning.engine) and asks what-if questions of the same rules compiled to bit
masks (kundskab.reasoning.whatif); it uses this evaluator only where the age is unknown,
and tests hold all three to agree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundskab._records import Record as _Record
from kundskab.reasoning.rules.records import Facts, Rule

if TYPE_CHECKING:
    from kundskab.reasoning.rules.ruleset import RuleSet


class State(_Record):
    """Facts plus what the rules have concluded so far."""

    _fields = ("facts", "derived", "tier_rank", "tier")
    __hash__ = None  # type: ignore[assignment]  # changes as rules fire

    def __init__(self, facts: Facts, derived: dict[str, set[str]] | None = None, tier_rank: int = 0,
                 tier: str | None = None) -> None:
        self.facts = facts
        self.derived: dict[str, set[str]] = {} if derived is None else derived
        self.tier_rank = tier_rank
        self.tier = tier

    def has(self, kind: str, ident: str) -> bool:
        return ident in self.derived.get(kind, ())


def closure(rule_set: RuleSet, facts: Facts) -> tuple[State, list[tuple[Rule, list[str]]]]:
    """Fire rules until nothing new follows; the state and each firing's premises."""
    state = State(facts)
    fired: list[tuple[Rule, list[str]]] = []
    done: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in rule_set.rules:
            if rule.id in done:
                continue
            premises = rule.fires(state)
            if premises is None:
                continue
            done.add(rule.id)
            fired.append((rule, premises))
            if conclude(rule_set, state, rule):
                changed = True
    return state, fired


def conclude(rule_set: RuleSet, state: State, rule: Rule) -> bool:
    """Add a rule's conclusions to the state; True if anything was new."""
    new = False
    for kind, ident in rule.conclusions:
        bucket = state.derived.setdefault(kind, set())
        if ident not in bucket:
            bucket.add(ident)
            new = True
            if kind == "tier" and rule_set.tier_ranks[ident] > state.tier_rank:
                state.tier_rank, state.tier = rule_set.tier_ranks[ident], ident
    return new
