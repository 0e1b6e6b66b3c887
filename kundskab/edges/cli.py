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
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NoReturn, TypeGuard, TypeVar

import click

from kundskab import __version__
from kundskab._names import printable
from kundskab.edges.click_language import Group, lang_option, root_lang_option, speak_our_language, start_language
from kundskab.edges.rendering import (
    check_lines,
    citation,
    concept_lines,
    empty_listing,
    found_line,
    intervention_lines,
    interventions_line,
    json_text,
    kind_lines,
    lint_lines,
    listing_lines,
    programme_lines,
    published_line,
    recommendation_lines,
    rule_lines,
    search_lines,
    strict_line,
    table_csv,
    validation_lines,
    write_xlsx,
)
from kundskab.errors import CaseError, KundskabError, UnknownConceptError, os_reason
from kundskab.i18n import N_, language, ngettext
from kundskab.i18n import gettext as _

F = TypeVar("F", bound=Callable[..., Any])

EXIT_NEGATIVE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C

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
        return "interrupted", _("interrupted"), EXIT_INTERRUPTED
    if isinstance(exc, EOFError):
        return "input-ended", _("the input ended before every question was answered"), EXIT_USAGE
    if isinstance(exc, click.exceptions.Abort):
        return "aborted", _("aborted"), EXIT_USAGE
    if isinstance(exc, Failure):
        return exc.code, str(exc), exc.exit_code
    if isinstance(exc, KundskabError):
        return exc.code, exc.translated(), EXIT_USAGE
    if isinstance(exc, click.FileError):
        return "unreadable-input", exc.format_message(), EXIT_USAGE
    if isinstance(exc, click.ClickException):
        return "usage-error", exc.format_message(), EXIT_USAGE
    if isinstance(exc, OutputError):
        return "output-error", _("cannot write output: {detail}").format(detail=exc), EXIT_USAGE
    if _is_write_error(exc):
        return "output-error", _("cannot write output: {detail}").format(detail=OutputError.of(exc)), EXIT_USAGE
    if isinstance(exc, OSError):
        detail = f"{_where(exc)}{_reason(exc)}"
        return "unreadable-input", _("cannot read input: {detail}").format(detail=detail), EXIT_USAGE
    if isinstance(exc, UnicodeDecodeError):
        return "unreadable-input", _("cannot read input: not UTF-8 text"), EXIT_USAGE
    raise exc


def _is_write_error(exc: BaseException) -> TypeGuard[OSError]:
    return isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS)


def _reason(exc: OSError) -> str:
    return _(os_reason(exc))


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


class KundskabGroup(Group):
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
        # The language of errors found before click parses anything (stdout closed at start).
        speak_our_language()
        start_language(argv)
        try:
            if sys.stdout is None:  # started with stdout closed (`>&-`)
                raise OutputError(_("standard output is closed"))
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


def output_options(func: F) -> F:
    func = lang_option()(func)
    func = click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
        show_default=True, help=N_("Output for people (text) or programs (json)."),
    )(func)
    return func


def emit_json(data: Any) -> None:
    click.echo(json_text(data))


@dataclass
class Invocation:
    """What one invocation knows besides its options: where the knowledge base comes from
    (--store and --graph: a SPARQL server, else the bundled one) and, once loaded, the
    knowledge base itself (an invocation asks for it several times). It lives in click's
    context object, so nothing carries over from one invocation to the next in a process."""

    store: str | None = None
    graph: str | None = None
    loaded: Any = None

    def kb(self) -> Any:
        if self.loaded is None:
            if self.store:
                from kundskab.edges.store import StoreSource

                self.loaded = StoreSource(self.store, graph=self.graph).load()
            else:
                from kundskab.knowledge.base import load

                self.loaded = load()
        return self.loaded


def invocation(ctx: click.Context | None = None) -> Invocation:
    """The running invocation's state (click's context object of the command)."""
    return (ctx or click.get_current_context()).ensure_object(Invocation)


def _kb() -> Any:
    return invocation().kb()


def store_option(func: F) -> F:
    """--store URL and --graph IRI: the knowledge base from a SPARQL 1.1 server."""

    def remember(key: str) -> Callable[[click.Context, click.Parameter, str | None], None]:
        def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
            setattr(invocation(ctx), key, value)
        return callback

    func = click.option("--graph", metavar="IRI", expose_value=False, callback=remember("graph"),
                        help=N_("With --store: the named graph holding the knowledge base."))(func)
    func = click.option("--store", metavar="URL", expose_value=False, callback=remember("store"),
                        envvar="KUNDSKAB_STORE",
                        help=N_("Read the knowledge base from this SPARQL 1.1 Graph Store endpoint "
                                "(published with `kundskab store load`; env KUNDSKAB_STORE)."))(func)
    return func


