"""The rules' records: what a case tells the rules (`Facts`), a rule's conditions and
conclusions (`Condition`, `Rule`) and the intervention ranking (`Ranking`); a condition
knows which facts it reads and, for the reference evaluator, when it holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from kundskab._records import Frozen as _Frozen
from kundskab._records import set_field as _set

if TYPE_CHECKING:
    from kundskab.reasoning.rules.evaluator import State


class Facts(_Frozen):
    """What a case tells the rules: the age and the factors known to be true or false; with
    the age unknown, the age group the case names, if any (it bounds the ages the case
    allows, as a factor's ages do; the rules themselves read the age only)."""

    _fields = ("age", "true", "false", "age_group")
    age: int | None
    true: frozenset[str]
    false: frozenset[str]
    age_group: str | None

    def __init__(self, age: int | None, true: frozenset[str], false: frozenset[str] = frozenset(),
                 age_group: str | None = None) -> None:
        _set(self, "age", age)
        _set(self, "true", true)
        _set(self, "false", false)
        _set(self, "age_group", age_group)

    def __hash__(self) -> int:  # on the path of every case: no generic loop
        return hash((self.age, self.true, self.false, self.age_group))


class Condition(_Frozen):
    """One condition of a rule; `kind` says which fact it reads."""

    _fields = ("kind", "ids", "derived_kind", "min_age", "max_age", "rank", "origin")
    kind: str  # case | factor | any_factor | factor_false | age | derived | tier_at_least
    ids: tuple[str, ...]
    derived_kind: str | None
    min_age: int | None
    max_age: int | None
    rank: int | None
    origin: str  # as written in the rule file, for explanations and lint

    def __init__(self, kind: str, ids: tuple[str, ...] = (), derived_kind: str | None = None,
                 min_age: int | None = None, max_age: int | None = None, rank: int | None = None,
                 origin: str = "") -> None:
        _set(self, "kind", kind)
        _set(self, "ids", ids)
        _set(self, "derived_kind", derived_kind)
        _set(self, "min_age", min_age)
        _set(self, "max_age", max_age)
        _set(self, "rank", rank)
        _set(self, "origin", origin)

    def matches(self, state: State) -> list[str] | None:
        """The premises that satisfy this condition, or None if it does not hold."""
        facts = state.facts
        if self.kind == "case":
            return ["case"]
        if self.kind == "age":
            if facts.age is None:
                return None
            if self.min_age is not None and facts.age < self.min_age:
                return None
            if self.max_age is not None and facts.age > self.max_age:
                return None
            return [f"age:{facts.age}"]
        if self.kind in ("factor", "any_factor"):
            hits = [i for i in self.ids if i in facts.true]
            return [f"factor:{hits[0]}=true"] if hits else None
        if self.kind == "factor_false":
            return [f"factor:{self.ids[0]}=false"] if self.ids[0] in facts.false else None
        if self.kind == "derived":
            assert self.derived_kind is not None
            hits = [i for i in self.ids if state.has(self.derived_kind, i)]
            return [f"{self.derived_kind.replace('_', '-')}:{hits[0]}"] if hits else None
        if self.kind == "tier_at_least":
            assert self.rank is not None
            return [f"tier:{state.tier}"] if state.tier_rank >= self.rank else None
        raise AssertionError(self.kind)

    def reads(self) -> list[str]:
        """Fact names this condition reads (nodes of the rule graph)."""
        if self.kind in ("case", "age"):
            return ["case:age" if self.kind == "age" else "case"]
        if self.kind in ("factor", "any_factor"):
            return [f"factor:{i}" for i in self.ids]
        if self.kind == "factor_false":
            return [f"factor:{self.ids[0]}"]
        if self.kind == "derived":
            return [f"{self.derived_kind}:{i}" for i in self.ids]
        return ["tier"]


class Rule(_Frozen):
    """A rule: conditions, conclusions, the rationale in Danish and English, its source,
    and where it is written (file and line); `replaces` names rules whose conclusions this
    rule also draws, with a reason that fits better whenever both fire (the answer then
    gives this rule's reason alone)."""

    _fields = ("id", "conditions", "conclusions", "because", "source", "file", "line", "generated", "replaces")
    id: str
    conditions: tuple[Condition, ...]
    conclusions: tuple[tuple[str, str], ...]
    because: Mapping[str, str]
    source: str
    file: str
    line: int
    generated: bool
    replaces: tuple[str, ...]

    def __init__(self, id: str, conditions: tuple[Condition, ...], conclusions: tuple[tuple[str, str], ...],
                 because: Mapping[str, str], source: str, file: str, line: int, generated: bool = False,
                 replaces: tuple[str, ...] = ()) -> None:
        _set(self, "id", id)
        _set(self, "conditions", conditions)
        _set(self, "conclusions", conclusions)
        _set(self, "because", because)
        _set(self, "source", source)
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "generated", generated)
        _set(self, "replaces", replaces)

    def fires(self, state: State) -> list[str] | None:
        premises: list[str] = []
        for condition in self.conditions:
            found = condition.matches(state)
            if found is None:
                return None
            premises.extend(found)
        return premises

    def writes(self) -> list[str]:
        return [("tier" if kind == "tier" else f"{kind}:{ident}") for kind, ident in self.conclusions]


class Ranking(_Frozen):
    """How interventions are scored (rules/interventions.yaml)."""

    _fields = ("id", "weights", "minimum_score", "limit", "because", "source")
    id: str
    weights: Mapping[str, float]
    minimum_score: float
    limit: int
    because: Mapping[str, str]
    source: str

    def __init__(self, id: str, weights: Mapping[str, float], minimum_score: float, limit: int,
                 because: Mapping[str, str], source: str) -> None:
        _set(self, "id", id)
        _set(self, "weights", weights)
        _set(self, "minimum_score", minimum_score)
        _set(self, "limit", limit)
        _set(self, "because", because)
        _set(self, "source", source)
