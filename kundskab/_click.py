"""click, speaking the user's language: help texts, headings and examples from the catalogue,
and `--lang` taken before or after the command name, or from KUNDSKAB_LANG.

Help texts are written in English with `N_()` (click's `help=`) and translated when the
help is shown; click's own few words ("Usage:", "Options") go through the formatter.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

from kundskab.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, gettext, language, set_language

__all__ = ["Command", "Group", "lang_option", "root_lang_option"]

F = TypeVar("F", bound=Callable[..., Any])

# click's own headings, translated by the formatter below.
HEADINGS = (N_("Usage: "), N_("Options"), N_("Commands"), N_("Arguments"), N_("Examples"),
            N_("Show this message and exit."), N_("Show the version and exit."))


class Formatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, gettext("Usage: ") if prefix is None else prefix)

    @contextlib.contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(gettext(name)):
            yield


class Context(click.Context):
    formatter_class = Formatter


def _language_in(args: Sequence[str]) -> None:
    """Take `--lang X` from the arguments before click parses them, so that `--help` (which
    click handles first) is shown in the language asked for wherever `--lang` stands."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        value = args[i + 1] if arg == "--lang" and i + 1 < len(args) else arg.removeprefix("--lang=")
        if (arg == "--lang" or arg.startswith("--lang=")) and value in LANGUAGES:
            set_language(value)


@contextlib.contextmanager
def _translated(command: click.Command, ctx: click.Context) -> Iterator[None]:
    """The command's help texts (and its subcommands' and options') in the current language,
    for as long as its help is being written."""
    saved: list[tuple[Any, str, Any]] = []

    def swap(obj: Any, attr: str) -> None:
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            saved.append((obj, attr, value))
            setattr(obj, attr, gettext(value))

    commands = [command]
    if isinstance(command, click.Group):
        commands += list(command.commands.values())
    for cmd in commands:
        swap(cmd, "help")
        swap(cmd, "short_help")
    for param in command.get_params(ctx):
        swap(param, "help")
    try:
        yield
    finally:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)


class _Localised:
    examples: tuple[str, ...] = ()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:  # a new invocation: start from KUNDSKAB_LANG or the default
            set_language(os.environ.get("KUNDSKAB_LANG") or DEFAULT_LANGUAGE)
        _language_in(args)
        return super().parse_args(ctx, args)  # type: ignore[misc, no-any-return]

    def get_help(self, ctx: click.Context) -> str:
        with _translated(self, ctx):  # type: ignore[arg-type]
            return super().get_help(ctx)  # type: ignore[misc, no-any-return]

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)  # type: ignore[misc]
        if self.examples:
            with formatter.section("Examples"):
                for line in self.examples:
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class Command(_Localised, click.Command):
    """A command whose help follows `--lang`; `examples=[...]` lists example command lines."""

    context_class = Context

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)


class Group(_Localised, click.Group):
    context_class = Context
    command_class = Command
    group_class = type  # subgroups are of this class too

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)


def _set_root_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    set_language(value or DEFAULT_LANGUAGE)


def _command_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    if value:
        set_language(value)
    return language()


def root_lang_option() -> Callable[[F], F]:
    """`kundskab --lang en COMMAND`, and KUNDSKAB_LANG, for every command."""
    return click.option(
        "--lang", type=click.Choice(LANGUAGES), envvar="KUNDSKAB_LANG", default=DEFAULT_LANGUAGE,
        show_default=True, show_envvar=True, is_eager=True, expose_value=False, callback=_set_root_language,
        help=N_("Language of labels, messages and help, for every command."),
    )


def lang_option() -> Callable[[F], F]:
    """A command's own `--lang`, which wins over the one before the command and KUNDSKAB_LANG."""
    return click.option(
        "--lang", type=click.Choice(LANGUAGES), default=None, callback=_command_language,
        help=N_("Language of labels and messages (default: as given before the command, "
                "else KUNDSKAB_LANG, else da)."),
    )
