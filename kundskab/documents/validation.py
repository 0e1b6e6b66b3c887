"""Validating initiative documents against their programme (`kundskab validate`).

What is checked, and where the knowledge of it lives:

- structure (required fields, one value or many, text or name): the SHACL shapes in
  ontology/shapes/documents/initiative.ttl, run once over all documents of a run;
- names: every concept is named by id or label and resolved in the knowledge base; a
  principle or sub-goal must belong to the document's programme;
- the programme's requirements: its ks:Requirement concepts (field, minCount, valuesFrom,
  requiredValue, allowedValue, errorCode), so a new programme, or a new version of one,
  is Turtle only;
- tier against target groups: ks:minTier / ks:maxTier on target groups;
- warnings (never invalidating): a claimed principle or sub-goal the document's text says
  nothing about, one the text talks about but does not claim, unknown fields, template
  placeholders left in.

Error codes are those of CONTRACT.md plus `invalid-field` (a field of the wrong form) and
`ambiguous-name`.
"""

from __future__ import annotations

import datetime
import difflib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from kundskab import _paths
from kundskab._memo import BoundedMemo, per_knowledge_base
from kundskab._names import fold, nearest
from kundskab.documents.matching import Match, Term, TermIndex, Token, guess_languages, tokens
from kundskab.documents.principle_support import DERIVED, STATED, InitiativeFacts, Support, deriver, initiative_facts
from kundskab.documents.reading import (
    FIELDS,
    Document,
    Entry,
    FieldSpec,
    ReadError,
    document_format,
    iter_sources,
    parse_document,
    placeholders,
    printable,
    read_document,
)
from kundskab.errors import AmbiguousNameError, DocumentError, UnknownConceptError
from kundskab.i18n import N_, Messages, gettext
from kundskab.knowledge import programmes
from kundskab.knowledge import vocab as _vocab
from kundskab.knowledge.base import Concept, KnowledgeBase, tier_ranks
from kundskab.knowledge.base import load as load_kb
from kundskab.knowledge.programmes import Requirement

__all__ = [
    "FileReport",
    "Problem",
    "ValidationReport",
    "validate",
    "validate_documents",
]

REQUIRED_FIELDS = ("title", "programme", "tier", "target_groups")
# Bounds that keep the cost of a hostile document linear and its report readable: a field
# is read up to MAX_ITEMS values (a real one has a handful), and a document lists at most
# MAX_PROBLEMS_PER_CODE problems of one code, then says how many more there were.
MAX_ITEMS = 200
MAX_PROBLEMS_PER_CODE = 50
_UNRESOLVED = "urn:kundskab:unresolved"  # stands in for a name already reported as unknown
_SHAPES_FILE = Path("shapes") / "documents" / "initiative.ttl"
_KSH = "https://w3id.org/kundskab/shapes#"
_SH = "http://www.w3.org/ns/shacl#"

# A principle or sub-goal that exists but belongs to another programme than the document's.
OTHER_PROGRAMME_CODES = {"Principle": "principle-of-other-programme", "SubGoal": "sub-goal-of-other-programme"}
PLURAL_KINDS = Messages({"Principle": N_("principles"), "SubGoal": N_("sub-goals")})

