"""The `kundskab` command line: a thin layer that turns library errors into messages.

Results go to stdout, diagnostics to stderr. Exit 0 on success, 1 when the answer is
negative (invalid document, failed check), 2 on any error (bad usage, unreadable input,
output that cannot be written, a batch worker lost), 130 when interrupted (Ctrl-C).
Every exception that ends a command is turned into a message, an error code and an exit
status in one place, `describe_error`; with `--format json` the error is also printed on
stdout as {"error": {"code", "message"}}. Text from outside (file names, a case's `ref`)
is printed with its control characters replaced, so it cannot drive the terminal.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeGuard, TypeVar

import click

from kundskab import __version__
from kundskab._names import printable
from kundskab.errors import KundskabError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_NEGATIVE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C

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
        "inferred": "Udledt af redaktionen (ikke sagt af kilden)",
        "stated_rest": "Alle andre forbindelser er sagt i de citerede afsnit.",
        "scope": "Virker på", "status": "Status i kilden", "situations": "Situation",
        "municipality": "Kommune/politikreds", "area": "Område",
        "contraindications": "Kontraindikationer", "part_of": "Ligger i", "implies": "Indebærer",
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
        "inferred": "Inferred by the editor (not said by the source)",
        "stated_rest": "Every other link is stated in the cited sections.",
        "scope": "Works on", "status": "Status in the source", "situations": "Situation",
        "municipality": "Municipality/police district", "area": "Area",
        "contraindications": "Contraindications", "part_of": "Lies in", "implies": "Implies",
    },
}


def word(lang: str, key: str) -> str:
    return WORDS.get(lang, WORDS["da"]).get(key, key)


# ---------------------------------------------------------------------------- errors


class Failure(Exception):
    """A failure the command line itself finds (an output file exists, stdout is closed)."""

    def __init__(self, message: str, code: str = "usage-error", exit_code: int = EXIT_USAGE) -> None:
        self.code = code
        self.exit_code = exit_code
        super().__init__(message)


class OutputError(Exception):
    """Output cannot be written (stdout closed, its reader gone, a full disk). Not an
    OSError: click would take a broken pipe for a reason to exit 1 quietly."""

    @classmethod
    def of(cls, exc: OSError) -> OutputError:
        return cls(f"{_where(exc)}{_reason(exc)}")


# Errors that only writing produces: reading a file or a pipe never gives these.
_WRITE_ERRNOS = frozenset({errno.EPIPE, errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    raise Failure(message, exit_code=code)


def describe_error(exc: BaseException) -> tuple[str, str, int]:
    """(error code, message, exit status) for an exception that ends a command: the one
    place where errors become what a person or a script sees. Messages come from the
    library, which never puts a case's values in them. Raises `exc` again if it is not an
    error kundskab expects (a bug, which deserves its traceback)."""
    if isinstance(exc, click.exceptions.Abort):
        # click.prompt turns Ctrl-C and the end of input into Abort; what caused it matters.
        exc = exc.__cause__ or exc.__context__ or exc
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "interrupted", EXIT_INTERRUPTED
    if isinstance(exc, EOFError):
        return "input-ended", "the input ended before every question was answered", EXIT_USAGE
    if isinstance(exc, click.exceptions.Abort):
        return "aborted", "aborted", EXIT_USAGE
    if isinstance(exc, Failure):
        return exc.code, str(exc), exc.exit_code
    if isinstance(exc, KundskabError):
        return exc.code, str(exc), EXIT_USAGE
    if isinstance(exc, click.FileError):
        return "unreadable-input", exc.format_message(), EXIT_USAGE
    if isinstance(exc, click.ClickException):
        return "usage-error", exc.format_message(), EXIT_USAGE
    if isinstance(exc, OutputError):
        return "output-error", f"cannot write output: {exc}", EXIT_USAGE
    if _is_write_error(exc):
        return "output-error", f"cannot write output: {OutputError.of(exc)}", EXIT_USAGE
    if isinstance(exc, OSError):
        return "unreadable-input", f"cannot read input: {_where(exc)}{_reason(exc)}", EXIT_USAGE
    if isinstance(exc, UnicodeDecodeError):
        return "unreadable-input", "cannot read input: not UTF-8 text", EXIT_USAGE
    raise exc


def _is_write_error(exc: BaseException) -> TypeGuard[OSError]:
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _where(exc: OSError) -> str:
    return f"{exc.filename}: " if exc.filename else ""


def report_error(exc: BaseException, fmt: str) -> int:
    """Print the error (stderr; with --format json also the contract's object on stdout)
    and give the exit status."""
    code, message, status = describe_error(exc)
    message = printable(message, 2000)
    output_lost = code == "output-error"
    if output_lost:
        _silence_stdout()
    if fmt == "json" and not output_lost:
        try:
            emit_json({"error": {"code": code, "message": message}})
            sys.stdout.flush()
        except OSError:
            _silence_stdout()
    if isinstance(exc, click.UsageError) and fmt != "json":
        exc.show()  # click's own form: usage line, hint and the message
    elif status == EXIT_INTERRUPTED:
        click.echo(err=True)  # close the terminal's ^C
    else:
        click.echo(f"kundskab: {message}", err=True)
    return status


def _silence_stdout() -> None:
    # Output that cannot be written is reported once; the interpreter's own flush at exit
    # must not fail again ("Exception ignored ... BrokenPipeError").
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):
        pass


def _flush_stdout() -> None:
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:
        raise OutputError.of(exc) from None


def _requested_format(args: Sequence[str]) -> str:
    """The --format asked for, read from the raw arguments: errors found while parsing them
    (an unknown option, say) must honour it too."""
    fmt = "text"
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--format" and index + 1 < len(args):
            fmt = args[index + 1]
        elif arg.startswith("--format="):
            fmt = arg.partition("=")[2]
    return "json" if fmt == "json" else "text"


class KundskabGroup(click.Group):
    """The `kundskab` group: runs a command and maps whatever ends it to a message and an
    exit status (`report_error`), honours NO_COLOR, and treats output that could not be
    written as an error rather than a silent success."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if _is_write_error(exc):  # before click, which exits 1 on a broken pipe
                raise OutputError.of(exc) from None
            raise

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if os.environ.get("NO_COLOR") and "color" not in extra:  # https://no-color.org
            extra["color"] = False
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode=False,
                                 windows_expand_args=windows_expand_args, **extra)
        fmt = _requested_format(argv)
        try:
            if sys.stdout is None:  # started with stdout closed (`>&-`)
                raise OutputError("standard output is closed")
            result = super().main(argv, prog_name, complete_var, standalone_mode=False,
                                 windows_expand_args=windows_expand_args, **extra)
            status: Any = result if isinstance(result, int) and not isinstance(result, bool) else 0
            _flush_stdout()
        except SystemExit as exc:
            status = exc.code
            try:
                _flush_stdout()
            except OutputError as error:
                status = report_error(error, fmt)
        except BaseException as exc:  # KeyboardInterrupt too: it has an exit status of its own
            status = report_error(exc, fmt)
        sys.exit(status)


