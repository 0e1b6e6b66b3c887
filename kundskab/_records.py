"""Records written out by hand: what `@dataclass` makes, without its cost at import.

`@dataclass` generates the source of a class's methods and compiles it on every start of
the program, about a millisecond a class; the classes on the start-up path of every command
(facts, rules, concepts, sources) are written out on these bases instead.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any

__all__ = ["Frozen", "Record", "set_field"]


class Record:
    """Named fields (`_fields`) with value equality and a repr, as a dataclass has them."""

    _fields: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({fields})"


class Frozen(Record):
    """A record whose fields cannot be assigned after construction (hashable by value)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())


set_field = object.__setattr__  # how a frozen record sets its fields in __init__
