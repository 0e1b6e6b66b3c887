"""The one caching mechanism of kundskab, with every bound in one table (`BOUNDS`).

Three shapes, all here:

- `BoundedMemo(name)`: a dict that holds at most `BOUNDS[name]` entries and is cleared
  when full. For values that are a pure function of their key (rankings, JSON texts,
  parsed match texts): what a clear drops is rebuilt on the next miss, so memory stays
  flat over any batch and answers never depend on what was kept.
- `per_knowledge_base(build)`: `build(kb)` done once per knowledge base and dropped with
  it (a weak key). What it builds is derived from the knowledge base alone and bounded by
  it: some such tables fill as they are asked (`places`, `programmes`, name suggestions),
  keyed only by the knowledge base's concept ids or class names.
- `once(build)`: a value built on first use and kept for the process (the bundled
  knowledge base, the YAML loader, a template environment): one entry, nothing to bound.

Other state is not a cache and stays where it is: a batch worker's recommender, the
service's connection guards, the CLI's `--store` choice.

Why not `functools.lru_cache` or `cachetools`: a memo here is looked up several times for
every case of a batch, and a hit must cost no more than `dict.get` (C code); an LRU keeps
its order in Python on every hit (cachetools) or cannot be shared and bounded per kind of
value (lru_cache on a method keeps `self` alive and has one size for all).

What keys hold: concept ids, ranks, bit masks, ages and age bands, factor answers (as
bits or as the engine's fact texts), words of a document, file paths. Parts of a case's
facts may thus be in a key, in memory only (no memo is ever written to disk); a case's
`ref`, or anything else that names a person, never is.

Tests set bounds small with `bounds({...})` (live memos shrink at once) and empty every
memo with `clear_all()`. Why each bound is the size it is: benchmarks/NOTES.md.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["BOUNDS", "BoundedMemo", "bounds", "clear_all", "live_memos", "once", "per_knowledge_base"]

K = TypeVar("K")
V = TypeVar("V")

# Most entries each memo keeps (it is cleared when full). One memo per kind of value, so
# that a kind with many keys does not push out the others; a few MiB each when full.
BOUNDS: dict[str, int] = {
    # Ranking (kundskab.reasoning.ranking): per Ranker.
    "ranking.blocked": 1024,  # measures blocked by the case's contraindications
    "ranking.open": 4096,  # scores of the measures open to a set of conclusions
    "ranking.rankings": 8192,  # a ranking: references to shared items
    "ranking.items": 4096,  # an item and its explanation entry
    "ranking.shown": 8192,  # interned shown bases
    "ranking.sets": 8192,  # interned sets of measures
    "ranking.entries": 16384,  # interned ranking entries
    "ranking.by_need": 4096,  # per base, the open measures by need (only for questions about needs)
    # Answers (kundskab.reasoning.recommendation): per Recommender unless said.
    "recommendation.firings": 8192,  # explanation entries per firing, per language
    "recommendation.questions": 4096,  # one open question
    "recommendation.implied": 1024,  # implication entries per language and implied factors
    "recommendation.labels": 1024,  # labels per language, conclusions and items
    "recommendation.any_age": 1024,  # groups and fora at any age, per facts of an unknown age
    "recommendation.fora_by_age": 1024,  # fora per age range, per facts, place and language of an unknown age
    "recommendation.age_masks": 1024,  # factors not asked at an age (whole years up to MAX_AGE)
    "recommendation.not_asked": 4096,  # factors not asked, per age and true factors
    "recommendation.need_questions": 4096,  # one need question (shared, so its JSON text is kept)
    # What-if questions (kundskab.reasoning.whatif): per WhatIf.
    "whatif.chain": 4096,  # chaining outcomes by what chaining rules see
    "whatif.triggers": 1024,  # trigger effects by all they depend on
    "whatif.simple_effects": 2048,  # what callers make of the simple effects (the recommender's questions)
    # The answer's JSON text (kundskab.reasoning.answer_json): per process.
    "answer_json.texts": 32768,  # JSON text per shared value (item, entry, question, labels), by identity
    "answer_json.lists": 8192,  # JSON text of a ranking's tuple of items, by identity
    "answer_json.labels": 8192,  # `"id":"label"` per concept and label
    "answer_json.id_lists": 4096,  # JSON text of a list of concept ids
    # The rules engine (kundskab.reasoning.engine): per RulesEngine.
    "engine.plans": 16384,  # durable's match texts, parsed
    "engine.case_facts": 1024,  # the case fact's JSON text per age
    "engine.factor_facts": 16384,  # a factor answer's JSON text, per age (about 30 factors read x 2 answers x 120 ages)
    "engine.derived_facts": 4096,  # a conclusion's JSON text, per age (only conclusions some rule reads)
    # Documents (kundskab.documents.matching, kundskab.documents.validation): per process.
    "matching.words": 65536,  # a word, folded and stemmed
    "validation.shapes": 4,  # the SHACL shapes graph per file and modification time
    # The service (kundskab.edges.service): per Service.
    "service.checks": 4,  # the knowledge base's check per version and language
    # Messages (kundskab.i18n): per process.
    "i18n.catalogues": 16,  # compiled catalogues per language and domain
}

# Every memo alive, by identity (a dict is unhashable and equal to any dict alike).
_LIVE: dict[int, weakref.ref[BoundedMemo]] = {}


class BoundedMemo(dict[Hashable, Any]):
    """A dict that holds at most `BOUNDS[name]` entries (cleared when full). Look up with
    the dict's own `get`; `make` builds and keeps a value on a miss."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.size = BOUNDS[name]
        key = id(self)
        _LIVE[key] = weakref.ref(self, lambda _, key=key: _LIVE.pop(key, None))  # type: ignore[misc]

    def make(self, key: Hashable, build: Callable[..., Any], *args: Any) -> Any:
        value = build(*args)
        self.keep(key, value)
        return value

    def keep(self, key: Hashable, value: Any) -> None:
        """Store a value built elsewhere, within the bound."""
        if len(self) >= self.size:
            self.clear()
        self[key] = value

    def intern(self, value: K) -> K:
        """The one kept object equal to `value` (`value` itself, kept, if none is): tables
        that hold many equal values then share one object each."""
        found = self.get(value)
        if found is None:
            self.keep(value, value)
            return value
        return found  # type: ignore[no-any-return]


