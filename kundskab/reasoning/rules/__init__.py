"""Rules as data: loading, validating and evaluating the YAML files in rules/.

A rule has an id, conditions over case facts and ontology concepts (`when`), conclusions
(`then`), a rationale in Danish and English (`because`) and a source. Conditions name
concepts by id or label; `domain:` uses the class hierarchy, so a rule about a family risk
factor matches every factor in that domain. Loading checks every name against the
knowledge base and reports problems with file and line.

The evaluator here (`RuleSet.closure`) is the reference semantics of the rules in plain
Python. The recommender reasons with durable-rules (kundskab.reasoning.engine), asks what-if
questions ("would the answer change if this unknown were known?") of the same rules
compiled to bit masks (kundskab.reasoning.whatif), and uses this evaluator only where the age is
unknown; tests check that all three agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kundskab import _paths
from kundskab._memo import once, per_knowledge_base
from kundskab._paths import read_cache_json, write_cache_json
from kundskab._records import Frozen as _Frozen
from kundskab._records import Record as _Record
from kundskab._records import set_field as _set
from kundskab.errors import KundskabError, RuleError
from kundskab.i18n import LANGUAGES, N_
from kundskab.knowledge.base import KnowledgeBase, tier_ranks

if TYPE_CHECKING:
    import yaml

__all__ = ["Condition", "Facts", "Ranking", "Rule", "RuleSet", "State", "implied_factors", "initiative_fact"]

SOURCE_PATTERN = re.compile(r"^00[0-4]_[0-9a-f]{16}\.txt#.+$")
CONCLUSION_KINDS = {
    "tier": "Tier",
    "forum": "Forum",
    "target_group": "TargetGroup",
    "age_group": "AgeGroup",
}
# Rules about initiatives (rules/principles.yaml, `applies_to: initiatives`) read facts
# about an initiative and conclude which programme principles it supports.
INITIATIVE_CONCLUSION_KINDS = {"principle": "Principle"}
INITIATIVE_CONDITION_KEYS = {"fact", "any_fact"}
# An initiative fact is "prefix:value" (or a bare name); each prefix names the concept
# class its value must resolve to, or None for a fixed word.
INITIATIVE_FACTS: dict[str, str | None] = {
    "actor": "Actor",
    "sector": "Sector",
    "forum": "Forum",
    "target-group": "TargetGroup",
    "factor": "Factor",
    "evidence": "EvidenceBasis",
    "effect-follow-up": None,
    "sectors": None,
    "forum-sectors": None,
}
INITIATIVE_FACT_WORDS = {
    "effect-follow-up": {"yearly"},
    "sectors": {"several"},
    "forum-sectors": {"several"},
}
APPLIES_TO = ("cases", "initiatives")
PLURAL_CONCLUSIONS = {"fora": "forum", "target_groups": "target_group"}
CONDITION_KEYS = {
    "case", "factor", "any_factor", "factor_false", "domain", "age",
    "age_group", "forum", "target_group", "tier_at_least",
}
RULE_KEYS = {"id", "when", "then", "because", "source", "note", "__line__"}
FILE_KEYS = {"rules", "ranking", "applies_to", "__line__"}
MAX_RULE_FILE_BYTES = 1_000_000
# What a case and a measure can share, each with a weight (rules/interventions.yaml).
RANKING_WEIGHTS = ("situation", "needs", "crime", "forum", "tier", "group", "place", "status")


class Facts(_Frozen):
    """What a case tells the rules: the age and the factors known to be true or false."""

    _fields = ("age", "true", "false")
    age: int | None
    true: frozenset[str]
    false: frozenset[str]

    def __init__(self, age: int | None, true: frozenset[str], false: frozenset[str] = frozenset()) -> None:
        _set(self, "age", age)
        _set(self, "true", true)
        _set(self, "false", false)

    def __hash__(self) -> int:  # on the path of every case: no generic loop
        return hash((self.age, self.true, self.false))


class State(_Record):
    """Facts plus what the rules have concluded so far."""

    _fields = ("facts", "derived", "tier_rank", "tier")
    __hash__ = None  # type: ignore[assignment]  # changes as rules fire

    def __init__(self, facts: Facts, derived: dict[str, set[str]] | None = None, tier_rank: int = 0,
                 tier: str | None = None) -> None:
        self.facts = facts
        self.derived: dict[str, set[str]] = {} if derived is None else derived
        self.tier_rank = tier_rank
        self.tier = tier

    def has(self, kind: str, ident: str) -> bool:
        return ident in self.derived.get(kind, ())


class Condition(_Frozen):
    """One condition of a rule; `kind` says which fact it reads."""

    _fields = ("kind", "ids", "derived_kind", "min_age", "max_age", "rank", "origin")
    kind: str  # case | factor | any_factor | factor_false | age | derived | tier_at_least
    ids: tuple[str, ...]
    derived_kind: str | None
    min_age: int | None
    max_age: int | None
    rank: int | None
    origin: str  # as written in the rule file, for explanations and lint

    def __init__(self, kind: str, ids: tuple[str, ...] = (), derived_kind: str | None = None,
                 min_age: int | None = None, max_age: int | None = None, rank: int | None = None,
                 origin: str = "") -> None:
        _set(self, "kind", kind)
        _set(self, "ids", ids)
        _set(self, "derived_kind", derived_kind)
        _set(self, "min_age", min_age)
        _set(self, "max_age", max_age)
        _set(self, "rank", rank)
        _set(self, "origin", origin)

    def matches(self, state: State) -> list[str] | None:
        """The premises that satisfy this condition, or None if it does not hold."""
        facts = state.facts
        if self.kind == "case":
            return ["case"]
        if self.kind == "age":
            if facts.age is None:
                return None
            if self.min_age is not None and facts.age < self.min_age:
                return None
            if self.max_age is not None and facts.age > self.max_age:
                return None
            return [f"age:{facts.age}"]
        if self.kind in ("factor", "any_factor"):
            hits = [i for i in self.ids if i in facts.true]
            return [f"factor:{hits[0]}=true"] if hits else None
        if self.kind == "factor_false":
            return [f"factor:{self.ids[0]}=false"] if self.ids[0] in facts.false else None
        if self.kind == "derived":
            assert self.derived_kind is not None
            hits = [i for i in self.ids if state.has(self.derived_kind, i)]
            return [f"{self.derived_kind.replace('_', '-')}:{hits[0]}"] if hits else None
        if self.kind == "tier_at_least":
            assert self.rank is not None
            return [f"tier:{state.tier}"] if state.tier_rank >= self.rank else None
        raise AssertionError(self.kind)

    def reads(self) -> list[str]:
        """Fact names this condition reads (nodes of the rule graph)."""
        if self.kind in ("case", "age"):
            return ["case:age" if self.kind == "age" else "case"]
        if self.kind in ("factor", "any_factor"):
            return [f"factor:{i}" for i in self.ids]
        if self.kind == "factor_false":
            return [f"factor:{self.ids[0]}"]
        if self.kind == "derived":
            return [f"{self.derived_kind}:{i}" for i in self.ids]
        return ["tier"]


class Rule(_Frozen):
    """A rule: conditions, conclusions, the rationale in Danish and English, its source,
    and where it is written (file and line)."""

    _fields = ("id", "conditions", "conclusions", "because", "source", "file", "line", "generated")
    id: str
    conditions: tuple[Condition, ...]
    conclusions: tuple[tuple[str, str], ...]
    because: Mapping[str, str]
    source: str
    file: str
    line: int
    generated: bool

    def __init__(self, id: str, conditions: tuple[Condition, ...], conclusions: tuple[tuple[str, str], ...],
                 because: Mapping[str, str], source: str, file: str, line: int, generated: bool = False) -> None:
        _set(self, "id", id)
        _set(self, "conditions", conditions)
        _set(self, "conclusions", conclusions)
        _set(self, "because", because)
        _set(self, "source", source)
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "generated", generated)

    def fires(self, state: State) -> list[str] | None:
        premises: list[str] = []
        for condition in self.conditions:
            found = condition.matches(state)
            if found is None:
                return None
            premises.extend(found)
        return premises

    def writes(self) -> list[str]:
        return [("tier" if kind == "tier" else f"{kind}:{ident}") for kind, ident in self.conclusions]


class Ranking(_Frozen):
    """How interventions are scored (rules/interventions.yaml)."""

    _fields = ("id", "weights", "minimum_score", "limit", "because", "source")
    id: str
    weights: Mapping[str, float]
    minimum_score: float
    limit: int
    because: Mapping[str, str]
    source: str

    def __init__(self, id: str, weights: Mapping[str, float], minimum_score: float, limit: int,
                 because: Mapping[str, str], source: str) -> None:
        _set(self, "id", id)
        _set(self, "weights", weights)
        _set(self, "minimum_score", minimum_score)
        _set(self, "limit", limit)
        _set(self, "because", because)
        _set(self, "source", source)


@once
def _line_loader() -> Any:
    """Safe YAML that remembers the line each mapping starts on. PyYAML is imported only
    here: a start with the rules cache valid never reads YAML at all."""
    import yaml

    # libyaml's parser when PyYAML was built with it: the rules parse about eight times
    # faster, with the same marks and lines.
    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class LineLoader(base):  # type: ignore[valid-type,misc]
        pass

    def construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
        mapping: dict[str, Any] = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return LineLoader


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class RuleSet:
    """All rules, checked against the knowledge base, plus the intervention ranking."""

    def __init__(self, kb: KnowledgeBase, rules: list[Rule], ranking: Ranking | None = None,
                 *, applies_to: str = "cases") -> None:
        self.kb = kb
        self.rules = rules
        self._ranking = ranking
        self.applies_to = applies_to
        self.by_id = {r.id: r for r in rules}
        self.tier_ranks = tier_ranks(kb)
        self.tier_by_rank = {rank: ident for ident, rank in self.tier_ranks.items()}
        # The factors some rule reads: only their unknowns can be open questions.
        self.factors_read = sorted(
            {n[len("factor:"):] for r in rules for c in r.conditions for n in c.reads() if n.startswith("factor:")}
        )
        self.factors_read_false = {
            c.ids[0] for r in rules for c in r.conditions if c.kind == "factor_false"
        }
        self.consumed_kinds = {
            c.derived_kind or "tier"
            for r in rules for c in r.conditions if c.kind in ("derived", "tier_at_least")
        }

    @property
    def ranking(self) -> Ranking:
        """How interventions are scored; only the rules about cases have a ranking."""
        if self._ranking is None:
            raise RuleError(N_("the rules about {applies_to} have no 'ranking' section"), applies_to=self.applies_to)
        return self._ranking

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, kb: KnowledgeBase, directory: Path | str | None = None, *,
             applies_to: str = "cases", use_cache: bool = True) -> RuleSet:
        """The rules of every file in `directory` that applies to `applies_to`: "cases"
        (the default: files without `applies_to`) or "initiatives" (principle support).

        The checked rules are kept in the cache directory, keyed by the rule files, the
        knowledge base and this module's own code, so that a start reads no YAML; without
        `use_cache` (and whenever the cache misses) the YAML is parsed and every problem is
        reported with its file and line."""
        if applies_to not in APPLIES_TO:
            raise RuleError(N_("rules apply to {items}, not '{applies_to}'"), items=" or ".join(APPLIES_TO),
                            applies_to=applies_to)
        directory = Path(directory) if directory else _paths.rules_dir()
        files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
        if not files:
            raise RuleError(N_("no rule files (*.yaml)"), str(directory))
        initiatives = applies_to == "initiatives"
        generated: list[Rule] = [] if initiatives else list(_age_group_rules(kb))
        read: list[list[tuple[Path, bytes]]] = []  # the rule files' content, once read

        def sources() -> list[tuple[Path, bytes]]:
            if not read:
                read.append([(path, _read_rule_file(path)) for path in files])
            return read[0]

        cache_path: Path | None = None
        if use_cache and kb.fingerprint:  # a knowledge base without one cannot key a cache
            # Unchanged rule files (and code) are known by their signature: no file is read.
            key = _paths.content_key(f"rules-{applies_to}", [*_code_files(), *files],
                                     lambda: _cache_key(kb, applies_to, sources()),
                                     extra=f"{RULES_CACHE_FORMAT}\0{kb.fingerprint}")
            cache_path = _paths.cache_dir() / f"rules-{key[:32]}.json"
            cached = _from_cache(kb, read_cache_json(cache_path), applies_to, generated)
            if cached is not None:
                return cls(kb, [*generated, *cached[0]], cached[1], applies_to=applies_to)
        parsed, ranking = _parse_files(kb, sources(), applies_to)
        rules = [*generated, *parsed]
        seen: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in seen:
                raise RuleError(N_("duplicate rule id '{id}' (first at {first_file}:{first_line})"),
                                rule.file, rule.line, id=rule.id, first_file=seen[rule.id].file,
                                first_line=seen[rule.id].line)
            seen[rule.id] = rule
        if ranking is None and not initiatives:
            raise RuleError(N_("no 'ranking' section in any rule file"), str(directory))
        if initiatives and not rules:
            raise RuleError(N_("no rules with 'applies_to: initiatives'"), str(directory))
        if cache_path is not None:
            write_cache_json(cache_path, _to_cache(applies_to, parsed, ranking))
        return cls(kb, rules, ranking, applies_to=applies_to)

    # ------------------------------------------------------------------ evaluation

    def closure(self, facts: Facts) -> tuple[State, list[tuple[Rule, list[str]]]]:
        """Fire rules until nothing new follows; the state and each firing's premises."""
        state = State(facts)
        fired: list[tuple[Rule, list[str]]] = []
        done: set[str] = set()
        changed = True
        while changed:
            changed = False
            for rule in self.rules:
                if rule.id in done:
                    continue
                premises = rule.fires(state)
                if premises is None:
                    continue
                done.add(rule.id)
                fired.append((rule, premises))
                if self._conclude(state, rule):
                    changed = True
        return state, fired

    def _conclude(self, state: State, rule: Rule) -> bool:
        """Add a rule's conclusions to the state; True if anything was new."""
        new = False
        for kind, ident in rule.conclusions:
            bucket = state.derived.setdefault(kind, set())
            if ident not in bucket:
                bucket.add(ident)
                new = True
                if kind == "tier" and self.tier_ranks[ident] > state.tier_rank:
                    state.tier_rank, state.tier = self.tier_ranks[ident], ident
        return new