# Validation messages: English here, Danish in the message catalogue.
MESSAGES = Messages({
    "unknown": N_("Unknown {kind} '{name}' in the field '{field}'."),
    "did_you_mean": N_(" Did you mean: {choices}?"),
    "choose_from": N_(" {programme} has: {choices}."),
    "ambiguous": N_("'{name}' in the field '{field}' is ambiguous: it can be {choices}; use the id."),
    "other_programme": N_("The {kind} {name} belongs to {owner}, not to {programme}; only the "
                           "programme's own count."),
    "has_none": N_(" {programme} has no {kinds}."),
    "min_count": N_("{requirement}: {programme} requires at least {n} in the field "
                     "'{field}', but the document gives {have}{listing}."),
    "min_count_more": N_(" Choose from: {choices}."),
    "required_value": N_("{requirement}: the field '{field}' must be '{value}'{found}."),
    "allowed_value": N_("{requirement}: the field '{field}' must be one of: {values}{found}."),
    "found": N_(" (the document gives: {found})"),
    "missing": N_(" (the field is missing)"),
    "tier_low": N_("The tier '{tier}' ({tier_id}) is too low for the target group "
                    "'{group}' ({group_id}), which needs at least '{bound}' ({bound_id})."),
    "tier_high": N_("The tier '{tier}' ({tier_id}) is too high for the target group "
                     "'{group}' ({group_id}), which can have at most '{bound}' ({bound_id})."),
    "unjustified": N_("The {kind} '{label}' ({id}) is claimed without ground: no "
                      "justification, the text does not mention it, and the document's facts (partners, "
                      "target groups, fora, effect follow-up) do not support it; write a justification "
                      "that mentions e.g.: {examples}."),
    "suggested": N_("The text speaks of the {kind} '{label}' ({id}) (words: {words}), but "
                     "it is not claimed in '{field}'; consider adding it."),
    "unknown_field": N_("Unknown field '{name}' is ignored."),
    "unknown_field_hint": N_(" Did you mean '{hint}'?"),
    "placeholder": N_("The field '{field}' still has template text: {text}"),
    "placeholder_required": N_("The required field '{field}' still has template text: {text}; the "
                                "document is not filled in."),
    "placeholder_body": N_("The text still has template text: {text}"),
    "too_many_items": N_("The field '{field}' has {count} values; only the first {limit} are read."),
    "more_problems": N_("… and {count} more of the same kind ({code}), not listed."),
    "none": N_("none"),
})
_msg = MESSAGES.text


# ---------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Problem:
    """An error or a warning about a document."""

    code: str
    message: str
    line: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "line": self.line}
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass
class FileReport:
    """The outcome for one document (one entry of `files` in CONTRACT.md)."""

    file: str
    format: str | None = None
    programme: str | None = None
    principles: list[str] = field(default_factory=list)
    subgoals: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # The ground of each claimed principle or sub-goal (stated by the document with its line,
    # derived by a rule from the document's facts, or claimed without ground), and the
    # principles the document's facts support that it does not claim.
    support: list[Support] = field(default_factory=list)
    suggestions: list[Support] = field(default_factory=list)
    # What the portfolio analysis reads (kundskab.documents.portfolios), not part of the JSON: the
    # title and the concepts each field names, resolved to ids.
    title: str | None = field(default=None, repr=False, compare=False)
    concepts: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "valid": self.valid,
            "programme": self.programme,
            "principles": list(self.principles),
            "subgoals": list(self.subgoals),
            "format": self.format,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "support": [s.as_dict() for s in self.support],
            "suggestions": [s.as_dict() for s in self.suggestions],
        }


@dataclass
class ValidationReport:
    """The outcome for every document of a run."""

    files: list[FileReport]
    kb_version: str = ""

    @property
    def valid(self) -> int:
        return sum(1 for f in self.files if f.valid)

    @property
    def invalid(self) -> int:
        return len(self.files) - self.valid

    @property
    def ok(self) -> bool:
        return self.invalid == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [f.as_dict() for f in self.files],
            "summary": {"valid": self.valid, "invalid": self.invalid,
                        "warnings": sum(len(f.warnings) for f in self.files)},
            "kb_version": self.kb_version,
        }


# ---------------------------------------------------------------------------- the model


class _Model:
    """What validation needs from one knowledge base, worked out once."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.ranks = tier_ranks(kb)
        self.tier_bounds: dict[str, tuple[str | None, str | None]] = {}
        for group in kb.of_type("TargetGroup"):
            low, high = group.ref("minTier"), group.ref("maxTier")
            if low or high:
                self.tier_bounds[group.id] = (low[0] if low else None, high[0] if high else None)
        claim_kinds = {spec.kind for spec in FIELDS.values() if spec.claim and spec.kind}
        terms: list[Term] = []
        for kind in sorted(claim_kinds):
            for concept in kb.of_type(kind):
                for lang, label in concept.labels.items():
                    terms.append(Term.of(concept.id, label, lang))
                for lang, alts in concept.alt_labels.items():
                    terms.extend(Term.of(concept.id, alt, lang) for alt in alts)
        self.terms = TermIndex(terms)

    def parts(self, programme: str, kind: str) -> list[Concept]:
        """The programme's principles (or sub-goals...): kundskab.knowledge.programmes, the one home."""
        return programmes.parts(self.kb, programme, kind)

    def requirements(self, programme: str) -> list[Requirement]:
        return programmes.requirements(self.kb, programme)


_model = per_knowledge_base(_Model)


@dataclass(frozen=True)
class _Shapes:
    graph: Any
    annotations: dict[str, tuple[str, str]]  # shape IRI -> (field, code)


