"""Tampering with a cache's JSON for the tests that a cache of the wrong shape is refused."""

from __future__ import annotations

import copy
from typing import Any


def value_at(data: Any, place: list[Any]) -> Any:
    """The value at `place` (keys and indexes from the top)."""
    for step in place:
        data = data[step]
    return data


def replaced(data: Any, place: list[Any], value: Any) -> Any:
    """A deep copy of `data` with the value at `place` replaced by `value`."""
    changed = copy.deepcopy(data)
    value_at(changed, place[:-1])[place[-1]] = value
    return changed
