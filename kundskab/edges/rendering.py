"""What the command line shows: results of the library as text for people and as JSON text
for programs, one function per kind of result.

Renderers take what the library returns (a concept's description, a listing, a check
report, a programme's assessment, a validation report) and give back lines of text or
one text; they never read a file, load a knowledge base or decide an exit status, and
they print nothing: the command line (kundskab.edges.cli) chooses the stream. Emphasis is
click's styling (`click.style`), which click.echo drops where the output is not a
terminal or NO_COLOR is set. Text output names coded values in the current language
(`value_name`, `field_name`); JSON keeps the codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from kundskab._names import printable
from kundskab.i18n import N_, Messages, language, ngettext, other_language
from kundskab.i18n import gettext as _
from kundskab.reasoning.answer import Fact

if TYPE_CHECKING:
    from kundskab.documents.principle_support import InitiativeAssessment, ProgrammeAssessment
    from kundskab.documents.validation import ValidationReport
    from kundskab.knowledge.base import KnowledgeBase
    from kundskab.knowledge.check import CheckReport
    from kundskab.reasoning.answer import Explanation, ForumByAge, RankedIntervention, Recommendation

__all__ = [
    "CSV_COLUMNS",
    "FIELD_NAMES",
    "TABLE_COLUMNS",
    "UNKNOWN",
    "VALUE_NAMES",
    "check_lines",
    "citation",
    "concept_lines",
    "empty_listing",
    "field_name",
    "found_line",
    "intervention_lines",
    "interventions_line",
    "json_text",
    "kind_lines",
    "lint_lines",
    "listing_lines",
    "programme_lines",
    "published_line",
    "recommendation_lines",
    "rule_lines",
    "search_lines",
    "strict_line",
    "table_csv",
    "table_headers",
    "table_rows",
    "validation_lines",
    "value_name",
    "write_xlsx",
]

# ---------------------------------------------------------------------------- names

# What `show` calls each field of a concept (the keys of kundskab.knowledge.browse.describe).
FIELD_NAMES = Messages({
    "definition": N_("Definition"), "sources": N_("Sources"), "labels": N_("Labels"), "type": N_("Type"),
    "tier": N_("Tier"), "target_groups": N_("Target groups"), "fora": N_("Fora"), "actors": N_("Actors"),
    "crime_types": N_("Crime types"), "risk_factors": N_("Risk factors"), "principles": N_("Principles"),
    "subgoals": N_("Sub-goals"), "evidence": N_("Evidence basis"), "programme": N_("Programme"),
    "focus_areas": N_("Areas of effort"), "place": N_("Place"), "period": N_("Period"),
    "trigger": N_("Triggered by"), "members": N_("Members"), "levels": N_("Level"),
    "requirements": N_("Requirements"), "goals": N_("Goals"), "indicators": N_("Indicators"),
    "baseline": N_("Baseline"), "target": N_("Target"), "data_source": N_("Data source"),
    "interventions": N_("Interventions"), "domain": N_("Domain"), "min_age": N_("From age"),
    "max_age": N_("To age"), "meets": N_("Meets"), "factors": N_("Factors"), "rank": N_("Rank"),
    "year": N_("Year"), "publishers": N_("Publishers"), "supersedes": N_("Supersedes"),
    "values_from": N_("Values from"), "broader": N_("Broader"), "related": N_("Related"),
    "field": N_("Field"), "min_count": N_("At least"), "required_value": N_("Required value"),
    "allowed_values": N_("Allowed values"), "error_code": N_("Error code"), "number": N_("Number"),
    "in_tryghedsindeks": N_("In the safety index"), "version": N_("Version"), "note": N_("Note"),
    "baseline_year": N_("Baseline year"), "target_year": N_("Target year"),
    "scope": N_("Works on"), "kind": N_("Kind of measure"), "status": N_("Status in the source"),
    "situation": N_("Situation"),
    "situations": N_("Situation"), "area": N_("Area"), "municipality": N_("Municipality/police district"),
    "file": N_("File"), "partOf": N_("Part of"),
    "minTier": N_("Lowest tier"), "maxTier": N_("Highest tier"), "shortTitle": N_("Short title"),
    "short_title": N_("Short title"), "paged_sections": N_("Sections by page"),
    "placeName": N_("Place name"), "place_name": N_("Place name"), "http://purl.org/dc/terms/title": N_("Title"),
    "http://purl.org/dc/terms/publisher": N_("Publisher"), "effectFollowUp": N_("Effect follow-up"),
    "appliesTo": N_("Applies to"), "sector": N_("Sector"), "programmes": N_("Programmes"),
    "contraindications": N_("Contraindications"), "part_of": N_("Lies in"), "implies": N_("Implies"),
    "makes_moot": N_("Makes moot"), "presupposes": N_("Presupposes"),
    "asked_of_minors_after": N_("Asked of under-18s only after one of"),
    "asked_after_one_of": N_("Asked only after one of"), "askedOnlyWhenRaised": N_("Never asked: the case raises it"),
    "takes_over": N_("Takes over from"),
    "takes_over_unless_suffered": N_("Except where the person has suffered"),
    "not_for_case_denying": N_("Not for a case that denies"),
    "outsideRequirements": N_("Outside the programme's requirements"), "pages": N_("Pages"),
    "underPrinciple": N_("Chapter on principle"), "developmentInitiative": N_("Development initiative"),
    "fullyDescribed": N_("Fully described by the source"),
    "victimless": N_("No one harmed to meet in a conflict council"),
    "mediationOnRequest": N_("A conflict council only when the case asks for one"),
    "inferred": N_("Inferred by the editor (not said by the source)"),
    "stated_rest": N_("Every other link is stated in the cited sections."),
})


def field_name(key: str) -> str:
    """The name of a concept's field in the current language (the key itself if unnamed)."""
    return FIELD_NAMES.text(language(), key) if key in FIELD_NAMES else key