_SHAPES = BoundedMemo("validation.shapes")  # per file and modification time


def _shapes(kb: KnowledgeBase) -> _Shapes:
    import rdflib

    path = (kb.ontology_dir or _paths.ontology_dir()) / _SHAPES_FILE
    if not path.is_file():
        path = _paths.ontology_dir() / _SHAPES_FILE
    key = (str(path), path.stat().st_mtime)
    found: _Shapes | None = _SHAPES.get(key)
    if found is None:
        graph = rdflib.Graph().parse(path, format="turtle")
        annotations = {}
        for shape, name in graph.subject_objects(rdflib.URIRef(_KSH + "field")):
            code = graph.value(shape, rdflib.URIRef(_KSH + "code"))
            annotations[str(shape)] = (str(name), str(code or "invalid-field"))
        found = _Shapes(graph, annotations)
        _SHAPES.keep(key, found)
    return found


# ---------------------------------------------------------------------------- one document


@dataclass
class _Check:
    """A document under check: its node in the run's graph and what was found so far."""

    doc: Document
    node: Any
    lang: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    programme: str | None = None
    concepts: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)
    texts: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)
    justifications: dict[str, dict[str, tuple[str, int | None]]] = field(default_factory=dict)
    blank_lines: dict[Any, tuple[str, int | None]] = field(default_factory=dict)
    field_errors: set[str] = field(default_factory=set)
    support: list[Support] = field(default_factory=list)
    suggestions: list[Support] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # problems per code, listed or not

    def line(self, name: str) -> int | None:
        entry = self.doc.fields.get(name)
        return entry.line if entry is not None and entry.line is not None else self.doc.first_line

    def full(self, code: str) -> bool:
        """Whether problems of `code` are no longer listed (only counted): callers skip the
        work of phrasing them (suggestions, near matches)."""
        return self.counts.get(code, 0) >= MAX_PROBLEMS_PER_CODE

    def _count(self, code: str) -> bool:
        listed = not self.full(code)
        self.counts[code] = self.counts.get(code, 0) + 1
        return listed

    def error(self, code: str, message: str, line: int | None, name: str | None) -> None:
        if self._count(code):
            self.errors.append(Problem(code, message, line, name))
        if name:
            self.field_errors.add(name)

    def warn(self, code: str, message: str, line: int | None, name: str | None = None) -> None:
        if self._count(code):
            self.warnings.append(Problem(code, message, line, name))

    def unlisted(self) -> tuple[list[Problem], list[Problem]]:
        """One closing problem per code with problems beyond the listed ones (errors, warnings)."""
        errors: list[Problem] = []
        warnings: list[Problem] = []
        error_codes = {p.code for p in self.errors}
        for code, count in self.counts.items():
            if count > MAX_PROBLEMS_PER_CODE:
                target = errors if code in error_codes else warnings
                target.append(Problem(code, _msg(self.lang, "more_problems", code=code,
                                                 count=count - MAX_PROBLEMS_PER_CODE)))
        return errors, warnings


def _items(entry: Entry, spec: FieldSpec, limit: int | None = None) -> list[tuple[Any, int | None, Any]]:
    """(item, line, justification) for each value of a field, whatever form it was given in;
    the first `limit` values only, where a limit is given."""
    value = entry.value
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, dict):
        if spec.claim:
            pairs = islice(value.items(), limit)
            return [(k, entry.item_line(i), v) for i, (k, v) in enumerate(pairs)]
        return [(value, entry.line, None)]
    if isinstance(value, list):
        return [(v, entry.item_line(i), None) for i, v in enumerate(islice(value, limit))
                if v is not None and not (isinstance(v, str) and not v.strip())]
    return [(value, entry.line, None)]


def _size(entry: Entry) -> int:
    return len(entry.value) if isinstance(entry.value, list | dict) else 1