def complete_ids(class_name: str | None = None) -> Callable[..., list[Any]]:
    """Shell completion of concept ids (of one class), each with its label as help."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        try:
            kb = invocation(ctx).kb()
        except Exception:  # completion must never print a traceback into the shell
            return []
        concepts = kb.of_type(class_name) if class_name else sorted(kb, key=lambda c: c.id)
        return [CompletionItem(c.id, help=c.label(language())) for c in concepts
                if c.id.startswith(incomplete)]

    return complete


def _complete_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from kundskab.knowledge.browse import LIST_KINDS

    return [kind for kind in LIST_KINDS if kind.startswith(incomplete)]


@click.group(
    cls=KundskabGroup,
    help=N_("kundskab: knowledge base and rules for Danish crime-prevention work.\n"
            "\n"
            "Recommend a tier of effort, fora and interventions for a case; validate initiative\n"
            "documents against their programme; browse the knowledge base with its sources."),
    context_settings={"help_option_names": ["-h", "--help"]},
    examples=(
        'kundskab recommend --age 15 --factor truancy --factor street-group',
        'kundskab recommend --interview',
        'kundskab show ungesamråd --lang en',
        'kundskab list factors',
        'kundskab search bande',
        'kundskab interventions --tier specific --forum ssp',
        'kundskab template sikker-by-2018 -o initiativ.md && kundskab validate initiativ.md',
    ),
)
@click.version_option(__version__, prog_name="kundskab", help=N_("Show the version and exit."))
@root_lang_option()
def main() -> None:
    # The group only dispatches; --lang (here, or KUNDSKAB_LANG) is applied by its callback.
    return None


# ---------------------------------------------------------------------------- browsing


def _citation(source: dict[str, Any] | str, lang: str) -> str:
    return citation(source, lang, _kb())


def echo_lines(lines: list[str], err: bool = False) -> None:
    for line in lines:
        click.echo(line, err=err)


@main.command(
    help=N_("Everything known about one concept (an id, or a Danish or English label)."),
    examples=(
        'kundskab show ssp',
        'kundskab show Ungesamråd --format json',
    ),
)
@click.argument("name", shell_complete=complete_ids())
@click.option("--verbose", "-v", is_flag=True, help=N_("Also the file name of each source."))
@output_options
@store_option
def show(name: str, verbose: bool, fmt: str, lang: str) -> None:
    from kundskab.knowledge.browse import describe, kind_class, kind_name

    kb = _kb()
    try:
        ident = kb.resolve(name)
    except UnknownConceptError as unknown:
        try:
            kind = kind_name(kind_class(kb, name))
        except KundskabError:
            raise unknown from None  # not a kind either: the error with its suggestions
        raise KundskabError(N_("'{name}' is a kind of concept: `kundskab list {kind}` lists them"),
                            name=name, kind=kind) from None
    data = describe(kb, kb.get(ident), lang)
    if fmt == "json":
        emit_json(data)
    else:
        echo_lines(concept_lines(data, lang, verbose))


def place_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--municipality and --district, as `list` and `interventions` take them."""
    command = click.option(
        "--district", multiple=True, shell_complete=complete_ids("PoliceDistrict"),
        help=N_("Only those in this police district (name or id; a municipality stands for its "
                "district; repeatable)."))(command)
    return click.option(
        "--municipality", multiple=True, shell_complete=complete_ids("Area"),
        help=N_("Only those in this municipality or its police district (name or id, with or "
                "without æøå; repeatable)."))(command)


@main.command(
    help=N_("List catalogue interventions; filters combine with AND, repeated values with OR."),
    examples=(
        'kundskab interventions --tier specific --forum ssp',
        'kundskab interventions --programme sikker-by-2018 --format json',
        'kundskab interventions --municipality Aalborg --tier individual',
    ),
)
@click.option("--tier", multiple=True, shell_complete=complete_ids("Tier"),
              help=N_("general, specific or individual (repeatable)."))
@click.option("--target-group", multiple=True, shell_complete=complete_ids("TargetGroup"),
              help=N_("A target group id or label (repeatable)."))
@click.option("--forum", multiple=True, shell_complete=complete_ids("Forum"),
              help=N_("A forum id or label (repeatable)."))
@click.option("--principle", multiple=True, shell_complete=complete_ids("Principle"),
              help=N_("A principle id or label (repeatable)."))
@click.option("--crime-type", multiple=True, shell_complete=complete_ids("CrimeType"),
              help=N_("A crime type id or label (repeatable)."))
@click.option("--programme", multiple=True, shell_complete=complete_ids("Programme"),
              help=N_("A programme id or label (repeatable)."))
@click.option("--kind", multiple=True, shell_complete=complete_ids("InterventionKind"),
              help=N_("What the measure does: help, control, situational, awareness, organisation "
                      "or follow-up (repeatable; `kundskab list kinds`)."))