def handle_errors(func: F) -> F:
    """Kept for commands to mark that they rely on the group's error mapping (errors pass
    through to `KundskabGroup.main`, which maps them in one place)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

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


# Characters JSON leaves raw that a terminal may act on (C1 controls such as CSI U+009B),
# or that reorder (bidi controls) or split (line separators) what it shows: escaped.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def emit_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    click.echo(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


# Set by --store (see store_option) on every invocation: read the knowledge base from a
# SPARQL server. Loaded once per store and graph (an invocation calls _kb() several times).
_STORE: dict[str, str | None] = {"url": None, "graph": None}
_STORE_KB: dict[tuple[str, str | None], Any] = {}


def _kb() -> Any:
    url = _STORE["url"]
    if url:
        key = (url, _STORE["graph"])
        if key not in _STORE_KB:
            from kundskab.store import StoreSource

            _STORE_KB.clear()
            _STORE_KB[key] = StoreSource(url, graph=_STORE["graph"]).load()
        return _STORE_KB[key]
    from kundskab.knowledge import load

    return load()


def store_option(func: F) -> F:
    """--store URL and --graph IRI: the knowledge base from a SPARQL 1.1 server."""

    def remember(key: str) -> Callable[[click.Context, click.Parameter, str | None], None]:
        def callback(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
            _STORE[key] = value  # None too: nothing carries over from an earlier invocation
        return callback

    func = click.option("--graph", metavar="IRI", expose_value=False, callback=remember("graph"),
                        help="With --store: the named graph holding the knowledge base.")(func)
    func = click.option("--store", metavar="URL", expose_value=False, callback=remember("url"),
                        envvar="KUNDSKAB_STORE",
                        help="Read the knowledge base from this SPARQL 1.1 Graph Store endpoint "
                             "(published with `kundskab store load`; env KUNDSKAB_STORE).")(func)
    return func


def examples(*lines: str) -> str:
    """A help epilog listing example command lines, kept as written (click's \\b)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


@click.group(cls=KundskabGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=examples(
    "kundskab recommend --age 15 --factor truancy --factor street-group",
    "kundskab recommend --interview",
    "kundskab show ungesamråd --lang en",
    "kundskab interventions --tier specific --forum ssp",
    "kundskab template sikker-by-2018 -o initiativ.md && kundskab validate initiativ.md",
))
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
            "interventions", "indicators", "focus_areas", "inferred"}
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
    if data.get("inferred"):
        click.echo(f"  {word(lang, 'inferred')}:")
        for link in data["inferred"]:
            note = f": {link['note']}" if link.get("note") else ""
            click.echo(f"    - {link['property']} = {link['value']}{note}")
        click.echo(f"  {word(lang, 'stated_rest')}")
    click.echo(f"  {word(lang, 'sources')}:")
    for source in data["sources"]:
        click.echo(f"    - {_citation(source, lang)}  [{source['file']}]")


