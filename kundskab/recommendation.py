"""Recommendations: tier of effort, fora and interventions for a case, explained.

The rules engine (durable-rules) derives the age group, target groups, tier and fora; the
catalogue's interventions are then ranked by the weights in rules/interventions.yaml; the
rules' reference evaluator answers which unknown factors would change the answer.

The engine runs for every case. What follows from its conclusions is a pure function of
few inputs, so it is built once and kept, with its JSON text, in bounded memos (cleared
when full): an explanation entry per rule and premises; the ranking per tier, target
groups, fora and risk factors; the questions the one-condition rules raise per set of
conclusions. Their keys hold concept ids, ranks and ages, never a case's reference, and
nothing is written anywhere. A test checks that answers do not depend on what was asked
before.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kundskab.cases import Case, parse_case
from kundskab.engine import Derivation, RulesEngine
from kundskab.errors import RequestError
from kundskab.i18n import LANGUAGES, N_, gettext
from kundskab.knowledge import KnowledgeBase, load
from kundskab.rules import Facts, Rule, RuleSet, single_bits

__all__ = ["Recommendation", "Recommender", "recommend"]

ALL_CITIZENS = "all-citizens"
MAX_LIMIT = 100  # the most interventions an answer lists (the CLI's --limit bound)
PROBE_AGES = (3, 8, 12, 15, 17, 20, 30)  # one age per region of the age bounds the rules use
EXPLANATION_ORDER = {"tier": 0, "age-group": 1, "target-group": 2, "forum": 3}

# The words of an answer: English here, Danish in the message catalogue.
MESSAGES: dict[str, str] = {
    "same_tier": N_("same tier as the case"),
    "lower_tier": N_("one tier below the case"),
    "group": N_("target group: {}"),
    "all": N_("aimed at all citizens"),
    "factors": N_("addresses {}"),
    "forum": N_("runs in {}"),
    "age": N_("age"),
}
TEXT = {lang: {key: gettext(text, lang) for key, text in MESSAGES.items()} for lang in LANGUAGES}

# One encoder for every piece (json.dumps with options builds a new encoder per call).
# ASCII only: an answer is one line for any line reader (U+2028 and the like escaped), and
# pure-ASCII text is joined and written as plain bytes, without widening or re-encoding.
_dumps: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":")).encode
Piece = tuple[Any, str]  # an output object and its JSON text
_NONE: frozenset[str] = frozenset()


def _piece(value: Any) -> Piece:
    return value, _dumps(value)


class _Memo(dict[Hashable, Any]):
    """A bounded memo (cleared when full, so memory stays flat over any batch). Look up
    with the dict's own `get`; `make` builds and keeps a value on a miss."""

    def __init__(self, size: int = 4096) -> None:
        super().__init__()
        self.size = size

    def make(self, key: Hashable, build: Callable[..., Any], *args: Any) -> Any:
        value = build(*args)
        if len(self) >= self.size:
            self.clear()
        self[key] = value
        return value


_ID_LISTS = _Memo()


def _ids_json(ids: list[str]) -> str:
    """The JSON text of a list of concept ids (few distinct lists exist)."""
    key = tuple(ids)
    found = _ID_LISTS.get(key)
    return found if found is not None else _ID_LISTS.make(key, _dumps, ids)  # type: ignore[no-any-return]


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
        return json.loads(self.labels_piece[1])  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The answer as compact, ASCII-only JSON text (the batch output line)."""
        return "".join((
            '{"ref":', _dumps(self.ref),
            ',"tier":', _dumps(self.tier),
            ',"target_groups":', _ids_json(self.target_groups),
            ',"fora":', _ids_json(self.fora),
            ',"interventions":[', ",".join([p[1] for p in self.interventions_pieces]),
            '],"open_questions":[', ",".join([p[1] for p in self.open_questions_pieces]),
            '],"explanation":[', ",".join([p[1] for p in self.explanation_pieces]),
            '],"labels":', self.labels_piece[1],
            ',"kb_version":', _dumps(self.kb_version), "}",
        ))

    def as_dict(self) -> dict[str, Any]:
        """A fresh object the caller may change freely."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]