def _parse_files(kb: KnowledgeBase, sources: list[tuple[Path, bytes]],
                 applies_to: str) -> tuple[list[Rule], Ranking | None]:
    """The rules and ranking of the rule files that apply to `applies_to`, from YAML."""
    initiatives = applies_to == "initiatives"
    rules: list[Rule] = []
    ranking: Ranking | None = None
    for path, content in sources:
        data = _read_yaml(path, content)
        for key in data:
            if key not in FILE_KEYS:
                raise RuleError(N_("unknown top-level key '{key}' (expected rules, ranking, applies_to)"),
                                str(path), data["__line__"], key=key)
        if data.get("applies_to", "cases") not in APPLIES_TO:
            raise RuleError(N_("'applies_to' is one of {items}"), str(path), data["__line__"],
                            items=", ".join(APPLIES_TO))
        if data.get("applies_to", "cases") != applies_to:
            continue
        for raw in _as_list(data.get("rules") or []):
            rules.append(_parse_rule(kb, raw, path, initiatives=initiatives))
        if "ranking" in data:
            if initiatives:
                raise RuleError(N_("rules about initiatives have no 'ranking'"), str(path),
                                data["ranking"].get("__line__"))
            if ranking is not None:
                raise RuleError(N_("a second 'ranking' section"), str(path), data["ranking"].get("__line__"))
            ranking = _parse_ranking(data["ranking"], path)
    return rules, ranking