def _citation(source: dict[str, Any], lang: str) -> str:
    """A source as a person reads it: the document's short title and the section."""
    section = {"da": "afsnit", "en": "section"}.get(lang, "section")
    title = source.get("title") or source["file"]
    return f"{title}, {section} '{source['section']}'" if source.get("section") else title


def _print_indicator(ind: dict[str, Any], lang: str, indent: str) -> None:
    click.echo(f"{indent}{ind['label']} [{ind['id']}]")
    click.echo(
        f"{indent}  {word(lang, 'baseline')}: {ind['baseline']} ({ind['baseline_year']}); "
        f"{word(lang, 'target')}: {ind['target']} ({ind['target_year']}); "
        f"{word(lang, 'data_source')}: {ind['data_source']}"
    )


@main.command(epilog=examples("kundskab show ssp", "kundskab show Ungesamråd --format json"))
@click.argument("name")
@output_options
@store_option
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


@main.command(epilog=examples("kundskab interventions --tier specific --forum ssp",
                              "kundskab interventions --programme sikker-by-2018 --format json"))
@click.option("--tier", multiple=True, help="general, specific or individual (repeatable).")
@click.option("--target-group", multiple=True, help="A target group id or label (repeatable).")
@click.option("--forum", multiple=True, help="A forum id or label (repeatable).")
@click.option("--principle", multiple=True, help="A principle id or label (repeatable).")
@click.option("--crime-type", multiple=True, help="A crime type id or label (repeatable).")
@click.option("--programme", multiple=True, help="A programme id or label (repeatable).")
@output_options
@store_option
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
        kind = " · ".join(str(item[k]) for k in ("scope", "status") if item.get(k))
        if kind:
            click.echo(f"    {kind}")
        click.echo(f"    {word(lang, 'sources')}: "
                   + "; ".join(_citation(s, lang) for s in item["sources"]))
    click.echo(f"{len(items)} {word(lang, 'interventions').lower()}", err=True)


@main.command(epilog=examples("kundskab check", "kundskab check --strict --format json"))
@click.option("--strict", is_flag=True, help="Treat programme findings as errors (exit 1).")
@click.option("--programme", default=None, metavar="ID",
              help="Instead: one row per catalogue initiative of this programme (id or name) with "
                   "its principles (stated, derived), its verdict (meets, falls-short, cannot-tell) "
                   "and why.")
@click.option("--lang", type=click.Choice(["da", "en"]), default="da", show_default=True,
              help="Language of labels and messages.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True, help="Output for people (text) or programs (json; csv with --programme).")
@store_option
@handle_errors
def check(strict: bool, programme: str | None, fmt: str, lang: str) -> None:
    """Validate the knowledge base itself (SHACL shapes, unique labels) and report,
    per programme, catalogue initiatives in a requirement's scope that fall short of it.

    With --programme, the programme's table: every catalogue initiative with its verdict.
    An initiative outside a requirement's scope (Sikker By: not funded under the strategy)
    or whose funding the source does not state is reported for information; exit 1 only
    with --strict and an initiative in scope that falls short."""
    if programme is not None:
        _check_programme(programme, strict, fmt, lang)
        return
    if fmt == "csv":
        fail("--format csv needs --programme")
    from kundskab.integrity import check as run_check

    kb = _kb()
    if _STORE["url"]:
        from kundskab.store import StoreSource

        report = StoreSource(_STORE["url"], graph=_STORE["graph"]).check(kb)
    else:
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


def _check_programme(programme: str, strict: bool, fmt: str, lang: str) -> None:
    from kundskab.support import CSV_COLUMNS, assess_programme, report_lines, table_rows

    kb = _kb()
    assessment = assess_programme(kb, programme, lang)
    if fmt == "json":
        data = assessment.as_dict(lang)
        data["strict"] = strict
        emit_json(data)
    elif fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table_rows(assessment))
    else:
        click.echo("\n".join(report_lines(kb, assessment, lang)))
    if strict and any(row.failure for row in assessment.initiatives):
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
    from kundskab.support import text as support_text

    for programme, counts in report.verdicts.items():
        # Information: the verdicts behind the findings, table with `check --programme`.
        click.echo(f"{kb.label(programme, lang)} [{programme}]: " + ", ".join(
            f"{n} {support_text(lang, verdict)}" for verdict, n in counts.items())
            + "; " + support_text(lang, "scope_counts", **report.scope.get(programme, {}))
            + f" (kundskab check --programme {programme})")
    status = word(lang, "check_ok") if report.ok else word(lang, "check_failed")
    click.echo(f"{status}: {len(report.errors)} {word(lang, 'errors')}, "
               f"{len(report.findings)} {word(lang, 'findings')}")