# What text output calls the coded values of an intervention's scope, status and situations
# (kundskab.reasoning.ranking's SCOPES, STATUSES, SITUATIONS); JSON keeps the codes.
VALUE_NAMES: dict[str, dict[str, str]] = {
    "scope": {"person": N_("people, one at a time"), "group": N_("groups"), "place": N_("places"),
              "population": N_("the whole population"), "organisation": N_("the organisation of the work")},
    "status": {"running": N_("running"), "planned": N_("planned"), "example": N_("only an example")},
    "situations": {"offender": N_("has committed crime"), "at-risk": N_("at risk"), "victim": N_("victim"),
                   "relative": N_("relative"), "citizen": N_("citizen")},
}
UNKNOWN = "unknown"  # what the knowledge base says where a source is silent


def value_name(key: str, value: str) -> str:
    """A coded value as text output shows it: its name in the current language (JSON has
    the code)."""
    if value == UNKNOWN:
        return _("unknown")
    name = VALUE_NAMES.get(key, {}).get(value)
    return _(name) if name else value


def citation(source: dict[str, Any] | str, lang: str, kb: KnowledgeBase | None = None) -> str:
    """A source (a source object, or "file#section" as an explanation cites it) as a person
    reads it: the document's short title and the section. "file#section" takes the title
    and pages from the knowledge base `kb` (without it, the file names the document)."""
    from kundskab.knowledge.base import Source

    if isinstance(source, str):
        if kb is None:
            return Source.parse(source).citation(lang)
        return Source.parse(source, kb.source_titles, kb.source_pages).citation(lang)
    return Source(source["file"], source.get("section"), source.get("title"), source.get("page")).citation(lang)


# ---------------------------------------------------------------------------- JSON