@place_options
@output_options
@store_option
def interventions(tier: tuple[str, ...], target_group: tuple[str, ...], forum: tuple[str, ...],
                  principle: tuple[str, ...], crime_type: tuple[str, ...],
                  programme: tuple[str, ...], kind: tuple[str, ...], municipality: tuple[str, ...],
                  district: tuple[str, ...], fmt: str, lang: str) -> None:
    from kundskab.knowledge.browse import intervention_summary

    kb = _kb()
    found = kb.interventions(tier=tier, target_group=target_group, forum=forum,
                             principle=principle, crime_type=crime_type, programme=programme,
                             kind=kind, municipality=municipality, district=district)
    items = [intervention_summary(kb, c, lang) for c in found]
    if fmt == "json":
        emit_json(items)
        return
    echo_lines(intervention_lines(items, kb, lang))
    click.echo(interventions_line(len(items)), err=True)


@main.command(
    help=N_("Validate the knowledge base itself (SHACL shapes, unique labels) and report,\n"
            "per programme, catalogue initiatives in a requirement's scope that fall short of it.\n"
            "\n"
            "With --programme, the programme's table: every catalogue initiative with its verdict.\n"
            "An initiative outside a requirement's scope (Sikker By: not funded under the strategy)\n"
            "or whose funding the source does not state is reported for information; exit 1 only\n"
            "with --strict and an initiative in scope that falls short."),
    examples=(
        "kundskab check",
        "kundskab check --strict --format json",
        "kundskab check --programme sikker-by-2018 --format csv",
    ),
)
@click.option("--strict", is_flag=True, help=N_("Treat programme findings as errors (exit 1)."))
@click.option("--programme", default=None, metavar="ID",
              help=N_("Instead: one row per catalogue initiative of this programme (id or name) with "
                      "its principles (stated, derived), its verdict (meets, falls-short, cannot-tell) "
                      "and why."))
@lang_option()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "xlsx"]), default="text",
              show_default=True,
              help=N_("Output for people (text) or programs (json). With --programme also csv (UTF-8 "
                      "with BOM, ';' between fields, as Danish Excel expects; Python reads it with "
                      "csv.DictReader(open(f, encoding='utf-8-sig'), delimiter=';')) and xlsx (an Excel "
                      "workbook, to --output FILE, or to stdout when it is not a terminal)."))
@click.option("--output", "output", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help=N_("With --format xlsx: the workbook file to write (not overwritten if it exists)."))
@click.option("--no-cache", "no_cache", is_flag=True,
              help=N_("Run the SHACL shapes even over files they were run over before (their result "
                      "is kept in the cache directory, keyed by the files' content)."))
@store_option
def check(strict: bool, programme: str | None, fmt: str, lang: str, no_cache: bool, output: str | None) -> None:
    if programme is not None:
        _check_programme(programme, strict, fmt, lang, output)
        return
    if fmt in ("csv", "xlsx"):
        fail(_("--format {format} needs --programme").format(format=fmt))
    from kundskab.knowledge.check import check as run_check

    kb = _kb()
    state = invocation()
    if state.store:
        from kundskab.edges.store import StoreSource

        report = StoreSource(state.store, graph=state.graph).check(kb, lang)
    else:
        report = run_check(kb, lang, use_cache=not no_cache)
    failed = not report.ok or (strict and bool(report.findings))
    if fmt == "json":
        data = report.as_dict()
        data["strict"] = strict
        emit_json(data)
    else:
        echo_lines(check_lines(report, kb, lang))
    if failed:
        sys.exit(EXIT_NEGATIVE)


def _check_programme(programme: str, strict: bool, fmt: str, lang: str, output: str | None = None) -> None:
    from pathlib import Path

    from kundskab.documents.principle_support import assess_programme

    if output is not None and fmt != "xlsx":
        fail(_("--output is for --format xlsx"))
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        fail(_("--format xlsx writes a workbook: give --output FILE, or send stdout to a file"))
    if output is not None and Path(output).exists():
        fail(_("{path} exists already; it is not overwritten").format(path=printable(output, 500)))
    kb = _kb()
    assessment = assess_programme(kb, programme, lang)
    if fmt == "json":
        data = assessment.as_dict(lang)
        data["strict"] = strict
        emit_json(data)
    elif fmt == "csv":
        click.echo(table_csv(kb, assessment, lang), nl=False)
    elif fmt == "xlsx":
        import io

        if output is not None:
            try:
                write_xlsx(kb, assessment, output, lang)
            except OSError as exc:
                raise OutputError.of(exc) from None
        else:
            workbook = io.BytesIO()
            write_xlsx(kb, assessment, workbook, lang)
            sys.stdout.buffer.write(workbook.getvalue())
            sys.stdout.flush()
    else:
        echo_lines(programme_lines(kb, assessment, lang))
    if strict and any(row.failure for row in assessment.initiatives):
        sys.exit(EXIT_NEGATIVE)


