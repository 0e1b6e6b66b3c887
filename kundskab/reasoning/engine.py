"""The rules engine: durable-rules' C engine behind an interface of our own.

Deterministic by construction: kundskab drives durable-rules' C module
(`durable_rules_engine`) directly and never starts durable's `Host`, whose timer threads
call `dispatch()` every 0.2 s and could pick up and run an action of the case being
reasoned over. Here only the caller's thread ever touches a case: `run()` holds the
engine's lock for the whole case, from the first fact asserted until the state is empty
again, and no C call releases the GIL. An engine may be shared by threads (they take
turns, case by case) or kept one per thread.

The rules are compiled once into a durable ruleset with no actions in Python: durable's
agenda hands each match back as JSON text (`start_action_for_state`,
`complete_and_start_action`), and `run()` records it as a `Firing` (rule, matched facts,
premises) and adds its conclusions to the `Derivation`. Conclusions that other rules read
are asserted back into the case's state, round after round, until nothing new follows.

Every case uses one state of the ruleset (one `sid`): its facts are asserted in one call
and retracted in one call when the case is done, so the state is empty again for the next
case. Creating and dropping a state per case costs durable about 45 µs (it clears 8 KB of
index for every rule node); retracting costs a few.

Retracting is safe only for firings of one fact. durable forgets to drop a fired match
from its facts' bookkeeping; retracting a fact later visits the dropped match, and for a
match of two or more facts the second visit reads past the match's memory (its
`deleteMessageFromFrame` counts entries it has already cleared). That read has crashed a
worker thread and writes where it should not. So every condition on a person's age is
folded into the fact its rule reads besides (factor answers and conclusions carry the
case's age), which makes all but a few rules match one fact; and when a rule that joins
two facts has fired, the state is dropped instead of retracted. If anything goes wrong
inside a case the state is dropped too, and the next case starts from a fresh one.

Dropping a state crashes durable in one known way: when a fact matched part of a rule and
no rule fired in that state. So every case fires at least one rule: the rule set's own
rule that holds for every case if it has one, else a sentinel rule added here, whose
firings are never recorded.

durable's Python wrapper (`durable.engine`) is never imported: none of its JSON round trips,
closures and `datetime` calls per firing (nor, on Python 3.12 and later, its
`utcfromtimestamp` deprecation warnings).

The same sid for every case also makes durable's match texts repeat from case to case, so
each distinct text is parsed once and its `Firing` kept (bounded; cleared when full).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import weakref
from collections.abc import Iterable
from typing import Any, NamedTuple

from kundskab._memo import BoundedMemo
from kundskab._records import Record
from kundskab.errors import EngineError
from kundskab.i18n import N_
from kundskab.reasoning.rules import Condition, Facts, Rule, RuleSet

try:
    import durable_rules_engine as _durable
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
SID = "0"  # every case has the state to itself while it runs, so one sid serves all
_NO_ACTION = None  # what durable's C module returns when the agenda is empty
_SENTINEL = "~every-case"  # the rule added when no rule of the set fires for every case


class Firing:
    """One rule firing: the rule, the facts it matched (by durable condition), the
    premises they make (one per condition of the rule, in its order). A firing holds no
    case reference and is shared by every case that matches the same rule on the same
    facts: do not change it."""

    __slots__ = ("matched", "premises", "rule")

    def __init__(self, rule: Rule, matched: dict[str, dict[str, Any]],
                 reads: tuple[tuple[str, bool], ...]) -> None:
        self.rule = rule
        self.matched = matched
        self.premises: tuple[str, ...] = tuple(
            f"age:{matched[key]['age']}" if age else _premise(matched[key]) for key, age in reads)

    @property
    def conclusions(self) -> tuple[tuple[str, str], ...]:
        return self.rule.conclusions

    def __repr__(self) -> str:
        return f"Firing({self.rule.id}, {list(self.premises)})"


class Derivation(Record):
    """What the rules concluded for one case, with the firings behind it. (A record written
    out: one is made per case, and a dataclass's default factories cost a call each.)"""

    __slots__ = ("conclusions", "facts", "fired", "firings", "tier", "tier_rank")
    _fields = ("facts", "conclusions", "firings", "fired", "tier_rank", "tier")

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.conclusions: dict[str, set[str]] = {}
        self.firings: list[Firing] = []
        self.fired: set[str] = set()  # the ids of the rules that fired
        self.tier_rank = 0
        self.tier: str | None = None


def _ages(condition: Condition) -> list[dict[str, Any]]:
    """The durable tests of an age condition, on whatever fact carries the age."""
    parts: list[dict[str, Any]] = [{"$ex": {"age": 1}}]
    if condition.min_age is not None:
        parts.append({"$gte": {"age": condition.min_age}})
    if condition.max_age is not None:
        parts.append({"$lte": {"age": condition.max_age}})
    return parts


def _compile(rule: Rule) -> tuple[list[dict[str, Any]], tuple[tuple[str, bool], ...]]:
    """A rule's durable conditions, and for each of the rule's conditions the durable
    condition whose fact makes its premise (and whether the premise is that fact's age).
    One age condition is folded into the first condition that reads a factor answer or a
    conclusion (those facts carry the case's age), so that the rule matches one fact fewer
    (see the module's note on retraction)."""
    ages = [c for c in rule.conditions if c.kind == "age"]
    host = next((c for c in rule.conditions if c.kind not in ("age", "case")), None) if len(ages) == 1 else None
    folded = ages[0] if host is not None else None
    patterns: list[dict[str, Any]] = []
    keys: dict[int, str] = {}
    for condition in rule.conditions:
        if condition is folded:
            continue
        pattern = _pattern(condition)
        if condition is host:
            pattern = {"$and": [*pattern["$and"], *_ages(ages[0])]}
        keys[id(condition)] = f"c{len(patterns)}"
        patterns.append(pattern)
    reads = tuple((keys[id(host)], True) if c is folded else (keys[id(c)], False) for c in rule.conditions)
    return patterns, reads


def _pattern(condition: Condition) -> dict[str, Any]:
    """The durable-rules pattern that matches the fact a condition reads (fact shapes are
    those `_FactTexts` writes: `t` the kind, `n` the name, `v` a factor's answer)."""
    def one_of(ids: tuple[str, ...]) -> dict[str, Any]:
        return {"n": ids[0]} if len(ids) == 1 else {"$or": [{"n": i} for i in ids]}

    if condition.kind == "case":
        return {"t": "case"}
    if condition.kind == "age":
        return {"$and": [{"t": "case"}, *_ages(condition)]}
    if condition.kind in ("factor", "any_factor"):
        return {"$and": [{"t": "f"}, {"v": "true"}, one_of(condition.ids)]}
    if condition.kind == "factor_false":
        return {"$and": [{"t": "f"}, {"v": "false"}, one_of(condition.ids)]}
    if condition.kind == "derived":
        return {"$and": [{"t": "d"}, {"k": condition.derived_kind}, one_of(condition.ids)]}
    if condition.kind == "tier_at_least":
        return {"$and": [{"t": "d"}, {"k": "tier"}, {"$gte": {"r": condition.rank}}]}
    raise AssertionError(condition.kind)


def _premise(fact: dict[str, Any]) -> str:
    """How a matched fact reads in an explanation ("factor:truancy=true", "age:15")."""
    kind = fact.get("t")
    if kind == "f":
        return f"factor:{fact['n']}={fact['v']}"
    if kind == "case":
        return f"age:{fact['age']}" if "age" in fact else "case"
    return f"{str(fact['k']).replace('_', '-')}:{fact['n']}"


class _FactTexts:
    """The JSON text of each fact a case can assert, written once. Each carries an `id` of
    its own, unique within a case ("c15" the case aged 15, "f:truancy:1" a factor's answer,
    "d:forum:ssp" a conclusion): without one, durable names a fact by hashing its content,
    which was about a tenth of its time per case. Factor answers and conclusions carry the
    case's age, when it is known, for the age conditions folded into them."""

    def __init__(self, ranks: dict[str, int]) -> None:
        self._ranks = ranks
        self._cases = BoundedMemo("engine.case_facts")
        self._factors = BoundedMemo("engine.factor_facts")
        self._derived = BoundedMemo("engine.derived_facts")

    def case(self, age: int | None) -> str:
        text = self._cases.get(age)
        if text is None:
            fact: dict[str, Any] = {"id": "c" if age is None else f"c{age}", "sid": SID, "t": "case"}
            if age is not None:
                fact["age"] = age
            text = json.dumps(fact)
            self._cases.keep(age, text)
        return text

    def factors(self, names: Iterable[str], value: bool, age: int | None) -> list[str]:
        out = []
        texts = self._factors
        for name in sorted(names):
            text = texts.get((name, value, age))
            if text is None:
                fact: dict[str, Any] = {"id": f"f:{name}:{int(value)}", "sid": SID, "t": "f", "n": name,
                                        "v": "true" if value else "false"}
                if age is not None:
                    fact["age"] = age
                text = json.dumps(fact)
                texts.keep((name, value, age), text)
            out.append(text)
        return out

    def derived(self, kind: str, name: str, age: int | None) -> str:
        text = self._derived.get((kind, name, age))
        if text is None:
            fact: dict[str, Any] = {"id": f"d:{kind}:{name}", "sid": SID, "t": "d", "k": kind, "n": name}
            if kind == "tier":
                fact["r"] = self._ranks[name]
            if age is not None:
                fact["age"] = age
            text = json.dumps(fact)
            self._derived.keep((kind, name, age), text)
        return text


class _Outcome(NamedTuple):
    """One conclusion of a firing, as the engine's loop uses it."""

    kind: str
    ident: str
    rank: int  # the tier's rank, or 0 for any other conclusion
    chained: bool  # whether some rule reads conclusions of this kind


class _Plan(NamedTuple):
    """What one of durable's match texts means, parsed once (the loop unpacks it)."""

    firing: Firing | None  # None for the sentinel rule
    rule_id: str
    outcomes: tuple[_Outcome, ...]


_LIVE: weakref.WeakSet[RulesEngine] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked process has only the forking thread: a lock held by another thread then
    would never be released, and that thread's case would stay in the state. Start clean."""
    for engine in list(_LIVE):
        engine._lock = threading.Lock()
        engine._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class RulesEngine:
    """Forward chaining over one case at a time with durable-rules, in the caller's thread
    only. Thread-safe: one case at a time per engine, under the engine's lock."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._lock = threading.Lock()
        self._texts = _FactTexts(rules.tier_ranks)
        self._plans = BoundedMemo("engine.plans")  # durable's match texts, parsed
        # Only facts some rule reads go into durable: a fact no pattern mentions costs the C
        # engine a parse and a hash and can change nothing (no rule reads a false factor
        # today, so false answers are not asserted at all).
        self._true_read = frozenset(rules.factors_read)
        self._false_read = frozenset(rules.factors_read_false)
        # The tier is asserted only from the lowest rank a `tier_at_least` condition asks
        # for: below it (the general tier, for about two cases in five) no rule can match it,
        # and the case is done after its first round.
        read_ranks = [c.rank or 0 for r in rules for c in r.conditions if c.kind == "tier_at_least"]
        self._tier_floor = min(read_ranks) if read_ranks else None
        definition: dict[str, Any] = {}
        self._reads: dict[str, tuple[tuple[str, bool], ...]] = {}
        joins = set()
        for rule in rules:
            patterns, self._reads[rule.id] = _compile(rule)
            definition[rule.id] = {"all": [{f"c{i}": p} for i, p in enumerate(patterns)]}
            if len(patterns) > 1:
                joins.add(rule.id)
        # The rules whose firings match more than one fact: after one of them has fired the
        # state is dropped, not retracted (see the module's note).
        self._joins = frozenset(joins)
        if not any(all(c.kind == "case" for c in rule.conditions) for rule in rules):
            definition[_SENTINEL] = {"all": [{"c0": {"t": "case"}}]}
        self._name = f"kundskab-{next(_ENGINES)}"
        try:
            self._handle: int = _durable.create_ruleset(self._name, json.dumps(definition))
        except _durable.error as exc:
            raise EngineError(N_("durable-rules refused the rules: {detail}"), detail=str(exc)) from None
        # The C engine's ruleset lives as long as this engine object.
        weakref.finalize(self, _durable.delete_ruleset, self._handle)
        _LIVE.add(self)

    def run(self, facts: Facts) -> Derivation:
        """Assert the case's facts, let the rules fire, retract the facts again.

        Conclusions that other rules read are asserted in rounds after the case's own
        facts; of the tier only the highest so far is asserted (a `tier_at_least`
        condition holds for it whenever it holds for a lower one), which spares the engine
        a fact and a firing per lower tier."""
        texts, age = self._texts, facts.age
        asserted = [texts.case(age), *texts.factors(facts.true & self._true_read, True, age),
                    *texts.factors(facts.false & self._false_read, False, age)]
        derivation = Derivation(facts)
        with self._lock:
            try:
                self._reason(derivation, asserted)
            except BaseException as exc:
                self._reset()
                if isinstance(exc, _durable.error):
                    raise EngineError(N_("durable-rules failed: {detail}"), detail=str(exc)) from None
                raise
            if self._joins.isdisjoint(derivation.fired):
                # Retract everything this case asserted, in the order it was asserted (a
                # match's memory is reused by later matches of the same rule, whose facts
                # were asserted later: in this order no fact visits a cleared match).
                try:
                    _, offset = _durable.retract_facts(self._handle, "[" + ",".join(asserted) + "]")
                    leftover = _durable.start_action_for_state(self._handle, offset)
                except _durable.error:
                    leftover = True
                if leftover is not _NO_ACTION:  # never expected: start the next case afresh
                    self._reset()
            else:
                self._reset()
        return derivation

    def _reason(self, derivation: Derivation, asserted: list[str]) -> None:
        """Fire rules until nothing new follows (the caller holds the lock). Appends every
        fact asserted to `asserted`, so that the caller can retract them."""
        handle, plans = self._handle, self._plans
        start, complete = _durable.start_action_for_state, _durable.complete_and_start_action
        conclusions, firings, fired = derivation.conclusions, derivation.firings, derivation.fired
        age = derivation.facts.age
        batch = "[" + ",".join(asserted) + "]"
        asserted_rank, tier_floor = 0, self._tier_floor
        while batch:
            _, offset = _durable.assert_facts(handle, batch)
            pending: list[str] = []
            result = start(handle, offset)
            message = _NO_ACTION if result is _NO_ACTION else result[1]
            while message is not _NO_ACTION:
                plan = plans.get(message)
                if plan is None:
                    plan = self._plan(message)
                firing, rule_id, outcomes = plan
                if firing is None:  # the sentinel rule: it only keeps the state safe to drop
                    message = complete(handle, offset)
                    continue
                firings.append(firing)
                fired.add(rule_id)
                for kind, ident, rank, chained in outcomes:
                    bucket = conclusions.get(kind)
                    if bucket is None:
                        conclusions[kind] = {ident}
                    elif ident in bucket:
                        continue
                    else:
                        bucket.add(ident)
                    if rank:
                        if rank > derivation.tier_rank:
                            derivation.tier_rank, derivation.tier = rank, ident
                    elif chained:  # chain only what some rule reads
                        pending.append(self._texts.derived(kind, ident, age))
                message = complete(handle, offset)
            if tier_floor is not None and derivation.tier_rank > asserted_rank and derivation.tier_rank >= tier_floor:
                asserted_rank = derivation.tier_rank
                assert derivation.tier is not None
                pending.append(self._texts.derived("tier", derivation.tier, age))
            asserted += pending
            batch = "[" + ",".join(pending) + "]" if pending else ""

    def _plan(self, message: str) -> _Plan:
        """Parse one of durable's match texts ({rule id: {c0: fact, …}}) and keep it."""
        try:
            (rule_id, matched), = json.loads(message).items()
            if rule_id == _SENTINEL:
                plan = _Plan(None, rule_id, ())
                self._plans.keep(message, plan)
                return plan
            rule = self.rules.by_id[rule_id]
            firing = Firing(rule, matched, self._reads[rule_id])
        except Exception as exc:
            raise EngineError(N_("rule action failed: {errors}"), errors=f"{type(exc).__name__}: {exc}") from None
        consumed, ranks = self.rules.consumed_kinds, self.rules.tier_ranks
        outcomes = tuple(_Outcome(kind, ident, ranks[ident] if kind == "tier" else 0, kind in consumed)
                         for kind, ident in rule.conclusions)
        plan = _Plan(firing, rule_id, outcomes)
        self._plans.keep(message, plan)
        return plan

    def _reset(self) -> None:
        """Drop the case state, whatever is in it (the next assert creates a fresh one)."""
        try:
            _durable.delete_state(self._handle, SID)
        except _durable.error:
            pass  # no state: nothing to drop

    def _state_facts(self) -> list[dict[str, Any]]:
        """The facts in the case state now (for tests: empty between cases)."""
        with self._lock:
            try:
                return json.loads(_durable.get_facts(self._handle, SID))  # type: ignore[no-any-return]
            except _durable.error:
                return []

