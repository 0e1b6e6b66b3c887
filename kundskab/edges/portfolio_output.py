"""The portfolio report (kundskab.documents.portfolios) for people and programs: text tables, CSV and
xlsx that open in a Danish Excel (UTF-8 with BOM, ';' between fields), and one
self-contained HTML page (inline CSS and SVG, nothing fetched) from a Jinja2 template
with autoescaping. `html_fragment` is the page's body alone, with its own scoped style,
for embedding in another page (the service's)."""

from __future__ import annotations

import io
from typing import Any

from kundskab._memo import once
from kundskab.documents.portfolios import ANY_DOMAIN, COVERED, HOLE, UNCERTAIN, PortfolioReport
from kundskab.i18n import N_, Messages

__all__ = ["CSV_COLUMNS", "MAX_HTML_BYTES", "csv_text", "html_fragment", "html_page", "stylesheet", "text_lines",
           "xlsx_bytes"]

MAX_HTML_BYTES = 2 * 1024 * 1024

WORDS = Messages({
    "title": N_("Portfolio: coverage, holes and overlaps"),
    "scope": N_("Scope"),
    "programmes": N_("Programmes"),
    "municipality": N_("Municipality"),
    "district": N_("Police district"),
    "age_bands": N_("Age bands"),
    "initiatives": N_("Initiatives"),
    "invalid": N_("Invalid documents (left out)"),
    "profiles": N_("Risk profiles: initiatives per age band, risk domain and tier"),
    "profiles_note": N_("Number of initiatives acting on the profile; ◦ organising the work only; "
                        "? the record does not say. Outlined: a source states a need there "
                        "(red: a hole, amber: uncertain, green: covered)."),
    "domain": N_("Risk domain"),
    "holes": N_("Holes"),
    "holes_note": N_("Needs a source states that no initiative covers, most important first "
                     "(ranked by: the programme's own source names it, a goal names it, tier, "
                     "number of rules)."),
    "no_holes": N_("No holes: every stated need is covered or uncertain."),
    "own_holes": N_("Named by the programme's own source"),
    "rule_holes": N_("Named only by the rules (their sources are other documents)"),
    "uncertain": N_("Uncertain"),
    "uncertain_note": N_("Needs only initiatives whose record is silent could cover (no age, risk "
                         "factor or crime type stated): not holes, but worth a look."),
    "overlaps": N_("Overlaps"),
    "overlaps_note": N_("Several initiatives acting on the same profile, tier and risk factor."),
    "no_overlaps": N_("No overlaps."),
    "coverage": N_("Coverage"),
    "network": N_("Network of partners, initiatives and fora"),
    "carriers": N_("Who carries the most"),
    "single": N_("Initiatives that hang on a single partner"),
    "idle": N_("Fora the needs name without a measure"),
    "none": N_("none"),
    "need": N_("Need"),
    "kind": N_("Kind"),
    "why": N_("Why it matters"),
    "sources": N_("Source"),
    "status": N_("Status"),
    "count": N_("Number"),
    "covered_by": N_("Covered by"),
    "maybe_by": N_("Could be covered by"),
    "organised_by": N_("Organised by"),
    "factor": N_("Risk factor"),
    "tier": N_("Tier"),
    "age_band": N_("Age band"),
    "partners": N_("Partners"),
    "fora": N_("Fora"),
    "file": N_("File"),
    "errors": N_("Errors"),
    "needed": N_("named as a need"),
    "generated": N_("Knowledge base {version}"),
    "summary": N_("{initiatives} initiatives, {holes} holes, {uncertain} uncertain, {overlaps} overlaps"),
})
DIMENSIONS = Messages({
    "tier": N_("Tiers"), "target-group": N_("Target groups"), "crime-type": N_("Crime types"),
    "role": N_("The person's role"), "principle": N_("Principles"), "sub-goal": N_("Sub-goals"),
    "focus-area": N_("Areas of effort"), "forum": N_("Fora"), "kind": N_("Kinds of measure"),
    "goal": N_("Goals"),
})
NEED_KINDS = Messages({
    "profile": N_("risk profile"), "target-group": N_("target group"), "crime-type": N_("crime type"),
    "principle": N_("principle"), "sub-goal": N_("sub-goal"), "focus-area": N_("area of effort"),
    "forum": N_("forum"),
})
STATUSES = Messages({COVERED: N_("covered"), UNCERTAIN: N_("uncertain"), HOLE: N_("hole")})
# Every word of the report, one table: the groups above under "dim:", "need:", "status:".
_WORDS = Messages({**WORDS, **{f"dim:{k}": v for k, v in DIMENSIONS.items()},
                   **{f"need:{k}": v for k, v in NEED_KINDS.items()},
                   **{f"status:{k}": v for k, v in STATUSES.items()}})
