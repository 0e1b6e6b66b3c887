"""click, speaking the user's language: click's own messages, help texts, headings and
examples from the catalogue, and `--lang` taken before or after the command name, or from
KUNDSKAB_LANG.

Help texts are written in English with `N_()` (click's `help=`) and translated when the
help is shown. click's own messages ("No such option", "Usage:", "Options" ...) are marked
for the standard library's gettext; they are translated from the catalogue's `click` domain
(`speak_our_language`).
"""

from __future__ import annotations

import contextlib
import gettext as _stdlib_gettext
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

from kundskab.i18n import (
    CLICK_DOMAIN,
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    gettext,
    language,
    set_language,
    translations,
)

__all__ = ["Command", "EnvOption", "Group", "lang_option", "requested_language", "root_lang_option",
           "speak_our_language", "start_language"]

F = TypeVar("F", bound=Callable[..., Any])


def _click_gettext(message: str) -> str:
    return translations(language(), CLICK_DOMAIN).gettext(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language(), CLICK_DOMAIN).ngettext(singular, plural, n)


def speak_our_language() -> None:
    """Make click's messages follow `--lang`: click's modules imported the standard
    library's `gettext` and `ngettext` (`from gettext import gettext as _`), which look up
    the default domain in the language the environment names (LANGUAGE, LC_ALL, LANG).
    Setting LANGUAGE would reach every child process and could not follow a `--lang`
    given per command; instead those two names, in each click module loaded, are pointed
    at the catalogue's `click` domain in the current language.

    Run when an invocation starts, not at import: what click translates while the commands
    are being defined (a path type's "file") then stays English, the msgid, and is
    translated where shown (`_translated`), in the language of the invocation. Idempotent;
    click modules loaded later (the editor, the progress bar) are covered by the next run.
    Only kundskab's command line calls it: importing the library leaves click as it is."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "click" or name.startswith("click.")):
            continue
        if getattr(module, "_", None) is _stdlib_gettext.gettext:
            setattr(module, "_", _click_gettext)  # noqa: B010 - a module's global, by name
        if getattr(module, "ngettext", None) is _stdlib_gettext.ngettext:
            setattr(module, "ngettext", _click_ngettext)  # noqa: B010



def requested_language(args: Sequence[str]) -> str | None:
    """The language a `--lang X` (or `--lang=X`) among the arguments asks for, the last one
    winning, read before click parses them: `--help` (which click handles first) and errors
    in parsing must speak it wherever `--lang` stands. None when no valid one is given."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            value: str | None = args[i + 1]
        elif arg.startswith("--lang="):
            value = arg.removeprefix("--lang=")
        else:
            continue
        if value in LANGUAGES:
            found = value
    return found


def start_language(args: Sequence[str]) -> None:
    """The language of a new invocation: a `--lang` among `args`, else KUNDSKAB_LANG, else
    the default (an unknown KUNDSKAB_LANG is reported by the option that reads it)."""
    set_language(requested_language(args) or os.environ.get("KUNDSKAB_LANG") or DEFAULT_LANGUAGE)


# The names of click's types, which help shows as metavars ("--ref TEXT"); click does not
# mark them for translation.
TYPE_NAMES = (N_("text"), N_("integer"), N_("integer range"), N_("float"), N_("float range"),
              N_("boolean"), N_("file"), N_("directory"), N_("path"), N_("filename"))
# What click's usage line says where options and a group's command stand.
USAGE_PIECES = (N_("[OPTIONS]"), N_("COMMAND [ARGS]..."))


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
        swap(param, "metavar")  # a word such as YEARS; codes (URL, IRI) are not in the catalogue
        if param.type.name in TYPE_NAMES:  # the metavar (TEXT, INTEGER RANGE) is the type's name
            swap(param.type, "name")
    try:
        yield
    finally:
        for obj, attr, value in reversed(saved):
            setattr(obj, attr, value)


class _Localised:
    examples: tuple[str, ...] = ()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:  # a new invocation
            speak_our_language()
            start_language(args)
        else:
            set_language(requested_language(args) or language())
        return super().parse_args(ctx, args)  # type: ignore[misc, no-any-return]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            # click builds it once per command, with its help in the language of that moment.
            option.help = _click_gettext("Show this message and exit.")
        return option  # type: ignore[no-any-return]

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)  # type: ignore[misc]
        return [gettext(piece) if piece in USAGE_PIECES else piece for piece in pieces]

    def get_help(self, ctx: click.Context) -> str:
        with _translated(self, ctx):  # type: ignore[arg-type]
            return super().get_help(ctx)  # type: ignore[misc, no-any-return]

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)  # type: ignore[misc]
        if self.examples:
            with formatter.section(gettext("Examples")):
                for line in self.examples:
                    formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class Command(_Localised, click.Command):
    """A command whose help follows `--lang`; `examples=[...]` lists example command lines."""

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)


class Group(_Localised, click.Group):
    command_class = Command
    group_class = type  # subgroups are of this class too

    def __init__(self, *args: Any, examples: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)


class EnvOption(click.Option):
    """An option read from the environment too, whose error names the variable in the
    current language (click writes "(env var: ...)" in English whatever the language)."""

    def get_error_hint(self, ctx: click.Context | None) -> str:
        hint = click.Parameter.get_error_hint(self, ctx)
        # The variable is named only when the bad value came from it (`--lang xx` is no
        # fault of an unset KUNDSKAB_LANG).
        source = ctx.get_parameter_source(self.name or "") if ctx is not None else None
        if self.show_envvar and self.envvar and source is click.core.ParameterSource.ENVIRONMENT:
            names = [self.envvar] if isinstance(self.envvar, str) else self.envvar
            hint += " (" + _click_gettext("env var: {var}").format(var=", ".join(f"'{n}'" for n in names)) + ")"
        return hint


def _set_root_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Not given (the default): the language stays as start_language found it, so that a
    # `--lang` after the command name speaks for errors found while the group parses.
    if value and ctx.get_parameter_source(param.name or "") is not click.core.ParameterSource.DEFAULT:
        set_language(value)


def _command_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    if value:
        set_language(value)
    return language()


def root_lang_option() -> Callable[[F], F]:
    """`kundskab --lang en COMMAND`, and KUNDSKAB_LANG, for every command."""
    return click.option(
        "--lang", cls=EnvOption, type=click.Choice(LANGUAGES), envvar="KUNDSKAB_LANG", default=DEFAULT_LANGUAGE,
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
