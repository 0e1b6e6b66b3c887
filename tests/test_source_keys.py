"""The cache directory remembers the content hash of unchanged sources by their file
signature (kundskab._paths.content_key): a start reads no source and imports no hashlib,
and nothing a memory says can point outside the cache or survive a change of a source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kundskab import _paths


def _hash_of(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("KUNDSKAB_CACHE_DIR", str(directory))
    return directory


def _remembered(cache: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A source whose key has been remembered, and the memory file that holds it."""
    source = tmp_path / "a.ttl"
    source.write_text("one")
    _paths.content_key("test", [source], lambda: _hash_of(source))
    (memory,) = cache.glob("sources-test-*.json")
    return source, memory


def test_the_key_is_remembered_and_recomputed_after_a_change(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "a.ttl"
    source.write_text("one")
    calls = []

    def compute() -> str:
        calls.append(1)
        return _hash_of(source)

    first = _paths.content_key("test", [source], compute)
    assert _paths.content_key("test", [source], compute) == first and len(calls) == 1
    source.write_text("two")  # same size, new content
    second = _paths.content_key("test", [source], compute)
    assert second != first and second == _hash_of(source) and len(calls) == 2


@pytest.mark.parametrize("memory", [
    {"signature": "?", "key": "ab" * 32},  # another signature
    {"key": "ab" * 32},
    {"signature": None, "key": "../../etc/passwd"},
    [1, 2],
    "not json",
])
def test_a_memory_that_is_malformed_or_for_other_files_is_not_believed(cache: Path, tmp_path: Path,
                                                                      memory: object) -> None:
    source, path = _remembered(cache, tmp_path)
    path.write_text(memory if isinstance(memory, str) else json.dumps(memory))
    assert _paths.content_key("test", [source], lambda: _hash_of(source)) == _hash_of(source)


def test_a_memory_pointing_outside_the_cache_is_not_believed(cache: Path, tmp_path: Path) -> None:
    source, path = _remembered(cache, tmp_path)
    signature = json.loads(path.read_text())["signature"]
    for key in ("../../x" + "0" * 30, "A" * 64, "0" * 8, "0" * 200):
        path.write_text(json.dumps({"signature": signature, "key": key}))
        assert _paths.content_key("test", [source], lambda: _hash_of(source)) == _hash_of(source)


def test_an_oversized_memory_is_not_read(cache: Path, tmp_path: Path) -> None:
    source, path = _remembered(cache, tmp_path)
    signature = json.loads(path.read_text())["signature"]
    padded = json.dumps({"signature": signature, "key": "ab" * 32, "pad": "x" * _paths.MAX_KEY_MEMORY_BYTES})
    path.write_text(padded)
    assert _paths.content_key("test", [source], lambda: _hash_of(source)) == _hash_of(source)


def test_memories_are_pruned(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "a.ttl"
    for n in range(_paths.MAX_KEY_MEMORIES + 5):
        source.write_text(str(n))
        os.utime(source, ns=(n * 10**9, n * 10**9))
        _paths.content_key("test", [source], lambda: _hash_of(source))
    assert len(list(cache.glob("sources-test-*.json"))) == _paths.MAX_KEY_MEMORIES


def test_a_changed_ontology_file_changes_the_knowledge_base_version(cache: Path, tmp_path: Path) -> None:
    import shutil

    from kundskab.knowledge.base import KnowledgeBase

    ontology = tmp_path / "ontology"
    shutil.copytree(_paths.ontology_dir(), ontology)
    before = KnowledgeBase.load(ontology).version
    assert KnowledgeBase.load(ontology).version == before  # remembered
    assert KnowledgeBase.load(ontology, use_cache=False).version == before  # the same content hash
    some = sorted(ontology.rglob("*.ttl"))[0]
    some.write_bytes(some.read_bytes() + b"\n# an edit\n")
    after = KnowledgeBase.load(ontology)
    assert after.version != before
    assert after.version == KnowledgeBase.load(ontology, use_cache=False).version


def test_a_warm_start_reads_no_source_and_imports_no_hashlib(cache: Path) -> None:
    code = ("import sys; from kundskab import recommend; recommend({'age': 15, 'factors': ['truancy']}); "
            "print('hashlib' in sys.modules)")
    env = {**os.environ, "KUNDSKAB_CACHE_DIR": str(cache)}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            for _ in range(2)]
    assert runs[1].stdout.strip() == "False", runs[1].stderr