# ---------------------------------------------------------------------------- recommend

MAX_CASE_FILE = 64 * 1024
CPR_WARNING = ("warning: the reference looks like a CPR number; a case must not identify a person, "
               "use an opaque reference")

RWORDS = {
    "da": {"title": "Anbefaling", "case": "sag", "age": "alder", "tier": "Indsatsniveau",
           "groups": "Målgrupper", "fora": "Fora", "interventions": "Indsatser",
           "questions": "Spørgsmål at afklare", "rule": "regel", "source": "kilde",
           "premises": "fordi", "none": "ingen", "would_tier": "indsatsniveau bliver {}",
           "would_fora": "nye fora: {}", "unknown_age": "ukendt", "yes": "ja", "no": "nej",
           "dont_know": "ved ikke", "ask_age": "Alder (tom = ved ikke)",
           "interview": "Besvar med ja, nej eller ved ikke (tom = ved ikke)."},
    "en": {"title": "Recommendation", "case": "case", "age": "age", "tier": "Tier",
           "groups": "Target groups", "fora": "Fora", "interventions": "Interventions",
           "questions": "Questions to ask next", "rule": "rule", "source": "source",
           "premises": "because", "none": "none", "would_tier": "tier becomes {}",
           "would_fora": "new fora: {}", "unknown_age": "unknown", "yes": "yes", "no": "no",
           "dont_know": "don't know", "ask_age": "Age (empty = don't know)",
           "interview": "Answer yes, no or don't know (empty = don't know)."},
}


def _recommender() -> Any:
    from kundskab.recommendation import Recommender

    return Recommender(_kb())


def _print_recommendation(rec: Any, lang: str) -> None:
    w = RWORDS[lang]
    kb = _kb()
    data = rec.as_dict()
    labels = data["labels"]
    age = rec.age if rec.age is not None else w["unknown_age"]
    ref = f" {printable(data['ref'], 200)}" if data["ref"] else ""
    click.secho(f"{w['title']} · {w['case']}{ref} · {w['age']} {age}", bold=True)
    by_conclusion: dict[str, list[dict[str, Any]]] = {}
    for entry in data["explanation"]:
        by_conclusion.setdefault(entry["conclusion"], []).append(entry)

    def because(conclusion: str) -> None:
        for entry in by_conclusion.get(conclusion, [])[:2]:
            premises = ", ".join(entry["premises"])
            click.echo(f"      {entry['because']}")
            click.echo(f"      ({w['rule']} {entry['rule']}; {w['premises']}: {premises}; "
                       f"{w['source']} {entry['source']})")

    click.echo(f"\n{w['tier']}: {labels[data['tier']]} [{data['tier']}]")
    because(f"tier:{data['tier']}")
    groups = ", ".join(f"{labels[g]} [{g}]" for g in data["target_groups"]) or w["none"]
    click.echo(f"\n{w['groups']}: {groups}")
    click.echo(f"\n{w['fora']}:" + ("" if data["fora"] else f" {w['none']}"))
    for forum in data["fora"]:
        click.echo(f"  · {labels[forum]} [{forum}]")
        because(f"forum:{forum}")
    click.echo(f"\n{w['interventions']}:" + ("" if data["interventions"] else f" {w['none']}"))
    for n, item in enumerate(data["interventions"], 1):
        click.echo(f"  {n:>2}. {item['label']} [{item['id']}]  {item['score']:.2f}")
        click.echo(f"      {'; '.join(item['reasons'])}")
        click.echo(f"      {w['source']}: {item.get('citation') or item['source']}")
    if data["open_questions"]:
        click.echo(f"\n{w['questions']}:")
        for q in data["open_questions"]:
            effects = []
            change = q.get("if_true") or q.get("if_false") or {}
            if "tier" in q["would_change"] and change.get("tier"):
                effects.append(w["would_tier"].format(kb.label(change["tier"], lang)))
            if change.get("new_fora"):
                effects.append(w["would_fora"].format(", ".join(kb.label(f, lang) for f in change["new_fora"])))
            detail = f" ({'; '.join(effects)})" if effects else ""
            click.echo(f"  · {q['label']}? [{q['factor']}]{detail}")
    click.echo(f"\nkb {data['kb_version']}")


