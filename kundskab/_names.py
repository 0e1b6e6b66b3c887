"""Folding of names so that ids and labels match however a user types them."""

from __future__ import annotations

import re
import unicodedata

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_SPACES = re.compile(r"[\s_]+")


def fold(text: str) -> str:
    """Case-insensitive, æ/ø/å-insensitive key: 'Børnehus' and 'boernehus' fold alike."""
    text = text.casefold().translate(_DANISH)
    # Strip remaining accents (é → e) after the Danish letters have been spelt out.
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text).strip()


def loose(text: str) -> str:
    """A looser key than `fold`, for a name typed without æ/ø/å: ø and å as the plain o and a
    ('Koge', 'Tarnby') meet the spelt-out oe and aa ('Koege', 'Taarnby'). Only a name that
    no folded label matches is looked up by it."""
    return fold(text).replace("oe", "o").replace("aa", "a")


def nearest(name: str, candidates: dict[str, str], n: int = 3) -> list[str]:
    """The values of `candidates` (folded key -> id) whose keys are closest to `name`."""
    import difflib  # only for a name that matched nothing

    keys = difflib.get_close_matches(fold(name), list(candidates), n=n * 3, cutoff=0.6)
    found: list[str] = []
    for key in keys:
        ident = candidates[key]
        if ident not in found:
            found.append(ident)
    return found[:n]


def printable(text: object, limit: int = 80) -> str:
    """Untrusted text made safe to quote in a message or print on a terminal: every control,
    format (bidi) or separator character becomes '?', so that no escape sequence, line break
    or reordering reaches the terminal; bounded to `limit` characters."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
