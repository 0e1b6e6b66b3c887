"""Typed models of a case and of the answers, for the HTTP API and the published JSON Schemas.

These models describe what the library answers, so that the OpenAPI description and
`docs/schemas/*.json` are real schemas that clients can be generated from. The case's model
is made from the case's one table of fields (kundskab.reasoning.cases.FIELDS), the recommendation's
from the typed answer itself (kundskab.reasoning.answer): a field added there is here at
once. The other answers are still plain JSON objects, described here. Answers carry more
keys than listed as they grow (the contract adds, never removes), so answer models allow
extra keys; a case does not.
"""

from __future__ import annotations

import functools
import operator
from collections import abc
from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

__all__ = [
    "SCHEMAS",
    "Case",
    "CaseWarning",
    "CheckAnswer",
    "ConceptAnswer",
    "ErrorAnswer",
    "ErrorDetail",
    "Explanation",
    "FileAnswer",
    "Health",
    "InterventionSummary",
    "OpenQuestion",
    "Problem",
    "ProgrammeCheckAnswer",
    "RankedIntervention",
    "Recommendation",
    "SourceRef",
    "ValidateRequest",
    "json_schemas",
]

class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


def _case_model() -> type[BaseModel]:
    """The model of a case, made from the case's one table of fields (kundskab.reasoning.cases.FIELDS)
    and its limits: it describes the case for OpenAPI and the JSON Schema; the library's
    parser alone decides what is accepted, on every path."""
    from kundskab.reasoning.cases import FIELDS, MAX_AGE, MAX_OFFENCES, MAX_REF_LENGTH

    limits: dict[str, dict[str, Any]] = {"age": {"ge": 0, "le": MAX_AGE}, "ref": {"max_length": MAX_REF_LENGTH},
                                         "offences": {"max_length": MAX_OFFENCES}}
    fields: dict[str, Any] = {
        name: (field.schema, Field(None, description=field.description, **limits.get(name, {})))
        for name, field in FIELDS.items()}
    model: type[BaseModel] = create_model(
        "Case", __config__=ConfigDict(extra="forbid", strict=True, json_schema_extra={
            "examples": [{"ref": "opaque-123", "age": 15,
                          "factors": {"truancy": True, "family-problems": "unknown"}}]}),
        __doc__="A case: nothing in it identifies a person; `ref` is echoed back, never stored.",
        **fields)
    return model


Case = _case_model()


def _json_type(hint: Any) -> Any:
    """The type of a typed answer's field as its JSON has it: a fact is its text, a tuple a
    list, an answer's own class its model."""
    from kundskab.reasoning.answer import Fact

    if hint is Fact:
        return str
    if isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields"):
        return _answer_model(hint)
    origin, args = get_origin(hint), get_args(hint)
    if origin is tuple or origin is list:
        return list[_json_type(args[0])]  # type: ignore[misc]
    if origin is Mapping or origin is abc.Mapping:
        return dict[_json_type(args[0]), _json_type(args[1])]  # type: ignore[misc]
    if origin in (Union, UnionType):
        return functools.reduce(operator.or_, [_json_type(a) for a in args])
    return hint


@functools.cache
def _answer_model(cls: type[Any]) -> type[BaseModel]:
    """The model of one of the typed answer's classes (kundskab.reasoning.answer): its fields
    in its order, their JSON types and descriptions (the `Annotated` text beside a type)."""
    from kundskab.reasoning.answer import NOT_IN_JSON, Recommendation

    hints = get_type_hints(cls, include_extras=True)
    fields: dict[str, Any] = {}
    for name in cls._fields:
        if cls is Recommendation and name in NOT_IN_JSON:
            continue
        hint, description = hints[name], None
        if get_origin(hint) is Annotated:
            hint, *extras = get_args(hint)
            description = next((e for e in extras if isinstance(e, str)), None)
        if name in cls._field_defaults:  # left out of the JSON when empty
            field = Field(default_factory=list, description=description)
        else:
            field = Field(..., description=description)
        fields[name] = (_json_type(hint), field)
    model: type[BaseModel] = create_model(cls.__name__, __base__=_Answer, __doc__=cls.__doc__, **fields)
    return model


def _answer_models() -> dict[str, type[BaseModel]]:
    from kundskab.reasoning import answer

    return {name: _answer_model(getattr(answer, name)) for name in (
        "RankedIntervention", "Change", "OpenQuestion", "Explanation", "CaseWarning", "ForumElsewhere",
        "ForumByAge", "ForumRuledOut", "Brought", "NeedQuestion", "Recommendation")}