def _as_text(value: Any) -> str | None:
    """A value accepted as text: strings, and numbers or dates that YAML typed for us."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | datetime.date):
        return str(value)
    return None


class _Builder:
    """Turns documents into the run's RDF graph, resolving names on the way."""

    def __init__(self, kb: KnowledgeBase, model: _Model, lang: str) -> None:
        import rdflib

        self.rdflib = rdflib
        self.kb = kb
        self.model = model
        self.lang = lang
        self.graph = rdflib.Graph()
        self.rdf_type = rdflib.RDF.type
        self.rdf_value = rdflib.RDF.value
        self.doc_class = rdflib.URIRef(_vocab.KS + "InitiativeDocument")
        self.justification = rdflib.URIRef(_vocab.KS + "justification")
        self.about = rdflib.URIRef(_vocab.KS + "about")
        self.props = {name: rdflib.URIRef(spec.prop) for name, spec in FIELDS.items()}
        self.unresolved = rdflib.URIRef(_UNRESOLVED)

    def add(self, check: _Check) -> None:
        self.graph.add((check.node, self.rdf_type, self.doc_class))
        # In FIELDS order, so the programme is known before the principles that must be its own.
        for name, spec in FIELDS.items():
            entry = check.doc.fields.get(name)
            if entry is None:
                continue
            if _size(entry) > MAX_ITEMS:
                check.error("invalid-field", _msg(self.lang, "too_many_items", field=name,
                                                  count=_size(entry), limit=MAX_ITEMS),
                            entry.line, name)
            for item, line, justification in _items(entry, spec, MAX_ITEMS):
                node = self._node(check, spec, item, line)
                self.graph.add((check.node, self.props[name], node))
                if spec.claim and justification is not None:
                    self._justify(check, spec, node, item, justification, line)
        for name, entry in check.doc.fields.items():
            if name not in FIELDS:
                if check.full("unknown-field"):  # counted only: no near-match search
                    check.warn("unknown-field", "", entry.line, None)
                    continue
                hint = difflib.get_close_matches(name.lower(), list(FIELDS), n=1, cutoff=0.7)
                message = _msg(self.lang, "unknown_field", name=printable(name))
                if hint:
                    message += _msg(self.lang, "unknown_field_hint", hint=hint[0])
                check.warn("unknown-field", message, entry.line, None)

    def _blank(self, check: _Check, name: str, line: int | None) -> Any:
        node = self.rdflib.BNode()
        check.blank_lines[node] = (name, line)
        return node

    def _node(self, check: _Check, spec: FieldSpec, item: Any, line: int | None) -> Any:
        if spec.kind is None:
            text = _as_text(item)
            if text is None:
                return self._blank(check, spec.name, line)
            check.texts.setdefault(spec.name, []).append((text, line))
            return self.rdflib.Literal(text)
        if not isinstance(item, str):
            return self._blank(check, spec.name, line)
        ident = self._resolve(check, spec, item, line)
        if ident is None:
            return self.unresolved
        check.concepts.setdefault(spec.name, []).append((ident, line))
        if spec.name == "programme" and check.programme is None:
            check.programme = ident
        return self.rdflib.URIRef(_vocab.KB + ident)

    def _justify(self, check: _Check, spec: FieldSpec, node: Any, item: Any,
                 justification: Any, line: int | None) -> None:
        holder = self.rdflib.BNode()
        self.graph.add((check.node, self.justification, holder))
        self.graph.add((holder, self.about, node))
        text = _as_text(justification)
        if text is None:
            self.graph.add((holder, self.rdf_value, self._blank(check, spec.name, line)))
            return
        self.graph.add((holder, self.rdf_value, self.rdflib.Literal(text)))
        if isinstance(item, str) and node != self.unresolved and text.strip():
            ident = str(node)[len(_vocab.KB):]
            check.justifications.setdefault(spec.name, {})[ident] = (text, line)

    def _resolve(self, check: _Check, spec: FieldSpec, name: str, line: int | None) -> str | None:
        kb, lang = self.kb, self.lang
        assert spec.kind is not None
        kind = kb.class_label(spec.kind, lang)
        programme = check.programme if spec.claim else None
        parts = self.model.parts(programme, spec.kind) if programme else None
        part_ids = [p.id for p in parts] if parts is not None else []
        shown = printable(name)
        try:
            ident = kb.resolve(name, spec.kind, suggest=not check.full("unknown-concept"))
        except AmbiguousNameError as exc:
            within = [c for c in exc.candidates if c in part_ids]
            if len(within) != 1:
                check.error("ambiguous-name", _msg(lang, "ambiguous", name=shown, field=spec.name,
                                                   choices=", ".join(exc.candidates)),
                            line, spec.name)
                return None
            ident = within[0]
        except UnknownConceptError as exc:
            message = _msg(lang, "unknown", kind=kind, name=shown, field=spec.name)
            suggestions = exc.suggestions
            if parts is not None and programme is not None:
                keys = {fold(p.id): p.id for p in parts}
                keys.update({fold(label): p.id for p in parts for label in p.labels.values()})
                suggestions = nearest(name, keys)
                if not suggestions:  # none alike: the parts whose words the name starts
                    from kundskab.knowledge.browse import search

                    suggestions = [i["id"] for i in search(kb, name, lang, spec.kind) if i["id"] in part_ids][:3]
            if suggestions:
                message += _msg(lang, "did_you_mean", choices=", ".join(suggestions))
            if parts is not None and programme is not None:
                message += self._programme_parts(programme, spec.kind, parts)
            check.error("unknown-concept", message, line, spec.name)
            return None
        if parts is not None and programme is not None and ident not in part_ids:
            owners = kb.get(ident).ref("ofProgramme")
            owner = ", ".join(kb.label(o, lang) for o in owners) or "?"
            named = f"'{shown}'" if name.strip() == ident else f"'{shown}' ({ident})"
            # Its own code: the name is known, it is only of another programme.
            code = OTHER_PROGRAMME_CODES.get(spec.kind, "unknown-concept")
            check.error(code, _msg(
                lang, "other_programme", kind_cap=kind.capitalize(), kind=kind, name=named, owner=owner,
                programme=kb.label(programme, lang)) + self._programme_parts(programme, spec.kind, parts),
                line, spec.name)
            return None
        return ident

    def _programme_parts(self, programme: str, kind: str, parts: list[Concept]) -> str:
        """The programme's parts, to end a message: their names, or that it has none."""
        kb, lang = self.kb, self.lang
        name = kb.label(programme, lang)
        if not parts:
            plural = PLURAL_KINDS.get(kind)
            kinds = gettext(plural, lang) if plural else kb.class_label(kind, lang)
            return _msg(lang, "has_none", programme=name, kinds=kinds)
        return _msg(lang, "choose_from", programme=name,
                    choices=", ".join(f"{p.label(lang)} ({p.id})" for p in parts))