_words = _WORDS.words


def _summary(report: PortfolioReport, words: dict[str, str]) -> str:
    return words["summary"].format(initiatives=len(report.initiatives), holes=len(report.holes),
                                   uncertain=len(report.uncertain), overlaps=len(report.overlaps))


# ---------------------------------------------------------------------------- text


def text_lines(report: PortfolioReport) -> list[str]:
    lang = report.lang
    w = _words(lang)
    label = report.label
    lines = [w["title"], ""]
    scope = report.scope
    lines.append(f"{w['programmes']}: " + (", ".join(f"{label(p)} [{p}]" for p in scope["programmes"]) or w["none"]))
    for key in ("municipality", "district"):
        if scope.get(key):
            lines.append(f"{w[key]}: {label(scope[key])} [{scope[key]}]")
    lines.append(f"{w['age_bands']}: " + ", ".join(label(b) for b in report.bands))
    lines.append(_summary(report, w))
    if report.invalid:
        lines += ["", w["invalid"] + ":"]
        for bad in report.invalid:
            codes = ", ".join(dict.fromkeys(e["code"] for e in bad["errors"]))
            lines.append(f"  {bad['file']}: {codes}")
    lines += ["", w["profiles"]]
    width = max((len(label(d)) for d in report.domains), default=10)
    width = min(width, 34)
    tiers = report.tiers
    head = " " * width + " | " + " | ".join(f"{label(b)[:17]:<{6 * len(tiers)}}" for b in report.bands)
    lines.append(head)
    lines.append(" " * width + " | " + " | ".join(
        "".join(f"{label(t)[:5]:>6}" for t in tiers) for _ in report.bands))
    cells = {(c.band, c.domain, c.tier): c for c in report.cells}
    marks = {HOLE: "!", UNCERTAIN: "?", COVERED: "*", None: " "}
    for domain in report.domains:
        parts = []
        for band in report.bands:
            line = ""
            for tier in tiers:
                cell = cells[(band, domain, tier)]
                shown = str(len(cell.initiatives)) if cell.initiatives else ("◦" if cell.organised else "·")
                line += f"{shown + marks[cell.need]:>6}"
            parts.append(line)
        lines.append(f"{label(domain)[:width]:<{width}} | " + " | ".join(parts))
    lines.append("  (! " + w["status:hole"] + ", ? " + w["status:uncertain"] + ", * " + w["status:covered"]
                 + ", ◦ " + w["organised_by"].lower() + ")")
    lines += ["", f"{w['holes']} ({len(report.holes)})"]
    if not report.holes:
        lines.append("  " + w["no_holes"])
    shown_own = None
    for n, entry in enumerate(report.holes, 1):
        need = entry.need
        if need.own_source != shown_own:
            shown_own = need.own_source
            lines.append("  " + w["own_holes" if need.own_source else "rule_holes"] + ":")
        lines.append(f"{n:>3}. [{w['need:' + need.kind]}] {need.label}")
        lines.append(f"     {w['why']}: {entry.why}")
        lines.append(f"     {w['sources']}: " + "; ".join(s.citation(lang) for s in need.sources[:3])
                     + (" …" if len(need.sources) > 3 else ""))
        if entry.organised_by:
            lines.append(f"     {w['organised_by']}: " + ", ".join(entry.organised_by))
    if report.uncertain:
        lines += ["", f"{w['uncertain']} ({len(report.uncertain)})"]
        for entry in report.uncertain:
            lines.append(f"  [{w['need:' + entry.need.kind]}] {entry.need.label}: {w['maybe_by']} "
                         + ", ".join(entry.maybe_by))
    lines += ["", f"{w['overlaps']} ({len(report.overlaps)})"]
    if not report.overlaps:
        lines.append("  " + w["no_overlaps"])
    for overlap in report.overlaps:
        kinds = f" ({', '.join(label(k) for k in overlap.kinds)})" if overlap.kinds else ""
        lines.append(f"  {label(overlap.band)} · {label(overlap.domain)} · {label(overlap.tier)} · "
                     f"{label(overlap.factor)}{kinds}: " + ", ".join(overlap.initiatives))
    lines += ["", w["coverage"]]
    current = None
    for covered in report.coverage:
        if covered.dimension != current:
            current = covered.dimension
            lines.append(f"  {w['dim:' + current]}:")
        flag = f"  ({w['needed']})" if covered.needed else ""
        status = f"  [{w['status:' + covered.status]}]" if covered.status else ""
        lines.append(f"    {len(covered.initiatives):>4}  {covered.label} [{covered.id}]{flag}{status}")
    network = report.network
    lines += ["", w["network"]]
    lines.append(f"  {w['carriers']}: " + (", ".join(f"{label(a)} ({n})" for a, n in network.carriers[:8])
                                           or w["none"]))
    lines.append(f"  {w['single']}: " + (", ".join(f"{i} ({label(a)})" for i, a in network.single_partner)
                                         or w["none"]))
    lines.append(f"  {w['idle']}: " + (", ".join(f"{label(f)} [{f}]" for f in network.idle_fora) or w["none"]))
    lines += ["", w["generated"].format(version=report.kb_version)]
    return lines