@main.command(
    "list",
    help=N_("List the concepts of one KIND: factors (by risk domain), programmes, fora,\n"
            "crime-types, target-groups, tiers, principles, municipalities, police-districts and more;\n"
            "without KIND, the kinds.\n"
            "\n"
            "--municipality, --district and --programme keep those of a place or a programme: a\n"
            "measure is where it runs; a forum, actor or target group is where the source documents\n"
            "that name it and the measures that name it are; a police district covers its\n"
            "municipalities, and a municipality has its district's measures."),
    examples=(
        'kundskab list factors',
        'kundskab list fora --district Nordjylland',
        'kundskab list interventions --municipality Odense',
        'kundskab list municipalities --district "Fyns Politi"',
        'kundskab list principles --programme "Sikker By"',
        'kundskab list fora --lang en',
        'kundskab list crime-types --format json',
    ),
)
@click.argument("kind", required=False, shell_complete=_complete_kinds)
@place_options
@click.option("--programme", multiple=True, shell_complete=complete_ids("Programme"),
              help=N_("Only those of this programme (id or name; repeatable)."))
@output_options
def list_command(kind: str | None, municipality: tuple[str, ...], district: tuple[str, ...],
                 programme: tuple[str, ...], fmt: str, lang: str) -> None:
    from kundskab.knowledge.browse import available_kinds, kind_class, list_concepts

    kb = _kb()
    if kind is None:
        kinds = [{"kind": k, "type": kind_class(kb, k), "label": kb.class_label(kind_class(kb, k), lang),
                  "count": len(kb.of_type(kind_class(kb, k)))} for k in available_kinds(kb)]
        kinds = [k for k in kinds if k["count"]]
        if fmt == "json":
            emit_json(kinds)
            return
        echo_lines(kind_lines(kinds))
        return
    items = list_concepts(kb, kind, lang, municipality=municipality, district=district, programme=programme)
    if fmt == "json":
        emit_json(items)
        return
    if not items and (municipality or district or programme):
        click.echo(empty_listing(kb, municipality, district, programme, lang))
        return
    echo_lines(listing_lines(items, kb, lang))


@main.command(
    help=N_("Find concepts as people search: every word of TEXT starts a word somewhere in a\n"
            "concept's id, Danish or English name, other names or definition (case and æ/ø/å folded,\n"
            "so 'pjaekker' and 'pjækker' are one; 'skolen' also finds 'skole'; small words such as 'fra'\n"
            "and 'og' are left out). Names first, then definitions. Exit 1 when nothing matches."),
    examples=(
        'kundskab search "pjækker fra skolen"',
        'kundskab search bande',
        'kundskab search skole --kind factors',
        "kundskab search 'victim support' --lang en --format json",
    ),
)
@click.argument("text")
@click.option("--kind", shell_complete=_complete_kinds, help=N_("Only concepts of this kind (as for `list`)."))
@output_options
def search(text: str, kind: str | None, fmt: str, lang: str) -> None:
    from kundskab.knowledge.browse import search as find

    kb = _kb()
    items = find(kb, text, lang, kind)
    if fmt == "json":
        emit_json(items)
    else:
        echo_lines(search_lines(items))
        click.echo(found_line(len(items)), err=True)
    if not items:
        sys.exit(EXIT_NEGATIVE)


# ---------------------------------------------------------------------------- recommend

WARNING = N_("warning: {message}")

def _recommender() -> Any:
    from kundskab.reasoning.recommendation import Recommender

    return Recommender(_kb())


def _read_case_source(path: str) -> bytes:
    """A case file's bytes, read up to one byte past the case's limit: the case reader
    refuses what is longer, with the message every path gives."""
    from kundskab.reasoning.cases import MAX_CASE_BYTES

    if path == "-":
        return sys.stdin.buffer.read(MAX_CASE_BYTES + 1)
    with open(path, "rb") as handle:
        return handle.read(MAX_CASE_BYTES + 1)


def _ask(text: str) -> str:
    """One answer from the user. The end of input or Ctrl-C ends the interview through
    click's Abort, which the error edge (describe_error) reports with its own exit status."""
    return str(click.prompt(text, default="", show_default=False, err=True))