# Characters JSON leaves raw that a terminal may act on (C1 controls such as CSI U+009B),
# or that reorder (bidi controls) or split (line separators) what it shows: escaped.
# Lone surrogates (bytes of a file name or argument that were not UTF-8, kept by Python's
# surrogateescape) are escaped too: the output is UTF-8 whatever came in.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def json_text(data: Any) -> str:
    """`data` as the command line prints JSON: indented, UTF-8 as it is, with the characters
    a terminal could act on escaped (no newline at the end)."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# ---------------------------------------------------------------------------- browsing


def _fmt_value(value: Any, key: str = "") -> str:
    if isinstance(value, dict):
        return f"{value.get('label')} ({value.get('id')})" if "id" in value else str(value)
    if isinstance(value, list):
        return ", ".join(_fmt_value(v, key) for v in value) if value else "-"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value_name(key, value) if isinstance(value, str) else str(value)


def concept_lines(data: dict[str, Any], lang: str, verbose: bool = False) -> list[str]:
    """`show`: a concept as kundskab.knowledge.browse.describe gives it."""
    out = [click.style(f"{data['label']}  [{data['id']}]", bold=True)]
    other = other_language(lang)
    out.append(f"  {field_name('type')}: {data['type_label']} ({data['type']})")
    if data["labels"].get(other):
        out.append(f"  {other}: {data['labels'][other]}")
    if data.get("definition"):
        out.append(f"  {field_name('definition')}: {data['definition']}")
    skip = {"id", "type", "types", "label", "labels", "definition", "definitions", "sources",
            "alt_labels", "type_label", "principles", "subgoals", "requirements", "goals",
            "interventions", "indicators", "focus_areas", "inferred"}
    for key, value in data.items():
        if key in skip or value in (None, [], ""):
            continue
        out.append(f"  {field_name(key)}: {_fmt_value(value, key)}")
    if data.get("focus_areas"):
        out.append(f"  {field_name('focus_areas')}: {_fmt_value(data['focus_areas'])}")
    for key in ("principles", "subgoals"):
        if data.get(key):
            out.append(f"  {field_name(key)}:")
            for item in data[key]:
                number = f"{item['number']}. " if item.get("number") else ""
                definition = f": {item['definition']}" if item.get("definition") else ""
                out.append(f"    - {number}{item['label']} [{item['id']}]{definition}")
    if data.get("requirements"):
        out.append(f"  {field_name('requirements')}:")
        for req in data["requirements"]:
            out.append(f"    - {req['label']} [{req['id']}] ({req.get('error_code')})")
    if data.get("goals"):
        out.append(f"  {field_name('goals')}:")
        for goal in data["goals"]:
            out.append(f"    - {goal['label']} [{goal['id']}]")
            for ind in goal["indicators"]:
                out += _indicator_lines(ind, "        ")
    if data.get("indicators") and isinstance(data["indicators"][0], dict) and "baseline" in data["indicators"][0]:
        out.append(f"  {field_name('indicators')}:")
        for ind in data["indicators"]:
            out += _indicator_lines(ind, "    ")
    if data.get("interventions"):
        items = data["interventions"]
        out.append(f"  {field_name('interventions')} ({len(items)}):")
        for item in items:
            out.append(f"    - {item['label']} [{item['id']}]")
    if data.get("inferred"):
        # The editor's notes are in English, and in Danish where written (ontology/README.md).
        danish = lang == "da"
        english_only = danish and not all(link.get("note_da") for link in data["inferred"])
        notes = " " + _("(some notes in English)") if english_only else ""
        out.append(f"  {field_name('inferred')}{notes}:")
        for link in data["inferred"]:
            text = link.get("note_da") if danish and link.get("note_da") else link.get("note")
            note = f": {text}" if text else ""
            value = {"true": _("yes"), "false": _("no")}.get(link["value"], link["value"])
            out.append(f"    - {field_name(link['property'])} = {value}{note}")
        out.append(f"  {field_name('stated_rest')}")
    out.append(f"  {field_name('sources')}:")
    for source in data["sources"]:
        # The file name means nothing to a reader: JSON and --verbose have it.
        file = f"  [{source['file']}]" if verbose else ""
        out.append(f"    - {citation(source, lang)}{file}")
    return out


def _indicator_lines(ind: dict[str, Any], indent: str) -> list[str]:
    baseline, target = value_name("", ind["baseline"]), value_name("", ind["target"])
    baseline_year, target_year = value_name("", ind["baseline_year"]), value_name("", ind["target_year"])
    return [
        f"{indent}{ind['label']} [{ind['id']}]",
        f"{indent}  {field_name('baseline')}: {baseline} ({baseline_year}); "
        f"{field_name('target')}: {target} ({target_year}); "
        f"{field_name('data_source')}: {value_name('', ind['data_source'])}",
    ]


def intervention_lines(items: Iterable[dict[str, Any]], kb: KnowledgeBase, lang: str) -> list[str]:
    """`interventions`: each as kundskab.knowledge.browse.intervention_summary gives it."""
    out = []
    for item in items:
        out.append(click.style(f"{item['id']}", bold=True) + f"  {item['label']}  [{kb.label(item['tier'], lang)}]")
        groups = ", ".join(kb.label(g, lang) for g in item["target_groups"])
        out.append(f"    {field_name('target_groups')}: {groups}")
        if item["fora"]:
            out.append(f"    {field_name('fora')}: {', '.join(kb.label(f, lang) for f in item['fora'])}")
        if item["principles"]:
            out.append(f"    {field_name('principles')}: "
                       + ", ".join(f"{kb.label(p, lang)} [{p}]" for p in item["principles"]))
        what = [kb.label(item["kind"], lang)] if item.get("kind") else []
        what += [value_name(k, item[k]) for k in ("scope", "status") if item.get(k)]
        if what:
            out.append("    " + " · ".join(what))
        out.append(f"    {field_name('sources')}: "
                   + "; ".join(citation(s, lang, kb) for s in item["sources"]))
    return out


def interventions_line(n: int) -> str:
    """How many interventions a listing has (for stderr)."""
    return ngettext("{n} intervention", "{n} interventions", n).format(n=n)


def kind_lines(kinds: Iterable[dict[str, Any]]) -> list[str]:
    """`list` without a kind: each kind with its count and name."""
    return [f"{item['kind']:<18} {item['count']:>4}  {item['label']}" for item in kinds]


def listing_lines(items: Sequence[dict[str, Any]], kb: KnowledgeBase, lang: str) -> list[str]:
    """`list KIND`: ids and labels, under their risk domain where the kind has one."""
    out = []
    width = max((len(i["id"]) for i in items), default=0)
    group: Any = False
    for item in items:
        if "domain" in item and item["domain"] != group:
            group = item["domain"]
            title = kb.label(group, lang) if group else _("none")
            out.append(click.style(f"{title} [{group}]" if group else title, bold=True))
        indent = "  " if "domain" in item else ""
        out.append(f"{indent}{item['id']:<{width}}  {item['label']}")
    return out


def empty_listing(kb: KnowledgeBase, municipality: Iterable[str], district: Iterable[str],
                  programme: Iterable[str], lang: str) -> str:
    """Why a filtered listing is empty, in words: where the knowledge comes from."""
    names = [kb.label(kb.resolve(n, "Area"), lang) for n in (*municipality, *district)]
    names += [kb.label(kb.resolve(n, "Programme"), lang) for n in programme]
    places = sorted({kb.label(a, lang) for d in kb.of_type("SourceDocument") for a in d.ref("municipality")})
    return _("None in {where}: the source documents are about {places}, and no measure or source "
             "places one there (a measure is where it runs; a forum, actor or group is where the "
             "documents and measures that name it are).").format(
        where=", ".join(names), places=", ".join(places))


def search_lines(items: Sequence[dict[str, Any]]) -> list[str]:
    """`search`: ids, labels and what kind of concept each is."""
    width = max((len(i["id"]) for i in items), default=0)
    return [f"{item['id']:<{width}}  {item['label']}  ({item['type_label']})" for item in items]


def found_line(n: int) -> str:
    """How many concepts a search found (for stderr)."""
    return ngettext("{n} found", "{n} found", n).format(n=n)


# ---------------------------------------------------------------------------- check


def check_lines(report: CheckReport, kb: KnowledgeBase, lang: str) -> list[str]:
    """`check`: the knowledge base's integrity errors, programme findings and verdicts."""
    from kundskab.documents.principle_support import text as support_text

    out = [_("kb {version}: {concepts} concepts, {interventions} interventions").format(
        version=report.kb_version, concepts=report.concepts, interventions=report.interventions)]
    for issue in report.errors:
        where = f" [{issue.path}]" if issue.path else ""
        value = f" ({issue.value})" if issue.value else ""
        out.append(click.style(_("ERROR") + f" {issue.focus}{where}: {issue.message}{value}", fg="red"))
    current = None
    for finding in report.findings:
        if finding.programme != current:
            current = finding.programme
            out.append(click.style(f"{kb.label(current, lang)} [{current}]:", bold=True))
        out.append("  " + _("warning") + f" {finding.code}: {finding.intervention}: {finding.message}"
                   + (f" ({', '.join(finding.have)})" if finding.have else ""))
    errors = ngettext("{n} error", "{n} errors", len(report.errors)).format(n=len(report.errors))
    findings = ngettext("{n} finding", "{n} findings", len(report.findings)).format(n=len(report.findings))
    for programme, counts in report.verdicts.items():
        # Information: the verdicts behind the findings, table with `check --programme`.
        out.append(f"{kb.label(programme, lang)} [{programme}]: " + ", ".join(
            f"{n} {support_text(lang, verdict)}" for verdict, n in counts.items())
            + "; " + support_text(lang, "scope_counts", **report.scope.get(programme, {}))
            + f" (kundskab check --programme {programme})")
    status = _("The knowledge base is valid") if report.ok else _("The knowledge base has integrity errors")
    out.append(f"{status}: {errors}, {findings}")
    return out