# ---------------------------------------------------------------------------- csv and xlsx


CSV_COLUMNS = ("section", "kind", "id", "label", "age_band", "domain", "tier", "status", "count",
               "initiatives", "why", "sources")
# The workbook's column headings, for people (the CSV keeps the ids above, for programs).
HEADINGS = Messages({
    "section": N_("Section"), "kind": N_("Kind"), "id": N_("Id"), "label": N_("Name"),
    "age_band": N_("Age band"), "domain": N_("Risk domain"), "tier": N_("Tier"), "status": N_("Status"),
    "count": N_("Number"), "initiatives": N_("Initiatives"), "why": N_("Why it matters"), "sources": N_("Source"),
})


def _rows(report: PortfolioReport) -> dict[str, list[dict[str, Any]]]:
    """The report as tables, one per sheet (csv puts them one after the other)."""
    lang = report.lang
    sheets: dict[str, list[dict[str, Any]]] = {"needs": [], "profiles": [], "coverage": [], "overlaps": [],
                                               "network": [], "initiatives": [], "invalid": []}
    for entry in report.needs:
        need = entry.need
        sheets["needs"].append({
            "section": "need", "kind": need.kind, "id": need.id, "label": need.label,
            "age_band": need.band or "", "domain": need.domain or "", "tier": need.tier or "",
            "status": entry.status, "count": len(entry.covered_by),
            "initiatives": "|".join(entry.covered_by or entry.maybe_by or entry.organised_by),
            "why": entry.why, "sources": " | ".join(s.citation(lang) for s in need.sources)})
    for cell in report.cells:
        sheets["profiles"].append({
            "section": "profile", "kind": "profile", "id": f"{cell.band}/{cell.domain}/{cell.tier}",
            "label": report.label(cell.domain), "age_band": cell.band, "domain": cell.domain, "tier": cell.tier,
            "status": cell.need or "", "count": len(cell.initiatives), "initiatives": "|".join(cell.initiatives),
            "why": "", "sources": ""})
    for row in report.coverage:
        sheets["coverage"].append({
            "section": "coverage", "kind": row.dimension, "id": row.id, "label": row.label, "age_band": "",
            "domain": "", "tier": "", "status": row.status or ("needed" if row.needed else ""),
            "count": len(row.initiatives), "initiatives": "|".join(row.initiatives), "why": "", "sources": ""})
    for overlap in report.overlaps:
        sheets["overlaps"].append({
            "section": "overlap", "kind": "profile", "id": overlap.factor, "label": report.label(overlap.factor),
            "age_band": overlap.band, "domain": overlap.domain, "tier": overlap.tier,
            "status": "|".join(overlap.kinds),
            "count": len(overlap.initiatives), "initiatives": "|".join(overlap.initiatives), "why": "",
            "sources": ""})
    for kind, ident, label, degree in report.network.nodes:
        sheets["network"].append({
            "section": "network", "kind": kind, "id": ident, "label": label, "age_band": "", "domain": "",
            "tier": "", "status": "idle" if kind == "forum" and ident in report.network.idle_fora else "",
            "count": degree, "initiatives": "", "why": "", "sources": ""})
    for initiative in report.initiatives:
        sheets["initiatives"].append({
            "section": "initiative", "kind": initiative.origin, "id": initiative.id, "label": initiative.label,
            "age_band": "|".join(initiative.bands or ()), "domain": "|".join(initiative.factors),
            "tier": initiative.tier or "", "status": initiative.scope or "", "count": len(initiative.actors),
            "initiatives": "", "why": "", "sources": " | ".join(initiative.sources)})
    for bad in report.invalid:
        sheets["invalid"].append({
            "section": "invalid", "kind": "document", "id": bad["file"], "label": bad["file"],
            "age_band": "", "domain": "", "tier": "", "status": "invalid", "count": len(bad["errors"]),
            "initiatives": "", "why": "; ".join(e["message"] for e in bad["errors"][:5]), "sources": ""})
    return sheets