def _interview(recommender: Any, lang: str, municipality: str | None = None,
               area: str | None = None) -> dict[str, Any]:
    """Ask the age (checked at once; "14" or "14 år", or an age group: "skolebørn"), then, one at a time, the first open
    question (the one a consultant would ask next), then those about needs, until none is left.
    Returns the case as answered (in `municipality` and `area`, if given, so that the
    questions and the answer know the place)."""
    from kundskab.reasoning.cases import MAX_AGE, age_from_text, age_groups, parse_answer, parse_case
    from kundskab.reasoning.recommendation import NEED_QUESTIONS

    click.echo(_("Answer yes, no or don't know (empty = don't know)."), err=True)
    case: dict[str, Any] = {"factors": {}}
    if municipality:
        case["municipality"] = municipality
    if area:
        case["area"] = area
    while True:
        age_text = _ask(_("Age, or the age group when the age is not known (empty = don't know)")).strip()
        if not age_text:
            break
        try:
            age = age_from_text(age_text)
        except CaseError:
            age = None
        if age is not None and age <= MAX_AGE:
            case["age"] = age
            break
        if age is None:  # a child in school, a young adult: the group, read as a case's field is
            try:
                case["age_group"] = parse_case({"age_group": age_text}, recommender.kb).age_group
                break
            except CaseError:
                pass
        click.echo(_("The age is a whole number of years from 0 to {max}, or an age group: {groups}.").format(
            max=MAX_AGE, groups=", ".join(str(recommender.kb.label(g, lang)) for g in age_groups(recommender.kb))),
            err=True)
    choices = "[{}/{}/{}]".format(_("yes"), _("no"), _("don't know"))
    asked = {"age"}
    while True:
        answer = recommender.recommend(case, lang=lang, need_questions=NEED_QUESTIONS)
        # The open questions first, then those about needs (a yes brings other measures).
        questions = [q for q in (*answer.open_questions, *answer.need_questions) if q.factor not in asked]
        if not questions:
            break
        question = questions[0]
        asked.add(question.factor)
        while True:
            try:
                value = parse_answer(_ask(f"{question.label}? {choices}"))
                break
            except CaseError:
                click.echo(choices, err=True)
        if value is not None:
            case["factors"][question.factor] = value
    asked_factors = len(asked) - 1
    click.echo(ngettext("{n} question about factors; no other answer would change the recommendation.",
                        "{n} questions about factors; no other answer would change the recommendation.",
                        asked_factors).format(n=asked_factors), err=True)
    return case


@main.command(
    help=N_("Recommend a tier of effort, fora and interventions for a case.\n"
            "\n"
            "The case comes from CASE_FILE (JSON or YAML, - for stdin), from --age/--factor, or from\n"
            "--interview. With --batch, every line of FILE.jsonl is a case and every output line a\n"
            'JSON result in the same order; a bad line yields {"line": N, "error": ...} and the\n'
            "rest go on (exit 2 at the end if any line was bad)."),
    examples=(
        'kundskab recommend --age 15 --factor truancy --factor street-group',
        'kundskab recommend case.json --format json',
        'echo \'{"age": 16, "factors": ["offence-committed"]}\' | kundskab recommend -',
        'kundskab recommend --batch cases.jsonl --jobs 2 > results.jsonl',
        'kundskab recommend --interview --lang en',
        'kundskab recommend --interview --municipality Aalborg',
    ),
)
@click.argument("case_file", required=False)
@click.option("--age", metavar=N_("YEARS"), help=N_("The person's age in years."))
@click.option("--age-group", "age_group", shell_complete=complete_ids("AgeGroup"),
              help=N_("With the age unknown, the person's age group (preschool-children, school-age-youth, "
                      "young-adults, adults; or its name): the answer fits those ages."))
@click.option("--factor", "factors", multiple=True, shell_complete=complete_ids("Factor"),
              help=N_("A factor that is true (repeatable)."))
@click.option("--not-factor", "not_factors", multiple=True, shell_complete=complete_ids("Factor"),
              help=N_("A factor that is false (repeatable)."))
@click.option("--offence", "offences", multiple=True, shell_complete=complete_ids("CrimeType"),
              help=N_("A crime type the person has committed or is charged with (repeatable)."))
@click.option("--municipality", shell_complete=complete_ids("Area"),
              help=N_("The municipality or police district of the case (local measures first)."))
@click.option("--role", "roles", multiple=True, type=click.Choice(["at-risk", "offender", "victim", "relative"]),
              help=N_("Who the person is (repeatable): at-risk (default), offender, victim, or relative "
                      "(a parent asking about the child the case describes)."))
@click.option("--victim-of", "victim_of", multiple=True, shell_complete=complete_ids("CrimeType"),
              help=N_("A crime type the person has suffered (repeatable; makes the person a victim)."))
@click.option("--area", help=N_("A local area of the case (an estate, a district); an unknown one is a warning."))
@click.option("--ref", help=N_("An opaque reference, echoed back (never stored)."))
@click.option("--batch", "batch", metavar="FILE.jsonl|-",
              help=N_("One case per line in, one JSON result per line out."))
@click.option("--interview", is_flag=True,
              help=N_("Ask for the age, then only the factors whose answer would change the recommendation "
                      "(with --municipality: for a case of that place)."))
@click.option("--limit", type=click.IntRange(1, 100), help=N_("How many interventions to list."))
@click.option("--questions", type=click.IntRange(0, 100),
              help=N_("How many open questions to list (default 5, the most informative first)."))
