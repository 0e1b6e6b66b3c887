"""`kundskab template PROGRAMME`: a commented starting document for a programme.

Built from the knowledge base alone (the programme's requirements, principles and
sub-goals, the tiers and target groups), so a new programme gets its template with no code
change. The comments are Danish, for the people who fill it in. Placeholders are written
`[udfyld: …]`; while one is left in a required field (the title, a justification the
programme's requirements count) the document is invalid (unfilled-placeholder), and
elsewhere validation warns: an unfilled template never passes as a finished document.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kundskab.documents.reading import FIELDS
from kundskab.knowledge import programmes
from kundskab.knowledge.base import Concept, KnowledgeBase, tier_ranks

__all__ = ["document_template"]


def _quote(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _placeholder(what: str) -> str:
    return _quote(f"[udfyld: {what}]")


def document_template(kb: KnowledgeBase, programme: str) -> str:
    """The Markdown template for `programme` (an id or a label)."""
    ident = kb.resolve(programme, "Programme")
    concept = kb.get(ident)
    requirements = programmes.requirements(kb, ident)
    lines = [
        "---",
        f"# Initiativdokument under: {concept.label('da')} ({ident})",
        f"# Lavet med `kundskab template {ident}`; tjek det med `kundskab validate FIL`.",
        "# Erstat hvert [udfyld: …] og slet de kommentarer, du ikke har brug for.",
        "# Begreber angives ved id (som her) eller ved deres danske eller engelske navn.",
        "",
        "# Initiativets navn.",
        f"title: {_placeholder('initiativets navn')}",
        "",
        "# Programmet, hvis krav indsatsen skal opfylde.",
        f"programme: {ident}",
        "",
        "# Indsatsniveau, ét af:",
    ]
    ranks = tier_ranks(kb)
    tiers = sorted(kb.of_type("Tier"), key=lambda t: ranks[t.id])
    lines += [f"#   {t.id}: {t.label('da')}" for t in tiers]
    lines += [f"tier: {tiers[0].id if tiers else _placeholder('indsatsniveau')}", ""]
    lines.append("# Målgrupper (mindst én), fx:")
    groups = kb.of_type("TargetGroup")
    ages = sorted((g for g in groups if g.is_a("AgeGroup")), key=lambda g: g.int_value("minAge") or 0)
    others = [g for g in groups if not g.is_a("AgeGroup")]
    lines += [f"#   {g.id}: {g.label('da')}" for g in ages + others]
    default_group = next((g.id for g in ages if g.id == "school-age-youth"), ages[0].id if ages else None)
    lines += [f"target_groups: [{default_group}]" if default_group else
              f"target_groups: [{_placeholder('målgruppe')}]", ""]

    written = {"title", "programme", "tier", "target_groups"}
    for req in requirements:
        if req.field in written:
            continue
        written.add(req.field)
        req_concept = kb.get(req.id)
        lines.append(f"# Krav ({req.code}): {req_concept.label('da')}. "
                     f"{_one_line(req_concept.definition('da'))}")
        lines += _requirement_lines(kb, programmes.parts, ident, req.field, req.values_from,
                                    req.min_count, req.required, req.allowed)
        lines.append("")

    optional = [name for name in ("fora", "actors", "crime_types", "risk_factors", "period", "place")
                if name not in written]
    lines.append("# Valgfrie felter (fjern # for at bruge dem):")
    examples = {"fora": "[ssp]", "actors": "[municipality, police]", "crime_types": "[burglary]",
                "risk_factors": "[truancy]", "period": '"2019-2021"',
                "place": _placeholder("hvor indsatsen foregår")}
    lines += [f"# {name}: {examples[name]}" for name in optional]
    lines += [
        "---",
        "## Formål",
        "",
        "[udfyld: hvad indsatsen skal opnå, og for hvem]",
        "",
        "## Indhold",
        "",
        "[udfyld: hvad der konkret gøres, af hvem og hvor ofte]",
        "",
        "## Opfølgning",
        "",
        "[udfyld: hvordan indsatsen følges, og hvordan effekten måles]",
        "",
    ]
    return "\n".join(lines)


def _requirement_lines(kb: KnowledgeBase, parts_of: Callable[[KnowledgeBase, str, str], list[Concept]],
                       programme: str, name: str,
                       values_from: str | None, min_count: int | None,
                       required: tuple[str, ...], allowed: tuple[str, ...]) -> list[str]:
    spec = FIELDS.get(name)
    lines: list[str] = []
    if values_from and spec is not None and spec.claim:
        parts = parts_of(kb, programme, values_from)
        need = max(min_count or 1, 1)
        kind = kb.class_label(values_from, "da")
        lines.append(f"# Mulige værdier ({kind}): angiv mindst {need}, hver med en begrundelse "
                     "med dine egne ord:")
        lines += [f"#   {p.id}: {p.label('da')}: {_one_line(p.definition('da'))}" for p in parts]
        verb = "understøtter" if spec.claim == "principle" else "tjener"
        lines.append(f"{name}:")
        for index, part in enumerate(parts):
            text = _placeholder(f"hvordan indsatsen {verb} {part.label('da')}")
            lines.append(f"  {part.id}: {text}" if index < need else f"#  {part.id}: {text}")
        return lines
    if required:
        return [f"{name}: {required[0]}"]
    if allowed:
        lines.append("# Én af:")
        for value in allowed:
            label = kb.label(value, "da") if value in kb else value
            lines.append(f"#   {value}: {label}" if label != value else f"#   {value}")
        return [*lines, f"{name}: {allowed[0]}"]
    need = max(min_count or 1, 1)
    what = {"goals": "et klart mål", "indicators": "en indikator, der kan følges",
            "success_criteria": "et succeskriterium"}.get(name, name)
    if spec is not None and not spec.many:
        return [f"{name}: {_placeholder(what)}"]
    return [f"{name}:"] + [f"  - {_placeholder(what)}" for _ in range(need)]