# ---------------------------------------------------------------------------- a programme's table

# The table's columns: the JSON key -> the header a person reads (csv and xlsx).
TABLE_COLUMNS = Messages({
    "id": N_("Id"), "label": N_("Initiative"), "kind": N_("Kind of measure"), "chapter": N_("Chapter in the strategy"),
    "verdict": N_("Verdict"), "counted": N_("Principles shown"), "claimed": N_("Not counted (the editor's inference)"),
    "why": N_("Why"),
})
CSV_COLUMNS = tuple(TABLE_COLUMNS)


def _principles_text(kb: KnowledgeBase, row: InitiativeAssessment, lang: str, kinds: Iterable[str]) -> str:
    from kundskab.documents.principle_support import text

    wanted = set(kinds)
    out = []
    for principle, grounds in row.grounds().items():
        how = list(dict.fromkeys(text(lang, "inferred_link" if g.inferred else g.support)
                                 for g in grounds if g.support in wanted))
        if how:
            out.append(f"{kb.label(principle, lang)} ({', '.join(how)})")
    return "; ".join(out)


def table_rows(kb: KnowledgeBase, assessment: ProgrammeAssessment, lang: str = "da") -> list[dict[str, str]]:
    """The rows of the csv and xlsx tables: one per initiative, in words of `lang`."""
    from kundskab.documents.principle_support import CLAIMED, COUNTED, text

    out = []
    for row in assessment.initiatives:
        out.append({
            "id": row.id, "label": row.label,
            "kind": kb.label(row.kind, lang) if row.kind else "",
            "chapter": row.chapter or "",
            "verdict": text(lang, row.verdict),
            "counted": _principles_text(kb, row, lang, COUNTED),
            "claimed": _principles_text(kb, row, lang, [CLAIMED]),
            "why": row.why,
        })
    return out


