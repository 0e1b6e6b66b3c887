"""The `kundskab` command line: a thin layer that turns library errors into messages.

Results go to stdout, diagnostics to stderr. Exit 0 on success, 1 when the answer is
negative (invalid document, failed check), 2 on bad usage or unreadable input.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from kundskab import __version__
from kundskab.errors import KundskabError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_NEGATIVE = 1
EXIT_USAGE = 2

# Words of the text output, Danish first.
WORDS: dict[str, dict[str, str]] = {
    "da": {
        "definition": "Definition", "sources": "Kilder", "labels": "Navne", "type": "Type",
        "tier": "Indsatsniveau", "target_groups": "Målgrupper", "fora": "Fora",
        "actors": "Aktører", "crime_types": "Kriminalitetstyper", "risk_factors": "Risikofaktorer",
        "principles": "Principper", "subgoals": "Delmål", "evidence": "Vidensgrundlag",
        "programme": "Program", "focus_areas": "Indsatsområder", "place": "Sted",
        "period": "Periode", "trigger": "Udløses af", "members": "Medlemmer",
        "levels": "Niveau", "requirements": "Krav", "goals": "Mål", "indicators": "Indikatorer",
        "baseline": "Udgangspunkt", "target": "Mål", "data_source": "Datakilde",
        "interventions": "Indsatser", "domain": "Domæne", "min_age": "Fra alder",
        "max_age": "Til alder", "meets": "Mødes", "none": "ingen", "unknown": "ukendt",
        "found": "fundet", "errors": "fejl", "findings": "fund", "ok": "OK",
        "integrity": "Integritet", "check_ok": "Vidensbasen er gyldig",
        "check_failed": "Vidensbasen har integritetsfejl",
    },
    "en": {
        "definition": "Definition", "sources": "Sources", "labels": "Labels", "type": "Type",
        "tier": "Tier", "target_groups": "Target groups", "fora": "Fora", "actors": "Actors",
        "crime_types": "Crime types", "risk_factors": "Risk factors", "principles": "Principles",
        "subgoals": "Sub-goals", "evidence": "Evidence basis", "programme": "Programme",
        "focus_areas": "Areas of effort", "place": "Place", "period": "Period",
        "trigger": "Triggered by", "members": "Members", "levels": "Level",
        "requirements": "Requirements", "goals": "Goals", "indicators": "Indicators",
        "baseline": "Baseline", "target": "Target", "data_source": "Data source",
        "interventions": "Interventions", "domain": "Domain", "min_age": "From age",
        "max_age": "To age", "meets": "Meets", "none": "none", "unknown": "unknown",
        "found": "found", "errors": "errors", "findings": "findings", "ok": "OK",
        "integrity": "Integrity", "check_ok": "The knowledge base is valid",
        "check_failed": "The knowledge base has integrity errors",
    },
}


def word(lang: str, key: str) -> str:
    return WORDS.get(lang, WORDS["da"]).get(key, key)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"kundskab: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn library exceptions into one clear line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KundskabError as exc:
            fail(str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read input: {exc}")
        return None

    return wrapper  # type: ignore[return-value]


def output_options(func: F) -> F:
    func = click.option(
        "--lang", type=click.Choice(["da", "en"]), default="da", show_default=True,
        help="Language of labels and messages.",
    )(func)
    func = click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
        show_default=True, help="Output for people (text) or programs (json).",
    )(func)
    return func


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _kb() -> Any:
    from kundskab.knowledge import load

    return load()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kundskab")
def main() -> None:
    """kundskab: knowledge base and rules for Danish crime-prevention work.

    Recommend a tier of effort, fora and interventions for a case; validate initiative
    documents against their programme; browse the knowledge base with its sources.
    """


# ---------------------------------------------------------------------------- browsing


def _fmt_value(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('label')} ({value.get('id')})" if "id" in value else str(value)
    if isinstance(value, list):
        return ", ".join(_fmt_value(v) for v in value) if value else "-"
    return str(value)


def _print_concept(data: dict[str, Any], lang: str) -> None:
    click.secho(f"{data['label']}  [{data['id']}]", bold=True)
    other = "en" if lang == "da" else "da"
    click.echo(f"  {word(lang, 'type')}: {data['type_label']} ({data['type']})")
    if data["labels"].get(other):
        click.echo(f"  {other}: {data['labels'][other]}")
    if data.get("definition"):
        click.echo(f"  {word(lang, 'definition')}: {data['definition']}")
    skip = {"id", "type", "types", "label", "labels", "definition", "definitions", "sources",
            "alt_labels", "type_label", "principles", "subgoals", "requirements", "goals",
            "interventions", "indicators", "focus_areas"}
    for key, value in data.items():
        if key in skip or value in (None, [], ""):
            continue
        click.echo(f"  {word(lang, key)}: {_fmt_value(value)}")
    if data.get("focus_areas"):
        click.echo(f"  {word(lang, 'focus_areas')}: {_fmt_value(data['focus_areas'])}")
    for key in ("principles", "subgoals"):
        if data.get(key):
            click.echo(f"  {word(lang, key)}:")
            for item in data[key]:
                number = f"{item['number']}. " if item.get("number") else ""
                click.echo(f"    - {number}{item['label']} [{item['id']}]: {item.get('definition') or ''}")
    if data.get("requirements"):
        click.echo(f"  {word(lang, 'requirements')}:")
        for req in data["requirements"]:
            click.echo(f"    - {req['label']} [{req['id']}] ({req.get('error_code')})")
    if data.get("goals"):
        click.echo(f"  {word(lang, 'goals')}:")
        for goal in data["goals"]:
            click.echo(f"    - {goal['label']} [{goal['id']}]")
            for ind in goal["indicators"]:
                _print_indicator(ind, lang, "        ")
    if data.get("indicators") and isinstance(data["indicators"][0], dict) and "baseline" in data["indicators"][0]:
        click.echo(f"  {word(lang, 'indicators')}:")
        for ind in data["indicators"]:
            _print_indicator(ind, lang, "    ")
    if data.get("interventions"):
        items = data["interventions"]
        click.echo(f"  {word(lang, 'interventions')} ({len(items)}): "
                   + ", ".join(i["id"] for i in items[:12]) + (" …" if len(items) > 12 else ""))
    click.echo(f"  {word(lang, 'sources')}:")
    for source in data["sources"]:
        click.echo(f"    - {source['file']} § {source['section']}")


def _print_indicator(ind: dict[str, Any], lang: str, indent: str) -> None:
    click.echo(f"{indent}{ind['label']} [{ind['id']}]")
    click.echo(
        f"{indent}  {word(lang, 'baseline')}: {ind['baseline']} ({ind['baseline_year']}); "
        f"{word(lang, 'target')}: {ind['target']} ({ind['target_year']}); "
        f"{word(lang, 'data_source')}: {ind['data_source']}"
    )


@main.command()
@click.argument("name")
@output_options
@handle_errors
def show(name: str, fmt: str, lang: str) -> None:
    """Everything known about one concept (an id, or a Danish or English label)."""
    from kundskab.browse import describe

    kb = _kb()
    data = describe(kb, kb.get(kb.resolve(name)), lang)
    if fmt == "json":
        emit_json(data)
    else:
        _print_concept(data, lang)


@main.command()
@click.option("--tier", multiple=True, help="general, specific or individual (repeatable).")
@click.option("--target-group", multiple=True, help="A target group id or label (repeatable).")
@click.option("--forum", multiple=True, help="A forum id or label (repeatable).")
@click.option("--principle", multiple=True, help="A principle id or label (repeatable).")
@click.option("--crime-type", multiple=True, help="A crime type id or label (repeatable).")
@click.option("--programme", multiple=True, help="A programme id or label (repeatable).")
@output_options
@handle_errors
def interventions(tier: tuple[str, ...], target_group: tuple[str, ...], forum: tuple[str, ...],
                  principle: tuple[str, ...], crime_type: tuple[str, ...],
                  programme: tuple[str, ...], fmt: str, lang: str) -> None:
    """List catalogue interventions; filters combine with AND, repeated values with OR."""
    from kundskab.browse import intervention_summary

    kb = _kb()
    found = kb.interventions(tier=tier, target_group=target_group, forum=forum,
                             principle=principle, crime_type=crime_type, programme=programme)
    items = [intervention_summary(kb, c, lang) for c in found]
    if fmt == "json":
        emit_json(items)
        return
    for item in items:
        click.secho(f"{item['id']}", bold=True, nl=False)
        click.echo(f"  {item['label']}  [{kb.label(item['tier'], lang)}]")
        groups = ", ".join(kb.label(g, lang) for g in item["target_groups"])
        click.echo(f"    {word(lang, 'target_groups')}: {groups}")
        if item["fora"]:
            click.echo(f"    {word(lang, 'fora')}: {', '.join(kb.label(f, lang) for f in item['fora'])}")
        if item["principles"]:
            click.echo(f"    {word(lang, 'principles')}: {', '.join(item['principles'])}")
        click.echo(f"    {word(lang, 'sources')}: "
                   + "; ".join(f"{s['file']} § {s['section']}" for s in item["sources"]))
    click.echo(f"{len(items)} {word(lang, 'interventions').lower()}", err=True)


@main.command()
@click.option("--strict", is_flag=True, help="Treat programme findings as errors (exit 1).")
@output_options
@handle_errors
def check(strict: bool, fmt: str, lang: str) -> None:
    """Validate the knowledge base itself (SHACL shapes, unique labels) and report,
    per programme, catalogue initiatives that fall short of its requirements."""
    from kundskab.integrity import check as run_check

    kb = _kb()
    report = run_check(kb)
    failed = not report.ok or (strict and bool(report.findings))
    if fmt == "json":
        data = report.as_dict()
        data["strict"] = strict
        emit_json(data)
    else:
        _print_check(report, kb, lang)
    if failed:
        sys.exit(EXIT_NEGATIVE)


def _print_check(report: Any, kb: Any, lang: str) -> None:
    click.echo(f"kb {report.kb_version}: {report.concepts} concepts, "
               f"{report.interventions} {word(lang, 'interventions').lower()}")
    for issue in report.errors:
        where = f" [{issue.path}]" if issue.path else ""
        value = f" ({issue.value})" if issue.value else ""
        click.secho(f"ERROR {issue.focus}{where}: {issue.message}{value}", fg="red")
    current = None
    for finding in report.findings:
        if finding.programme != current:
            current = finding.programme
            click.secho(f"{kb.label(current, lang)} [{current}]:", bold=True)
        click.echo(f"  warning {finding.code}: {finding.intervention}: {finding.message}"
                   + (f" ({', '.join(finding.have)})" if finding.have else ""))
    status = word(lang, "check_ok") if report.ok else word(lang, "check_failed")
    click.echo(f"{status}: {len(report.errors)} {word(lang, 'errors')}, "
               f"{len(report.findings)} {word(lang, 'findings')}")