def _read_case_source(path: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_CASE_FILE + 1)
    else:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CASE_FILE + 1)
    if len(data) > MAX_CASE_FILE:
        raise click.UsageError(f"a case file is at most {MAX_CASE_FILE // 1024} KiB")
    return data


def _interview(kb: Any, lang: str) -> dict[str, Any]:
    from kundskab.cases import parse_answer
    from kundskab.errors import CaseError

    w = RWORDS[lang]
    click.echo(w["interview"], err=True)
    age_text = click.prompt(w["ask_age"], default="", show_default=False, err=True)
    case: dict[str, Any] = {"factors": {}}
    if age_text.strip():
        case["age"] = age_text.strip()
    choices = f"[{w['yes']}/{w['no']}/{w['dont_know']}]"
    for domain in kb.of_type("RiskDomain"):
        factors = [f for f in kb.of_type("Factor") if domain.id in f.ref("inDomain")
                   and not f.is_a("ProtectiveFactor")]
        if not factors:
            continue
        click.secho(f"-- {domain.label(lang)} --", bold=True, err=True)
        for factor in factors:
            while True:
                answer = click.prompt(f"{factor.label(lang)}? {choices}", default="",
                                      show_default=False, err=True)
                try:
                    value = parse_answer(answer)
                    break
                except CaseError:
                    click.echo(choices, err=True)
            if value is not None:
                case["factors"][factor.id] = value
    return case


@main.command(epilog=examples(
    "kundskab recommend --age 15 --factor truancy --factor street-group",
    "kundskab recommend case.json --format json",
    'echo \'{"age": 16, "factors": ["offence-committed"]}\' | kundskab recommend -',
    "kundskab recommend --batch cases.jsonl --jobs 2 > results.jsonl",
    "kundskab recommend --interview --lang en",
))
@click.argument("case_file", required=False)
@click.option("--age", metavar="YEARS", help="The person's age in years.")
@click.option("--factor", "factors", multiple=True, help="A factor that is true (repeatable).")
@click.option("--not-factor", "not_factors", multiple=True, help="A factor that is false (repeatable).")
@click.option("--offence", "offences", multiple=True,
              help="A crime type the person has committed or is charged with (repeatable).")
@click.option("--municipality", help="The municipality or police district of the case (local measures first).")
@click.option("--ref", help="An opaque reference, echoed back (never stored).")
@click.option("--batch", "batch", metavar="FILE.jsonl|-", help="One case per line in, one JSON result per line out.")
@click.option("--interview", is_flag=True, help="Ask for the age and the factors, domain by domain.")
@click.option("--limit", type=click.IntRange(1, 100), help="How many interventions to list.")
@click.option("--questions", type=click.IntRange(0, 100),
              help="How many open questions to list (default 5, the most informative first).")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="With --batch: worker processes (output order is kept).")
@output_options
@store_option
@handle_errors
def recommend(case_file: str | None, age: str | None, factors: tuple[str, ...],
              not_factors: tuple[str, ...], offences: tuple[str, ...], municipality: str | None,
              ref: str | None, batch: str | None, interview: bool, limit: int | None,
              questions: int | None, jobs: int, fmt: str, lang: str) -> None:
    """Recommend a tier of effort, fora and interventions for a case.

    The case comes from CASE_FILE (JSON or YAML, - for stdin), from --age/--factor, or from
    --interview. With --batch, every line of FILE.jsonl is a case and every output line a
    JSON result in the same order; a bad line yields {"line": N, "error": ...} and the
    rest go on (exit 2 at the end if any line was bad).
    """
    from kundskab.cases import factor_flags, looks_like_cpr, parse_case, parse_case_text

    given = [bool(case_file), bool(age is not None or factors or not_factors or offences or municipality),
             bool(batch), interview]
    if sum(given) != 1:
        raise click.UsageError("give exactly one of: CASE_FILE (or -), --age/--factor/--offence/--municipality, "
                               "--batch, --interview")
    if batch:
        _run_batch(_recommender(), batch, lang, limit, jobs, questions)
        return
    recommender = _recommender()
    if interview:
        case = parse_case(_interview(recommender.kb, lang), recommender.kb)
    elif case_file:
        case = parse_case_text(_read_case_source(case_file), recommender.kb)
    else:
        # --age is read as text: the case's own check refuses a bad value without echoing it.
        answers = factor_flags(factors, not_factors)
        data: dict[str, Any] = {"ref": ref, "age": age, "factors": answers}
        if offences:
            data["offences"] = list(offences)
        if municipality:
            data["municipality"] = municipality
        case = parse_case(data, recommender.kb)
    if ref is not None and case.ref is None:
        from dataclasses import replace

        case = replace(case, ref=ref)
    if looks_like_cpr(case.ref):
        click.echo(f"kundskab: {CPR_WARNING}", err=True)
    rec = recommender.recommend(case, lang=lang, limit=limit, questions=questions)
    if fmt == "json":
        emit_json(rec.as_dict())
    else:
        _print_recommendation(rec, lang)


