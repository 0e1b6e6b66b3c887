"""Recommendations: tier of effort, fora and interventions for a case, explained.

The rules engine (durable-rules) derives the age group, target groups, tier and fora; the
catalogue's interventions are then ranked by the weights in rules/interventions.yaml; the
rules' reference evaluator answers which unknown factors would change the answer.

Pieces of the answer that depend only on the knowledge, the rules and what was concluded
(an explanation entry, a ranked intervention, an open question) are built once and kept
with their JSON text in a bounded memo; nothing in it identifies a case.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kundskab.cases import Case, parse_case
from kundskab.engine import Derivation, RulesEngine
from kundskab.knowledge import KnowledgeBase, load
from kundskab.rules import Facts, RuleSet, State

__all__ = ["Recommendation", "Recommender", "recommend"]

ALL_CITIZENS = "all-citizens"
MAX_LIMIT = 100  # the most interventions an answer lists (the CLI's --limit bound)
PROBE_AGES = (3, 8, 12, 15, 17, 20, 30)  # one age per region of the age bounds the rules use
EXPLANATION_ORDER = {"tier": 0, "age-group": 1, "target-group": 2, "forum": 3}

TEXT = {
    "da": {
        "same_tier": "samme indsatsniveau som sagen",
        "lower_tier": "et indsatsniveau under sagens",
        "group": "målgruppe: {}",
        "all": "rettet mod alle borgere",
        "factors": "adresserer {}",
        "forum": "forankret i {}",
        "age": "alder",
    },
    "en": {
        "same_tier": "same tier as the case",
        "lower_tier": "one tier below the case",
        "group": "target group: {}",
        "all": "aimed at all citizens",
        "factors": "addresses {}",
        "forum": "runs in {}",
        "age": "age",
    },
}

_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
Piece = tuple[Any, str]  # an output object and its JSON text


class _Memo:
    """A bounded memo of output pieces (cleared when full, so memory stays flat)."""

    def __init__(self, size: int = 4096) -> None:
        self._items: dict[Hashable, Piece] = {}
        self._size = size

    def get(self, key: Hashable, build: Callable[[], Any]) -> Piece:
        found = self._items.get(key)
        if found is None:
            value = build()
            found = (value, _dumps(value))
            if len(self._items) >= self._size:
                self._items.clear()
            self._items[key] = found
        return found


@dataclass(frozen=True)
class _Indexed:
    id: str
    rank: int
    tier: str
    groups: frozenset[str]
    factors: frozenset[str]
    fora: frozenset[str]
    source: str


@dataclass
class Recommendation:
    """The answer for one case: `as_dict()` is the contract's JSON object, `to_json()` its
    compact text."""

    ref: str | None
    age: int | None
    tier: str
    target_groups: list[str]
    fora: list[str]
    kb_version: str
    interventions_pieces: list[Piece] = field(default_factory=list, repr=False)
    open_questions_pieces: list[Piece] = field(default_factory=list, repr=False)
    explanation_pieces: list[Piece] = field(default_factory=list, repr=False)
    labels_piece: Piece = ({}, "{}")

    @property
    def interventions(self) -> list[dict[str, Any]]:
        return json.loads("[" + ",".join(p[1] for p in self.interventions_pieces) + "]")  # type: ignore[no-any-return]

    @property
    def open_questions(self) -> list[dict[str, Any]]:
        return json.loads("[" + ",".join(p[1] for p in self.open_questions_pieces) + "]")  # type: ignore[no-any-return]

    @property
    def explanation(self) -> list[dict[str, Any]]:
        return json.loads("[" + ",".join(p[1] for p in self.explanation_pieces) + "]")  # type: ignore[no-any-return]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.labels_piece[0])

    def to_json(self) -> str:
        """The answer as compact JSON text (the batch output line)."""
        return "".join((
            '{"ref":', _dumps(self.ref),
            ',"tier":', _dumps(self.tier),
            ',"target_groups":', _dumps(self.target_groups),
            ',"fora":', _dumps(self.fora),
            ',"interventions":[', ",".join(p[1] for p in self.interventions_pieces),
            '],"open_questions":[', ",".join(p[1] for p in self.open_questions_pieces),
            '],"explanation":[', ",".join(p[1] for p in self.explanation_pieces),
            '],"labels":', self.labels_piece[1],
            ',"kb_version":', _dumps(self.kb_version), "}",
        ))

    def as_dict(self) -> dict[str, Any]:
        """A fresh object the caller may change freely."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]


