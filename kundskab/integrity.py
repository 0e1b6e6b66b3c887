"""`kundskab check`: the knowledge base's integrity (SHACL) and programme findings.

Integrity errors are defects of the knowledge base (a missing label, a dangling reference)
and fail the check. Findings are catalogue initiatives that a programme's requirement
applies to and that fall short of it, on the evidence of kundskab.support (principles
stated by the source or derived by rules/principles.yaml): an initiative outside the
requirement's scope, or one whose verdict cannot be told because the facts are unknown,
is information, never a finding. The sources are what they are, so findings are warnings
unless the caller is strict.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kundskab import _paths, _vocab
from kundskab.i18n import gettext, language
from kundskab.knowledge import KnowledgeBase

__all__ = ["CheckReport", "Finding", "Issue", "check", "programme_findings"]


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


def shacl_issues(ontology_dir: Path, shapes_dir: Path | None = None, *, data: Any = None,
                 lang: str = "da") -> list[Issue]:
    """Run the SHACL shapes over the ontology; one Issue per violation, with the shape's
    sh:message in `lang` (every shape has one in Danish and one in English)."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    from kundskab._compile import load_graph
    from kundskab._paths import ontology_files

    if data is None:  # else the graph as read from a store (kundskab.store)
        data = load_graph(ontology_files(ontology_dir))
    shapes = rdflib.Graph()
    for path in sorted((shapes_dir or ontology_dir / "shapes").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    _conforms, results, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
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
    from kundskab._names import fold

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
            if langs != {"da", "en"}:
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
    it (kundskab.support): never one outside the scope, never one that cannot be told."""
    return _programme_findings(kb, lang)[0]


def _programme_findings(kb: KnowledgeBase, lang: str = "da") -> tuple[list[Finding], dict[str, dict[str, int]],
                                                                   dict[str, dict[str, int]]]:
    from kundskab.programmes import requirements
    from kundskab.support import assess_programme

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


def check(kb: KnowledgeBase | None = None, lang: str | None = None, *, graph: Any = None) -> CheckReport:
    """Check the knowledge base: SHACL shapes, unique labels, programme findings, their
    messages in `lang` (by default the current language; SHACL's from the shapes).

    `graph`: the ontology as read from a SPARQL store (kundskab.store); else its files."""
    kb = kb or KnowledgeBase.load()
    lang = lang or language()
    directory = kb.ontology_dir or _paths.ontology_dir()
    errors = shacl_issues(directory, data=graph, lang=lang) + label_issues(kb, lang) + text_issues(kb, lang)
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