def _run_batch(recommender: Any, path: str, lang: str, limit: int | None, jobs: int,
               questions: int | None = None) -> None:
    import os
    import stat

    from kundskab.batch import CHUNK, read_lines, write_batch

    streaming = False
    if path == "-":
        stream = sys.stdin.buffer
        total = None
        # A pipe or terminal may stay open with a caller waiting for each answer before it
        # writes the next case (a co-process): answer every line as soon as it is read.
        # A file on stdin cannot wait, so it keeps the chunked path (and --jobs reads ahead).
        try:
            streaming = jobs == 1 and not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
        except (OSError, ValueError):  # stdin replaced by an object without a descriptor
            streaming = False
    else:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
        total = os.fstat(stream.fileno()).st_size or None
    # Our own progress line rather than click.progressbar: it counts cases while its
    # percentage follows the bytes read, and stdin has no length; click's bar counts one unit.
    show_progress = sys.stderr.isatty()
    progress = {"read": 0}

    def bytes_read(size: int) -> None:
        progress["read"] += size

    def show(done: int, _: int) -> None:
        pct = f" {100 * progress['read'] // total:3d}%" if total else ""
        click.echo(f"\r{done} …{pct}", nl=False, err=True)

    sys.stdout.flush()
    out = sys.stdout.buffer
    try:
        summary = write_batch(read_lines(stream, bytes_read), out, recommender=recommender, jobs=jobs,
                              lang=lang, limit=limit, chunk_size=1 if streaming else CHUNK,
                              progress=show if show_progress else None)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    out.flush()
    if show_progress:
        click.echo(f"\r{summary.lines} ✓", err=True)
    if summary.cpr_like:
        cpr_like = summary.cpr_like
        shown = ", ".join(map(str, cpr_like[:10])) + (" …" if len(cpr_like) > 10 else "")
        click.echo(f"kundskab: {CPR_WARNING} (line {shown})", err=True)
    if summary.bad:
        click.echo(f"kundskab: {summary.bad} of {summary.lines} lines had errors (reported in the output)", err=True)
        sys.exit(EXIT_USAGE)


# ---------------------------------------------------------------------------- rules


@main.group()
def rules() -> None:
    """Inspect the rules in rules/ (lint, graph, list)."""


def _ruleset() -> Any:
    from kundskab.rules import RuleSet

    return RuleSet.load(_kb())


@rules.command("lint")
@output_options
@handle_errors
def rules_lint(fmt: str, lang: str) -> None:
    """Report cycles, rules that can never fire and conflicting conclusions (exit 1 if any)."""
    from kundskab.analysis import lint

    ruleset = _ruleset()
    findings = lint(ruleset)
    if fmt == "json":
        emit_json({"rules": len(ruleset), "findings": [f.as_dict() for f in findings]})
    else:
        for finding in findings:
            click.echo(f"{finding.code}: {finding.message}")
        click.echo(f"{len(ruleset)} rules, {len(findings)} findings")
    if findings:
        sys.exit(EXIT_NEGATIVE)


@rules.command("graph")
@output_options
@handle_errors
def rules_graph(fmt: str, lang: str) -> None:
    """Print the graph of rules and the facts they read and write: Graphviz DOT as text,
    or {"nodes": [...], "edges": [...]} as JSON."""
    from kundskab.analysis import rule_graph, to_dot

    ruleset = _ruleset()
    if fmt == "json":
        graph = rule_graph(ruleset)
        emit_json({
            "nodes": [{"id": node, **data} for node, data in sorted(graph.nodes(data=True))],
            "edges": [{"from": a, "to": b} for a, b in sorted(graph.edges())],
        })
        return
    click.echo(to_dot(ruleset, lang), nl=False)


