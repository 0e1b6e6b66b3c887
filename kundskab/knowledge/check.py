"""`kundskab check`: the knowledge base's integrity (SHACL) and programme findings.

Integrity errors are defects of the knowledge base (a missing label, a dangling reference)
and fail the check. Findings are catalogue initiatives that a programme's requirement
applies to and that fall short of it, on the evidence of kundskab.documents.principle_support (principles
stated by the source or derived by rules/principles.yaml): an initiative outside the
requirement's scope, or one whose verdict cannot be told because the facts are unknown,
is information, never a finding. The sources are what they are, so findings are warnings
unless the caller is strict.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from kundskab import _paths
from kundskab._names import fold
from kundskab.i18n import LANGUAGES, gettext, language
from kundskab.knowledge import vocab as _vocab
from kundskab.knowledge.base import KnowledgeBase
from kundskab.knowledge.programmes import requirements

__all__ = ["CheckReport", "Finding", "Issue", "check", "citation_issues", "programme_findings"]


@dataclass(frozen=True)
class Issue:
    """An integrity error: the knowledge base breaks one of its own rules."""

    code: str
    focus: str
    message: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None


@dataclass(frozen=True)
class Finding:
    """A catalogue initiative that falls short of its programme's requirement."""

    programme: str
    requirement: str
    intervention: str
    code: str
    message: str
    have: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    kb_version: str
    concepts: int
    interventions: int
    errors: list[Issue]
    findings: list[Finding]
    # programme -> verdict -> number of catalogue initiatives (meets, falls-short, cannot-tell)
    verdicts: dict[str, dict[str, int]] = field(default_factory=dict)
    # programme -> whether the requirement applies ("true", "false", "unknown") -> number
    scope: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        by_programme: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            by_programme[finding.programme] += 1
        return {
            "kb_version": self.kb_version,
            "valid": self.ok,
            "concepts": self.concepts,
            "interventions": self.interventions,
            "errors": [asdict(e) for e in self.errors],
            "findings": [asdict(f) for f in self.findings],
            "summary": {
                "errors": len(self.errors),
                "findings": len(self.findings),
                "findings_by_programme": dict(sorted(by_programme.items())),
                "verdicts_by_programme": dict(sorted(self.verdicts.items())),
                "scope_by_programme": dict(sorted(self.scope.items())),
            },
        }


def _short(node: Any) -> str:
    text = str(node)
    for prefix in (
        "https://w3id.org/kundskab/id/",
        "https://w3id.org/kundskab/schema#",
        "https://w3id.org/kundskab/shapes#",
        "http://www.w3.org/2004/02/skos/core#",
        "http://purl.org/dc/terms/",
    ):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


# The SHACL issues of an ontology, kept in the cache directory under the content of
# everything they follow from (see `shacl_issues`). Bump when that stops being true.
SHACL_CACHE_FORMAT = 1
_MAX_CACHED_ISSUES = 100_000
_MAX_CACHED_TEXT = 10_000
_ISSUE_FIELDS = {f.name for f in fields(Issue)}
_OPTIONAL = {"path", "value", "shape"}  # an Issue's fields that may be None