@click.option("--need-questions", "need_questions", type=click.IntRange(0, 3),
              help=N_("How many questions about needs to list: risk factors the case leaves open whose yes "
                      "would bring other measures into the first five (default 3 in text, 0 in JSON)."))
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help=N_("With --batch: worker processes (output order is kept)."))
@output_options
@store_option
def recommend(case_file: str | None, age: str | None, age_group: str | None, factors: tuple[str, ...],
              not_factors: tuple[str, ...], offences: tuple[str, ...], municipality: str | None,
              roles: tuple[str, ...], victim_of: tuple[str, ...], area: str | None, ref: str | None,
              batch: str | None, interview: bool, limit: int | None,
              questions: int | None, need_questions: int | None, jobs: int, fmt: str, lang: str) -> None:
    from kundskab.reasoning.cases import age_from_text, factor_flags, parse_case, parse_case_text
    from kundskab.reasoning.recommendation import NEED_QUESTIONS

    # --municipality goes with the flags or with --interview (the place of the case asked about).
    given = [bool(case_file), bool(age is not None or age_group or factors or not_factors or offences or roles
                                   or victim_of
                                   or ((municipality or area) and not interview)),
             bool(batch), interview]
    if sum(given) != 1:
        raise click.UsageError(_("give exactly one of: CASE_FILE (or -), --age/--factor/--offence/--municipality, "
                                 "--batch, --interview (with --municipality if you like)"))
    if batch:
        if need_questions:
            raise click.UsageError(_("--need-questions is for one case, not --batch"))
        _run_batch(_recommender(), batch, lang, limit, jobs, questions)
        return
    recommender = _recommender()
    if interview:
        case = parse_case(_interview(recommender, lang, municipality, area), recommender.kb)
    elif case_file:
        case = parse_case_text(_read_case_source(case_file), recommender.kb)
    else:
        # --age is read as text and checked by the case's module: a bad value is refused
        # without echoing it.
        answers = factor_flags(factors, not_factors)
        data: dict[str, Any] = {"ref": ref, "age": age_from_text(age), "factors": answers}
        if offences:
            data["offences"] = list(offences)
        if municipality:
            data["municipality"] = municipality
        if roles:
            data["role"] = list(roles)
        if victim_of:
            data["victim_of"] = list(victim_of)
        if area:
            data["area"] = area
        if age_group:
            data["age_group"] = age_group
        case = parse_case(data, recommender.kb)
    if ref is not None and case.ref is None:
        case = replace(case, ref=parse_case({"ref": ref}, recommender.kb).ref)  # checked as a case's ref is
    if need_questions is None:  # the consultant's text asks them; a script asks for them
        need_questions = 0 if fmt == "json" else NEED_QUESTIONS
    rec = recommender.recommend(case, lang=lang, limit=limit, questions=questions, need_questions=need_questions)
    for warning in rec.warnings:
        click.echo("kundskab: " + _(WARNING).format(message=warning.message), err=True)
    if fmt == "json":
        emit_json(rec.as_dict())
    else:
        for line in recommendation_lines(rec, _kb(), lang):
            click.echo(line)


def _run_batch(recommender: Any, path: str, lang: str, limit: int | None, jobs: int,
               questions: int | None = None) -> None:
    import os
    import stat

    from kundskab.edges.batch import CHUNK, read_lines, write_batch

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
                              lang=lang, limit=limit, questions=questions, chunk_size=1 if streaming else CHUNK,
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
        from kundskab.reasoning.cases import CPR_WARNING

        click.echo("kundskab: " + _(WARNING).format(message=_(CPR_WARNING)) + " "
                   + _("(line {lines})").format(lines=shown), err=True)
    if summary.bad:
        click.echo("kundskab: " + ngettext("{bad} of {done} line had errors (reported in the output)",
                                           "{bad} of {done} lines had errors (reported in the output)",
                                           summary.lines).format(bad=summary.bad, done=summary.lines), err=True)
        sys.exit(EXIT_USAGE)


# ---------------------------------------------------------------------------- rules


@main.group(
    help=N_("Inspect the rules in rules/ (lint, graph, list)."),
)
def rules() -> None:
    return None


def _ruleset() -> Any:
    from kundskab.reasoning.rules import RuleSet

    return RuleSet.load(_kb(), use_cache=False)  # lint and list report from the YAML itself


@rules.command(
    "lint",
    help=N_("Report cycles, rules that can never fire and conflicting conclusions (exit 1 if any)."),
)
@output_options
def rules_lint(fmt: str, lang: str) -> None:
    from kundskab.reasoning.lint import lint

    ruleset = _ruleset()
    findings = lint(ruleset, lang)
    if fmt == "json":
        emit_json({"rules": len(ruleset), "findings": [f.as_dict() for f in findings]})
    else:
        echo_lines(lint_lines(len(ruleset), findings))
    if findings:
        sys.exit(EXIT_NEGATIVE)


@rules.command(
    "graph",
    help=N_("Print the graph of rules and the facts they read and write: Graphviz DOT as text,\n"
            'or {"nodes": [...], "edges": [...]} as JSON.'),
)
@output_options
def rules_graph(fmt: str, lang: str) -> None:
    from kundskab.reasoning.lint import rule_graph, to_dot

    ruleset = _ruleset()
    if fmt == "json":
        graph = rule_graph(ruleset)
        emit_json({
            "nodes": [{"id": node, **data} for node, data in sorted(graph.nodes(data=True))],
            "edges": [{"from": a, "to": b} for a, b in sorted(graph.edges())],
        })
        return
    click.echo(to_dot(ruleset, lang), nl=False)


