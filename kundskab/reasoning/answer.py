"""The answer for a case, as typed values: what `Recommender.recommend` returns.

These classes are the one description of an answer. The JSON text of an answer is written
from them by kundskab.reasoning.answer_json (the only module that knows JSON), the command
line renders its text from them, and the HTTP API's models and the JSON Schemas in
docs/schemas/ are made from them (kundskab.edges.models). A field added here is in all of
those at once; a field's description is the `Annotated` text beside its type.

Named tuples, not dataclasses: an answer holds a few dozen of them and many are shared by
the cases that meet the same rules (the recommender keeps them in bounded memos), so they
must be cheap to make, immutable, and the classes quick to create at start-up. Lists are
tuples for the same reason: a shared value can never be changed by one caller under another
(only the answer's own `target_groups` and `fora`, made for it alone, are lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, NamedTuple

__all__ = ["NOT_IN_JSON", "Brought", "CaseWarning", "Change", "Explanation", "Fact", "ForumByAge", "ForumElsewhere",
           "ForumRuledOut", "NeedQuestion", "OpenQuestion", "RankedIntervention", "Recommendation"]


class Fact(NamedTuple):
    """Something an answer rests on or concludes: a kind, an id and, for a factor, its
    answer ("factor", "truancy", "true"; "tier", "specific"; "age", "15"; "case", "").
    In JSON it is one text, `kind:id` or `kind:id=value` ("factor:truancy=true")."""

    kind: str
    id: str
    value: str | None = None

    def __str__(self) -> str:
        """The rules' own notation, as JSON and the rules engine write it."""
        if self.value is not None:
            return f"{self.kind}:{self.id}={self.value}"
        return f"{self.kind}:{self.id}" if self.id else self.kind

    @classmethod
    def read(cls, text: str) -> Fact:
        """A fact from the rules' notation (`kind:id`, `kind:id=value`, or a bare `kind`)."""
        kind, _, rest = text.partition(":")
        ident, equals, value = rest.partition("=")
        return cls(kind, ident, value if equals else None)


class RankedIntervention(NamedTuple):
    """One measure of the answer (an item of `interventions` or `control`), with the
    reasons it fits the case."""

    id: str
    label: str
    tier: str
    score: float
    scope: str | None
    kind: str | None
    status: str | None
    municipality: Annotated[str | None, "Where it runs: the case's own place among its places when the case "
                                        "gives one, else its first place; null: anywhere."]
    from_elsewhere: Annotated[bool, "It runs only elsewhere than the case's place (an example to learn from)."]
    min_age: Annotated[int | None, "The youngest the measure is for (stated, inferred, or from its target "
                                   "groups); null: no lower bound known."]
    max_age: Annotated[int | None, "The oldest the measure is for; null: no upper bound known."]
    reasons: tuple[str, ...]
    source: Annotated[str, "The source it is written from (file#section); empty when unknown."]
    citation: Annotated[str, "The source as a person reads it (document title and section)."]
    fora: Annotated[tuple[str, ...], "The case's fora the measure is anchored in: those of its fora the answer "
                                     "recommends (with the age unknown, those of the ages the case allows); "
                                     "empty: none of them."]


class Change(NamedTuple):
    """What one answer to an open question would change."""

    tier: str | None
    new_fora: tuple[str, ...]


class OpenQuestion(NamedTuple):
    """An unknown factor (or the age) whose answer would change the tier or the fora."""

    factor: str
    label: str
    would_change: tuple[str, ...]
    if_true: Change | None
    if_false: Change | None


class Brought(NamedTuple):
    """A measure a yes to a need question would bring into the first five."""

    id: str
    label: str


class NeedQuestion(NamedTuple):
    """An unknown risk factor whose yes would bring measures into the answer's first five."""

    factor: str
    label: str
    would_bring: Annotated[tuple[Brought, ...], "The measures a yes would bring into the first five, best first."]


class Explanation(NamedTuple):
    """One step of how the answer follows: a rule, what it concluded and from what."""

    rule: str
    conclusion: Fact
    because: str
    premises: tuple[Fact, ...]
    source: str | None


class ForumElsewhere(NamedTuple):
    """A local forum whose trigger the case meets but that exists elsewhere."""

    id: str
    label: str
    where: Annotated[tuple[str, ...], "The areas where the forum exists."]
    where_label: str