# ---------------------------------------------------------------------- the rules cache

# Bump when the cached shape changes (the key also covers this package's code, so a change
# to how rules are parsed never reads rules parsed the old way).
RULES_CACHE_FORMAT = 2  # 2: the key covers every file of the rules code (kundskab/reasoning/rules/)


def _code_files() -> list[Path]:
    """The rules code: every module of this package (a change to any of them is a new key)."""
    return sorted(Path(__file__).parent.glob("*.py"))


@once
def _code_bytes() -> bytes:
    return b"".join(path.name.encode() + b"\0" + path.read_bytes() for path in _code_files())


def _cache_key(kb: KnowledgeBase, applies_to: str, sources: list[tuple[Path, bytes]]) -> str:
    header = f"rules-format={RULES_CACHE_FORMAT}\0{applies_to}\0{kb.fingerprint}"
    return _paths.digest(header, [("code", _code_bytes()), *((path.name, content) for path, content in sources)])


def _to_cache(applies_to: str, rules: list[Rule], ranking: Ranking | None) -> dict[str, Any]:
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
        } for r in rules],
        "ranking": None if ranking is None else {
            "id": ranking.id, "weights": dict(ranking.weights), "minimum_score": ranking.minimum_score,
            "limit": ranking.limit, "because": {"da": ranking.because["da"], "en": ranking.because["en"]},
            "source": ranking.source,
        },
    }