def table_headers(lang: str = "da") -> list[str]:
    return list(TABLE_COLUMNS.words(lang).values())


def programme_lines(kb: KnowledgeBase, assessment: ProgrammeAssessment, lang: str = "da") -> list[str]:
    """`check --programme` as text: what the reader can act on first, the funding scope
    once, then the graded rows and the rows listed apart."""
    from kundskab.documents.principle_support import (
        CANNOT_TELL,
        CLAIMED,
        COUNTED,
        FALLS_SHORT,
        MEETS,
        NOT_GRADED,
        VERDICTS,
        text,
    )
    from kundskab.knowledge.base import Source
    from kundskab.knowledge.programmes import DEVELOPMENT, FUNDED

    lines = [f"{assessment.label} [{assessment.programme}]"]
    counts = assessment.counts()
    lead = []
    if n := counts[MEETS]:
        lead.append(ngettext("{n} initiative shows support for enough principles",
                             "{n} initiatives show support for enough principles", n, lang).format(n=n))
    if n := counts[FALLS_SHORT]:
        lead.append(ngettext("{n} falls short, on complete evidence",
                             "{n} fall short, on complete evidence", n, lang).format(n=n))
    if n := counts[CANNOT_TELL]:
        lead.append(ngettext("{n} cannot be shown from the source: it says too little about it",
                             "{n} cannot be shown from the source: it says too little about them", n,
                             lang).format(n=n))
    if n := counts[NOT_GRADED]:
        lead.append(ngettext("{n} is listed apart, not graded (not an initiative the requirement is about)",
                             "{n} are listed apart, not graded (not initiatives the requirement is about)", n,
                             lang).format(n=n))
    lines += [f"- {item}" for item in lead]
    funded = any(r.applies_to == FUNDED for r in assessment.requirements)
    if funded and any(row.in_scope is None for row in assessment.initiatives):
        lines.append(text(lang, "funding_header"))
    for req in assessment.requirements:
        scope = text(lang, "scope_funded" if req.applies_to == FUNDED else
                     "scope_development" if req.applies_to == DEVELOPMENT else "scope_all")
        source = Source.parse(req.source, kb.source_titles, kb.source_pages).citation(lang) if req.source else "-"
        lines.append(text(lang, "requirement", label=kb.label(req.id, lang), id=req.id, scope=scope,
                          source=source))
    principled = any(r.field == "principles" for r in assessment.requirements)
    if principled:
        lines.append(text(lang, "legend"))
    lines.append("")
    marks = {MEETS: "✓", FALLS_SHORT: "✗", CANNOT_TELL: "?", NOT_GRADED: "·"}
    graded = [r for r in assessment.initiatives if r.verdict != NOT_GRADED]
    apart = [r for r in assessment.initiatives if r.verdict == NOT_GRADED]
    width = max((len(text(lang, v)) for v in VERDICTS), default=10)
    common = {r.scope for r in graded}
    if graded:
        lines.append(text(lang, "graded_title"))
    for row in graded:
        shown = _principles_text(kb, row, lang, COUNTED) or text(lang, "none")
        scope = f" · {row.scope}" if len(common) > 1 else ""
        lines.append(f"{marks[row.verdict]} {text(lang, row.verdict):<{width}}  {row.label} [{row.id}]")
        lines.append(f"    {text(lang, 'shown') + ': ' + shown + ' · ' if principled else ''}"
                     f"{row.why}{scope}")
        claimed = [kb.label(p, lang) for p, grounds in row.grounds().items()
                   if all(g.support == CLAIMED for g in grounds)]
        if claimed:
            lines.append(f"    {text(lang, 'inferred_link')}: {', '.join(claimed)}")
    if apart:
        lines += ["", text(lang, "apart_title")]
    for row in apart:
        lines.append(f"· {row.label} [{row.id}]: {row.scope}")
    if len(common) == 1 and graded and not (funded and None in {r.in_scope for r in graded}):
        lines += ["", f"{text(lang, 'scope_word')}: {next(iter(common))}"]
    return lines


