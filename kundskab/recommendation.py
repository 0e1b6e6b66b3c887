"""Recommendations: tier of effort, fora and interventions for a case, explained.

The rules engine (durable-rules) derives the age group, target groups, tier and fora; the
catalogue's interventions are then ranked by the weights in rules/interventions.yaml; the
rules' reference evaluator answers which unknown factors would change the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundskab.cases import Case, parse_case
from kundskab.engine import Derivation, RulesEngine
from kundskab.knowledge import KnowledgeBase, load
from kundskab.rules import Facts, RuleSet, State

__all__ = ["Recommendation", "Recommender", "recommend"]

ALL_CITIZENS = "all-citizens"
PROBE_AGES = (3, 8, 12, 15, 17, 20, 30)  # one age per region of the age bounds the rules use

TEXT = {
    "da": {
        "same_tier": "samme indsatsniveau som sagen",
        "lower_tier": "et indsatsniveau under sagens",
        "group": "målgruppe: {}",
        "all": "rettet mod alle borgere",
        "factors": "adresserer {}",
        "forum": "forankret i {}",
    },
    "en": {
        "same_tier": "same tier as the case",
        "lower_tier": "one tier below the case",
        "group": "target group: {}",
        "all": "aimed at all citizens",
        "factors": "addresses {}",
        "forum": "runs in {}",
    },
}


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
    """The answer for one case; `as_dict` gives the contract's JSON object."""

    ref: str | None
    age: int | None
    tier: str
    target_groups: list[str]
    fora: list[str]
    interventions: list[dict[str, Any]]
    open_questions: list[dict[str, Any]]
    explanation: list[dict[str, Any]]
    kb_version: str
    labels: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "tier": self.tier,
            "target_groups": self.target_groups,
            "fora": self.fora,
            "interventions": self.interventions,
            "open_questions": self.open_questions,
            "explanation": self.explanation,
            "labels": self.labels,
            "kb_version": self.kb_version,
        }