def _cell_text(value: Any) -> Any:
    """A value as a spreadsheet should take it: text that starts like a formula is quoted, so
    that a document's title can never run as a formula in Excel."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(report: PortfolioReport) -> str:
    """Every table, one after the other, in one CSV for a Danish Excel: a BOM, ';'."""
    import csv

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for rows in _rows(report).values():
        writer.writerows({k: _cell_text(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def xlsx_bytes(report: PortfolioReport) -> bytes:
    """The tables as an Excel workbook, one sheet each (openpyxl)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    fills = {HOLE: PatternFill("solid", fgColor="F4B6B6"), UNCERTAIN: PatternFill("solid", fgColor="F7E3A1"),
             COVERED: PatternFill("solid", fgColor="C9E7C4")}
    for name, rows in _rows(report).items():
        sheet = book.create_sheet(name)
        headings = HEADINGS.words(report.lang)
        sheet.append([headings[c] for c in CSV_COLUMNS])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell_text(row[c]) for c in CSV_COLUMNS])
            fill = fills.get(row["status"])
            if fill is not None:
                for cell in sheet[sheet.max_row]:
                    cell.fill = fill
        sheet.freeze_panes = "A2"
        for column, width in zip("ABCDEFGHIJKL", (10, 12, 34, 40, 16, 20, 10, 10, 7, 40, 40, 60), strict=True):
            sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------- html


