"""The rules engine: durable-rules behind an interface of our own.

One durable `Host` per engine and one state (`sid`) per case, deleted afterwards, so cases
never see each other's facts. durable-rules keeps no record of why a rule fired, so the
actions record each firing (rule, matched facts, conclusions) themselves; an exception in
an action, which durable-rules would swallow into the state, never reaches it: every
action catches its own exceptions and run() raises them as EngineError.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kundskab.errors import EngineError
from kundskab.i18n import N_
from kundskab.rules import Condition, Facts, Rule, RuleSet

# durable-rules 2.0.28, its last release, calls datetime.utcfromtimestamp (deprecated since
# Python 3.12) for every message it handles; that warning is the library's, not our users'.
warnings.filterwarnings("ignore", message=r"datetime\.datetime\.utcfromtimestamp",
                        category=DeprecationWarning, module=r"durable\.")

try:
    from durable.engine import Host, MessageNotHandledException, MessageObservedException
except ImportError as exc:  # pragma: no cover - depends on how durable-rules was built
    if "PyEval_CallObject" not in str(exc):
        raise
    # Python 3.13 removed PyEval_CallObject; durable-rules must be compiled with it mapped
    # to PyObject_CallObject (see the README), and pip may have cached an older build.
    raise EngineError(N_(
        "durable-rules was built without Python 3.13 support; reinstall it with "
        '{command}'), command='CC="gcc -DPyEval_CallObject=PyObject_CallObject" pip install --no-cache-dir '
        "--force-reinstall durable-rules==2.0.28",
    ) from exc

__all__ = ["Derivation", "Firing", "RulesEngine"]

_ENGINES = itertools.count(1)


class Firing:
    """One rule firing: the rule, the facts it matched, what it concluded. The premises
    are spelt out on first use: the actions run inside the engine's hot loop."""

    __slots__ = ("_matched", "_premises", "rule")

    def __init__(self, rule: Rule, matched: dict[str, dict[str, Any]]) -> None:
        self.rule = rule
        self._matched = matched
        self._premises: tuple[str, ...] | None = None

    @property
    def conclusions(self) -> tuple[tuple[str, str], ...]:
        return self.rule.conclusions

    @property
    def signature(self) -> tuple[Any, ...]:
        """What tells this firing of its rule from another: the id (or, for the case, the
        age) of each matched fact, in condition order; the rule's conditions fix the rest."""
        matched = self._matched
        if len(matched) == 1:
            for fact in matched.values():
                return (fact["id"] if "id" in fact else fact.get("age"),)
        return tuple([fact["id"] if "id" in fact else fact.get("age") for _, fact in sorted(matched.items())])

    @property
    def premises(self) -> tuple[str, ...]:
        if self._premises is None:
            matched = self._matched
            if len(matched) == 1:  # most rules have one condition
                self._premises = tuple(map(_premise, matched.values()))
            else:
                self._premises = tuple([_premise(matched[k]) for k in sorted(matched)])
        return self._premises


@dataclass
class Derivation:
    """What the rules concluded for one case, with the firings behind it."""

    facts: Facts
    conclusions: dict[str, set[str]] = field(default_factory=dict)
    firings: list[Firing] = field(default_factory=list)
    fired: set[str] = field(default_factory=set)  # the ids of the rules that fired
    tier_rank: int = 0
    tier: str | None = None
    errors: list[str] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)  # conclusions to chain


def _pattern(condition: Condition) -> dict[str, Any]:
    """The durable-rules pattern that matches the fact a condition reads."""
    def one_of(ids: tuple[str, ...]) -> dict[str, Any]:
        return {"id": ids[0]} if len(ids) == 1 else {"$or": [{"id": i} for i in ids]}

    if condition.kind == "case":
        return {"t": "case"}
    if condition.kind == "age":
        parts: list[dict[str, Any]] = [{"t": "case"}, {"$ex": {"age": 1}}]
        if condition.min_age is not None:
            parts.append({"$gte": {"age": condition.min_age}})
        if condition.max_age is not None:
            parts.append({"$lte": {"age": condition.max_age}})
        return {"$and": parts}
    if condition.kind in ("factor", "any_factor"):
        return {"$and": [{"t": "f"}, {"v": "true"}, one_of(condition.ids)]}
    if condition.kind == "factor_false":
        return {"$and": [{"t": "f"}, {"v": "false"}, one_of(condition.ids)]}
    if condition.kind == "derived":
        return {"$and": [{"t": "d"}, {"k": condition.derived_kind}, one_of(condition.ids)]}
    if condition.kind == "tier_at_least":
        return {"$and": [{"t": "d"}, {"k": "tier"}, {"$gte": {"r": condition.rank}}]}
    raise AssertionError(condition.kind)


_PREMISES: dict[tuple[Any, ...], str] = {}