def table_csv(kb: KnowledgeBase, assessment: ProgrammeAssessment, lang: str = "da") -> str:
    """The table as csv text the way Danish Excel opens it by double-click: a BOM, ';'
    between fields (the comma is the decimal mark there), headers and values in `lang`."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table_headers(lang))
    writer.writerows([row[k] for k in TABLE_COLUMNS] for row in table_rows(kb, assessment, lang))
    return "\ufeff" + buffer.getvalue()


def write_xlsx(kb: KnowledgeBase, assessment: ProgrammeAssessment, target: Any, lang: str = "da") -> None:
    """The table as an Excel workbook (openpyxl), headers and values in `lang`, written to
    `target` (a path or a binary file)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = assessment.programme[:31]
    sheet.append(table_headers(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table_rows(kb, assessment, lang):
        sheet.append([row[k] for k in TABLE_COLUMNS])
    widths = {"id": 30, "label": 45, "kind": 24, "chapter": 40, "verdict": 26, "counted": 50, "claimed": 40, "why": 70}
    for index, key in enumerate(TABLE_COLUMNS, 1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = widths.get(key, 20)
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    book.save(target)


# ---------------------------------------------------------------------------- rules


def lint_lines(rules: int, findings: Sequence[Any]) -> list[str]:
    """`rules lint`: each finding, then the counts."""
    return [f"{finding.code}: {finding.message}" for finding in findings] + [
        _("{rules} rules, {findings} findings").format(rules=rules, findings=len(findings))]


def rule_lines(items: Iterable[dict[str, Any]], kb: KnowledgeBase, lang: str) -> list[str]:
    """`rules list`: each rule (as its JSON has it) with conditions, conclusions and source."""
    out = []
    for item in items:
        where = _("generated from the ontology") if item["generated"] else f"{item['file']}:{item['line']}"
        out.append(click.style(f"{item['id']}  ({where})", bold=True))
        out.append("    " + _("when") + " " + (" " + _("AND") + " ").join(item["when"]))
        out.append("    " + _("then") + " " + ", ".join(item["then"]))
        out.append(f"    {item['because']}  [{citation(item['source'], lang, kb)}]")
    return out


# ---------------------------------------------------------------------------- documents


def validation_lines(report: ValidationReport, summary: bool) -> list[str]:
    """`validate`: each document's verdict, problems and suggestions; with `summary`, the
    counts."""
    out = []
    for entry in report.files:
        mark, colour = ("✓", "green") if entry.valid else ("✗", "red")
        state = _("valid") if entry.valid else _("invalid")
        programme = f" [{entry.programme}]" if entry.programme else ""
        # A file name is text from outside: a newline or an escape sequence in it must not
        # fake a line of the report or drive the terminal.
        name = printable(entry.file, 500)
        out.append(click.style(f"{mark} {name}{programme}: {state}", fg=colour, bold=not entry.valid))
        for kind, problems in ((_("error"), entry.errors), (_("warning"), entry.warnings)):
            for problem in problems:
                where = f"{name}:{problem.line}" if problem.line else name
                out.append(f"    {where}: {kind} [{problem.code}] {printable(problem.message, 2000)}")
        for suggestion in entry.suggestions:
            out.append(f"    {name}: " + _(
                "suggestion: the document's facts also support {id} (rule {rule}: {facts}); consider claiming it"
            ).format(id=suggestion.id, rule=suggestion.rule, facts=", ".join(suggestion.because)))
    if summary:
        warnings = sum(len(f.warnings) for f in report.files)
        out.append(ngettext("{n} document: {valid} valid, {invalid} invalid, {warnings} warnings",
                            "{n} documents: {valid} valid, {invalid} invalid, {warnings} warnings",
                            len(report.files)).format(n=len(report.files), valid=report.valid,
                                                      invalid=report.invalid, warnings=warnings))
    return out


def strict_line(warnings: int) -> str:
    """Why `validate --strict` ends negative on a valid run (for stderr)."""
    return ngettext("--strict: {warnings} warning makes the run negative",
                    "--strict: {warnings} warnings make the run negative", warnings).format(warnings=warnings)


# ---------------------------------------------------------------------------- store


def published_line(triples: int, graph: str, url: str, version: str) -> str:
    """`store load`: what was published where."""
    return _("{triples} triples → <{graph}> at {url} (kb {version})").format(
        triples=triples, graph=graph, url=url, version=version)


# ---------------------------------------------------------------------------- recommend

def recommendation_lines(rec: Recommendation, kb: KnowledgeBase, lang: str) -> list[str]:
    """A recommendation as a consultant reads it: the tier, groups, fora and measures, each
    with the rules and sources behind it, then the questions to ask next."""
    labels = rec.labels
    lines: list[str] = []
    age = rec.age if rec.age is not None else _("unknown")
    if rec.age is None and rec.age_group is not None and rec.age_group in kb:  # the case names the age group
        age = f"{age} ({kb.label(rec.age_group, lang)} [{rec.age_group}])"
    ref = f" {printable(rec.ref, 200)}" if rec.ref else ""
    lines.append(click.style(_("Recommendation · case{ref} · age {age}").format(ref=ref, age=age), bold=True))
    by_conclusion: dict[Fact, list[Explanation]] = {}
    for entry in rec.explanation:
        by_conclusion.setdefault(entry.conclusion, []).append(entry)

    def premise(fact: Fact) -> str:
        """A premise as a person reads it ("Skolefravær = ja", "alder 15", "Specifik
        indsats"); JSON keeps the rules' notation. Anything else is shown as it is."""
        if fact.kind == "age" and fact.id.isdigit():
            return _("age {age}").format(age=fact.id)
        if fact.kind == "age" and "-" in fact.id:  # the ages an unknown age can be (its group, its factors)
            low, _sep, high = fact.id.partition("-")
            return (_("age {low}–{high} as the case allows").format(low=low, high=high) if high
                    else _("age from {low} as the case allows").format(low=low))
        if fact.kind in ("situation", "role"):  # a role is named as the situation it puts the person in
            return value_name("situations", fact.id).removesuffix(f" ({fact.id})")
        if fact.id not in kb:
            return str(fact)
        if fact.kind == "factor" and fact.value in ("true", "false", "unknown"):
            answer = {"true": _("yes"), "false": _("no"), "unknown": _("unknown")}[fact.value]
            return f"{kb.label(fact.id, lang)} = {answer}"
        return str(kb.label(fact.id, lang)) if not fact.value else str(fact)

    def because(conclusion: Fact) -> None:
        # Each reason once: the firings of one rule (one per matching fact) share its words,
        # so their premises are shown together under them.
        grouped: dict[tuple[str, str, str | None], list[Fact]] = {}
        for entry in by_conclusion.get(conclusion, []):
            premises = grouped.setdefault((entry.because, entry.rule, entry.source), [])
            premises += [p for p in entry.premises if p not in premises]
        for (text, rule, source), premises in list(grouped.items())[:2]:
            lines.append(f"      {text}")
            lines.append("      " + _("(rule {rule}; because: {premises}; source {source})").format(
                rule=rule, premises=", ".join(premise(p) for p in premises),
                source=citation(source, lang, kb)))  # type: ignore[arg-type]

    def measure(item: RankedIntervention) -> str:
        return f"{item.label}{_ages(item)} [{item.id}]  {item.score:.2f}"

    # An empty section says why: mostly the age is not known yet, which the rules need.
    none = (_("none yet: they depend on the age, which the case does not give") if rec.age is None
            else _("none: no rule found one for this case"))
    relative = Fact("role", "relative")
    if relative in by_conclusion:  # a parent asks
        lines.append("\n" + _("Who asks") + ":")
        because(relative)
    implied = [e.conclusion for e in rec.explanation if e.conclusion.kind == "factor"]
    if implied:  # factors the case did not give but one it gives implies (ks:implies)
        lines.append("\n" + _("Taken as true") + ":")
        for conclusion in implied:
            because(conclusion)
    lines.append("\n" + _("Tier") + f": {labels[rec.tier]} [{rec.tier}]")
    because(Fact("tier", rec.tier))
    groups = ", ".join(f"{labels[g]} [{g}]" for g in rec.target_groups) or none
    lines.append("\n" + _("Target groups") + f": {groups}")
    no_fora = (_("none: the case rules out what a rule found (below)") if rec.fora_ruled_out else none)
    lines.append("\n" + _("Fora") + ":" + ("" if rec.fora else f" {no_fora}"))
    for forum in rec.fora:
        places = kb.get(forum).ref("municipality") if forum in kb else ()
        where = (" (" + _("exists in {place}").format(place=", ".join(kb.label(p, lang) for p in places)) + ")"
                 if places else "")  # a local forum says where it is (the case's place may be unknown)
        lines.append(f"  · {labels[forum]} [{forum}]{where}")
        because(Fact("forum", forum))
    if rec.fora_by_age:  # the age unknown: the fora each age range would bring
        lines.append("\n" + _("Fora by age (ask the age to know which)") + ":")
        for by_age in rec.fora_by_age:
            lines.append(f"  · {by_age.label}{_ages(by_age)} [{by_age.id}]")
            lines.append("      " + _("(rule {rule}; source {source})").format(
                rule=by_age.rule, source=citation(by_age.source, lang, kb)))  # type: ignore[arg-type]
    if rec.fora_elsewhere:  # local fora of other places: they exist, but not here
        lines.append("\n" + _("Fora elsewhere (not the case's forum here)") + ":")
        for elsewhere in rec.fora_elsewhere:
            lines.append(f"  · {elsewhere.label} [{elsewhere.id}]: "
                         + _("exists in {place}").format(place=elsewhere.where_label))
    if rec.fora_ruled_out:  # fora a rule brings that the case's own answers rule out
        lines.append("\n" + _("Fora the case rules out") + ":")
        for out in rec.fora_ruled_out:
            lines.append(f"  · {out.label} [{out.id}]: " + _("the case answers no to: {factor}").format(
                factor=out.factor_label))
            lines.append("      " + _("(source {source})").format(
                source=citation(out.source, lang, kb)))  # type: ignore[arg-type]
    lines.append("\n" + _("Interventions") + ":" + ("" if rec.interventions else f" {none}"))
    for n, item in enumerate(rec.interventions, 1):
        lines.append(f"  {n:>2}. {measure(item)}")
        lines.append(f"      {'; '.join(item.reasons)}")
        lines.append("      " + _("source") + f": {item.citation or item.source}")
    if rec.control:  # control aimed at the person: apart, never offered as help
        lines.append("\n" + _("Control and enforcement (aimed at the person, not an offer of help)") + ":")
        for item in rec.control:
            lines.append(f"   · {measure(item)}")
            lines.append(f"      {'; '.join(item.reasons)}")
    if rec.open_questions:
        lines.append("\n" + _("Questions to ask next") + ":")
        for q in rec.open_questions:
            effects = []
            change = q.if_true or q.if_false
            if change and "tier" in q.would_change and change.tier:
                effects.append(_("tier becomes {tier}").format(tier=kb.label(change.tier, lang)))
            if change and change.new_fora:
                new_fora = ", ".join(kb.label(f, lang) for f in change.new_fora)
                effects.append(_("new fora: {fora}").format(fora=new_fora))
            detail = f" ({'; '.join(effects)})" if effects else ""
            label = q.label[:1].upper() + q.label[1:]  # "alder" begins a line: "Alder?"
            lines.append(f"  · {label}? [{q.factor}]{detail}")
    if rec.need_questions:  # needs the case leaves open whose yes brings other measures
        lines.append("\n" + _("Questions about needs (a yes brings other measures into the first five)") + ":")
        for need in rec.need_questions:
            brought = ", ".join(m.label for m in need.would_bring)
            label = need.label[:1].upper() + need.label[1:]
            lines.append(f"  · {label}? [{need.factor}] (" + _("brings: {measures}").format(measures=brought) + ")")
    lines.append(f"\nkb {rec.kb_version}")
    return lines


def _ages(item: RankedIntervention | ForumByAge) -> str:
    """A measure's age range as text shows it: " (6–17 år)", " (fra 18 år)"; nothing when open."""
    low, high = item.min_age, item.max_age
    if low is None and high is None:
        return ""
    if high is None:
        return " (" + _("from {low} years").format(low=low) + ")"
    return " (" + _("{low}–{high} years").format(low=low or 0, high=high) + ")"
