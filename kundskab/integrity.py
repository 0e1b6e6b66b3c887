"""`kundskab check`: the knowledge base's integrity (SHACL) and programme findings.

Integrity errors are defects of the knowledge base (a missing label, a dangling reference)
and fail the check. Findings are catalogue initiatives that fall short of their
programme's requirements (a Sikker By initiative with fewer than three principles): the
sources are what they are, so findings are warnings unless the caller is strict.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kundskab import _paths
from kundskab.knowledge import KnowledgeBase

__all__ = ["CheckReport", "Finding", "Issue", "check", "programme_findings"]

# Requirement field (initiative documents) -> the catalogue property that carries it.
FIELD_PROPERTIES = {
    "principles": "supportsPrinciple",
    "subgoals": "servesSubGoal",
    "evidence": "evidence",
}


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


def shacl_issues(ontology_dir: Path, shapes_dir: Path | None = None) -> list[Issue]:
    """Run the SHACL shapes over the ontology; one Issue per violation."""
    import pyshacl
    import rdflib
    from rdflib.namespace import RDF, SH

    from kundskab._compile import load_graph
    from kundskab._paths import ontology_files

    data = load_graph(ontology_files(ontology_dir))
    shapes = rdflib.Graph()
    for path in sorted((shapes_dir or ontology_dir / "shapes").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    _conforms, results, _text = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True
    )
    issues = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        def one(pred: Any, result: Any = result) -> Any:
            return next(iter(results.objects(result, pred)), None)

        path = one(SH.resultPath)
        value = one(SH.value)
        issues.append(
            Issue(
                code="shacl-violation",
                focus=_short(one(SH.focusNode)),
                message=str(one(SH.resultMessage) or "violates a shape"),
                path=_short(path) if path is not None and not isinstance(path, rdflib.BNode) else None,
                value=_short(value) if value is not None else None,
                shape=_short(one(SH.sourceShape)) if not isinstance(one(SH.sourceShape), rdflib.BNode) else None,
            )
        )
    return sorted(issues, key=lambda i: (i.focus, i.message, i.value or ""))


def label_issues(kb: KnowledgeBase) -> list[Issue]:
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
                issues.append(Issue("duplicate-label", ident,
                                    f"{kind} label '{label}' is also the label of {others}"))
    return issues


def programme_findings(kb: KnowledgeBase) -> list[Finding]:
    """Per programme, each catalogue initiative that misses one of its requirements."""
    findings = []
    for requirement in kb.of_type("Requirement"):
        prop = FIELD_PROPERTIES.get(requirement.value("field") or "")
        programmes = requirement.ref("ofProgramme")
        if prop is None or not programmes:
            continue  # a requirement on document text only (e.g. effect follow-up)
        programme = programmes[0]
        minimum = requirement.int_value("minCount")
        allowed = set(requirement.all_values("allowedValue"))
        for item in kb.interventions(programme=[programme]):
            have = list(item.ref(prop))
            if minimum is not None:
                counted = [h for h in have if h in kb and programme in kb.get(h).ref("ofProgramme")]
                if len(counted) < minimum:
                    findings.append(Finding(
                        programme, requirement.id, item.id, requirement.value("errorCode") or "",
                        f"{len(counted)} of the required {minimum}", counted))
            elif allowed and not allowed & set(have):
                findings.append(Finding(
                    programme, requirement.id, item.id, requirement.value("errorCode") or "",
                    f"has {', '.join(have) or 'none'}; needs one of {', '.join(sorted(allowed))}",
                    have))
    return sorted(findings, key=lambda f: (f.programme, f.requirement, f.intervention))


def check(kb: KnowledgeBase | None = None) -> CheckReport:
    """Check the knowledge base: SHACL shapes, unique labels, programme findings."""
    kb = kb or KnowledgeBase.load()
    directory = kb.ontology_dir or _paths.ontology_dir()
    errors = shacl_issues(directory) + label_issues(kb)
    return CheckReport(
        kb_version=kb.version,
        concepts=len(kb),
        interventions=len(kb.of_type("Intervention")),
        errors=errors,
        findings=programme_findings(kb),
    )