class Recommender:
    """Load once, recommend many times (the engine and indexes are reused)."""

    def __init__(self, kb: KnowledgeBase | None = None, rules: RuleSet | None = None) -> None:
        self.kb = kb or load()
        self.rules = rules or RuleSet.load(self.kb)
        self.engine = RulesEngine(self.rules)
        ranks = self.rules.tier_ranks
        self._memo = _Memo()
        self._frames: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._labels: dict[str, dict[str, str]] = {
            lang: {c.id: c.label(lang) for c in self.kb} for lang in ("da", "en")}
        self._risk_factors = {f.id for f in self.kb.of_type("RiskFactor")}
        self._index: list[_Indexed] = []
        for item in self.kb.of_type("Intervention"):
            tier = item.ref("tier")[0] if item.ref("tier") else "general"
            self._index.append(_Indexed(
                item.id, ranks.get(tier, 1), tier, frozenset(item.ref("targetGroup")),
                frozenset(item.ref("addressesFactor")), frozenset(item.ref("forum")),
                str(item.sources[0]) if item.sources else ""))
        self._forum_by_bit = sorted(
            ((bit, ident) for (kind, ident), bit in self.rules.derived_bit.items() if kind == "forum"),
            key=lambda x: x[1])
        self._forum_bits = sum(bit for bit, _ in self._forum_by_bit)
        # Ranking runs over bit masks.
        names = sorted({n for e in self._index for n in (*e.groups, *e.factors, *e.fora)}
                       | {c.id for c in self.kb.of_type("TargetGroup")}
                       | {c.id for c in self.kb.of_type("Forum")} | self._risk_factors)
        self._bit = {n: 1 << i for i, n in enumerate(names)}
        self._rows = sorted(
            (e.rank, sum(self._bit[g] for g in e.groups if g != ALL_CITIZENS), ALL_CITIZENS in e.groups,
             sum(self._bit[f] for f in e.factors if f in self._risk_factors),
             sum(self._bit[f] for f in e.fora), i)
            for i, e in enumerate(self._index))
        self._rows_for_all = [r for r in self._rows if r[2]]
        self._rows_by_group: dict[str, list[tuple[Any, ...]]] = {}
        for row in self._rows:
            for group in self._index[row[5]].groups:
                if group != ALL_CITIZENS:
                    self._rows_by_group.setdefault(group, []).append(row)
        self._base_cache: dict[tuple[int, frozenset[str], frozenset[str]], tuple[
            array[int], array[float], array[int], array[float]]] = {}
        self._ids = [e.id for e in self._index]
        self._factor_masks = [sum(self._bit[f] for f in e.factors if f in self._risk_factors) for e in self._index]

    # ------------------------------------------------------------------ public

    def recommend(self, case: Case | Mapping[str, Any], *, lang: str = "da",
                  limit: int | None = None) -> Recommendation:
        if not isinstance(case, Case):
            case = parse_case(case, self.kb)
        if lang not in TEXT:
            lang = "en"
        facts = case.facts
        derivation = self.engine.run(facts)
        tier = derivation.tier or "general"
        fora = sorted(derivation.conclusions.get("forum", ()))
        groups = sorted(derivation.conclusions.get("age_group", set())
                        | derivation.conclusions.get("target_group", set()))
        explanation = self._explain(derivation, tier, set(fora), set(groups), lang)
        interventions = self._rank(facts, tier, frozenset(groups), frozenset(fora), lang,
                                   min(limit or self.rules.ranking.limit, MAX_LIMIT), explanation)
        questions = self._open_questions(case, derivation, lang)
        ids = frozenset({tier, *fora, *groups, *(p[0]["id"] for p in interventions)})
        labels = self._memo.get(("labels", lang, ids),
                                lambda: {i: self._label(i, lang) for i in sorted(ids)})
        return Recommendation(case.ref, case.age, tier, groups, fora, self.kb.version,
                              interventions, questions, explanation, labels)

    # ------------------------------------------------------------------ parts

    def _label(self, ident: str, lang: str) -> str:
        return self._labels.get(lang, self._labels["en"]).get(ident, ident)

    def _explain(self, derivation: Derivation, tier: str, fora: set[str], groups: set[str],
                 lang: str) -> list[Piece]:
        answer = {("tier", tier)} | {("forum", f) for f in fora} | {
            (k, g) for g in groups for k in ("age_group", "target_group")}
        keyed: dict[tuple[str, str, tuple[str, ...]], Piece] = {}
        for firing in derivation.firings:
            rule = firing.rule
            for kind, ident in firing.conclusions:
                if (kind, ident) not in answer:
                    continue  # e.g. the general tier when a higher one holds
                conclusion = f"{kind.replace('_', '-')}:{ident}"
                key = (rule.id, conclusion, firing.premises)
                if key not in keyed:
                    # The entry's text around its premises is the same for every case.
                    head, tail = self._frame(rule, conclusion, lang)
                    keyed[key] = ({"conclusion": conclusion}, head + _dumps(list(firing.premises)) + tail)
        ordered = sorted(keyed, key=lambda k: (EXPLANATION_ORDER.get(k[1].split(":")[0], 9), k[1], k[0]))
        return [keyed[k] for k in ordered]

    def _frame(self, rule: Any, conclusion: str, lang: str) -> tuple[str, str]:
        key = (rule.id, conclusion, lang)
        found = self._frames.get(key)
        if found is None:
            because = rule.because.get(lang, rule.because["en"])
            found = (f'{{"rule":{_dumps(rule.id)},"conclusion":{_dumps(conclusion)},'
                     f'"because":{_dumps(because)},"premises":', f',"source":{_dumps(rule.source)}}}')
            self._frames[key] = found  # one per rule, conclusion and language: bounded
        return found

    def _base_scores(self, rank: int, groups: frozenset[str], fora: frozenset[str]) -> tuple[
            array[int], array[float], array[int], array[float]]:
        """Tier, group and forum part of each candidate's score, best first, split into
        interventions that address no risk factor (only the best MAX_LIMIT can matter) and
        those that do. Many cases share tier, groups and fora, so the (compact) lists are
        kept; they hold no case data."""
        key = (rank, groups, fora)
        cached = self._base_cache.get(key)
        if cached is not None:
            return cached
        w = self.rules.ranking.weights
        group_mask = sum(self._bit.get(g, 0) for g in groups)
        fora_mask = sum(self._bit.get(f, 0) for f in fora)
        rows = list(self._rows_for_all)
        for group in groups:
            rows += self._rows_by_group.get(group, ())
        found: list[tuple[float, str, int, int]] = []
        seen: set[int] = set()
        for item_rank, item_groups, _, item_factors, item_fora, position in rows:
            if item_rank > rank or position in seen:
                continue  # never more intensive than the facts justify
            seen.add(position)
            score = w["group"] if item_groups & group_mask else w["group"] / 2
            gap = rank - item_rank
            score += w["tier"] if gap == 0 else w["tier"] / 2 if gap == 1 else 0.0
            if item_fora & fora_mask:
                score += w["forum"]
            found.append((round(score, 9), self._index[position].id, position, item_factors))
        found.sort(key=lambda x: (-x[0], x[1]))
        plain = [x for x in found if not x[3]][:MAX_LIMIT]
        boostable = [x for x in found if x[3]]
        compact = (array("i", [x[2] for x in plain]), array("d", [x[0] for x in plain]),
                   array("i", [x[2] for x in boostable]), array("d", [x[0] for x in boostable]))
        if len(self._base_cache) >= 2048:  # bounded: memory stays flat over any batch
            self._base_cache.clear()
        self._base_cache[key] = compact
        return compact

    def _rank(self, facts: Facts, tier: str, groups: frozenset[str], fora: frozenset[str], lang: str,
              limit: int, explanation: list[Piece]) -> list[Piece]:
        ranking = self.rules.ranking
        w_factors = ranking.weights["factors"]
        rank = self.rules.tier_ranks[tier]
        risks = frozenset(f for f in facts.true if f in self._risk_factors)
        risk_mask = sum(self._bit.get(f, 0) for f in risks)
        n_risks = len(risks)
        minimum = ranking.minimum_score - 1e-9
        ids, factor_masks = self._ids, self._factor_masks
        # Only interventions that address one of the case's risk factors can gain on the
        # base score (tier, group, forum), which the candidate lists are sorted by. Scores
        # are rounded so that equal scores tie on the id, however the sums were ordered.
        plain_at, plain_score, boost_at, boost_score = self._base_scores(rank, groups, fora)
        top = [(-base, ids[at], at) for at, base in zip(plain_at[:limit], plain_score[:limit], strict=True)
               if base >= minimum]
        if risk_mask:
            for at, base in zip(boost_at, boost_score, strict=True):
                hits = factor_masks[at] & risk_mask
                score = round(base + w_factors * hits.bit_count() / n_risks, 9) if hits else base
                if score >= minimum:
                    top.append((-score, ids[at], at))
        else:
            top += [(-base, ids[at], at) for at, base in zip(boost_at[:limit], boost_score[:limit], strict=True)
                    if base >= minimum]
        top.sort()
        del top[limit:]
        pieces = []
        for neg_score, _, position in top:
            item = self._index[position]
            key = ("item", lang, position, tier, groups & item.groups, fora & item.fora,
                   risks & item.factors, round(-neg_score, 3))
            item_piece, explain_piece = self._memo.get(key, partial(self._ranked, item, key, lang))[0]
            pieces.append(item_piece)
            explanation.append(explain_piece)
        return pieces

    def _ranked(self, item: _Indexed, key: tuple[Any, ...], lang: str) -> tuple[Piece, Piece]:
        _, _, _, tier, specific_set, forum_set, addressed_set, score = key
        words = TEXT[lang]
        specific, forum_hits, addressed = sorted(specific_set), sorted(forum_set), sorted(addressed_set)
        reasons = [words["same_tier"] if item.tier == tier else words["lower_tier"]]
        premises = [f"tier:{tier}"]
        if specific:
            reasons.append(words["group"].format(", ".join(self._label(g, lang) for g in specific)))
            premises += [f"target-group:{g}" for g in specific]
        else:
            reasons.append(words["all"])
        if addressed:
            reasons.append(words["factors"].format(", ".join(self._label(f, lang) for f in addressed)))
            premises += [f"factor:{f}=true" for f in addressed]
        if forum_hits:
            reasons.append(words["forum"].format(", ".join(self._label(f, lang) for f in forum_hits)))
            premises += [f"forum:{f}" for f in forum_hits]
        ranked = {"id": item.id, "label": self._label(item.id, lang), "tier": item.tier,
                  "score": score, "reasons": reasons, "source": item.source}
        ranking = self.rules.ranking
        entry = {"rule": ranking.id, "conclusion": f"intervention:{item.id}",
                 "because": ranking.because.get(lang, ranking.because["en"]),
                 "premises": premises, "source": item.source}
        return (ranked, _dumps(ranked)), (entry, _dumps(entry))

    def _open_questions(self, case: Case, derivation: Derivation, lang: str) -> list[Piece]:
        rules = self.rules
        base = State(case.facts, derivation.conclusions, derivation.tier_rank, derivation.tier)
        bits = rules.bits_of(base)
        base_fora = bits[2] & self._forum_bits
        base_tier = rules.tier_of(base)
        fired = frozenset(f.rule.id for f in derivation.firings)
        unknown = [f for f in rules.factors_read if case.factors.get(f) is None]
        effects: dict[str, dict[str, tuple[int, int]]] = {
            "true": rules.effects_of_unknowns(base, unknown, fired, bits)}
        for factor in unknown:  # only rules with `factor_false` conditions need this
            if factor in rules.factors_read_false:
                effects.setdefault("false", {})[factor] = rules.what_if(base, factor, False, fired, bits)
        keyed: list[tuple[tuple[Any, ...], Piece]] = []
        candidates = set(effects["true"]).union(*(found for found in list(effects.values())[1:]))
        for factor in candidates:
            changes: list[tuple[str, str, int]] = []
            for value, found in effects.items():
                if factor in found:
                    rank, derived = found[factor]
                    new_fora = derived & self._forum_bits & ~base_fora
                    if rank != base.tier_rank or new_fora:
                        changes.append((value, rules.tier_by_rank.get(rank, base_tier), new_fora))
            if changes:
                key = ("question", lang, factor, base_tier, tuple(changes))
                piece = self._memo.get(key, partial(self._question, factor, changes, base_tier, lang))
                keyed.append(((True, "tier" not in piece[0]["would_change"], factor), piece))
        if case.age is None:
            outcomes = set()
            for age in PROBE_AGES:
                state, _ = rules.closure(Facts(age, case.facts.true, case.facts.false))
                outcomes.add((state.tier_rank, frozenset(state.derived.get("forum", ()))))
            if len(outcomes) > 1:
                would = ["fora"] if len({o[0] for o in outcomes}) == 1 else ["fora", "tier"]
                question = {"factor": "age", "label": TEXT[lang]["age"], "would_change": would,
                            "if_true": None, "if_false": None}
                keyed.append(((False, "tier" not in would, "age"), (question, _dumps(question))))
        keyed.sort(key=lambda k: k[0])
        return [piece for _, piece in keyed]

    def _question(self, factor: str, changes: list[tuple[str, str, int]], base_tier: str,
                  lang: str) -> dict[str, Any]:
        question: dict[str, Any] = {"factor": factor, "label": self._label(factor, lang),
                                    "would_change": [], "if_true": None, "if_false": None}
        would = set()
        for value, tier, new_fora in changes:
            fora = [f for b, f in self._forum_by_bit if b & new_fora]
            question[f"if_{value}"] = {"tier": tier, "new_fora": fora}
            if tier != base_tier:
                would.add("tier")
            if fora:
                would.add("fora")
        question["would_change"] = sorted(would)
        return question


_DEFAULT: Recommender | None = None


def recommend(case: Case | Mapping[str, Any], *, lang: str = "da",
              limit: int | None = None) -> Recommendation:
    """Recommend for one case with the bundled knowledge base and rules."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Recommender()
    return _DEFAULT.recommend(case, lang=lang, limit=limit)