@rules.command("list")
@output_options
@handle_errors
def rules_list(fmt: str, lang: str) -> None:
    """List every rule with its conditions, conclusions, rationale and source."""
    ruleset = _ruleset()
    items = [{
        "id": r.id, "file": r.file, "line": r.line, "generated": r.generated,
        "when": [c.origin for c in r.conditions],
        "then": [f"{k.replace('_', '-')}:{i}" for k, i in r.conclusions],
        "because": r.because[lang], "source": r.source,
    } for r in ruleset]
    if fmt == "json":
        emit_json(items)
        return
    for item in items:
        click.secho(f"{item['id']}  ({item['file']}:{item['line']})", bold=True)
        click.echo(f"    when {' AND '.join(item['when'])}")
        click.echo(f"    then {', '.join(item['then'])}")
        click.echo(f"    {item['because']}  [{item['source']}]")


# ---------------------------------------------------------------------------- documents

VWORDS: dict[str, dict[str, str]] = {
    "da": {"error": "fejl", "warning": "advarsel", "valid": "gyldig", "invalid": "ugyldig",
           "summary": "{n} dokumenter: {valid} gyldige, {invalid} ugyldige, {warnings} advarsler",
           "none_found": "ingen dokumenter fundet (.md, .yaml, .yml, .ttl, .jsonld)",
           "written": "skabelon skrevet til {path}",
           "suggestion": "forslag: dokumentets fakta understøtter også {id} (regel {rule}: {facts}); "
                         "overvej at angive det",
           "strict": "--strict: {warnings} advarsler gør kørslen negativ",
           "exists": "{path} findes allerede (brug --force for at overskrive)"},
    "en": {"error": "error", "warning": "warning", "valid": "valid", "invalid": "invalid",
           "summary": "{n} documents: {valid} valid, {invalid} invalid, {warnings} warnings",
           "none_found": "no documents found (.md, .yaml, .yml, .ttl, .jsonld)",
           "written": "template written to {path}",
           "suggestion": "suggestion: the document's facts also support {id} (rule {rule}: {facts}); "
                         "consider claiming it",
           "strict": "--strict: {warnings} warnings make the run negative",
           "exists": "{path} exists already (use --force to overwrite)"},
}


def _print_validation(report: Any, lang: str, summary: bool) -> None:
    w = VWORDS[lang]
    for entry in report.files:
        mark, colour = ("✓", "green") if entry.valid else ("✗", "red")
        state = w["valid"] if entry.valid else w["invalid"]
        programme = f" [{entry.programme}]" if entry.programme else ""
        # A file name is text from outside: a newline or an escape sequence in it must not
        # fake a line of the report or drive the terminal.
        name = printable(entry.file, 500)
        click.secho(f"{mark} {name}{programme}: {state}", fg=colour, bold=not entry.valid)
        for kind, problems in (("error", entry.errors), ("warning", entry.warnings)):
            for problem in problems:
                where = f"{name}:{problem.line}" if problem.line else name
                click.echo(f"    {where}: {w[kind]} [{problem.code}] {printable(problem.message, 2000)}")
        for suggestion in entry.suggestions:
            click.echo(f"    {name}: " + w["suggestion"].format(
                id=suggestion.id, rule=suggestion.rule, facts=", ".join(suggestion.because)))
    if summary:
        warnings = sum(len(f.warnings) for f in report.files)
        click.echo(w["summary"].format(n=len(report.files), valid=report.valid,
                                       invalid=report.invalid, warnings=warnings))


@main.command(epilog=examples("kundskab validate initiativ.md", "kundskab validate initiativer/ --format json"))
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option("--strict", is_flag=True,
              help="Warnings fail too (exit 1), for CI: unjustified claims, placeholders, unknown fields.")
@output_options
@store_option
@handle_errors
def validate(paths: tuple[str, ...], strict: bool, fmt: str, lang: str) -> None:
    """Validate initiative documents against their programme.

    PATHS are files or folders (searched recursively for .md, .yaml, .yml, .ttl and
    .jsonld). Exit 0 when every document is valid, 1 when any is invalid, 2 on bad usage.
    Warnings (unjustified or suggested principles, unknown fields, placeholders left in)
    never make a document invalid, but with --strict they make the run exit 1.
    """
    from pathlib import Path

    from kundskab.validation import validate_paths

    report = validate_paths(paths, _kb(), lang=lang)
    folders = any(Path(p).is_dir() for p in paths)
    warnings = sum(len(f.warnings) for f in report.files)
    if fmt == "json":
        data = report.as_dict()
        data["strict"] = strict
        emit_json(data)
    else:
        if not report.files:
            click.echo(f"kundskab: {VWORDS[lang]['none_found']}", err=True)
        _print_validation(report, lang, summary=folders or len(report.files) > 1)
        if strict and warnings and report.ok:
            click.echo(VWORDS[lang]["strict"].format(warnings=warnings), err=True)
    if not report.ok or (strict and warnings):
        sys.exit(EXIT_NEGATIVE)


