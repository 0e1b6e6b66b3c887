"""The knowledge-base cache is untrusted: one value of the wrong type anywhere in it makes
the whole cache a miss (and the knowledge base is compiled anew)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kundskab.knowledge.base import KnowledgeBase, _well_formed
from tests.tampering import replaced, value_at

BAD_VALUES: list[Any] = [1, None, 1.5, True, ["x"], {"x": "y"}]


def _cache(kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("KUNDSKAB_CACHE_DIR", str(tmp_path))
    KnowledgeBase.load(kb.ontology_dir)
    (path,) = tmp_path.glob("kb-*.json")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    assert _well_formed(data)
    return data


def _places(data: dict[str, Any]) -> list[list[Any]]:
    """The path to a value of every kind in the cache (a class's, a concept's fields, a
    field's entries and their items)."""
    concept = next(c for c in data["concepts"].values() if c["values"] and c["refs"] and c["alt_labels"])
    ident = next(k for k, v in data["concepts"].items() if v is concept)
    klass = next(iter(data["classes"]))
    found: list[list[Any]] = [["classes", klass, "parents"], ["classes", klass, "labels"]]
    for key in ("types", "sources", "labels", "definition", "alt_labels", "refs", "values"):
        found.append(["concepts", ident, key])
        value = concept[key]
        if isinstance(value, dict) and value:
            inner = next(iter(value))
            found.append(["concepts", ident, key, inner])
            if isinstance(value[inner], list):
                found.append(["concepts", ident, key, inner, 0])
        elif isinstance(value, list) and value:
            found.append(["concepts", ident, key, 0])
    return found


def test_one_value_of_the_wrong_type_anywhere_is_refused(kb: KnowledgeBase, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    data = _cache(kb, tmp_path, monkeypatch)
    refused = 0
    for path in _places(data):
        for bad in BAD_VALUES:
            if type(bad) is type(value_at(data, path)):
                continue  # not a change of type
            changed = replaced(data, path, bad)  # ({"x": "y"} is no tagged literal either: it has no "value")
            assert not _well_formed(changed), (path, bad)
            refused += 1
    assert refused > 60