def shacl_issues(ontology_dir: Path, shapes_dir: Path | None = None, *, data: Any = None,
                 lang: str = "da", use_cache: bool = True) -> list[Issue]:
    """Run the SHACL shapes over the ontology; one Issue per violation, with the shape's
    sh:message in `lang` (every shape has one in Danish and one in English).

    The issues are a pure function of the ontology's and the shapes' files, this module
    and its message catalogues, pySHACL and rdflib, and the language. With `use_cache`
    they are kept in the cache directory under a hash of all of those, so `check` on a
    knowledge base that has not changed since it was last checked does not parse and
    validate it again (about nine tenths of its time); any edit, or another pySHACL, is a
    new key. A graph given as `data` (read from a store) is always validated."""
    ontology = [(f"ontology/{p.relative_to(ontology_dir)}", p) for p in _paths.ontology_files(ontology_dir)]
    shapes = [(f"shapes/{p.name}", p) for p in sorted((shapes_dir or ontology_dir / "shapes").glob("*.ttl"))]
    if data is not None or not use_cache:
        return _shacl_run(None if data is not None else [(p, p.read_bytes()) for _, p in ontology],
                          [(p, p.read_bytes()) for _, p in shapes], lang, data)
    named = ontology + shapes + _code_inputs()
    header = f"shacl-format={SHACL_CACHE_FORMAT}\0lang={lang}"
    read: list[list[tuple[Path, bytes]]] = []  # the inputs' content, once read

    def key_of_content() -> str:
        key, sources = _paths.hash_sources(named, header)
        read.append(sources)
        return key

    # Unchanged inputs are known by their signature, without reading them.
    key = _paths.content_key("shacl", [path for _, path in named], key_of_content, extra=header)
    cache_path = _paths.cache_dir() / f"shacl-{key[:32]}.json"
    cached = _cached_issues(_paths.read_cache_json(cache_path))
    if cached is not None:
        return cached
    if not read:  # validated from the very bytes the key is computed from
        key = key_of_content()
        cache_path = _paths.cache_dir() / f"shacl-{key[:32]}.json"
    sources = read[-1]
    issues = _shacl_run(sources[:len(ontology)], sources[len(ontology):len(ontology) + len(shapes)], lang)
    _paths.write_cache_json(cache_path, {"format": SHACL_CACHE_FORMAT, "issues": [asdict(i) for i in issues]})
    return issues


def _code_inputs() -> list[tuple[str, Path]]:
    """The code behind the SHACL issues, named: this module and the two it reads Turtle and
    names with, its message catalogues, and pySHACL's and rdflib's package files (which
    carry their versions), found without importing them."""
    from importlib.util import find_spec

    here = Path(__file__).parent.parent
    named = [(f"kundskab/{name}", here / name) for name in ("knowledge/check.py", "knowledge/compile.py",
                                                          "knowledge/vocab.py")]
    named += [(f"kundskab/locale/{p.parent.parent.name}/{p.name}", p)
              for p in sorted(here.glob("locale/*/LC_MESSAGES/kundskab.po"))]
    for package in ("pyshacl", "rdflib"):
        spec = find_spec(package)
        if spec is not None and spec.origin:
            named.append((f"{package}/__init__.py", Path(spec.origin)))
    return named


def _cached_issues(data: Any) -> list[Issue] | None:
    """The issues of a cache file, or None unless it has exactly the shape written above
    (the cache directory is not trusted)."""
    if type(data) is not dict or set(data) != {"format", "issues"} or data["format"] != SHACL_CACHE_FORMAT:
        return None
    rows = data["issues"]
    if type(rows) is not list or len(rows) > _MAX_CACHED_ISSUES:
        return None
    issues = []
    for row in rows:
        if type(row) is not dict or set(row) != _ISSUE_FIELDS:
            return None
        for name, text in row.items():
            if not (type(text) is str and len(text) <= _MAX_CACHED_TEXT) and not (text is None and name in _OPTIONAL):
                return None
        issues.append(Issue(**row))
    return issues