# ---------------------------------------------------------------------------- checks


def _apply_shacl(builder: _Builder, checks: dict[str, _Check], shapes: _Shapes, lang: str) -> None:
    import pyshacl
    import rdflib

    if not checks:
        return
    _conforms, results, _text = pyshacl.validate(
        builder.graph, shacl_graph=shapes.graph, inference="none", inplace=True,
        advanced=False, meta_shacl=False, allow_warnings=False)
    sh = rdflib.Namespace(_SH)
    found: set[tuple[str, str, str, int | None]] = set()
    # pySHACL's results come in the order of a hash set: problems are reported in the
    # document's order of fields instead, so the report is the same in every run.
    order = {field: index for index, field in enumerate(FIELDS)}
    problems: list[tuple[_Check, str, str, int | None, str]] = []
    for result in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        check = checks.get(str(results.value(result, sh.focusNode)))
        shape = results.value(result, sh.sourceShape)
        if check is None or shape is None:
            continue
        name, code = shapes.annotations.get(str(shape), ("", "invalid-field"))
        value = results.value(result, sh.value)
        line = check.line(name) if name in FIELDS else check.doc.first_line
        if value is not None and value in check.blank_lines:
            name, line = check.blank_lines[value]
        messages = {m.language: str(m) for m in results.objects(result, sh.resultMessage)}
        message = messages.get(lang) or messages.get("en") or next(iter(messages.values()), code)
        key = (check.doc.name, code, name, line)
        if key in found:
            continue
        found.add(key)
        problems.append((check, code, message, line, name))
    problems.sort(key=lambda p: (p[0].doc.name, p[3] is None, p[3] or 0, order.get(p[4], len(order)), p[4], p[1], p[2]))
    for check, code, message, line, name in problems:
        check.error(code, message, line, name or None)


