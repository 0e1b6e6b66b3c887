"""Typed models of a case and of the answers, for the HTTP API and the published JSON Schemas.

The library builds its answers as plain JSON objects (see CONTRACT.md); these models
describe them, so that the OpenAPI description and `docs/schemas/*.json` are real schemas
that clients can be generated from. Answers carry more keys than listed here as they grow
(the contract adds, never removes), so answer models allow extra keys; a case does not.
"""

from __future__ import annotations

from typing import Any, Literal

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


class RankedIntervention(_Answer):
    id: str
    label: str
    tier: str
    score: float
    reasons: list[str]
    source: str | None = None
    scope: str | None = None
    kind: str | None = None
    status: str | None = None
    min_age: int | None = Field(None, description="The youngest the measure is for (stated, inferred, or from its "
                                                  "target groups); null: no lower bound known.")
    max_age: int | None = Field(None, description="The oldest the measure is for; null: no upper bound known.")


class Change(_Answer):
    tier: str | None = None
    new_fora: list[str] = Field(default_factory=list)


class OpenQuestion(_Answer):
    factor: str
    would_change: list[str]
    label: str | None = None
    if_true: Change | None = None
    if_false: Change | None = None


class Explanation(_Answer):
    rule: str
    conclusion: str
    because: str
    premises: list[str]
    source: str


class CaseWarning(BaseModel):
    """Something in the request that looks wrong, said without repeating its value."""

    code: str = Field(description="`ref-looks-like-cpr`: the case's `ref` looks like a Danish CPR "
                                  "number; a case must not identify a person.")
    message: str


class ForumElsewhere(_Answer):
    id: str
    label: str
    where: list[str] = Field(description="The areas where the forum exists.")
    where_label: str


class Recommendation(_Answer):
    """The answer of `recommend --format json` and `POST /v1/recommend`."""

    ref: str | None
    tier: Literal["general", "specific", "individual"]
    target_groups: list[str]
    fora: list[str]
    fora_elsewhere: list[ForumElsewhere] = Field(
        default_factory=list,
        description="Only when there is one: local fora whose trigger the case meets but that exist "
                    "elsewhere than the case's place (not the case's fora), with where.")
    interventions: list[RankedIntervention]
    control: list[RankedIntervention] = Field(
        default_factory=list,
        description="Only when there is one: control and enforcement aimed at the person (kind `control`), "
                    "never among the interventions offered as help; only for an active offender or a gang "
                    "member with no wish to leave, never for one who wants out.")
    open_questions: list[OpenQuestion]
    explanation: list[Explanation]
    labels: dict[str, str] = Field(default_factory=dict)
    kb_version: str
    warnings: list[CaseWarning] = Field(
        default_factory=list,
        description="Only when there is one: what looks wrong in the case, the same from the library, "
                    "the command line (which also says it on stderr), a batch and HTTP.")


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
