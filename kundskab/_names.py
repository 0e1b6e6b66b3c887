"""Folding of names so that ids and labels match however a user types them."""

from __future__ import annotations

import difflib
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


def nearest(name: str, candidates: dict[str, str], n: int = 3) -> list[str]:
    """The values of `candidates` (folded key -> id) whose keys are closest to `name`."""
    keys = difflib.get_close_matches(fold(name), list(candidates), n=n * 3, cutoff=0.6)
    found: list[str] = []
    for key in keys:
        ident = candidates[key]
        if ident not in found:
            found.append(ident)
    return found[:n]