@once
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("kundskab.edges", "templates_html"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _template(name: str) -> Any:
    return _environment().get_template(name)


def _shorten(text: str, n: int = 38) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _network_svg(report: PortfolioReport) -> dict[str, Any]:
    """A three-column layout: partners, initiatives, fora; each column sorted by how many
    links a node has, so that the busiest are at the top and lines cross little."""
    network = report.network
    columns: dict[str, list[tuple[str, str, int]]] = {"actor": [], "initiative": [], "forum": []}
    for kind, ident, label, degree in network.nodes:
        columns[kind].append((ident, label, degree))
    row = 18
    top = 30
    height = top + row * max(1, *(len(c) for c in columns.values())) + 10
    xs = {"actor": 10, "initiative": 330, "forum": 650}
    positions: dict[str, tuple[int, int]] = {}
    nodes = []
    idle = set(network.idle_fora)
    single = {i for i, _ in network.single_partner}
    for kind, items in columns.items():
        for n, (ident, label, degree) in enumerate(items):
            y = top + n * row
            positions[f"{kind}:{ident}"] = (xs[kind], y)
            css = kind + (" idle" if kind == "forum" and ident in idle else "") + \
                (" single" if kind == "initiative" and ident in single else "")
            nodes.append({"x": xs[kind], "y": y, "label": _shorten(label), "title": f"{label} [{ident}] ({degree})",
                          "css": css, "r": min(7, 3 + degree // 2)})
    edges = []
    for a, b in network.edges:
        if a in positions and b in positions:
            (x1, y1), (x2, y2) = sorted((positions[a], positions[b]))
            edges.append({"x1": x1 + 240 if x1 == xs["actor"] else x1, "y1": y1, "x2": x2, "y2": y2})
    return {"width": 900, "height": height, "nodes": nodes, "edges": edges}


def _heat(count: int, top: int) -> int:
    """The shade of a heat-map cell, 0 (none) to 5 (the largest count): a class of
    portfolio.css, not a style attribute, so that a strict Content-Security-Policy holds."""
    if count <= 0 or top <= 0:
        return 0
    return max(1, min(5, round(5 * count / top)))


def _context(report: PortfolioReport) -> dict[str, Any]:
    w = _words(report.lang)
    cells = {(c.band, c.domain, c.tier): c for c in report.cells}
    top = max((len(c.initiatives) for c in report.cells), default=0)
    rows = []
    for domain in report.domains:
        row = []
        for band in report.bands:
            for tier in report.tiers:
                cell = cells[(band, domain, tier)]
                row.append({"count": len(cell.initiatives), "organised": len(cell.organised),
                            "maybe": len(cell.maybe), "need": cell.need or "",
                            "heat": _heat(len(cell.initiatives), top),
                            "title": ", ".join(cell.initiatives or cell.organised or cell.maybe)[:400]})
        rows.append({"label": report.label(domain), "id": domain, "cells": row})
    coverage: dict[str, list[Any]] = {}
    for entry in report.coverage:
        coverage.setdefault(entry.dimension, []).append(entry)
    return {
        "w": w, "r": report, "label": report.label, "rows": rows, "coverage": coverage,
        "summary": _summary(report, w), "svg": _network_svg(report), "any_domain": ANY_DOMAIN,
        "lang": report.lang, "holes": report.holes, "uncertain": report.uncertain,
    }


def html_fragment(report: PortfolioReport, *, inline_style: bool = True) -> str:
    """The report's body, one <section class="ks-portfolio">, to place inside another page:
    with its scoped style inline, or without (`inline_style=False`) for a page that serves
    `stylesheet()` itself (a Content-Security-Policy without 'unsafe-inline')."""
    return str(_template("portfolio_body.html.j2").render(**_context(report), inline_style=inline_style))


def html_page(report: PortfolioReport) -> str:
    """One self-contained page: no external request, inline CSS and SVG, print styles."""
    return str(_template("portfolio.html.j2").render(**_context(report), inline_style=True))


def stylesheet() -> str:
    """The fragment's style (every rule scoped to .ks-portfolio), to serve as a file."""
    env = _environment()
    return str(env.loader.get_source(env, "portfolio.css")[0])