def live_memos() -> list[BoundedMemo]:
    """Every memo alive in this process."""
    return [memo for ref in list(_LIVE.values()) if (memo := ref()) is not None]


def clear_all() -> None:
    """Empty every memo (each refills on its next misses)."""
    for memo in live_memos():
        memo.clear()


@contextmanager
def bounds(sizes: Mapping[str, int]) -> Iterator[None]:
    """Within the block, `BOUNDS` as given for the names given (for tests): memos made
    then, and those alive, hold at most that many (one over is emptied at once)."""
    unknown = set(sizes) - set(BOUNDS)
    if unknown:
        raise KeyError(sorted(unknown))  # a test named a memo that BOUNDS does not have
    before = dict(BOUNDS)
    try:
        BOUNDS.update(sizes)
        _resize()
        yield
    finally:
        BOUNDS.clear()
        BOUNDS.update(before)
        _resize()


def _resize() -> None:
    for memo in live_memos():
        memo.size = BOUNDS[memo.name]
        if len(memo) > memo.size:
            memo.clear()


def per_knowledge_base(build: Callable[[K], V]) -> Callable[[K], V]:
    """`build(kb)` done once per knowledge base and kept while the knowledge base lives (a
    weak key: a knowledge base read anew from a store does not keep the old one alive)."""
    built: weakref.WeakKeyDictionary[Any, V] = weakref.WeakKeyDictionary()
    # The last one asked for, by weak reference: one knowledge base serves a whole batch,
    # and a WeakKeyDictionary lookup makes a weak reference to its key every time.
    # (Read and replaced as one tuple, so that threads never see one's value with another's key.)
    last: list[tuple[Callable[[], Any], Any]] = [(lambda: None, None)]

    def get(kb: K) -> V:
        ref, value = last[0]
        if ref() is kb:
            return value  # type: ignore[no-any-return]
        found = built.get(kb)
        if found is None:
            found = built[kb] = build(kb)
        last[0] = (weakref.ref(kb), found)
        return found

    get.__doc__ = build.__doc__
    return get


def once(build: Callable[[], V]) -> Callable[[], V]:
    """`build()` done on the first call and kept for the process (two threads asking at
    once get the same value: the first to finish building wins)."""
    kept: list[V] = []
    lock = threading.Lock()

    def get() -> V:
        if kept:
            return kept[0]
        value = build()
        with lock:
            if not kept:
                kept.append(value)
        return kept[0]

    get.__doc__ = build.__doc__
    return get