class _Candidates:
    """The interventions open to one tier, set of target groups and set of fora, with the
    part of their score that does not depend on risk factors (tier, group, forum), best
    first. Many cases share these, so they are kept, compactly; they hold no case data."""

    __slots__ = ("base", "positions", "scores", "tops")

    def __init__(self, order: list[tuple[float, str, int]], minimum: float, size: int) -> None:
        # Best first, of those that reach the minimum score: positions and base scores.
        kept = [entry for entry in order if -entry[0] >= minimum]
        self.positions = array("H", [entry[2] for entry in kept])
        self.scores = array("d", [-entry[0] for entry in kept])
        # Base score by position, -1 where the intervention is not open.
        self.base = array("d", [-1.0]) * size
        for negative, _, position in order:
            self.base[position] = -negative
        # (language, limit): the ranked pieces, their explanation entries and the answer's
        # labels for a case with no risk factor, which are the same for every such case
        self.tops: dict[tuple[str, int], tuple[list[Piece], list[Piece], Piece]] = {}

    def head(self, count: int, ids: list[str]) -> list[tuple[float, str, int]]:
        """The first `count` as (-score, id, position), the order they sort in."""
        return [(-score, ids[position], position)
                for position, score in zip(self.positions[:count], self.scores[:count], strict=True)]