class ForumRuledOut(NamedTuple):
    """A forum a rule brings that the case itself rules out: it gives false the factor the
    forum is for (ks:notForCaseDenying: PSP for a person whom one service holds)."""

    id: str
    label: str
    factor: Annotated[str, "The factor the case gives false."]
    factor_label: str
    source: Annotated[str | None, "Where the knowledge base says what the forum is for (file#section)."]


class ForumByAge(NamedTuple):
    """A forum the case would have at some of the ages it allows, when its age is unknown."""

    id: str
    label: str
    min_age: Annotated[int | None, "The youngest age at which the case would have it (within the ages its true "
                                   "factors allow); null: no lower bound."]
    max_age: Annotated[int | None, "The oldest age at which the case would have it; null: no upper bound."]
    rule: Annotated[str, "The rule that brings it at those ages (its source is the rule's)."]
    source: Annotated[str | None, "The rule's source (file#section)."]


class CaseWarning(NamedTuple):
    """Something in the request that looks wrong, said without repeating its value."""

    code: Annotated[str, "`ref-looks-like-cpr`: the case's `ref` looks like a Danish CPR number; a case "
                         "must not identify a person. `unknown-place`: the case's area is not known."]
    message: str


Tier = Literal["general", "specific", "individual"]
NOT_IN_JSON = frozenset({"age", "age_group"})  # fields of a Recommendation that its JSON leaves out


class Recommendation(NamedTuple):
    """The answer for one case: `to_json()` is the contract's JSON text (`recommend
    --format json`, a batch line, `POST /v1/recommend`), `as_dict()` a fresh object of it."""

    ref: str | None
    age: int | None  # the case's own age, for the text; not in the JSON (NOT_IN_JSON)
    tier: Tier
    target_groups: list[str]  # lists, as they always were: made for this answer alone
    fora: list[str]
    interventions: tuple[RankedIntervention, ...]
    open_questions: tuple[OpenQuestion, ...]
    explanation: tuple[Explanation, ...]
    labels: Mapping[str, str]
    kb_version: str
    fora_elsewhere: Annotated[tuple[ForumElsewhere, ...],
                              "Only when there is one: local fora whose trigger the case meets but that "
                              "exist elsewhere than the case's place (not the case's fora), with where."] = ()
    control: Annotated[tuple[RankedIntervention, ...],
                       "Only when there is one: control and enforcement aimed at the person (kind `control`), "
                       "never among the interventions offered as help; only for an active offender or a gang "
                       "member with no wish to leave, never for one who wants out."] = ()
    warnings: Annotated[tuple[CaseWarning, ...],
                        "Only when there is one: what looks wrong in the case, the same from the library, "
                        "the command line (which also says it on stderr), a batch and HTTP."] = ()
    fora_by_age: Annotated[tuple[ForumByAge, ...],
                           "Only when the age is unknown and there is one: the fora the case would have at some "
                           "of the ages it allows, beyond `fora`, each with that age range and the rule that "
                           "brings it (ask the age to know which)."] = ()
    need_questions: Annotated[tuple[NeedQuestion, ...],
                              "Only when there is one: up to 3 risk factors the case leaves open, none of "
                              "`open_questions`, whose yes would bring measures into the first five of "
                              "`interventions` (what a consultant asks to find the help that fits), best "
                              "first; never one the case answers or implies, or that its age, conditions or "
                              "role rule out."] = ()
    fora_ruled_out: Annotated[tuple[ForumRuledOut, ...],
                              "Only when there is one: fora a rule brings that the case rules out, because it "
                              "gives false the factor the forum is for (PSP for a person whom one service "
                              "holds), each with that factor; not the case's fora."] = ()
    age_group: str | None = None  # with the age unknown, the case's own age group, for the text (NOT_IN_JSON)

    def to_json(self) -> str:
        """The answer as compact, ASCII-only JSON text (the batch output line)."""
        return answer_json.recommendation_json(self)

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of the answer: a fresh object the caller may change freely."""
        return answer_json.recommendation_dict(self)


# The encoder reads the classes above (it is imported last: whichever of the two modules is
# imported first, the other finds this one's classes defined).
from kundskab.reasoning import answer_json  # noqa: E402