_ANSWER = _answer_models()
RankedIntervention = _ANSWER["RankedIntervention"]
Change = _ANSWER["Change"]
OpenQuestion = _ANSWER["OpenQuestion"]
Explanation = _ANSWER["Explanation"]
CaseWarning = _ANSWER["CaseWarning"]
ForumElsewhere = _ANSWER["ForumElsewhere"]
ForumByAge = _ANSWER["ForumByAge"]
ForumRuledOut = _ANSWER["ForumRuledOut"]
Brought = _ANSWER["Brought"]
NeedQuestion = _ANSWER["NeedQuestion"]
Recommendation = _ANSWER["Recommendation"]


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorAnswer(BaseModel):
    """Every error: `{"error": {"code", "message"}}`; a message never repeats a case's values."""

    error: ErrorDetail


class BatchError(BaseModel):
    """A bad line of a batch: its number and the error; the other lines go on."""

    line: int
    error: ErrorDetail


class Problem(_Answer):
    code: str
    message: str
    line: int | None = None
    field: str | None = None


class FileAnswer(_Answer):
    """One entry of `files` of `validate --format json` (and `POST /v1/validate`)."""

    file: str
    valid: bool
    programme: str | None
    principles: list[str]
    errors: list[Problem]
    warnings: list[Problem]


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(..., min_length=1, max_length=255,
                          description="Its extension gives the format: .md, .yaml, .yml, .ttl, .jsonld.")
    content: str = Field(..., description="The document's text.")


class PortfolioDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(..., min_length=1, max_length=255,
                          description="Its extension gives the format: .md, .yaml, .yml, .ttl, .jsonld.")
    content: str = Field(..., description="The document's text.")


class PortfolioRequest(BaseModel):
    """The body of `POST /v1/portfolio`: documents (each as `POST /v1/validate` takes one)
    and/or the catalogue's measures of a programme, municipality or police district."""

    model_config = ConfigDict(extra="forbid")

    documents: list[PortfolioDocument] = Field(default_factory=list, max_length=10_000)
    programme: str | None = Field(None, min_length=1, max_length=200)
    municipality: str | None = Field(None, min_length=1, max_length=200)
    district: str | None = Field(None, min_length=1, max_length=200)


class PortfolioAnswer(_Answer):
    """`portfolio --format json`: scope, initiatives, invalid documents, the profile heat map,
    coverage, holes (ranked, each with its sources), uncertain needs, overlaps, the network."""

    scope: dict[str, Any]
    initiatives: list[dict[str, Any]]
    invalid: list[dict[str, Any]]
    holes: list[dict[str, Any]]
    overlaps: list[dict[str, Any]]
    network: dict[str, Any]
    summary: dict[str, int]


class SourceRef(_Answer):
    file: str
    section: str | None


class InterventionSummary(_Answer):
    """One item of `interventions --format json`."""

    id: str
    label: str
    tier: str | None
    target_groups: list[str]
    fora: list[str]
    principles: list[str]
    sources: list[SourceRef]
    kind: str | None = None


class ConceptAnswer(_Answer):
    """`show ID --format json`: everything known about one concept."""

    id: str
    type: str
    labels: dict[str, str | None]
    definition: str | None
    sources: list[SourceRef]


class CheckAnswer(_Answer):
    """`check --format json`."""

    kb_version: str
    valid: bool
    errors: list[dict[str, Any]]
    findings: list[dict[str, Any]]


class SupportAnswer(_Answer):
    id: str
    support: Literal["stated", "derived", "claimed", "placed"]
    source: str | None = None
    rule: str | None = None
    because: list[str] | None = None


class InitiativeRow(_Answer):
    """One catalogue initiative of the programme, with its verdict."""

    id: str
    label: str
    in_scope: bool | None
    verdict: Literal["meets", "falls-short", "cannot-tell", "not-graded"]
    why: str
    principles: list[SupportAnswer]


class ProgrammeCheckAnswer(_Answer):
    """`check --programme ID --format json` and `GET /v1/check?programme=ID`."""

    programme: str
    label: str
    kb_version: str
    initiatives: list[InitiativeRow]
    summary: dict[str, Any]


class Health(BaseModel):
    status: str
    kb_version: str | None = None


# The schemas published in docs/schemas/ (file stem -> model).
SCHEMAS: dict[str, type[BaseModel]] = {
    "case": Case,
    "recommendation": Recommendation,
    "batch-error": BatchError,
    "error": ErrorAnswer,
    "validate-file": FileAnswer,
    "intervention": InterventionSummary,
    "concept": ConceptAnswer,
    "check": CheckAnswer,
    "check-programme": ProgrammeCheckAnswer,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema (draft 2020-12) of each published model, by file stem."""
    out = {}
    for stem, model in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://w3id.org/kundskab/schemas/{stem}.json"
        out[stem] = schema
    return out
