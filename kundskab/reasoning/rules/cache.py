"""The checked rules kept in the cache directory as JSON, so that a start reads no YAML.

The key covers the rule files, the knowledge base and the code that parses rules (every
module of this package and the implied factors), so a change to any of them is a miss.
The cache directory is not trusted: a file is used only if it has exactly the shape
`to_cache` writes and names only what the knowledge base has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kundskab import _paths
from kundskab._memo import once
from kundskab.errors import RuleError
from kundskab.i18n import LANGUAGES
from kundskab.knowledge import factors  # parsed into conditions: part of the key
from kundskab.knowledge.base import KnowledgeBase, tier_ranks
from kundskab.reasoning.rules.loading import (
    CONCLUSION_KINDS,
    INITIATIVE_CONCLUSION_KINDS,
    RANKING_WEIGHTS,
    check_replaces,
)
from kundskab.reasoning.rules.records import Condition, Ranking, Rule

# Bump when the cached shape changes (the key also covers this package's code, so a change
# to how rules are parsed never reads rules parsed the old way).
RULES_CACHE_FORMAT = 3  # 2: the key covers every file of the rules code; 3: a rule's `replaces`


def code_files() -> list[Path]:
    """The rules code: every module of this package and the implied factors (a change to any
    of them is a new key)."""
    return [*sorted(Path(__file__).parent.glob("*.py")), Path(factors.__file__ or "")]


@once
def _code_bytes() -> bytes:
    return b"".join(path.name.encode() + b"\0" + path.read_bytes() for path in code_files())


def cache_key(kb: KnowledgeBase, applies_to: str, sources: list[tuple[Path, bytes]]) -> str:
    header = f"rules-format={RULES_CACHE_FORMAT}\0{applies_to}\0{kb.fingerprint}"
    return _paths.digest(header, [("code", _code_bytes()), *((path.name, content) for path, content in sources)])


def to_cache(applies_to: str, rules: list[Rule], ranking: Ranking | None) -> dict[str, Any]:
    return {
        "format": RULES_CACHE_FORMAT,
        "applies_to": applies_to,
        "rules": [{
            "id": r.id,
            "conditions": [{"kind": c.kind, "ids": list(c.ids), "derived_kind": c.derived_kind,
                            "min_age": c.min_age, "max_age": c.max_age, "rank": c.rank,
                            "origin": c.origin} for c in r.conditions],
            "conclusions": [[kind, ident] for kind, ident in r.conclusions],
            "because": {"da": r.because["da"], "en": r.because["en"]},
            "source": r.source,
            "file": r.file,
            "line": r.line,
            "replaces": list(r.replaces),
        } for r in rules],
        "ranking": None if ranking is None else {
            "id": ranking.id, "weights": dict(ranking.weights), "minimum_score": ranking.minimum_score,
            "limit": ranking.limit, "because": {"da": ranking.because["da"], "en": ranking.because["en"]},
            "source": ranking.source,
        },
    }


class _BadCache(Exception):
    """The rules cache is not of the exact shape `to_cache` writes."""


def _need(ok: bool) -> None:
    if not ok:
        raise _BadCache


def _keys(value: Any, keys: set[str]) -> dict[str, Any]:
    _need(type(value) is dict and set(value) == keys)
    return value  # type: ignore[no-any-return]


def _text(value: Any) -> str:
    _need(type(value) is str)
    return value  # type: ignore[no-any-return]


def _opt_int(value: Any) -> int | None:
    _need(value is None or type(value) is int)
    return value  # type: ignore[no-any-return]


def _texts(value: Any) -> dict[str, str]:
    return {k: _text(v) for k, v in _keys(value, set(LANGUAGES)).items()}


# The keys `to_cache` writes: the records' fields (a rule's `generated` is not cached:
# generated rules are made anew from the knowledge base).
_CONDITION_FIELDS = set(Condition._fields)


_RULE_FIELDS = set(Rule._fields) - {"generated"}
_RANKING_FIELDS = set(Ranking._fields)


def _cached_condition(kb: KnowledgeBase, raw: Any, initiatives: bool, ranks: set[int]) -> Condition:
    data = _keys(raw, _CONDITION_FIELDS)
    kind, derived_kind = _text(data["kind"]), data["derived_kind"]
    ids_raw = data["ids"]
    _need(type(ids_raw) is list)
    ids = tuple(_text(i) for i in ids_raw)
    min_age, max_age, rank = _opt_int(data["min_age"]), _opt_int(data["max_age"]), _opt_int(data["rank"])
    # What each kind carries, exactly as the parser makes it; the ids a case rule reads are
    # concepts of the knowledge base, so that nothing downstream meets a name it lacks.
    if initiatives:
        _need(kind in ("factor", "any_factor") and bool(ids) and all(":" in i for i in ids))
    elif kind in ("factor", "any_factor", "factor_false"):
        _need(bool(ids) and all(i in kb and kb.get(i).is_a("Factor") for i in ids))
    elif kind == "derived":
        _need(derived_kind in ("age_group", "forum", "target_group") and bool(ids)
              and all(i in kb and kb.get(i).is_a(CONCLUSION_KINDS[derived_kind]) for i in ids))
    else:
        _need(not ids and kind in ("case", "age", "tier_at_least"))
    _need((derived_kind is None) == (kind != "derived"))
    _need((kind == "age") == (min_age is not None or max_age is not None))
    _need(min(min_age or 0, max_age or 0) >= 0 and (min_age or 0) <= (max_age if max_age is not None else 1 << 30))
    _need((kind == "tier_at_least") == (rank is not None) and (rank is None or rank in ranks))
    return Condition(kind, ids, derived_kind, min_age, max_age, rank, _text(data["origin"]))


def _cached_rule(kb: KnowledgeBase, raw: Any, initiatives: bool, ranks: dict[str, int]) -> Rule:
    data = _keys(raw, _RULE_FIELDS)
    conditions = data["conditions"]
    _need(type(conditions) is list and bool(conditions))
    rank_values = set(ranks.values())
    kinds = INITIATIVE_CONCLUSION_KINDS if initiatives else CONCLUSION_KINDS
    conclusions: list[tuple[str, str]] = []
    _need(type(data["conclusions"]) is list and bool(data["conclusions"]))
    for pair in data["conclusions"]:
        _need(type(pair) is list and len(pair) == 2)
        kind, ident = _text(pair[0]), _text(pair[1])
        _need(kind in kinds and ident in kb and kb.get(ident).is_a(kinds[kind]))
        _need(kind != "tier" or ident in ranks)
        conclusions.append((kind, ident))
    line, replaces = data["line"], data["replaces"]
    _need(type(line) is int and type(replaces) is list)
    return Rule(_text(data["id"]),
                tuple(_cached_condition(kb, c, initiatives, rank_values) for c in conditions),
                tuple(conclusions), _texts(data["because"]), _text(data["source"]), _text(data["file"]), line,
                replaces=tuple(_text(r) for r in replaces))


def _cached_ranking(raw: Any) -> Ranking:
    data = _keys(raw, _RANKING_FIELDS)
    weights = _keys(data["weights"], set(RANKING_WEIGHTS))
    _need(all(type(v) is float for v in weights.values()))
    minimum, limit = data["minimum_score"], data["limit"]
    _need(type(minimum) is float and type(limit) is int and limit >= 1)
    return Ranking(_text(data["id"]), {k: weights[k] for k in RANKING_WEIGHTS}, minimum, limit,
                   _texts(data["because"]), _text(data["source"]))


def from_cache(kb: KnowledgeBase, data: Any, applies_to: str,
                generated: list[Rule]) -> tuple[list[Rule], Ranking | None] | None:
    """The rules and ranking a cache file holds, or None unless it has exactly the shape
    `to_cache` writes and names only what the knowledge base has (the cache directory is
    not trusted: anything else is a miss, and the rules are parsed from YAML again)."""
    initiatives = applies_to == "initiatives"
    try:
        top = _keys(data, {"format", "applies_to", "rules", "ranking"})
        _need(top["format"] == RULES_CACHE_FORMAT and type(top["format"]) is int
              and top["applies_to"] == applies_to and type(top["rules"]) is list)
        ranks = tier_ranks(kb)
        rules = [_cached_rule(kb, raw, initiatives, ranks) for raw in top["rules"]]
        ids = [r.id for r in generated] + [r.id for r in rules]
        _need(len(set(ids)) == len(ids) and bool(rules))
        try:
            check_replaces([*generated, *rules])
        except RuleError:
            raise _BadCache from None
        ranking = None if top["ranking"] is None else _cached_ranking(top["ranking"])
        _need((ranking is None) == initiatives)
    except (_BadCache, RecursionError):
        return None
    return rules, ranking