def _check_requirements(check: _Check, model: _Model) -> None:
    kb, lang, programme = model.kb, check.lang, check.programme
    if programme is None:
        return
    programme_label = kb.label(programme, lang)
    for req in model.requirements(programme):
        spec = FIELDS.get(req.field)
        entry = check.doc.fields.get(req.field)
        line = entry.line if entry is not None and entry.line is not None else check.line("programme")
        label = kb.label(req.id, lang)
        have: list[str]
        if spec is not None and spec.kind is not None:
            have = list(dict.fromkeys(i for i, _ in check.concepts.get(req.field, [])))
        elif spec is not None:
            have = [t for t, _ in check.texts.get(req.field, []) if t.strip()]
        else:  # a field this version does not know: present and non-empty is all we can tell
            have = [str(v) for v, _, _ in _items(entry, FieldSpec(req.field, "", None, True), MAX_ITEMS)] \
                if entry is not None else []
        counted = have
        choices: list[str] = []
        if req.values_from:
            parts = [p.id for p in model.parts(programme, req.values_from)]
            counted = [h for h in have if h in parts]
            choices = [p for p in parts if p not in counted]
        if req.min_count is not None and len(counted) < req.min_count:
            listing = f" ({', '.join(counted)})" if counted and spec and spec.kind else ""
            message = _msg(lang, "min_count", requirement=label, programme=programme_label,
                           n=req.min_count, field=req.field, have=len(counted), listing=listing)
            if choices:
                message += _msg(lang, "min_count_more", choices=", ".join(choices))
            check.error(req.code, message, line, req.field)
        if req.field in check.field_errors:
            continue  # the value is already reported as malformed or unknown
        found = (_msg(lang, "found", found=", ".join(printable(h) for h in have)) if have
                 else _msg(lang, "missing"))
        folded = {fold(h) for h in have}
        if req.required and not all(fold(r) in folded for r in req.required):
            check.error(req.code, _msg(lang, "required_value", requirement=label, field=req.field,
                                       value="', '".join(req.required), found=found),
                        line, req.field)
        if req.allowed and not folded & {fold(a) for a in req.allowed}:
            check.error(req.code, _msg(lang, "allowed_value", requirement=label, field=req.field,
                                       values=", ".join(req.allowed), found=found),
                        line, req.field)


def _check_tier(check: _Check, model: _Model) -> None:
    tiers = check.concepts.get("tier", [])
    if len(tiers) != 1:
        return
    kb, lang = model.kb, check.lang
    tier = tiers[0][0]
    rank = model.ranks.get(tier)
    if rank is None:
        return
    for group, line in check.concepts.get("target_groups", []):
        low, high = model.tier_bounds.get(group, (None, None))
        broken = []
        if low is not None and rank < model.ranks.get(low, 0):
            broken.append((low, "tier_low"))
        if high is not None and rank > model.ranks.get(high, 99):
            broken.append((high, "tier_high"))
        for bound, key in broken:
            check.error("inconsistent-tier", _msg(
                lang, key, tier=kb.label(tier, lang), tier_id=tier,
                group=kb.label(group, lang), group_id=group,
                bound=kb.label(bound, lang), bound_id=bound), line, "target_groups")


def _text_tokens(check: _Check) -> list[Token]:
    """The document's own words: title, justifications, goals and the like, and body."""
    separator = Token("", "", "", None)
    out: list[Token] = []
    for name in ("title", "goals", "indicators", "success_criteria", "description"):
        for text, line in check.texts.get(name, []):
            out.extend(tokens(text, line, multiline=False))
            out.append(separator)
    for claims in check.justifications.values():
        for text, line in claims.values():
            out.extend(tokens(text, line, multiline=False))
            out.append(separator)
    for text in check.doc.extra_text:
        out.extend(tokens(text, None, multiline=False))
        out.append(separator)
    if check.doc.body:
        out.extend(tokens(check.doc.body, check.doc.body_line))
    return out


def _document_facts(check: _Check, kb: KnowledgeBase) -> InitiativeFacts:
    """What the document says of the initiative, as the principle rules read it."""
    def ids(name: str) -> list[str]:
        return [i for i, _ in check.concepts.get(name, [])]

    follow_up = [t for t, _ in check.texts.get("effect_follow_up", []) if t.strip()]
    evidence = ids("evidence")
    return initiative_facts(
        kb, actors=ids("actors"), fora=ids("fora"), target_groups=ids("target_groups"),
        factors=ids("risk_factors"), evidence=evidence[0] if evidence else None,
        effect_follow_up=follow_up[0] if follow_up else None)