class Recommender:
    """Load once, recommend many times (the engine and indexes are reused)."""

    def __init__(self, kb: KnowledgeBase | None = None, rules: RuleSet | None = None) -> None:
        self.kb = kb or load()
        self.rules = rules or RuleSet.load(self.kb)
        self.engine = RulesEngine(self.rules)
        ranks = self.rules.tier_ranks
        self._label_json = {lang: {c.id: f"{_dumps(c.id)}:{_dumps(c.label(lang))}" for c in self.kb}
                            for lang in ("da", "en")}
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
             sum(self._bit[f] for f in e.fora), i)
            for i, e in enumerate(self._index))
        self._rows_for_all = [r for r in self._rows if r[2]]
        self._rows_by_group: dict[str, list[tuple[Any, ...]]] = {}
        for row in self._rows:
            for group in self._index[row[4]].groups:
                if group != ALL_CITIZENS:
                    self._rows_by_group.setdefault(group, []).append(row)
        self._ids = [e.id for e in self._index]
        self._fora_masks = [sum(self._bit[f] for f in e.fora) for e in self._index]
        self._factor_masks = [sum(self._bit[f] for f in e.factors if f in self._risk_factors) for e in self._index]
        # The interventions that address each risk factor: only they gain on the base score.
        self._addressing: dict[str, list[int]] = {}
        for position, entry in enumerate(self._index):
            for factor in sorted(entry.factors & self._risk_factors):
                self._addressing.setdefault(factor, []).append(position)
        # Bounded memos, one per kind of piece, so that a kind with many keys does not push
        # out the others (sizes: a few MiB each when full).
        self._firings = _Memo(8192)  # explanation entries per rule, language and premises
        self._rankings = _Memo(8192)  # ranked interventions per conclusions and risk factors
        self._items = _Memo(8192)  # one ranked intervention with its reasons
        self._questions = _Memo()  # one open question
        self._plain_questions = _Memo(8192)  # the one-condition rules' questions per conclusions
        self._eligible_memo = _Memo(2048)  # interventions open to a tier and target groups
        self._candidates_memo: dict[tuple[int, frozenset[str], frozenset[str]], _Candidates] = {}

    # ------------------------------------------------------------------ public

    def recommend(self, case: Case | Mapping[str, Any], *, lang: str = "da",
                  limit: int | None = None) -> Recommendation:
        if limit is not None and (type(limit) is not int or limit < 1):
            raise RequestError(N_("'limit' is a whole number from 1 (at most {max} are listed)"), max=MAX_LIMIT)
        if not isinstance(case, Case):
            case = parse_case(case, self.kb)
        if lang not in TEXT:
            lang = "en"
        facts = case.facts
        derivation = self.engine.run(facts)
        tier = derivation.tier or "general"
        conclusions = derivation.conclusions
        fora = sorted(conclusions.get("forum", ()))
        groups = sorted(conclusions.get("age_group", _NONE) | conclusions.get("target_group", _NONE))
        explanation = self._explain(derivation, tier, lang)
        interventions, labels = self._rank(facts, tier, groups, fora, lang,
                                           min(limit or self.rules.ranking.limit, MAX_LIMIT), explanation)
        questions = self._open_questions(case, derivation, lang)
        return Recommendation(case.ref, case.age, tier, groups, fora, self.kb.version,
                              interventions, questions, explanation, labels)

    # ------------------------------------------------------------------ parts

    def _label(self, ident: str, lang: str) -> str:
        return self._labels.get(lang, self._labels["en"]).get(ident, ident)

    def _explain(self, derivation: Derivation, tier: str, lang: str) -> list[Piece]:
        """One entry per rule, conclusion and premises behind the tier, fora and groups."""
        conclusions = derivation.conclusions
        keyed: dict[str, Piece] = {}
        memo, build = self._firings, self._firing_pieces
        for firing in derivation.firings:
            rule = firing.rule
            # The same rule on the same premises explains the same way in every case.
            key = (rule.id, lang, firing.signature)
            pieces = memo.get(key)
            if pieces is None:
                pieces = memo.make(key, build, rule, firing.premises, lang)
            for kind, ident, order, piece in pieces:
                # Only what the answer shows: not the general tier when a higher one holds.
                if (ident == tier if kind == "tier" else ident in conclusions.get(kind, _NONE)) \
                        and order not in keyed:
                    keyed[order] = piece
        return [keyed[k] for k in sorted(keyed)]

    def _firing_pieces(self, rule: Rule, premises: tuple[str, ...],
                       lang: str) -> tuple[tuple[str, str, str, Piece], ...]:
        """A firing's explanation entries, one per conclusion, with their sort order: kind
        of conclusion, conclusion, rule, premises, as one text (NUL-separated, so it sorts
        as the tuple of its parts would, and quicker)."""
        return tuple(
            (kind, ident, "\0".join((str(EXPLANATION_ORDER.get(kind.replace("_", "-"), 9)), conclusion, rule.id,
                                      *premises)),
             self._entry(rule, conclusion, premises, lang))
            for kind, ident in rule.conclusions
            for conclusion in (f"{kind.replace('_', '-')}:{ident}",))

    def _entry(self, rule: Rule, conclusion: str, premises: tuple[str, ...], lang: str) -> Piece:
        because = rule.because.get(lang, rule.because["en"])
        entry = {"rule": rule.id, "conclusion": conclusion, "because": because,
                 "premises": list(premises), "source": rule.source}
        return {"conclusion": conclusion}, _dumps(entry)

    def _candidates(self, rank: int, groups: frozenset[str], fora: frozenset[str]) -> _Candidates:
        found = self._candidates_memo.get((rank, groups, fora))
        if found is None:
            fora_mask = sum(self._bit.get(f, 0) for f in fora)
            w_forum = self.rules.ranking.weights["forum"]
            positions, scores = self._eligible(rank, groups)
            ids, fora_masks = self._ids, self._fora_masks
            order = [(-round(score + w_forum if fora_masks[position] & fora_mask else score, 9), ids[position],
                      position) for position, score in zip(positions, scores, strict=True)]
            order.sort()
            found = self._candidates_memo[(rank, groups, fora)] = _Candidates(
                order, self.rules.ranking.minimum_score - 1e-9, len(self._index))
            if len(self._candidates_memo) > 2048:  # bounded: memory stays flat over any batch
                self._candidates_memo.clear()
        return found

    def _eligible(self, rank: int, groups: frozenset[str]) -> tuple[array[int], array[float]]:
        """The positions of the interventions open to a tier and set of target groups (never
        more intensive than the facts justify), and the tier and group part of their score."""
        found = self._eligible_memo.get((rank, groups))
        if found is None:
            found = self._eligible_memo.make((rank, groups), self._score_eligible, rank, groups)
        return found  # type: ignore[no-any-return]

    def _score_eligible(self, rank: int, groups: frozenset[str]) -> tuple[array[int], array[float]]:
        w = self.rules.ranking.weights
        group_mask = sum(self._bit.get(g, 0) for g in groups)
        rows = list(self._rows_for_all)
        for group in groups:
            rows += self._rows_by_group.get(group, ())
        positions, scores = array("H"), array("d")
        seen: set[int] = set()
        for item_rank, item_groups, _, _, position in rows:
            if item_rank > rank or position in seen:
                continue
            seen.add(position)
            score = w["group"] if item_groups & group_mask else w["group"] / 2
            gap = rank - item_rank
            score += w["tier"] if gap == 0 else w["tier"] / 2 if gap == 1 else 0.0
            positions.append(position)
            scores.append(score)
        return positions, scores

    def _labels_piece(self, lang: str, tier: str, groups: list[str], fora: list[str], ranked: list[Piece]) -> Piece:
        """The labels of every concept the answer names, as JSON text."""
        label_json = self._label_json[lang]
        ids = sorted({tier, *fora, *groups, *[p[0]["id"] for p in ranked]})
        return None, "{" + ",".join([label_json.get(i) or f"{_dumps(i)}:{_dumps(i)}" for i in ids]) + "}"

    def _rank(self, facts: Facts, tier: str, group_list: list[str], fora_list: list[str], lang: str,
              limit: int, explanation: list[Piece]) -> tuple[list[Piece], Piece]:
        """The ranked interventions' pieces, and the labels of everything the answer names;
        their explanation entries are added to `explanation`."""
        groups, fora = frozenset(group_list), frozenset(fora_list)
        risks = frozenset(f for f in facts.true if f in self._risk_factors)
        if not risks:  # the candidates' own order decides: the same answer for every such case
            candidates = self._candidates(self.rules.tier_ranks[tier], groups, fora)
            found = candidates.tops.get((lang, limit))
            if found is None:
                ranked, explained = self._pieces(candidates.head(limit, self._ids), tier, groups, fora, risks, lang)
                labels = self._labels_piece(lang, tier, group_list, fora_list, ranked)
                found = candidates.tops[(lang, limit)] = (ranked, explained, labels)
            explanation += found[1]
            return list(found[0]), found[2]
        # With risk factors the answer depends on which: kept per candidates and risk factors
        # (conclusions and factor ids only, nothing that tells one case from another).
        key = (self.rules.tier_ranks[tier], groups, fora, lang, limit, risks)
        found = self._rankings.get(key)
        if found is None:
            found = self._rankings.make(key, self._rank_with_risks, tier, group_list, fora_list, risks, lang, limit)
        explanation += found[1]
        return list(found[0]), found[2]

    def _rank_with_risks(self, tier: str, group_list: list[str], fora_list: list[str], risks: frozenset[str],
                         lang: str, limit: int) -> tuple[list[Piece], list[Piece], Piece]:
        groups, fora = frozenset(group_list), frozenset(fora_list)
        candidates = self._candidates(self.rules.tier_ranks[tier], groups, fora)
        # Only interventions that address one of the case's risk factors gain on their base
        # score; the others keep their place in the candidates' order. Scores are rounded
        # so that equal scores tie on the id, however the sums were ordered.
        minimum = self.rules.ranking.minimum_score - 1e-9
        base, index, factor_masks = candidates.base, self._index, self._factor_masks
        risk_mask = sum(self._bit[f] for f in risks)
        share = self.rules.ranking.weights["factors"] / len(risks)
        top: list[tuple[float, str, int]] = []
        boosted: set[int] = set()
        for factor in risks:
            for position in self._addressing.get(factor, ()):
                score = base[position]
                if score < 0 or position in boosted:
                    continue  # not open to the case, or counted already
                boosted.add(position)
                score = round(score + share * (factor_masks[position] & risk_mask).bit_count(), 9)
                if score >= minimum:
                    top.append((-score, index[position].id, position))
        # The best `limit` of the others are among the first `limit + len(boosted)`.
        plain = [entry for entry in candidates.head(limit + len(boosted), self._ids) if entry[2] not in boosted]
        top += plain[:limit]
        top.sort()
        del top[limit:]
        pieces, explained = self._pieces(top, tier, groups, fora, risks, lang)
        return pieces, explained, self._labels_piece(lang, tier, group_list, fora_list, pieces)

    def _pieces(self, top: list[tuple[float, str, int]], tier: str, groups: frozenset[str],
                fora: frozenset[str], risks: frozenset[str], lang: str) -> tuple[list[Piece], list[Piece]]:
        """The answer's pieces for ranked interventions, and their explanation entries.
        Called once per ranking (rankings are kept), so plain memo keys do."""
        pieces, explained = [], []
        for neg_score, _, position in top:
            item = self._index[position]
            parts = (groups & item.groups, fora & item.fora, risks & item.factors, round(-neg_score, 3))
            key = (lang, position, tier, *parts)
            found = self._items.get(key)
            if found is None:
                found = self._items.make(key, self._ranked, item, lang, tier, *parts)
            pieces.append(found[0])
            explained.append(found[1])
        return pieces, explained

    def _ranked(self, item: _Indexed, lang: str, tier: str, specific_set: frozenset[str], forum_set: frozenset[str],
                addressed_set: frozenset[str], score: float) -> tuple[Piece, Piece]:
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
        return _piece(ranked), ({"conclusion": entry["conclusion"]}, _dumps(entry))

    def _open_questions(self, case: Case, derivation: Derivation, lang: str) -> list[Piece]:
        """Each unknown factor whose answer would change the tier or the fora, and what
        would change; and the age, when it is unknown and would matter."""
        rules = self.rules
        facts = case.facts
        age, rank, fired = facts.age, derivation.tier_rank, derivation.fired
        true_bits, false_bits = rules.factor_bits(facts)
        derived_bits = rules.concluded_bits(fired)
        unknown_bits = rules.read_bits & ~true_bits & ~false_bits
        keyed: list[tuple[tuple[Any, ...], Piece]] = []
        if not unknown_bits & rules.read_false_bits:
            # The usual case: a yes can change something, a no cannot. The questions the
            # simple rules raise depend on what was concluded, not on which factors are
            # unknown, so they are kept per conclusions (in question order) and filtered.
            triggered = rules.trigger_effects(age, true_bits, false_bits, derived_bits, rank, unknown_bits, fired)
            key = (lang, rules.simple_effects_key(age, true_bits, false_bits, derived_bits, rank, fired))
            plain = self._plain_questions.get(key)
            if plain is None:
                plain = self._plain_questions.make(key, self._simple_questions, age, true_bits, false_bits,
                                                   derived_bits, rank, fired, lang)
            if not triggered and age is not None:  # already in question order
                return [entry[1] for bit, entry in plain if bit & unknown_bits]
            keyed = [entry for bit, entry in plain if bit & unknown_bits and bit not in triggered]
            for bit, effect in triggered.items():
                if change := self._change("true", effect, rank, derived_bits):
                    keyed.append(self._question_for(bit, [change], rank, lang))
        else:
            if_true = rules.effects_of_unknown_bits(age, true_bits, false_bits, derived_bits, rank, unknown_bits,
                                                    fired)
            if_false = {bit: rules.what_if_bit(age, true_bits, false_bits, derived_bits, rank, bit, False, fired)
                        for bit in single_bits(unknown_bits & rules.read_false_bits)}
            for bit in if_true.keys() | if_false.keys():
                # What would change if the answer were yes, and if it were no.
                changes = [change for value, effects in (("true", if_true), ("false", if_false))
                           if bit in effects and (change := self._change(value, effects[bit], rank, derived_bits))]
                if changes:
                    keyed.append(self._question_for(bit, changes, rank, lang))
        if age is None:
            outcomes = set()
            for probe in PROBE_AGES:
                state, _ = rules.closure(Facts(probe, facts.true, facts.false))
                outcomes.add((state.tier_rank, frozenset(state.derived.get("forum", ()))))
            if len(outcomes) > 1:
                would = ["fora"] if len({o[0] for o in outcomes}) == 1 else ["fora", "tier"]
                question = {"factor": "age", "label": TEXT[lang]["age"], "would_change": would,
                            "if_true": None, "if_false": None}
                keyed.append(((False, "tier" not in would, "age"), _piece(question)))
        keyed.sort()  # sort keys are unique: one per factor
        return [piece for _, piece in keyed]

    def _simple_questions(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int, rank: int,
                          fired: set[str], lang: str) -> list[tuple[int, tuple[tuple[Any, ...], Piece]]]:
        """(factor bit, (sort key, question)) for every factor a simple rule reads whose
        yes would change the tier or the fora, in question order."""
        found = []
        for bit, effect in self.rules.simple_effects(age, true_bits, false_bits, derived_bits, rank, fired):
            if change := self._change("true", effect, rank, derived_bits):
                found.append((bit, self._question_for(bit, [change], rank, lang)))
        found.sort(key=lambda entry: entry[1][0])
        return found

    def _change(self, value: str, effect: tuple[int, int], rank: int,
                derived_bits: int) -> tuple[str, int, int] | None:
        """(answer, tier rank, new fora bits) if an answer's effect changes the tier or the
        fora, else None."""
        new_rank, new_bits = effect
        new_fora = new_bits & self._forum_bits & ~derived_bits
        return (value, new_rank, new_fora) if new_rank != rank or new_fora else None

    def _question_for(self, bit: int, changes: list[tuple[str, int, int]], rank: int,
                      lang: str) -> tuple[tuple[Any, ...], Piece]:
        key = (lang, bit, rank, *changes)
        found = self._questions.get(key)
        if found is None:
            found = self._questions.make(key, self._question, bit, changes, rank, lang)
        return found  # type: ignore[no-any-return]

    def _question(self, bit: int, changes: list[tuple[str, int, int]], rank: int,
                  lang: str) -> tuple[tuple[Any, ...], Piece]:
        tier_by_rank = self.rules.tier_by_rank
        base_tier = tier_by_rank.get(rank, "general")
        factor = self.rules.factor_by_bit[bit]
        question: dict[str, Any] = {"factor": factor, "label": self._label(factor, lang),
                                    "would_change": [], "if_true": None, "if_false": None}
        would = set()
        for value, new_rank, new_fora in changes:
            tier = tier_by_rank.get(new_rank, base_tier)
            fora = [f for b, f in self._forum_by_bit if b & new_fora]
            question[f"if_{value}"] = {"tier": tier, "new_fora": fora}
            if tier != base_tier:
                would.add("tier")
            if fora:
                would.add("fora")
        question["would_change"] = sorted(would)
        return (True, "tier" not in would, factor), _piece(question)


_DEFAULT: Recommender | None = None


def recommend(case: Case | Mapping[str, Any], *, lang: str = "da",
              limit: int | None = None) -> Recommendation:
    """Recommend for one case with the bundled knowledge base and rules."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Recommender()
    return _DEFAULT.recommend(case, lang=lang, limit=limit)
