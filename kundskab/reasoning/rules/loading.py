"""The rule files (rules/*.yaml): their language (keys, conditions, conclusions, the
ranking's weights), read as untrusted YAML with the line of every mapping, and every name
checked against the knowledge base; problems are RuleErrors with file and line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kundskab._memo import once
from kundskab.errors import KundskabError, RuleError
from kundskab.i18n import LANGUAGES, N_
from kundskab.knowledge.base import KnowledgeBase, tier_ranks
from kundskab.knowledge.factors import implying_factors
from kundskab.reasoning.rules.records import Condition, Ranking, Rule

if TYPE_CHECKING:
    import yaml


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
RULE_KEYS = {"id", "when", "then", "because", "source", "note", "replaces", "__line__"}
FILE_KEYS = {"rules", "ranking", "applies_to", "__line__"}
MAX_RULE_FILE_BYTES = 1_000_000
# What a case and a measure can share, each with a weight (rules/interventions.yaml).
RANKING_WEIGHTS = ("situation", "needs", "crime", "forum", "tier", "group", "place", "status")


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


def parse_files(kb: KnowledgeBase, sources: list[tuple[Path, bytes]],
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


def read_rule_file(path: Path) -> bytes:
    if path.stat().st_size > MAX_RULE_FILE_BYTES:
        raise RuleError(N_("rule file too large"), str(path))
    return path.read_bytes()


def _read_yaml(path: Path, content: bytes | None = None) -> dict[str, Any]:
    import yaml

    raw = read_rule_file(path) if content is None else content
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
    replaces = _as_list(raw.get("replaces", []))
    if initiatives and replaces:
        raise RuleError(N_("rules about initiatives replace no other rule"), *where)
    if not all(isinstance(r, str) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r) and r != ident for r in replaces):
        raise RuleError(N_("rule '{ident}': 'replaces' names other rules by id"), *where, ident=ident)
    return Rule(ident, tuple(conditions), tuple(conclusions),
                {"da": because["da"].strip(), "en": because["en"].strip()}, source,
                str(path.name), line, replaces=tuple(sorted(set(replaces))))


def check_replaces(rules: list[Rule]) -> None:
    """Every rule a rule `replaces` exists and draws no conclusion the replacing rule does not
    (so that leaving its reason out of an answer never leaves a conclusion unexplained)."""
    by_id = {r.id: r for r in rules}
    for rule in rules:
        for other in rule.replaces:
            if other not in by_id:
                raise RuleError(N_("rule '{ident}' replaces '{other}', which is no rule"), rule.file, rule.line,
                                ident=rule.id, other=other)
            if not set(by_id[other].conclusions) <= set(rule.conclusions):
                raise RuleError(N_("rule '{ident}' replaces '{other}' but does not draw all its conclusions"),
                                rule.file, rule.line, ident=rule.id, other=other)


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