@rules.command(
    "list",
    help=N_("List every rule with its conditions, conclusions, rationale and source."),
)
@output_options
def rules_list(fmt: str, lang: str) -> None:
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
    echo_lines(rule_lines(items, _kb(), lang))


# ---------------------------------------------------------------------------- documents

@main.command(
    help=N_("Validate initiative documents against their programme.\n"
            "\n"
            "PATHS are files or folders (searched recursively for .md, .yaml, .yml, .ttl and\n"
            ".jsonld). Exit 0 when every document is valid, 1 when any is invalid, 2 on bad usage.\n"
            "Warnings (unjustified or suggested principles, unknown fields, placeholders left in)\n"
            "never make a document invalid, but with --strict they make the run exit 1."),
    examples=(
        'kundskab validate initiativ.md',
        'kundskab validate initiativer/ --format json',
    ),
)
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option("--strict", is_flag=True,
              help=N_("Warnings fail too (exit 1), for CI: unjustified claims, placeholders, unknown fields."))
@output_options
@store_option
def validate(paths: tuple[str, ...], strict: bool, fmt: str, lang: str) -> None:
    from pathlib import Path

    from kundskab.documents.validation import validate as run_validate

    report = run_validate(paths, _kb(), lang=lang)
    folders = any(Path(p).is_dir() for p in paths)
    warnings = sum(len(f.warnings) for f in report.files)
    if fmt == "json":
        data = report.as_dict()
        data["strict"] = strict
        emit_json(data)
    else:
        if not report.files:
            click.echo("kundskab: " + _("no documents found (.md, .yaml, .yml, .ttl, .jsonld)"), err=True)
        echo_lines(validation_lines(report, summary=folders or len(report.files) > 1))
        if strict and warnings and report.ok:
            click.echo(strict_line(warnings), err=True)
    if not report.ok or (strict and warnings):
        sys.exit(EXIT_NEGATIVE)


@main.command(
    help=N_("Coverage, holes and overlaps of a set of initiatives.\n"
            "\n"
            "PATHS are initiative documents (files or folders, validated first: invalid ones are\n"
            "reported and left out); --programme, --municipality and --district add the catalogue's\n"
            "measures. The report covers risk profiles (age band × risk domain × tier), target\n"
            "groups, crime types, the person's role, principles, sub-goals, areas of effort and\n"
            "goals; holes are needs a source states that no initiative covers, ranked; the network\n"
            "shows who carries the most. Exit 1 when a document is invalid (the rest is analysed)."),
    examples=(
        "kundskab portfolio --programme vestegn-2013",
        "kundskab portfolio --municipality herlev --html herlev.html",
        "kundskab portfolio initiativer/ --programme sikker-by-2018 --format xlsx -o portefolje.xlsx",
    ),
)
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option("--programme", default=None, metavar="ID", shell_complete=complete_ids("Programme"),
              help=N_("The catalogue's measures of this programme (id or name); its needs are the scope."))
@click.option("--municipality", default=None, metavar="NAME", shell_complete=complete_ids("Municipality"),
              help=N_("The catalogue's measures in this municipality."))
@click.option("--district", default=None, metavar="NAME", shell_complete=complete_ids("PoliceDistrict"),
              help=N_("The catalogue's measures in this police district and its municipalities."))
@click.option("--html", "html_file", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help=N_("Also write the report as one self-contained HTML page to FILE."))
@click.option("-o", "--output", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help=N_("Write the report to FILE instead of stdout (needed for xlsx on a terminal)."))
@lang_option()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "xlsx"]), default="text",
              show_default=True, help=N_("Text tables, JSON, CSV or xlsx (CSV and xlsx for a Danish Excel)."))
@store_option
def portfolio(paths: tuple[str, ...], programme: str | None, municipality: str | None, district: str | None,
              html_file: str | None, output: str | None, fmt: str, lang: str) -> None:
    from kundskab.documents.portfolios import portfolio as analyse
    from kundskab.edges import portfolio_output as render

    report = analyse(paths, programme=programme, municipality=municipality, district=district,
                     kb=_kb(), lang=lang)
    data: bytes
    if fmt == "json":
        data = (json_text(report.as_dict()) + "\n").encode("utf-8")
    elif fmt == "csv":
        data = render.csv_text(report).encode("utf-8")
    elif fmt == "xlsx":
        if output is None and sys.stdout.isatty():
            fail(_("--format xlsx writes a binary file: give -o FILE or redirect stdout"))
        data = render.xlsx_bytes(report)
    else:
        data = ("\n".join(render.text_lines(report)) + "\n").encode("utf-8")
    if html_file is not None:
        _write_file(html_file, render.html_page(report).encode("utf-8"))
        click.echo(_("page written to {path}").format(path=printable(html_file, 500)), err=True)
    if output is not None:
        _write_file(output, data)
    elif fmt in ("csv", "xlsx"):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
    else:
        click.echo(data.decode("utf-8"), nl=False)
    if report.invalid:
        sys.exit(EXIT_NEGATIVE)