class _BadCache(Exception):
    """The rules cache is not of the exact shape `_to_cache` writes."""


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


# The keys `_to_cache` writes: the records' fields (a rule's `generated` is not cached:
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
    line = data["line"]
    _need(type(line) is int)
    return Rule(_text(data["id"]),
                tuple(_cached_condition(kb, c, initiatives, rank_values) for c in conditions),
                tuple(conclusions), _texts(data["because"]), _text(data["source"]), _text(data["file"]), line)


def _cached_ranking(raw: Any) -> Ranking:
    data = _keys(raw, _RANKING_FIELDS)
    weights = _keys(data["weights"], set(RANKING_WEIGHTS))
    _need(all(type(v) is float for v in weights.values()))
    minimum, limit = data["minimum_score"], data["limit"]
    _need(type(minimum) is float and type(limit) is int and limit >= 1)
    return Ranking(_text(data["id"]), {k: weights[k] for k in RANKING_WEIGHTS}, minimum, limit,
                   _texts(data["because"]), _text(data["source"]))


def _from_cache(kb: KnowledgeBase, data: Any, applies_to: str,
                generated: list[Rule]) -> tuple[list[Rule], Ranking | None] | None:
    """The rules and ranking a cache file holds, or None unless it has exactly the shape
    `_to_cache` writes and names only what the knowledge base has (the cache directory is
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
        ranking = None if top["ranking"] is None else _cached_ranking(top["ranking"])
        _need((ranking is None) == initiatives)
    except (_BadCache, RecursionError):
        return None
    return rules, ranking


def _read_rule_file(path: Path) -> bytes:
    if path.stat().st_size > MAX_RULE_FILE_BYTES:
        raise RuleError(N_("rule file too large"), str(path))
    return path.read_bytes()


def _read_yaml(path: Path, content: bytes | None = None) -> dict[str, Any]:
    import yaml

    raw = _read_rule_file(path) if content is None else content
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_line_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RuleError(N_("invalid YAML: {detail}"), str(path),
                        mark.line + 1 if mark else None, detail=getattr(exc, 'problem', exc)) from None
    except UnicodeDecodeError:
        raise RuleError(N_("not UTF-8 text"), str(path)) from None
    if not isinstance(data, dict):
        raise RuleError(N_("a rule file is a mapping with a 'rules' list"), str(path), 1)
    return data


def _resolve(kb: KnowledgeBase, name: Any, class_name: str, where: tuple[str, int]) -> str:
    if not isinstance(name, str):
        raise RuleError(N_("expected a {class_name} id, got {name!r}"), *where, class_name=class_name, name=name)
    try:
        return kb.resolve(name, class_name)
    except KundskabError as exc:
        raise RuleError(exc.template, *where, **exc.params) from None


def _parse_rule(kb: KnowledgeBase, raw: Any, path: Path, *, initiatives: bool = False) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(N_("each rule is a mapping"), str(path))
    line = int(raw.get("__line__", 0))
    where = (str(path), line)
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise RuleError(N_("unknown key(s) {items} in rule"), *where, items=', '.join(sorted(unknown)))
    ident = raw.get("id")
    if not isinstance(ident, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", ident):
        raise RuleError(N_("a rule needs an 'id' in kebab-case"), *where)
    when, then = raw.get("when"), raw.get("then")
    if not isinstance(when, dict) or len(set(when) - {"__line__"}) == 0:
        raise RuleError(N_("rule '{ident}' needs conditions under 'when'"), *where, ident=ident)
    if not isinstance(then, dict) or len(set(then) - {"__line__"}) == 0:
        raise RuleError(N_("rule '{ident}' needs conclusions under 'then'"), *where, ident=ident)
    because = raw.get("because")
    if not (isinstance(because, dict) and all(isinstance(because.get(k), str) and because[k].strip()
                                              for k in LANGUAGES)):
        raise RuleError(N_("rule '{ident}' needs a rationale 'because' with 'da' and 'en'"), *where, ident=ident)
    source = raw.get("source")
    if not isinstance(source, str) or not SOURCE_PATTERN.match(source):
        raise RuleError(N_("rule '{ident}' needs a 'source' of the form SEED-FILE#Section"), *where, ident=ident)
    when_where = (str(path), int(when.get("__line__", line)))
    conditions = (_parse_initiative_conditions(kb, when, when_where) if initiatives
                  else _parse_conditions(kb, when, when_where))
    kinds = INITIATIVE_CONCLUSION_KINDS if initiatives else CONCLUSION_KINDS
    conclusions: list[tuple[str, str]] = []
    then_where = (str(path), int(then.get("__line__", line)))
    for key, value in then.items():
        if key == "__line__":
            continue
        kind = PLURAL_CONCLUSIONS.get(key, key)
        if kind not in kinds:
            raise RuleError(N_("unknown conclusion '{key}' (expected {items})"), *then_where,
                            key=key, items=', '.join(sorted(kinds)))
        for name in _as_list(value):
            conclusions.append((kind, _resolve(kb, name, kinds[kind], then_where)))
    return Rule(ident, tuple(conditions), tuple(conclusions),
                {"da": because["da"].strip(), "en": because["en"].strip()}, source,
                str(path.name), line)


@per_knowledge_base
def implied_factors(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """For each factor, every factor it implies (ks:implies, followed transitively)."""
    direct = {f.id: set(f.ref("implies")) for f in kb.of_type("Factor")}
    found = {}
    for factor in direct:
        seen: set[str] = set()
        stack = list(direct[factor])
        while stack:
            other = stack.pop()
            if other not in seen and other != factor:
                seen.add(other)
                stack.extend(direct.get(other, ()))
        found[factor] = frozenset(seen)
    return found


def implying_factors(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """For each factor, the factors that imply it (ks:implies, transitively), in id order."""
    found: dict[str, set[str]] = {}
    for factor, implied in implied_factors(kb).items():
        for other in implied:
            found.setdefault(other, set()).add(factor)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _parse_conditions(kb: KnowledgeBase, when: dict[str, Any], where: tuple[str, int]) -> list[Condition]:
    conditions: list[Condition] = []
    case_level: Condition | None = None
    implying = implying_factors(kb)
    for key, value in when.items():
        if key == "__line__":
            continue
        if key not in CONDITION_KEYS:
            raise RuleError(N_("unknown condition '{key}' (expected {items})"),
                            *where, key=key, items=', '.join(sorted(CONDITION_KEYS)))
        shown = {k: v for k, v in value.items() if k != "__line__"} if isinstance(value, dict) else value
        origin = f"{key}: {shown}"
        if key == "case":
            case_level = case_level or Condition("case", origin=origin)
        elif key == "age":
            if not isinstance(value, dict) or not (set(value) - {"__line__"}) <= {"min", "max"}:
                raise RuleError(N_("'age' takes {min: N, max: N}"), *where)
            low, high = value.get("min"), value.get("max")
            for bound in (low, high):
                if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool) or bound < 0):
                    raise RuleError(N_("age bounds are whole numbers of years"), *where)
            if low is None and high is None:
                raise RuleError(N_("'age' needs min or max"), *where)
            if low is not None and high is not None and low > high:
                raise RuleError(N_("age min {low} is above max {high}"), *where, low=low, high=high)
            case_level = Condition("age", min_age=low, max_age=high, origin=origin)
        elif key == "factor":
            for name in _as_list(value):
                ident = _resolve(kb, name, "Factor", where)
                # A factor that implies this one satisfies the condition too (ks:implies), so
                # the engine and the what-if questions agree with a case that gives only it.
                by = implying.get(ident)
                conditions.append(Condition("any_factor", (ident, *by), origin=f"factor: {name}") if by
                                  else Condition("factor", (ident,), origin=f"factor: {name}"))
        elif key == "factor_false":
            for name in _as_list(value):
                ident = _resolve(kb, name, "Factor", where)
                conditions.append(Condition("factor_false", (ident,), origin=f"factor_false: {name}"))
        elif key == "any_factor":
            named = {_resolve(kb, n, "Factor", where) for n in _as_list(value)}
            ids = tuple(sorted(named)) + tuple(sorted({a for i in named for a in implying.get(i, ())} - named))
            conditions.append(Condition("any_factor", ids, origin=origin))
        elif key == "domain":
            domains = {_resolve(kb, n, "RiskDomain", where) for n in _as_list(value)}
            # Class hierarchy: a domain stands for every risk factor in it.
            named = {f.id for f in kb.of_type("RiskFactor") if set(f.ref("inDomain")) & domains}
            if not named:
                raise RuleError(N_("no factor is in domain(s) {items}"), *where, items=', '.join(sorted(domains)))
            ids = tuple(sorted(named)) + tuple(sorted({a for i in named for a in implying.get(i, ())} - named))
            conditions.append(Condition("any_factor", ids, origin=origin))
        elif key == "tier_at_least":
            tier = _resolve(kb, value, "Tier", where)
            conditions.append(Condition("tier_at_least", rank=tier_ranks(kb)[tier], origin=origin))
        else:  # age_group, forum, target_group: facts that other rules conclude
            ids = tuple(sorted({_resolve(kb, n, CONCLUSION_KINDS[key], where) for n in _as_list(value)}))
            conditions.append(Condition("derived", ids, derived_kind=key, origin=origin))
    # The case fact carries the age: one condition reads it, so the engine matches it once.
    if case_level is not None:
        conditions.insert(0, case_level)
    return conditions


def initiative_fact(kb: KnowledgeBase, name: Any, where: tuple[str, int] = ("", 0)) -> str:
    """An initiative fact as rules and facts spell it ("actor:police"), its value resolved
    to an id; raises RuleError for a prefix or value the vocabulary does not know."""
    if not isinstance(name, str) or ":" not in name:
        raise RuleError(N_("an initiative fact is 'kind:value' with kind one of {items}; got {name!r}"), *where,
                        items=', '.join(sorted(INITIATIVE_FACTS)), name=name)
    prefix, _, value = name.partition(":")
    prefix, value = prefix.strip(), value.strip()
    if prefix not in INITIATIVE_FACTS:
        raise RuleError(N_("unknown initiative fact kind '{prefix}' (expected {items})"), *where,
                        prefix=prefix, items=', '.join(sorted(INITIATIVE_FACTS)))
    class_name = INITIATIVE_FACTS[prefix]
    if class_name is None:
        if value not in INITIATIVE_FACT_WORDS[prefix]:
            raise RuleError(N_("'{prefix}' takes {items}"), *where,
                            prefix=prefix, items=', '.join(sorted(INITIATIVE_FACT_WORDS[prefix])))
        return f"{prefix}:{value}"
    return f"{prefix}:{_resolve(kb, value, class_name, where)}"


def _parse_initiative_conditions(kb: KnowledgeBase, when: dict[str, Any],
                                 where: tuple[str, int]) -> list[Condition]:
    # An initiative fact is a fact known to hold, like a case factor known to be true, so
    # the engine matches it as one: `fact` is `factor`, `any_fact` is `any_factor`.
    conditions: list[Condition] = []
    for key, value in when.items():
        if key == "__line__":
            continue
        if key not in INITIATIVE_CONDITION_KEYS:
            raise RuleError(N_("unknown condition '{key}' in a rule about initiatives (expected {items})"), *where,
                            key=key, items=', '.join(sorted(INITIATIVE_CONDITION_KEYS)))
        if key == "fact":
            for name in _as_list(value):
                conditions.append(Condition("factor", (initiative_fact(kb, name, where),),
                                            origin=f"fact: {name}"))
        else:
            ids = tuple(sorted({initiative_fact(kb, n, where) for n in _as_list(value)}))
            shown = [v for v in _as_list(value)]
            conditions.append(Condition("any_factor", ids, origin=f"any_fact: {shown}"))
    return conditions


def _parse_ranking(raw: Any, path: Path) -> Ranking:
    where = (str(path), int(raw.get("__line__", 0)) if isinstance(raw, dict) else 0)
    if not isinstance(raw, dict):
        raise RuleError(N_("'ranking' is a mapping"), *where)
    weights = raw.get("weights")
    expected = set(RANKING_WEIGHTS)
    if not isinstance(weights, dict) or set(weights) - {"__line__"} != expected:
        raise RuleError(N_("ranking weights must be exactly {items}"), *where, items=', '.join(sorted(expected)))
    values = {k: weights[k] for k in expected}
    if not all(isinstance(v, int | float) and v >= 0 for v in values.values()) or abs(sum(values.values()) - 1) > 1e-9:
        raise RuleError(N_("ranking weights are non-negative numbers that add up to 1"), *where)
    because = raw.get("because") or {}
    source = raw.get("source")
    if not isinstance(source, str) or not SOURCE_PATTERN.match(source):
        raise RuleError(N_("ranking needs a 'source' of the form SEED-FILE#Section"), *where)
    if not all(isinstance(because.get(k), str) for k in LANGUAGES):
        raise RuleError(N_("ranking needs 'because' with 'da' and 'en'"), *where)
    limit, minimum = raw.get("limit", 10), raw.get("minimum_score", 0.0)
    if not isinstance(limit, int) or limit < 1 or not isinstance(minimum, int | float):
        raise RuleError(N_("ranking 'limit' is a positive integer and 'minimum_score' a number"), *where)
    return Ranking(str(raw.get("id", "rank-interventions")), {k: float(v) for k, v in values.items()},
                   float(minimum), limit, {"da": because["da"], "en": because["en"]}, source)


def _age_group_rules(kb: KnowledgeBase) -> Iterable[Rule]:
    """One rule per age group, from the age bounds the ontology gives it."""
    for group in kb.of_type("AgeGroup"):
        low, high = group.int_value("minAge"), group.int_value("maxAge")
        span_da = f"{low}–{high} år" if high is not None else f"{low} år og derover"
        span_en = f"{low}–{high}" if high is not None else f"{low} and over"
        # As a rule file would write it: an open bound is left out, never "max: None".
        bounds = ", ".join(f"{name}: {value}" for name, value in (("min", low), ("max", high)) if value is not None)
        yield Rule(
            id=f"age-group-{group.id}",
            conditions=(Condition("age", min_age=low, max_age=high,
                                  origin=f"age: {{{bounds}}}"),),
            conclusions=(("age_group", group.id),),
            because={"da": f"Alderen hører til {group.label('da').lower()} ({span_da}).",
                     "en": f"The age falls in {group.label('en').lower()} ({span_en})."},
            source=str(group.sources[0]) if group.sources else "",
            file="ontology (age bounds)",
            line=0,
            generated=True,
        )