def _check_claims(check: _Check, model: _Model) -> None:
    """The ground of each claim: the document's own justification or text (stated), a rule
    over its facts (derived), or none (a warning); and what it could claim but does not."""
    kb, lang = model.kb, check.lang
    words = _text_tokens(check)
    matches = model.terms.find(words, guess_languages(words))
    derived: dict[str, list[Support]] = {}
    for ground in deriver(kb).derive(_document_facts(check, kb)):
        derived.setdefault(ground.id, []).append(ground)
    where = check.doc.name
    for spec in FIELDS.values():
        if not spec.claim or spec.kind is None:
            continue
        kind = kb.class_label(spec.kind, lang)
        claimed = dict.fromkeys(i for i, _ in check.concepts.get(spec.name, []))
        first_line: dict[str, int | None] = {}
        for ident, line in check.concepts.get(spec.name, []):
            first_line.setdefault(ident, line)
        justified = check.justifications.get(spec.name, {})
        for ident, line in first_line.items():
            grounds: list[Support] = []
            text, text_line = justified.get(ident, ("", None))
            if text.strip() and not placeholders(text):
                grounds.append(Support(ident, STATED, source=f"{where}:{text_line or line}", line=text_line or line))
            elif ident in matches:
                hit = matches[ident][0]
                grounds.append(Support(ident, STATED, source=f"{where}:{hit.line or line}", line=hit.line or line))
            grounds += derived.get(ident, [])
            if grounds:
                check.support.extend(grounds)
                continue
            check.support.append(Support(ident, "claimed", line=line))
            concept = kb.get(ident)
            examples = [concept.label(lang), *concept.alt_labels.get(lang, ())[:3]]
            check.warn(f"unjustified-{spec.claim}", _msg(
                lang, "unjustified", kind_cap=kind.capitalize(), kind=kind,
                label=concept.label(lang), id=ident, examples=", ".join(examples)),
                line, spec.name)
        if check.programme is None:
            continue
        for part in model.parts(check.programme, spec.kind):
            if part.id in claimed:
                continue
            check.suggestions.extend(s for s in derived.get(part.id, []) if s.support == DERIVED)
            if part.id not in matches:
                continue
            found: list[Match] = matches[part.id]
            shown = list(dict.fromkeys(printable(m.words, 40) for m in found))[:5]
            check.warn(f"suggested-{spec.claim}", _msg(
                lang, "suggested", kind=kind, label=part.label(lang), id=part.id,
                words=", ".join(shown), field=spec.name), found[0].line, spec.name)


def _check_placeholders(check: _Check, model: _Model) -> None:
    """Template text left in: an error in a required field (the document is not filled
    in), a warning elsewhere."""
    lang = check.lang
    required = set(REQUIRED_FIELDS)
    if check.programme is not None:
        required |= {r.field for r in model.requirements(check.programme)}

    def report(name: str, text: str, line: int | None) -> None:
        left = placeholders(text)
        if not left:
            return
        shown = printable(left[0], 60)
        if name in required:
            check.error("unfilled-placeholder", _msg(lang, "placeholder_required", field=name, text=shown),
                        line, name)
        else:
            check.warn("unfilled-placeholder", _msg(lang, "placeholder", field=name, text=shown), line, name)

    for name, texts in check.texts.items():
        for text, line in texts:
            report(name, text, line)
    for name, claims in check.justifications.items():
        for text, line in claims.values():
            report(name, text, line)
    body = check.doc.body
    if body and placeholders(body):
        offset = body[: body.find("[")].count("\n") if "[" in body else 0
        line = check.doc.body_line + offset if check.doc.body_line is not None else None
        check.warn("unfilled-placeholder", _msg(lang, "placeholder_body",
                                                text=printable(placeholders(body)[0], 60)), line)


