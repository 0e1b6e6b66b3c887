"""The one message catalogue: every text kundskab shows a person, in Danish and English.

Standard gettext. Messages are written in English in the code, marked with `N_()` where
they are defined and translated with `gettext()` (or `ngettext()`) where they are shown;
the Danish translations live in `kundskab/locale/da/LC_MESSAGES/kundskab.po`, which
Babel's `pybabel extract` / `update` keep in step with the code (README, "Development").
English is the source language, so it needs no catalogue and can have no missing entry.

The .po file is compiled with Babel when it is first needed after a change and the .mo
kept in the cache directory, keyed by a hash of the .po; every later run reads the .mo
with the standard library's `gettext`, so Babel is imported only after the catalogue
changes. Labels and definitions of concepts are knowledge, not messages: they come from
the ontology in both languages.

click's own messages (usage errors, "Usage:", "Options") are in a second domain of the same
catalogue, `click` (kundskab/locale/da/LC_MESSAGES/click.po, msgids extracted from click with
Babel): click marks them for the standard library's gettext, and kundskab.edges.click_language looks them
up here, in the language of the invocation.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import io
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

from kundskab import _paths
from kundskab._memo import BoundedMemo

__all__ = [
    "CLICK_DOMAIN",
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "N_",
    "Messages",
    "Text",
    "catalogue_path",
    "gettext",
    "language",
    "ngettext",
    "other_language",
    "set_language",
    "translations",
    "using_language",
]

DOMAIN = "kundskab"
CLICK_DOMAIN = "click"  # click's own messages, translated for kundskab's languages
LANGUAGES = ("da", "en")  # the one list: the CLI, HTTP, pages, rules texts and labels use these
DEFAULT_LANGUAGE = "da"
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

K = TypeVar("K", bound=str | int)  # a message table's keys: names, or numbers (HTTP statuses, OS error numbers)
_LANGUAGE: ContextVar[str] = ContextVar("kundskab_language", default=DEFAULT_LANGUAGE)


def other_language(lang: str) -> str:
    """The other of the two languages (a page links to it; a concept shows its name in it)."""
    return LANGUAGES[lang == LANGUAGES[0]]


class Text(str):
    """A message marked for translation (by `N_`) and not yet translated. Errors translate
    parameters of this type too, so a word such as a kind of concept follows the language."""

    __slots__ = ()


def N_(message: str) -> Text:
    """Mark a message for the catalogue where it is defined; translate it where shown."""
    return Text(message)


class Messages(dict[K, str]):
    """A module's table of messages: key -> the English text, marked with `N_` there (so
    that pybabel finds it), Danish in the catalogue. The one way to look them up:
    `text(lang, key, **params)` for one, translated then formatted, or `words(lang)` for the
    whole table in one language (pages and reports that show many). An error takes the
    message itself (`table[key]`, a `Text`) and is translated where it is shown."""

    def __init__(self, messages: Mapping[K, str]) -> None:
        super().__init__(messages)

    def text(self, lang: str, key: K, **params: object) -> str:
        return gettext(self[key], lang).format(**params)

    def words(self, lang: str) -> dict[K, str]:
        return {key: gettext(message, lang) for key, message in self.items()}


def language() -> str:
    """The language of messages shown without an explicit one (the command line sets it)."""
    return _LANGUAGE.get()


def set_language(lang: str) -> None:
    _LANGUAGE.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


@contextlib.contextmanager
def using_language(lang: str) -> Iterator[None]:
    token = _LANGUAGE.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def catalogue_path(lang: str, domain: str = DOMAIN) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def gettext(message: str, lang: str | None = None) -> str:
    """`message` (English) in `lang`, by default the current language."""
    return translations(lang or _LANGUAGE.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The singular or plural form of a message, for the number `n`, in `lang`."""
    return translations(lang or _LANGUAGE.get()).ngettext(singular, plural, n)


_CATALOGUES = BoundedMemo("i18n.catalogues")  # (lang, domain) -> translations


def translations(lang: str, domain: str = DOMAIN) -> _gettext.NullTranslations:
    """The compiled catalogue of one domain in `lang` (English: the messages themselves)."""
    key = (lang, domain)
    found: _gettext.NullTranslations | None = _CATALOGUES.get(key)
    return found if found is not None else _CATALOGUES.make(key, _translations, lang, domain)


def _translations(lang: str, domain: str) -> _gettext.NullTranslations:
    if lang == SOURCE_LANGUAGE or lang not in LANGUAGES:
        return _gettext.NullTranslations()
    po = catalogue_path(lang, domain)

    def content_hash() -> str:
        return _paths.hash_sources([(po.name, po)], f"{domain}-{lang}-po")[0][:16]

    key = _paths.content_key(f"{domain}-{lang}-po", [po], content_hash)
    compiled = _paths.cache_dir() / f"{domain}-{lang}-{key}.mo"
    with contextlib.suppress(OSError):
        return _gettext.GNUTranslations(io.BytesIO(compiled.read_bytes()))
    source = po.read_bytes()
    data = compile_catalogue(source)
    with contextlib.suppress(OSError):  # a read-only cache only costs the next run time
        compiled.parent.mkdir(parents=True, exist_ok=True)
        partial = compiled.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(compiled)
        # Catalogues of earlier versions (and of the earlier name, messages-LANG-KEY.mo)
        # would otherwise pile up in the cache, one per change.
        stale = [*compiled.parent.glob(f"{domain}-{lang}-*.mo"), *compiled.parent.glob(f"messages-{lang}-*.mo")]
        for old in stale:
            if old != compiled:
                with contextlib.suppress(OSError):
                    old.unlink()
    return _gettext.GNUTranslations(io.BytesIO(data))


def compile_catalogue(po_source: bytes) -> bytes:
    """A .po file's content compiled to .mo (fuzzy entries left out, as msgfmt does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalogue = read_po(io.BytesIO(po_source))
    out = io.BytesIO()
    write_mo(out, catalogue)
    return out.getvalue()
