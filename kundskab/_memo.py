"""The one bounded memo type of the reasoning code.

Why not `functools.lru_cache` or `cachetools`: a memo here is looked up several times for
every case of a batch, and a hit must cost no more than `dict.get` (C code); an LRU keeps
its order in Python on every hit (cachetools) or cannot be shared and bounded per kind of
piece (lru_cache on a method keeps `self` alive and has one size for all). Clearing when
full keeps memory flat over any batch at the price of rebuilding what is still in use,
which is cheap: every value is a pure function of its key.

Keys hold concept ids, ranks, bit masks and age bands, never a case's reference or values
that tell one case from another.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["BoundedMemo", "per_knowledge_base"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(dict[Hashable, Any]):
    """A dict that holds at most `size` entries (cleared when full). Look up with the
    dict's own `get`; `make` builds and keeps a value on a miss."""

    def __init__(self, size: int = 4096) -> None:
        super().__init__()
        self.size = size

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