def _ordered(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def _report(check: _Check) -> FileReport:
    more_errors, more_warnings = check.unlisted()
    return FileReport(
        file=check.doc.name, format=check.doc.format, programme=check.programme,
        principles=list(dict.fromkeys(i for i, _ in check.concepts.get("principles", []))),
        subgoals=list(dict.fromkeys(i for i, _ in check.concepts.get("subgoals", []))),
        errors=_ordered(check.errors) + more_errors, warnings=_ordered(check.warnings) + more_warnings,
        support=check.support, suggestions=check.suggestions,
        title=next((t for t, _ in check.texts.get("title", [])), None),
        concepts={name: list(dict.fromkeys(i for i, _ in found)) for name, found in check.concepts.items()})


def _error_report(name: str, fmt: str | None, exc: DocumentError, lang: str) -> FileReport:
    message = exc.message(lang) if isinstance(exc, ReadError) else exc.translated(lang)
    return FileReport(file=name, format=fmt, errors=[Problem(exc.code, message, exc.line)])


# ---------------------------------------------------------------------------- runs


def validate_documents(documents: Sequence[Document | tuple[str, DocumentError]],
                       kb: KnowledgeBase | None = None, *, lang: str = "da") -> ValidationReport:
    """Validate documents already read (or the read errors of those that could not be).

    All documents go into one graph and through pySHACL once; then each is checked
    against its programme.
    """
    kb = kb if kb is not None else load_kb()
    model = _model(kb)
    builder = _Builder(kb, model, lang)
    checks: dict[str, _Check] = {}
    ordered: list[_Check | FileReport] = []
    for index, item in enumerate(documents):
        if isinstance(item, Document):
            node = builder.rdflib.URIRef(f"urn:kundskab:document:{index}")
            check = _Check(item, node, lang)
            builder.add(check)
            checks[str(node)] = check
            ordered.append(check)
        else:
            name, exc = item
            ordered.append(_error_report(name, document_format(name), exc, lang))
    _apply_shacl(builder, checks, _shapes(kb), lang)
    files: list[FileReport] = []
    for entry in ordered:
        if isinstance(entry, FileReport):
            files.append(entry)
            continue
        _check_requirements(entry, model)
        _check_tier(entry, model)
        _check_claims(entry, model)
        _check_placeholders(entry, model)
        files.append(_report(entry))
    return ValidationReport(files=files, kb_version=kb.version)


def validate(paths: str | Path | Iterable[str | Path] = (), kb: KnowledgeBase | None = None, *,
             documents: Iterable[tuple[str, str | bytes]] = (), lang: str = "da") -> ValidationReport:
    """Validate initiative documents, as `kundskab validate` does: files and folders
    (`paths`, one or several; folders searched recursively for the supported extensions)
    and documents given as content (`documents`: (filename, content) pairs; the file
    name's extension gives the format, and the report names it). One report, the paths'
    documents first, each in the order given.

    A file named explicitly is always reported, as unsupported-format if its extension is
    not one of the supported; one that cannot be read or parsed is reported with its error.
    A path that does not exist raises DocumentError (not-found).
    """
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    return validate_documents(read_paths(given, documents=documents), kb, lang=lang)


def read_paths(paths: Iterable[str | Path], *, documents: Iterable[tuple[str, Any]] = (),
               limit: int | None = None,
               too_many: DocumentError | None = None) -> list[Document | tuple[str, DocumentError]]:
    """The documents of files and folders, read (or the read error of each that cannot be),
    then the `documents` given as (filename, content) pairs, parsed (a content may be the
    DocumentError that refused it before it came here), as `validate` validates them. With
    `limit`, `too_many` is raised as soon as a document beyond it is found, before it is
    read."""
    given = [Path(p) for p in paths]
    for path in given:
        if not path.exists():
            raise DocumentError(N_("{path}: no such file or directory"), "not-found", path=printable(path, 200))
    items: list[Document | tuple[str, DocumentError]] = []
    for source in iter_sources(given):
        if limit is not None and len(items) >= limit and too_many is not None:
            raise too_many
        try:
            items.append(read_document(source.path, source.name, follow_links=source.named))
        except DocumentError as exc:
            items.append((source.name, exc))
    for filename, content in documents:
        if limit is not None and len(items) >= limit and too_many is not None:
            raise too_many
        if isinstance(content, DocumentError):
            items.append((filename, content))
            continue
        try:
            items.append(parse_document(content, filename))
        except DocumentError as exc:
            items.append((filename, exc))
    return items


# The entry points before `validate` took content too: kept working, deprecated.


def _deprecated(name: str) -> None:
    warnings.warn(f"kundskab.documents.validation.{name} is deprecated: use kundskab.validate", DeprecationWarning,
                  stacklevel=3)


def validate_document(content: bytes | str, filename: str, kb: KnowledgeBase | None = None, *,
                      lang: str = "da") -> FileReport:
    """Deprecated: `validate(documents=[(filename, content)], kb, lang=lang).files[0]`."""
    _deprecated("validate_document")
    return validate(documents=[(filename, content)], kb=kb, lang=lang).files[0]


def validate_paths(paths: Iterable[str | Path], kb: KnowledgeBase | None = None, *,
                   lang: str = "da") -> ValidationReport:
    """Deprecated: `validate(paths, kb, lang=lang)`."""
    _deprecated("validate_paths")
    return validate(paths, kb, lang=lang)


def validate_path(path: str | Path, kb: KnowledgeBase | None = None, *,
                  lang: str = "da") -> ValidationReport:
    """Deprecated: `validate(path, kb, lang=lang)`."""
    _deprecated("validate_path")
    return validate(path, kb, lang=lang)