@main.command(epilog=examples("kundskab template sikker-by-2018 -o initiativ.md",
                              "kundskab template 'Tryg i Aarhus' --format json"))
@click.argument("programme")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the template to this file instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@output_options
@handle_errors
def template(programme: str, output: str | None, force: bool, fmt: str, lang: str) -> None:
    """Write a commented starting document (Markdown) for PROGRAMME (an id or a name).

    The template lists every field the programme requires, with its principles or
    sub-goals; replace each [udfyld: …] and check the result with `kundskab validate`.
    The comments are Danish whatever --lang; --format json wraps the template in
    {"programme", "file", "template"}.
    """
    from pathlib import Path

    from kundskab.templates import document_template

    kb = _kb()
    text = document_template(kb, programme)
    if output is not None:
        target = Path(output)
        if target.exists() and not force:
            fail(VWORDS[lang]["exists"].format(path=printable(output, 500)))
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError.of(exc) from None
        click.echo(VWORDS[lang]["written"].format(path=printable(output, 500)), err=True)
    if fmt == "json":
        emit_json({"programme": kb.resolve(programme, "Programme"), "file": output,
                   "template": text})
    elif output is None:
        click.echo(text, nl=False)


# ---------------------------------------------------------------------------- serve


@main.command(epilog=examples(
    "kundskab serve",
    "kundskab serve --host 0.0.0.0 --port 8080 --workers 4",
    "kundskab serve --store http://127.0.0.1:7878/store",
    "curl -s localhost:8000/v1/recommend -d '{\"age\": 15, \"factors\": [\"truancy\"]}'",
))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (each loads the knowledge base once).")
@click.option("--store", metavar="URL", envvar="KUNDSKAB_STORE",
              help="Read the knowledge base from this SPARQL 1.1 Graph Store endpoint (published "
                   "with `kundskab store load`) and pick up newer versions without a restart.")
@click.option("--graph", metavar="IRI", help="With --store: the named graph holding the knowledge base.")
@click.option("--poll", type=click.FloatRange(0.0), default=5.0, show_default=True,
              help="With --store: seconds between checks for a newer version (0: never).")
@click.option("--max-body", type=click.IntRange(1024), default=6 * 1024 * 1024, show_default=True,
              help="Largest request body in bytes (larger: 413).")
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True,
              help="Seconds a client has to send its body (else 408), and a batch to be answered "
                   "(later lines get a time-limit error).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True, help="Logging; the access log has method, path, status and duration only.")
@handle_errors
def serve(host: str, port: int, workers: int, store: str | None, graph: str | None, poll: float,
          max_body: int, timeout: float, log_level: str) -> None:
    """Serve the HTTP API: POST /v1/recommend, /v1/recommend/batch (NDJSON), /v1/validate;
    GET /v1/interventions, /v1/concepts/{id}, /v1/programmes/{id}, /v1/check, /healthz,
    /readyz and /openapi.json. Stop with Ctrl-C."""
    from kundskab.service import Limits
    from kundskab.service import serve as run

    run(host, port, workers, store=store, graph=graph, poll_seconds=poll,
        limits=Limits(max_body_bytes=max_body, seconds=timeout), log_level=log_level)


# ---------------------------------------------------------------------------- store


@main.group()
def store() -> None:
    """A knowledge base shared by many replicas, in a SPARQL 1.1 server."""


@store.command("load", epilog=examples(
    "oxigraph serve --location kb-data --bind 127.0.0.1:7878 &",
    "kundskab store load http://127.0.0.1:7878/store",
    "kundskab serve --store http://127.0.0.1:7878/store --workers 2",
))
@click.argument("url")
@click.option("--graph", metavar="IRI", help="The named graph to replace (default: the kundskab graph).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output for people (text) or programs (json).")
@handle_errors
def store_load(url: str, graph: str | None, fmt: str) -> None:
    """Publish the ontology to the SPARQL server's Graph Store endpoint URL (an HTTP PUT of
    one named graph, with its version), for `serve --store URL` and `--store` elsewhere."""
    from kundskab.store import DEFAULT_GRAPH, publish

    done = publish(url, graph=graph or DEFAULT_GRAPH)
    if fmt == "json":
        emit_json({"url": done.url, "graph": done.graph, "triples": done.triples, "kb_version": done.kb_version})
    else:
        click.echo(f"{done.triples} triples → <{done.graph}> at {done.url} (kb {done.kb_version})")