class Recommender:
    """Load once, recommend many times (the engine and indexes are reused)."""

    def __init__(self, kb: KnowledgeBase | None = None, rules: RuleSet | None = None) -> None:
        self.kb = kb or load()
        self.rules = rules or RuleSet.load(self.kb)
        self.engine = RulesEngine(self.rules)
        ranks = self.rules.tier_ranks
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
            (bit, ident) for (kind, ident), bit in self.rules.derived_bit.items() if kind == "forum")
        self._forum_bits = sum(bit for bit, _ in self._forum_by_bit)
        self._forum_by_bit.sort(key=lambda x: x[1])
        # Ranking runs over bit masks, rows sorted by tier so the loop can stop early.
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

    # ------------------------------------------------------------------ public

    def recommend(self, case: Case | Mapping[str, Any], *, lang: str = "da",
                  limit: int | None = None) -> Recommendation:
        if not isinstance(case, Case):
            case = parse_case(case, self.kb)
        derivation = self.engine.run(case.facts)
        tier = derivation.tier or "general"
        fora = sorted(derivation.conclusions.get("forum", ()))
        groups = sorted(derivation.conclusions.get("age_group", set())
                        | derivation.conclusions.get("target_group", set()))
        explanation = self._explain(derivation, tier, set(fora), set(groups), lang)
        interventions = self._rank(case, tier, set(groups), set(fora), lang,
                                   limit or self.rules.ranking.limit, explanation)
        questions = self._open_questions(case, derivation, lang)
        ids = {tier, *fora, *groups, *(i["id"] for i in interventions)}
        labels = {i: self._label(i, lang) for i in sorted(ids)}
        return Recommendation(case.ref, case.age, tier, groups, fora, interventions, questions,
                              explanation, self.kb.version, labels)

    # ------------------------------------------------------------------ parts

    def _label(self, ident: str, lang: str) -> str:
        return self._labels.get(lang, self._labels["en"]).get(ident, ident)

    def _explain(self, derivation: Derivation, tier: str, fora: set[str], groups: set[str],
                 lang: str) -> list[dict[str, Any]]:
        answer = {("tier", tier)} | {("forum", f) for f in fora} | {
            (k, g) for g in groups for k in ("age_group", "target_group")}
        entries: list[dict[str, Any]] = []
        seen: set[tuple[str, str, tuple[str, ...]]] = set()
        for firing in derivation.firings:
            for kind, ident in firing.conclusions:
                if (kind, ident) not in answer:
                    continue  # e.g. the general tier when a higher one holds
                conclusion = f"{kind.replace('_', '-')}:{ident}"
                key = (firing.rule.id, conclusion, firing.premises)
                if key in seen:
                    continue
                seen.add(key)
                entries.append({
                    "rule": firing.rule.id,
                    "conclusion": conclusion,
                    "because": firing.rule.because.get(lang, firing.rule.because["en"]),
                    "premises": list(firing.premises),
                    "source": firing.rule.source,
                })
        order = {"tier": 0, "age-group": 1, "target-group": 2, "forum": 3}
        entries.sort(key=lambda e: (order.get(e["conclusion"].split(":")[0], 9), e["conclusion"], e["rule"]))
        return entries

    def _rank(self, case: Case, tier: str, groups: set[str], fora: set[str], lang: str,
              limit: int, explanation: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ranking = self.rules.ranking
        w = ranking.weights
        w_tier, w_group, w_factors, w_forum = w["tier"], w["group"], w["factors"], w["forum"]
        rank = self.rules.tier_ranks[tier]
        bit = self._bit
        group_mask = sum(bit.get(g, 0) for g in groups)
        fora_mask = sum(bit.get(f, 0) for f in fora)
        risk_mask = sum(bit.get(f, 0) for f in case.facts.true if f in self._risk_factors)
        n_risks = risk_mask.bit_count()
        minimum = ranking.minimum_score - 1e-9
        scored = []
        rows = self._rows_for_all[:]
        for group in groups:
            rows += self._rows_by_group.get(group, ())
        seen: set[int] = set()
        for row in rows:
            item_rank, item_groups, for_all, item_factors, item_fora, position = row
            if item_rank > rank or position in seen:
                continue  # never more intensive than the facts justify
            seen.add(position)
            if item_groups & group_mask:
                score = w_group
            elif for_all:
                score = w_group / 2
            else:
                continue
            gap = rank - item_rank
            if gap == 0:
                score += w_tier
            elif gap == 1:
                score += w_tier / 2
            hits = item_factors & risk_mask
            if hits:
                score += w_factors * hits.bit_count() / n_risks
            if item_fora & fora_mask:
                score += w_forum
            if score >= minimum:
                scored.append((-score, self._index[position].id, position))
        scored.sort()
        words = TEXT.get(lang, TEXT["en"])
        result = []
        for neg_score, _, position in scored[:limit]:
            item = self._index[position]
            specific = sorted(item.groups & groups)
            addressed = sorted(f for f in item.factors if f in case.facts.true and f in self._risk_factors)
            forum_hits = sorted(item.fora & fora)
            reasons = [words["same_tier"] if item.rank == rank else words["lower_tier"]]
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
            result.append({"id": item.id, "label": self._label(item.id, lang), "tier": item.tier,
                           "score": round(-neg_score, 3), "reasons": reasons, "source": item.source})
            explanation.append({
                "rule": ranking.id,
                "conclusion": f"intervention:{item.id}",
                "because": ranking.because.get(lang, ranking.because["en"]),
                "premises": premises,
                "source": item.source,
            })
        return result

    def _open_questions(self, case: Case, derivation: Derivation, lang: str) -> list[dict[str, Any]]:
        rules = self.rules
        base = State(case.facts, derivation.conclusions, derivation.tier_rank, derivation.tier)
        bits = rules.bits_of(base)
        fora_bits = self._forum_bits
        base_fora = bits[2] & fora_bits
        base_tier = rules.tier_of(base)
        fired = frozenset(f.rule.id for f in derivation.firings)
        unknown = [f for f in rules.factors_read if case.factors.get(f) is None]
        effects: dict[str, dict[str, tuple[int, int]]] = {"true": rules.effects_of_unknowns(
            base, unknown, fired, bits)}
        for factor in unknown:  # only rules with `factor_false` conditions need this
            if factor in rules.factors_read_false:
                effects.setdefault("false", {})[factor] = rules.what_if(base, factor, False, fired, bits)
        questions: list[dict[str, Any]] = []
        for factor in unknown:
            changes: dict[str, Any] = {}
            would: set[str] = set()
            for value, found in effects.items():
                if factor not in found:
                    continue
                rank, derived = found[factor]
                new_fora = derived & fora_bits & ~base_fora
                if rank == base.tier_rank and not new_fora:
                    continue
                tier = rules.tier_by_rank.get(rank, base_tier)
                changes[value] = {"tier": tier,
                                  "new_fora": [f for b, f in self._forum_by_bit if b & new_fora]}
                if tier != base_tier:
                    would.add("tier")
                if new_fora:
                    would.add("fora")
            if changes:
                questions.append({"factor": factor, "label": self._label(factor, lang),
                                  "would_change": sorted(would),
                                  "if_true": changes.get("true"), "if_false": changes.get("false")})
        if case.age is None:
            outcomes = set()
            for age in PROBE_AGES:
                state, _ = rules.closure(Facts(age, case.facts.true, case.facts.false))
                outcomes.add((state.tier_rank, frozenset(state.derived.get("forum", ()))))
            if len(outcomes) > 1:
                would = {"fora"} if len({o[0] for o in outcomes}) == 1 else {"tier", "fora"}
                questions.insert(0, {"factor": "age", "label": "alder" if lang == "da" else "age",
                                     "would_change": sorted(would), "if_true": None, "if_false": None})
        questions.sort(key=lambda q: (q["factor"] != "age", "tier" not in q["would_change"], q["factor"]))
        return questions


_DEFAULT: Recommender | None = None


def recommend(case: Case | Mapping[str, Any], *, lang: str = "da",
              limit: int | None = None) -> Recommendation:
    """Recommend for one case with the bundled knowledge base and rules."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Recommender()
    return _DEFAULT.recommend(case, lang=lang, limit=limit)