def _shacl_run(sources: list[tuple[Path, bytes]] | None, shape_sources: list[tuple[Path, bytes]], lang: str,
               data: Any = None) -> list[Issue]:
    """Validate the ontology (its files' content, or a graph as `data`) with pySHACL."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    from kundskab.knowledge.compile import graph_of_sources

    if data is None:
        assert sources is not None
        data = graph_of_sources(sources)
    shapes = graph_of_sources(shape_sources)
    # advanced=False: the shapes use no SHACL Advanced Features, and with them on pySHACL
    # copies the whole data graph first (for rules that might add triples).
    _conforms, results, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True
    )
    language_of = {str(m): m.language for m in shapes.objects(None, SH.message) if isinstance(m, rdflib.Literal)}
    issues = []
    # The report's own results only: a sh:node constraint nests the inner shape's results
    # under sh:detail, which say the same thing again about a blank node.
    for result in results.objects(None, SH.result):
        def one(pred: Any, result: Any = result) -> Any:
            return next(iter(results.objects(result, pred)), None)

        path = one(SH.resultPath)
        value = one(SH.value)
        # pySHACL drops the language tag of a SPARQL constraint's message: its language is
        # then the one the shapes give that text.
        messages = {m.language or language_of.get(str(m)): str(m) for m in results.objects(result, SH.resultMessage)}
        message = messages.get(lang) or messages.get("en") or gettext("violates a shape", lang)
        issues.append(
            Issue(
                code="shacl-violation",
                focus=_short(one(SH.focusNode)),
                message=message,
                path=_short(path) if path is not None and not isinstance(path, rdflib.BNode) else None,
                value=_short(value) if value is not None else None,
                shape=_short(one(SH.sourceShape)) if not isinstance(one(SH.sourceShape), rdflib.BNode) else None,
            )
        )
    issues += _inferred_link_issues(data, lang)
    return sorted(issues, key=lambda i: (i.focus, i.message, i.value or ""))


def _inferred_link_issues(data: Any, lang: str) -> list[Issue]:
    """A ks:inferred note naming a link (ks:property, ks:value) its concept does not have:
    the mark would be about nothing, and the real link would pass as stated. Checked here
    on the same graph, with RDF term equality as SPARQL has it; as a SPARQL constraint of
    ksh:InferredShape, pySHACL parsed its query once per concept with a note (~150 times),
    about a third of `check`. (The note's own form stays a core shape.)"""
    import rdflib

    ks = rdflib.Namespace(_vocab.KS)
    issues = []
    for subject, node in sorted(data.subject_objects(ks.inferred)):
        for prop in data.objects(node, ks.property):
            for value in data.objects(node, ks.value):
                if (subject, prop, value) not in data:
                    issues.append(Issue(
                        code="shacl-violation", focus=_short(subject),
                        message=gettext("a ks:inferred node names a link the concept does not have", lang),
                        value=_short(value), shape="ksh:InferredShape"))
    return issues


def label_issues(kb: KnowledgeBase, lang: str = "da") -> list[Issue]:
    """Two concepts of one kind must not share a preferred label: a label names one thing."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for concept in kb:
        for label in set(concept.labels.values()):
            seen[(concept.type, fold(label))].append(concept.id)
    issues = []
    for (kind, label), ids in sorted(seen.items()):
        if len(set(ids)) > 1:
            for ident in sorted(set(ids)):
                others = ", ".join(i for i in sorted(set(ids)) if i != ident)
                issues.append(Issue("duplicate-label", ident, gettext(
                    "{kind} label '{label}' is also the label of {others}", lang).format(
                    kind=kind, label=label, others=others)))
    return issues


def citation_issues(kb: KnowledgeBase, lang: str = "da") -> list[Issue]:
    """A citation of a public record ("public:NAME#Section") whose record (a ks:PublicRecord
    with that ks:file) does not exist: the reader would see a key, not what it stands for.
    (Seed-file citations are checked against the seeds themselves, by tests/test_citations.py.)"""
    issues = []
    for concept in kb:
        for source in concept.sources:
            if source.public and source.file not in kb.source_titles:
                issues.append(Issue("unknown-public-record", concept.id, gettext(
                    "cites the public record '{record}', which the knowledge base does not have "
                    "(ontology/concepts/public-records.ttl)", lang).format(record=source.file),
                    path="dct:source", value=str(source)))
    return issues


# Literal properties whose text a person reads (browse shows them): each is a plain name or
# figure, or a text in Danish and in English (ontology/shapes/knowledge-base.ttl, ShownText).
SHOWN_TEXT = ("place", "period", "area", "baseline", "target", "dataSource", "meets", "trigger", "note")


def text_issues(kb: KnowledgeBase, lang: str = "da") -> list[Issue]:
    """A shown text given in one language only, or both as a plain name and as a tagged text
    (which of them a person sees would be chance). Here rather than as SPARQL shapes: over the
    whole knowledge base those cost pySHACL some 40 s of CPU; this is a pass over the concepts."""
    issues = []
    for concept in kb:
        for prop in SHOWN_TEXT:
            values = concept.values.get(prop, ())
            langs = {v["lang"] for v in values if isinstance(v, dict)}
            if not langs:
                continue
            if langs != set(LANGUAGES):
                issues.append(Issue("untranslated-text", concept.id, gettext(
                    "ks:{property} is given in {languages} only: a shown text exists in both Danish and English",
                    lang).format(property=prop, languages=", ".join(sorted(langs))), path=f"ks:{prop}"))
            if any(isinstance(v, str) for v in values):
                issues.append(Issue("untranslated-text", concept.id, gettext(
                    "ks:{property} is both a name without a language and a text in Danish and English: "
                    "give one or the other", lang).format(property=prop), path=f"ks:{prop}"))
    return issues


def programme_findings(kb: KnowledgeBase, lang: str = "da") -> list[Finding]:
    """Catalogue initiatives in the scope of a programme's requirement that fall short of
    it (kundskab.documents.principle_support): never one outside the scope, never one that cannot be told."""
    return _programme_findings(kb, lang)[0]


def _programme_findings(kb: KnowledgeBase, lang: str = "da") -> tuple[list[Finding], dict[str, dict[str, int]],
                                                                   dict[str, dict[str, int]]]:
    # documents/ comes after knowledge/: imported where it is used, against the flow
    # (tests/test_layout.py names this one exception).
    from kundskab.documents.principle_support import assess_programme

    findings = []
    verdicts: dict[str, dict[str, int]] = {}
    scope: dict[str, dict[str, int]] = {}
    for programme in kb.of_type("Programme"):
        if not requirements(kb, programme.id) or not kb.interventions(programme=[programme.id]):
            continue
        assessment = assess_programme(kb, programme.id, lang)
        verdicts[programme.id] = assessment.counts()
        scope[programme.id] = assessment.as_dict("en")["summary"]["in_scope"]
        for row in assessment.initiatives:
            if not row.failure:
                continue
            for result in row.requirements:
                if result.counted and result.verdict == "falls-short":
                    code = next((r.code for r in assessment.requirements if r.id == result.requirement), "")
                    findings.append(Finding(programme.id, result.requirement, row.id, code, result.why,
                                            row.counted()))
    findings.sort(key=lambda f: (f.programme, f.requirement, f.intervention))
    return findings, verdicts, scope


def check(kb: KnowledgeBase | None = None, lang: str | None = None, *, graph: Any = None,
          use_cache: bool = True) -> CheckReport:
    """Check the knowledge base: SHACL shapes, unique labels, programme findings, their
    messages in `lang` (by default the current language; SHACL's from the shapes).

    `graph`: the ontology as read from a SPARQL store (kundskab.edges.store); else its files.
    `use_cache`: the SHACL issues of files validated before are taken from the cache
    directory (see `shacl_issues`); False validates them again."""
    kb = kb if kb is not None else KnowledgeBase.load()
    lang = lang or language()
    directory = kb.ontology_dir or _paths.ontology_dir()
    errors = shacl_issues(directory, data=graph, lang=lang, use_cache=use_cache) + label_issues(kb, lang) \
        + text_issues(kb, lang) + citation_issues(kb, lang)
    findings, verdicts, scope = _programme_findings(kb, lang)
    return CheckReport(
        kb_version=kb.version,
        concepts=len(kb),
        interventions=len(kb.of_type("Intervention")),
        errors=errors,
        findings=findings,
        verdicts=verdicts,
        scope=scope,
    )
