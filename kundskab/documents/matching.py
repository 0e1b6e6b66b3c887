"""Finding concepts' labels in free text, for the justification warnings of validation.

Deliberately simple and predictable: words are folded (case, æ/ø/å), cut by a light
stemmer that strips common Danish and English endings, and a label matches where its
words occur in order. A label word of four letters or more also matches the start of a
longer word, because Danish writes compounds as one word (bander -> bandekriminalitet).
A label word whose stem is shorter than that must match whole, up to an ending added to
it ('viden' matches 'videns', not 'videre', though both stem to 'vid').
Labels are matched only in the language the text is written in where that is clear, so
that an English label ("gang") does not fire on a Danish word ("en gang").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from kundskab._memo import BoundedMemo
from kundskab._names import fold
from kundskab.i18n import LANGUAGES

__all__ = ["Match", "Term", "TermIndex", "Token", "guess_languages", "stem", "tokens"]

_WORD = re.compile(r"[^\W_]+")
# Longest first; Danish plural/definite endings, then English.
_SUFFIXES = ("heden", "heder", "erne", "ende", "ene", "hed", "ing", "ere", "er", "en", "et",
             "ed", "es", "e", "s")
_MIN_STEM = 3
PREFIX_MIN = 4

# Frequent function words, enough to tell a Danish text from an English one.
_FUNCTION_WORDS = {
    "da": frozenset({
        "og", "i", "at", "der", "det", "en", "et", "til", "for", "med", "paa", "er", "som",
        "af", "de", "den", "har", "ikke", "vi", "om", "skal", "kan", "fra", "saa", "ved",
        "vil", "eller", "hvor", "blive", "bliver",
    }),
    "en": frozenset({
        "the", "and", "of", "to", "in", "is", "for", "with", "a", "an", "that", "are", "be",
        "on", "by", "this", "will", "we", "or", "from", "as", "it", "their", "which",
    }),
}


def stem(word: str) -> str:
    """A folded word without its common ending ('samarbejdet' -> 'samarbejd')."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


class Token(NamedTuple):  # a tuple: a long text has hundreds of thousands of them
    stem: str
    word: str  # as written, for showing which words matched
    folded: str
    line: int | None


_FOLDED = BoundedMemo("matching.words")  # a word -> (folded, stem)


def _fold_stem(word: str) -> tuple[str, str]:
    folded = fold(word)
    return folded, stem(folded)


def tokens(text: str, line: int | None = None, *, multiline: bool = True) -> list[Token]:
    """The words of `text`; with `multiline`, each carries its own line from `line` on."""
    out: list[Token] = []
    parts = text.split("\n") if multiline else [text]
    for offset, part in enumerate(parts):
        at = line + offset if line is not None and multiline else line
        for word in _WORD.findall(part):
            found = _FOLDED.get(word)
            folded, stemmed = found if found is not None else _FOLDED.make(word, _fold_stem, word)
            out.append(Token(stemmed, word, folded, at))
    return out


def guess_languages(words: Iterable[Token]) -> frozenset[str]:
    """{"da"} or {"en"} where one language's function words clearly dominate, else both."""
    counts = dict.fromkeys(_FUNCTION_WORDS, 0)
    for token in words:
        for lang, vocabulary in _FUNCTION_WORDS.items():
            if token.folded in vocabulary:
                counts[lang] += 1
    da, en = counts["da"], counts["en"]
    if da >= 2 and da >= 2 * en:
        return frozenset({"da"})
    if en >= 2 and en >= 2 * da:
        return frozenset({"en"})
    return frozenset(LANGUAGES)


@dataclass(frozen=True)
class Term:
    """One label of a concept, as a sequence of stems."""

    concept: str
    text: str
    lang: str
    stems: tuple[str, ...]
    words: tuple[str, ...]  # folded, unstemmed

    @classmethod
    def of(cls, concept: str, text: str, lang: str) -> Term:
        parts = tokens(text, multiline=False)
        return cls(concept, text, lang, tuple(t.stem for t in parts), tuple(t.folded for t in parts))


@dataclass(frozen=True)
class Match:
    concept: str
    term: str
    words: str  # the matched words as written
    line: int | None


def _word_matches(term: Term, index: int, token: Token) -> bool:
    term_stem = term.stems[index]
    if len(term_stem) >= PREFIX_MIN:
        return token.stem.startswith(term_stem)
    return token.stem == term_stem and token.folded.startswith(term.words[index])


class TermIndex:
    """Terms indexed by their first stem, so that a text is scanned once for all concepts."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._by_first: dict[str, list[Term]] = {}
        for term in terms:
            if term.stems:
                self._by_first.setdefault(term.stems[0], []).append(term)
        # The lengths a prefix of a text word must have to be some term's first stem: only
        # these are looked up, so a long word costs a few slices, not one per prefix
        # (which grew with the square of its length).
        self._prefix_lengths = sorted({len(first) for first in self._by_first if len(first) >= PREFIX_MIN})

    def find(self, text: Sequence[Token], languages: frozenset[str]) -> dict[str, list[Match]]:
        """Every concept with a term in `text`, and the matches (first occurrence per term).

        A token whose stem is empty separates segments: no term matches across it.
        """
        found: dict[str, list[Match]] = {}
        seen: set[tuple[str, str]] = set()
        for i, token in enumerate(text):
            current = token.stem
            if not current:
                continue
            keys = [current] + [current[:k] for k in self._prefix_lengths if k < len(current)]
            for key in keys:
                for term in self._by_first.get(key, ()):
                    if (term.lang not in languages and term.lang in _FUNCTION_WORDS) or \
                            (term.concept, term.text) in seen:
                        continue
                    end = i + len(term.stems)
                    if end > len(text) or not all(
                        _word_matches(term, j, text[i + j]) for j in range(len(term.stems))
                    ):
                        continue
                    seen.add((term.concept, term.text))
                    words = " ".join(t.word for t in text[i:end])
                    found.setdefault(term.concept, []).append(
                        Match(term.concept, term.text, words, token.line))
        return found
