"""The one caching mechanism (kundskab._memo): every bound named in BOUNDS, small bounds
set by tests, and answers that do not depend on what a memo kept."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

import kundskab
from kundskab import _memo
from kundskab._memo import BOUNDS, BoundedMemo, bounds, clear_all, live_memos, once
from kundskab.edges.batch import BatchLine, recommend_lines
from kundskab.reasoning.recommendation import Recommender

FACTORS = ["offence-committed", "charged-above-fine-level", "serious-offence", "repeat-offending",
           "concerning-behaviour", "truancy", "street-group", "no-leisure-activity", "family-problems",
           "substance-abuse", "gang-proximity", "gang-member", "wants-to-leave-gang",
           "radicalisation-signs", "honour-related-conflict", "victim-of-crime", "not-in-education-or-work"]


def random_cases(n: int, seed: int) -> list[dict[str, Any]]:
    from tests.test_recommend import consistent

    rng = random.Random(seed)
    found: list[dict[str, Any]] = []
    while len(found) < n:
        chosen = rng.sample(FACTORS, rng.randint(0, 5))
        case = {"ref": f"c{len(found)}", "age": rng.choice([None, *range(0, 40)]),
                "factors": {f: rng.choice([True, True, False, "unknown"]) for f in chosen}}
        if consistent(case):
            found.append(case)
    return found


def test_a_memo_takes_its_bound_by_name_and_clears_when_full() -> None:
    memo = BoundedMemo("engine.case_facts")
    assert memo.size == BOUNDS["engine.case_facts"]
    with bounds({"engine.case_facts": 8}):
        assert memo.size == 8
        for key in range(100):
            assert memo.make(key, lambda k: k * 2, key) == key * 2
            assert len(memo) <= 8
        assert memo.get(99) == 198
    assert memo.size == BOUNDS["engine.case_facts"]


def test_a_bound_not_in_the_table_is_refused() -> None:
    with pytest.raises(KeyError):
        BoundedMemo("no.such-memo")
    with pytest.raises(KeyError), bounds({"no.such-memo": 2}):
        pass


def test_bounds_restore_the_table_even_on_error() -> None:
    before = dict(BOUNDS)
    with pytest.raises(RuntimeError), bounds({"ranking.items": 2}):
        assert BOUNDS["ranking.items"] == 2
        raise RuntimeError
    assert before == BOUNDS


def test_interning_gives_one_object_per_value_within_the_bound() -> None:
    with bounds({"ranking.sets": 8}):
        memo = BoundedMemo("ranking.sets")
        first = memo.intern(frozenset({"a", "b"}))
        assert memo.intern(frozenset({"b", "a"})) is first
        for n in range(100):
            assert memo.intern((n, "x")) == (n, "x")
            assert len(memo) <= 8


def test_once_builds_on_first_use_only() -> None:
    built: list[int] = []

    @once
    def value() -> list[int]:
        built.append(1)
        return [len(built)]

    assert value() is value() and built == [1]


def test_every_memo_in_the_code_names_a_bound_of_the_table() -> None:
    """No memo sizes itself: each one alive after a recommendation (and a document's
    words) names one of BOUNDS' rows."""
    recommender = Recommender()
    recommender.recommend({"age": 15, "factors": {"truancy": True}})
    from kundskab.documents.matching import tokens

    tokens("skolefravær og bandetilknytning")
    names = {memo.name for memo in live_memos()}
    assert names <= set(BOUNDS)
    assert {"ranking.items", "recommendation.firings", "whatif.triggers", "engine.plans", "matching.words"} <= names


def test_answers_stay_the_same_and_memos_stay_bounded_when_every_bound_is_tiny() -> None:
    """End to end: the same random cases through the public API (the library's
    `recommend`, a Recommender of its own, the batch path), once with the table's bounds
    and once with every bound at 2, so that memos are cleared over and over mid-answer.
    The answers are byte for byte the same, no memo ever holds more than its bound, and
    the clearing did happen (a memo that never filled would prove nothing)."""
    cases = random_cases(150, seed=19)
    lines: list[BatchLine] = [(n, json.dumps(c).encode()) for n, c in enumerate(cases, 1)]
    clear_all()
    expected = [kundskab.recommend(c, lang=lang).to_json() for c in cases for lang in ("da", "en")]
    expected_batch = list(recommend_lines(lines))
    filled: dict[str, int] = {}
    with bounds(dict.fromkeys(BOUNDS, 2)):
        own = Recommender()
        for i, case in enumerate(cases):
            for lang in ("da", "en"):
                assert kundskab.recommend(case, lang=lang).to_json() == expected[2 * i + (lang == "en")]
                assert own.recommend(case, lang=lang).to_json() == expected[2 * i + (lang == "en")]
            for memo in live_memos():
                assert len(memo) <= 2, memo.name
                filled[memo.name] = max(filled.get(memo.name, 0), len(memo))
        assert list(recommend_lines(lines)) == expected_batch
    # Every memo of the recommend path was used and held its bound's worth at some point.
    used = {"ranking.rankings", "ranking.items", "ranking.open", "recommendation.firings",
            "recommendation.labels", "whatif.triggers", "engine.plans", "engine.factor_facts"}
    assert {name for name, most in filled.items() if most == 2} >= used


def test_memory_stays_flat_with_tiny_bounds_and_grows_without_them() -> None:
    """What the bounds are for: with every bound at 2, new cases add (nearly) nothing to
    memory; with the table's bounds, the memos fill with the same cases (the check would
    fail if memos were not what holds the memory)."""
    import gc
    import tracemalloc

    warm, more = random_cases(100, seed=5), random_cases(400, seed=6)

    def growth() -> int:
        recommender = Recommender()
        for case in warm:
            recommender.recommend(case)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for case in more:
                recommender.recommend(case)
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()

    with bounds(dict.fromkeys(BOUNDS, 2)):
        small = growth()
    large = growth()
    # What is left with tiny bounds is tables keyed by concept ids (bounded by the
    # knowledge base), filling as new concepts are named: some 70 KB over these cases.
    assert small < 160 * 1024, small
    assert large > 8 * small, (small, large)


def test_the_memo_module_is_the_only_place_that_sizes_a_memo() -> None:
    """Bounds are set in the table only: no module passes a number to BoundedMemo, keeps
    a dict of its own that it stops filling at some size, or caches with functools."""
    import re
    from pathlib import Path

    package = Path(kundskab.__file__).parent
    for path in package.rglob("*.py"):
        if path.name == "_memo.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"BoundedMemo\(\s*\d", text), path
        assert not re.search(r"lru_cache|@cache\b|@cached_property", text), path
        assert not re.search(r"len\((self\.)?_\w+\) *[<>]=? *\d{3}", text), path
    assert _memo.__doc__ and "BOUNDS" in _memo.__doc__


def test_no_memo_keeps_a_cases_reference() -> None:
    """What _memo's docstring promises: parts of a case's facts may be in a key, its `ref`
    never is (nor in a kept value: a later case must not carry an earlier one's ref)."""
    recommender = Recommender()
    refs = [f"zz-private-ref-{n}" for n in range(40)]
    for ref, case in zip(refs, random_cases(40, seed=23), strict=True):
        for lang in ("da", "en"):
            assert ref in recommender.recommend({**case, "ref": ref}, lang=lang).to_json()
    kept = " ".join(repr(list(memo.items())) for memo in live_memos())
    assert "truancy" in kept or "street-group" in kept  # the memos hold these cases' pieces
    assert "zz-private-ref" not in kept