def _write_file(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise OutputError.of(exc) from None


@main.command(
    help=N_("Write a commented starting document (Markdown) for PROGRAMME (an id or a name).\n"
            "\n"
            "The template lists every field the programme requires, with its principles or\n"
            "sub-goals; replace each [udfyld: …] and check the result with `kundskab validate`.\n"
            "The comments are Danish whatever --lang; --format json wraps the template in\n"
            '{"programme", "file", "template"}.'),
    examples=(
        'kundskab template sikker-by-2018 -o initiativ.md',
        "kundskab template 'Tryg i Aarhus' --format json",
    ),
)
@click.argument("programme", shell_complete=complete_ids("Programme"))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help=N_("Write the template to this file instead of stdout."))
@click.option("--force", is_flag=True, help=N_("Overwrite the output file if it exists."))
@output_options
def template(programme: str, output: str | None, force: bool, fmt: str, lang: str) -> None:
    from pathlib import Path

    from kundskab.documents.templates import document_template

    kb = _kb()
    text = document_template(kb, programme)
    if output is not None:
        target = Path(output)
        if target.exists() and not force:
            fail(_("{path} exists already (use --force to overwrite)").format(path=printable(output, 500)))
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError.of(exc) from None
        click.echo(_("template written to {path}").format(path=printable(output, 500)), err=True)
    if fmt == "json":
        emit_json({"programme": kb.resolve(programme, "Programme"), "file": output,
                   "template": text})
    elif output is None:
        click.echo(text, nl=False)


# ---------------------------------------------------------------------------- serve


@main.command(
    help=N_("Serve the HTTP API: POST /v1/recommend, /v1/recommend/batch (NDJSON), /v1/validate;\n"
            "GET /v1/interventions, /v1/concepts/{id}, /v1/programmes/{id}, /v1/check, /healthz,\n"
            "/readyz and /openapi.json. Stop with Ctrl-C."),
    examples=(
        "kundskab serve",
        "kundskab serve --host 0.0.0.0 --port 8080 --workers 4",
        "kundskab serve --store http://127.0.0.1:7878/store",
        "curl -s localhost:8000/v1/recommend -d '{\"age\": 15, \"factors\": [\"truancy\"]}'",
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help=N_("Address to listen on."))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help=N_("Port to listen on."))
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help=N_("Worker processes (each loads the knowledge base once)."))
@click.option("--store", metavar="URL", envvar="KUNDSKAB_STORE",
              help=N_("Read the knowledge base from this SPARQL 1.1 Graph Store endpoint (published "
                      "with `kundskab store load`) and pick up newer versions without a restart."))
@click.option("--graph", metavar="IRI", help=N_("With --store: the named graph holding the knowledge base."))
@click.option("--poll", type=click.FloatRange(0.0), default=5.0, show_default=True,
              help=N_("With --store: seconds between checks for a newer version (0: never)."))
@click.option("--max-body", type=click.IntRange(1024), default=6 * 1024 * 1024, show_default=True,
              help=N_("Largest request body in bytes (larger: 413)."))
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True,
              help=N_("Seconds a client has to send its body (else 408), and the service to answer (else "
                      "503 time-limit; a batch's later lines get a time-limit error)."))
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True, help=N_("Logging; the access log has method, path, status and duration only."))
def serve(host: str, port: int, workers: int, store: str | None, graph: str | None, poll: float,
          max_body: int, timeout: float, log_level: str) -> None:
    from kundskab.edges.service import Limits
    from kundskab.edges.service import serve as run

    run(host, port, workers, store=store, graph=graph, poll_seconds=poll,
        limits=Limits(max_body_bytes=max_body, seconds=timeout), log_level=log_level)


# ---------------------------------------------------------------------------- store


@main.group(help=N_("A knowledge base shared by many replicas, in a SPARQL 1.1 server."))
def store() -> None:
    return None


@store.command(
    "load",
    help=N_("Publish the ontology to the SPARQL server's Graph Store endpoint URL (an HTTP PUT of\n"
            "one named graph, with its version), for `serve --store URL` and `--store` elsewhere."),
    examples=(
        "oxigraph serve --location kb-data --bind 127.0.0.1:7878 &",
        "kundskab store load http://127.0.0.1:7878/store",
        "kundskab serve --store http://127.0.0.1:7878/store --workers 2",
    ),
)
@click.argument("url")
@click.option("--graph", metavar="IRI", help=N_("The named graph to replace (default: the kundskab graph)."))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help=N_("Output for people (text) or programs (json)."))
def store_load(url: str, graph: str | None, fmt: str) -> None:
    from kundskab.edges.store import DEFAULT_GRAPH, publish

    done = publish(url, graph=graph or DEFAULT_GRAPH)
    if fmt == "json":
        emit_json({"url": done.url, "graph": done.graph, "triples": done.triples, "kb_version": done.kb_version})
    else:
        click.echo(published_line(done.triples, done.graph, done.url, done.kb_version))