def _premise(fact: dict[str, Any]) -> str:
    """How a matched fact reads in an explanation ("factor:truancy=true", "age:15")."""
    kind = fact.get("t")
    key = (kind, fact.get("id"), fact.get("v") if kind == "f" else fact.get("age") if kind == "case" else fact.get("k"))
    found = _PREMISES.get(key)
    if found is None:
        if kind == "f":
            found = f"factor:{fact['id']}={fact['v']}"
        elif kind == "case":
            found = f"age:{fact['age']}" if "age" in fact else "case"
        else:
            found = f"{str(fact['k']).replace('_', '-')}:{fact['id']}"
        if len(_PREMISES) < 10_000:  # few distinct premises exist: ids, values and ages
            _PREMISES[key] = found
    return found


class RulesEngine:
    """Forward chaining over one case at a time with durable-rules."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._name = f"kundskab-{next(_ENGINES)}"
        self._sids = itertools.count(1)
        self._current: Derivation | None = None
        # durable-rules is not re-entrant across threads for one state; one case at a time.
        self._lock = threading.Lock()
        definition = {}
        for rule in rules:
            patterns = [{f"c{i}": _pattern(c)} for i, c in enumerate(rule.conditions)]
            definition[rule.id] = {"all": patterns, "run": self._action(rule)}
        self._host = Host()
        self._host.set_rulesets({self._name: definition})

    def _action(self, rule: Rule) -> Callable[[Any], None]:
        consumed = self.rules.consumed_kinds
        ranks = self.rules.tier_ranks
        rule_id = rule.id
        # (kind, id, tier rank or 0, whether some rule reads it) per conclusion, worked out
        # once: the action runs inside the engine's hot loop.
        plan = tuple((kind, ident, ranks[ident] if kind == "tier" else 0, kind in consumed)
                     for kind, ident in rule.conclusions)

        def action(c: Any) -> None:
            try:
                # One case at a time (the lock in run), so the current case is known
                # without reading the engine's state.
                run = self._current
                assert run is not None
                run.firings.append(Firing(rule, c._m))
                run.fired.add(rule_id)
                conclusions = run.conclusions
                for kind, ident, rank, chained in plan:
                    bucket = conclusions.get(kind)
                    if bucket is None:
                        conclusions[kind] = {ident}
                    elif ident in bucket:
                        continue  # asserting it again would raise MessageObservedException
                    else:
                        bucket.add(ident)
                    if rank:
                        if rank > run.tier_rank:
                            run.tier_rank, run.tier = rank, ident
                    elif chained:  # chain only what some rule reads
                        run.pending.append({"t": "d", "k": kind, "id": ident})
            except Exception as exc:  # surfaced by run(); durable would hide it
                if self._current is not None:
                    self._current.errors.append(f"{rule.id}: {type(exc).__name__}: {exc}")

        return action

    def run(self, facts: Facts) -> Derivation:
        """Assert the case's facts into a fresh state, let the rules fire, clean up.

        Conclusions that other rules read are asserted in rounds after the case's own
        facts; of the tier only the highest so far is asserted (a `tier_at_least`
        condition holds for it whenever it holds for a lower one), which spares the engine
        a fact and a firing per lower tier."""
        tier_read = "tier" in self.rules.consumed_kinds
        assert_fact, name = self._host.assert_fact, self._name
        with self._lock:
            sid = str(next(self._sids))
            derivation = Derivation(facts)
            self._current = derivation
            try:
                case: dict[str, Any] = {"sid": sid, "t": "case"}
                if facts.age is not None:
                    case["age"] = facts.age
                batch = [case]
                batch += [{"sid": sid, "t": "f", "id": factor, "v": "true"} for factor in sorted(facts.true)]
                batch += [{"sid": sid, "t": "f", "id": factor, "v": "false"} for factor in sorted(facts.false)]
                asserted_rank = 0
                while batch:
                    for fact in batch:
                        try:
                            assert_fact(name, fact)
                        except MessageNotHandledException:
                            pass  # no rule reads this fact: nothing follows from it
                        except MessageObservedException as exc:
                            raise EngineError(N_("fact asserted twice: {detail}"), detail=str(exc)) from None
                    batch, derivation.pending = derivation.pending, []
                    if tier_read and derivation.tier_rank > asserted_rank:
                        asserted_rank = derivation.tier_rank
                        batch.append({"t": "d", "k": "tier", "id": derivation.tier, "r": asserted_rank})
                    for fact in batch:
                        fact["sid"] = sid
            finally:
                self._current = None
                try:
                    self._host.delete_state(name, sid)
                except Exception:
                    pass
        if derivation.errors:
            raise EngineError(N_("rule action failed: {errors}"), errors="; ".join(derivation.errors))
        return derivation
