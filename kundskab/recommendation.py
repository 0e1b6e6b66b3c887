"""Recommendations: tier of effort, fora and interventions for a case, explained.

The rules engine (durable-rules) derives the age group, target groups, tier and fora; the
catalogue's interventions are then ranked by the weights in rules/interventions.yaml; the
same rules compiled to bit masks (kundskab.whatif) answer which unknown factors would change
the answer.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kundskab._memo import BoundedMemo
from kundskab.cases import Case, case_warnings, parse_case, unasked_factors
from kundskab.engine import Derivation, RulesEngine
from kundskab.errors import RequestError
from kundskab.i18n import LANGUAGES, N_, gettext
from kundskab.knowledge import KnowledgeBase, load
from kundskab.ranking import CaseView, Ranker
from kundskab.rules import Facts, Rule, RuleSet
from kundskab.whatif import WhatIf, single_bits

__all__ = ["Recommendation", "Recommender", "recommend"]

DEFAULT_QUESTIONS = 5
MAX_LIMIT = 100  # the most interventions an answer lists (the CLI's --limit bound)
PROBE_AGES = (3, 8, 12, 15, 17, 20, 30)  # one age per region of the age bounds the rules use
EXPLANATION_ORDER = {"tier": 0, "age-group": 1, "target-group": 2, "forum": 3}

# The words of an answer: English here, Danish in the message catalogue (the ranking's
# reasons are kundskab.ranking's).
MESSAGES: dict[str, str] = {"age": N_("age")}
TEXT = {lang: {key: gettext(text, lang) for key, text in MESSAGES.items()} for lang in LANGUAGES}

# One encoder for every piece (json.dumps with options builds a new encoder per call).
# ASCII only: an answer is one line for any line reader (U+2028 and the like escaped), and
# pure-ASCII text is joined and written as plain bytes, without widening or re-encoding.
# The explanation's "rule" for a factor taken as true because another implies it: the link
# is knowledge (ks:implies in ontology/concepts/factors.ttl), not a rule in rules/.
IMPLICATION_RULE = "factor-implication"
IMPLICATION_BECAUSE = N_("'{factor}' implies '{other}' (a link in the knowledge base, the editor's inference), "
                         "so the rules take it as true.")

_dumps: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":")).encode
Piece = tuple[Any, str]  # an output object and its JSON text
_NONE: frozenset[str] = frozenset()


def _piece(value: Any) -> Piece:
    return value, _dumps(value)


_ID_LISTS = BoundedMemo()


def _ids_json(ids: list[str]) -> str:
    """The JSON text of a list of concept ids (few distinct lists exist)."""
    key = tuple(ids)
    found = _ID_LISTS.get(key)
    return found if found is not None else _ID_LISTS.make(key, _dumps, ids)  # type: ignore[no-any-return]


class _LabelJSON(dict[str, str]):
    """`"id":"label"` as JSON text per concept id in one language, written when first
    asked for (start-up does not pay for the many concepts no answer names)."""

    def __init__(self, kb: KnowledgeBase, lang: str) -> None:
        super().__init__()
        self.kb = kb
        self.lang = lang

    def __missing__(self, ident: str) -> str:
        text = f"{_dumps(ident)}:{_dumps(self.kb.label(ident, self.lang))}"
        if ident in self.kb:  # kept: at most one entry per concept
            self[ident] = text
        return text


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
    # What looks wrong in the case ({"code", "message"}, e.g. a ref like a CPR number): the
    # same on every path (library, command line, batch, HTTP); the key is left out when empty.
    warnings: list[dict[str, str]] = field(default_factory=list)

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
            ',"kb_version":', _dumps(self.kb_version),
            ',"warnings":' + _dumps(self.warnings) + "}" if self.warnings else "}",
        ))

    def as_dict(self) -> dict[str, Any]:
        """A fresh object the caller may change freely."""
        return json.loads(self.to_json())  # type: ignore[no-any-return]


class Recommender:
    """Load once, recommend many times (the engine and indexes are reused)."""

    def __init__(self, kb: KnowledgeBase | None = None, rules: RuleSet | None = None) -> None:
        self.kb = kb if kb is not None else load()  # an empty knowledge base is still the one given
        self.rules = rules or RuleSet.load(self.kb)
        self.engine = RulesEngine(self.rules)
        self.whatif = WhatIf(self.rules)
        self.ranker = Ranker(self.kb, self.rules.ranking, self.rules.tier_ranks)
        self._label_json = {lang: _LabelJSON(self.kb, lang) for lang in ("da", "en")}
        self._risk_factors = frozenset(f.id for f in self.kb.of_type("RiskFactor"))
        self._forum_by_bit = sorted(
            ((bit, ident) for (kind, ident), bit in self.whatif.derived_bit.items() if kind == "forum"),
            key=lambda x: x[1])
        self._forum_bits = sum(bit for bit, _ in self._forum_by_bit)
        # Questions never ask about a factor the case's answers already imply, nor one that
        # cannot apply at the case's age (ks:implies, ks:makesMoot, ks:minAge/ks:maxAge on factors).
        factor_bit = self.whatif.factor_bit
        # ks:makesMoot (a gang member is not asked whether he is close to gangs) counts here too.
        self._implied_mask = {factor_bit[f]: sum(factor_bit[i] for i in implied if i in factor_bit)
                              for f, implied in unasked_factors(self.kb).items() if f in factor_bit}
        self._factor_ages = [(factor_bit[f.id], f.int_value("minAge"), f.int_value("maxAge"))
                             for f in self.kb.of_type("Factor")
                             if f.id in factor_bit and (f.int_value("minAge") is not None
                                                        or f.int_value("maxAge") is not None)]
        self._age_masks: dict[int, int] = {}
        # Bounded memos, one per kind of piece, so that a kind with many keys does not push
        # out the others (sizes: a few MiB each when full).
        # Explanation entries per language and firing (rule and premises).
        self._firings = {lang: BoundedMemo(8192) for lang in TEXT}
        self._questions = BoundedMemo()  # one open question
        self._implied = BoundedMemo(1024)  # the implication entries per language and implied factors
        # The one-condition rules' questions per conclusions: ~1,800 keys in the first 50,000
        # random cases, then a slow trickle of new ones; bounded near that working set so that
        # memory is flat after the first 100,000 cases, not only after millions.
        self._plain_questions = BoundedMemo(2048)
        # The labels' JSON per language, conclusions and items: six in seven found at 1,024;
        # at 4,096 nearly all, but it filled so slowly that memory still rose by 0.7 MiB over
        # the second half of a 1,000,000-case batch (+0.2 MiB at 1,024).
        self._labels = BoundedMemo(1024)

    def __reduce__(self) -> tuple[Any, ...]:
        # A recommender crosses to a spawned batch worker as what it was built from (the
        # engine and memos are rebuilt there): the worker answers with the caller's
        # knowledge base and rules, not the bundled ones.
        return type(self), (self.kb, self.rules)

    # ------------------------------------------------------------------ public

    def recommend(self, case: Case | Mapping[str, Any], *, lang: str = "da",
                  limit: int | None = None, questions: int | None = None) -> Recommendation:
        """The recommendation for one case: `limit` interventions (the ranking's default
        when None) and at most `questions` open questions (5 when None)."""
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
        if case.implied:
            key = (lang, *sorted(case.implied.items()))
            implied = self._implied.get(key)
            if implied is None:
                implied = self._implied.make(key, self._implications, case, lang)
            explanation = implied + explanation
        view = CaseView(tier, derivation.tier_rank, frozenset(groups), frozenset(fora),
                        facts.true & self._risk_factors, facts.true, case.offences, case.municipality, case.age)
        ranked = self.ranker.rank(view, lang, min(limit or self.rules.ranking.limit, MAX_LIMIT))
        explanation += ranked.explained
        labels = self._labels_piece(lang, tier, groups, fora, ranked.ids)
        asked = self._open_questions(case, derivation, lang)
        count = DEFAULT_QUESTIONS if questions is None else max(0, questions)
        warnings = [{"code": code, "message": gettext(message, lang)} for code, message in case_warnings(case)] \
            if case.ref is not None else []
        return Recommendation(case.ref, case.age, tier, groups, fora, self.kb.version,
                              list(ranked.items), asked[:count], explanation, labels, warnings)

    # ------------------------------------------------------------------ parts

    def _label(self, ident: str, lang: str) -> str:
        return self.ranker.label(ident, lang)  # the ranker's table of labels: one per language

    def _explain(self, derivation: Derivation, tier: str, lang: str) -> list[Piece]:
        """One entry per rule, conclusion and premises behind the tier, fora and groups."""
        conclusions = derivation.conclusions
        keyed: dict[str, Piece] = {}
        memo, build = self._firings[lang], self._firing_pieces
        for firing in derivation.firings:
            # A firing is one object for every case that matches its rule on the same facts
            # (the engine keeps them), so it is its own key: no tuple to build and hash. The
            # memo's keys keep them alive, so an object's identity is never reused meanwhile.
            pieces = memo.get(firing)
            if pieces is None:
                pieces = memo.make(firing, build, firing.rule, firing.premises, lang)
            for kind, ident, order, piece in pieces:
                # Only what the answer shows: not the general tier when a higher one holds.
                if (ident == tier if kind == "tier" else ident in conclusions.get(kind, _NONE)) \
                        and order not in keyed:
                    keyed[order] = piece
        return [keyed[k] for k in sorted(keyed)]

    def _implications(self, case: Case, lang: str) -> list[Piece]:
        """One explanation entry per factor the rules took as true because a factor the case
        gives implies it (ks:implies, the editor's inference in the knowledge base)."""
        entries = []
        for factor, given in sorted(case.implied.items()):
            sources = self.kb.get(given).sources
            entry = {"rule": IMPLICATION_RULE, "conclusion": f"factor:{factor}=true",
                     "because": gettext(IMPLICATION_BECAUSE, lang).format(
                         factor=self._label(given, lang), other=self._label(factor, lang)),
                     "premises": [f"factor:{given}=true"], "source": str(sources[0]) if sources else None}
            entries.append(({"conclusion": entry["conclusion"]}, _dumps(entry)))
        return entries

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

    def _labels_piece(self, lang: str, tier: str, groups: list[str], fora: list[str], ranked: frozenset[str]) -> Piece:
        """The labels of every concept the answer names, as JSON text."""
        key = (lang, tier, *groups, "", *fora, ranked)  # "" ends the groups: no id is empty
        found = self._labels.get(key)
        if found is None:
            label_json = self._label_json[lang]
            ids = sorted(ranked.union(fora, groups, (tier,)))
            found = (None, "{" + ",".join([label_json[i] for i in ids]) + "}")
            self._labels.keep(key, found)
        return found

    def _open_questions(self, case: Case, derivation: Derivation, lang: str) -> list[Piece]:
        """Each unknown factor whose answer would change the tier or the fora, and what
        would change; and the age, when it is unknown and would matter."""
        whatif = self.whatif
        facts = case.facts
        age, rank, fired = facts.age, derivation.tier_rank, derivation.fired
        true_bits, false_bits = whatif.factor_bits(facts)
        derived_bits = whatif.concluded_bits(fired)
        unknown_bits = whatif.read_bits & ~true_bits & ~false_bits & ~self._not_asked(age, true_bits)
        keyed: list[tuple[tuple[Any, ...], Piece]] = []
        if not unknown_bits & whatif.read_false_bits:
            # The usual case: a yes can change something, a no cannot. The questions the
            # simple rules raise depend on what was concluded, not on which factors are
            # unknown, so they are kept per conclusions (in question order) and filtered.
            triggered = whatif.trigger_effects(age, true_bits, false_bits, derived_bits, rank, unknown_bits, fired)
            key = (lang, whatif.simple_effects_key(age, true_bits, false_bits, derived_bits, rank, fired))
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
            if_true = whatif.effects_of_unknown_bits(age, true_bits, false_bits, derived_bits, rank, unknown_bits,
                                                    fired)
            if_false = {bit: whatif.what_if_bit(age, true_bits, false_bits, derived_bits, rank, bit, False, fired)
                        for bit in single_bits(unknown_bits & whatif.read_false_bits)}
            for bit in if_true.keys() | if_false.keys():
                # What would change if the answer were yes, and if it were no.
                changes = [change for value, effects in (("true", if_true), ("false", if_false))
                           if bit in effects and (change := self._change(value, effects[bit], rank, derived_bits))]
                if changes:
                    keyed.append(self._question_for(bit, changes, rank, lang))
        if age is None:
            outcomes = set()
            for probe in PROBE_AGES:
                state, _ = self.rules.closure(Facts(probe, facts.true, facts.false))
                outcomes.add((state.tier_rank, frozenset(state.derived.get("forum", ()))))
            if len(outcomes) > 1:
                would = ["fora"] if len({o[0] for o in outcomes}) == 1 else ["fora", "tier"]
                question = {"factor": "age", "label": TEXT[lang]["age"], "would_change": would,
                            "if_true": None, "if_false": None}
                keyed.append(((False, "tier" not in would, 0, "age"), _piece(question)))
        keyed.sort()  # sort keys are unique: one per factor
        return [piece for _, piece in keyed]

    def _not_asked(self, age: int | None, true_bits: int) -> int:
        """The factor bits never asked: implied by the true ones, or impossible at the age."""
        mask = 0
        implied = self._implied_mask
        for bit in single_bits(true_bits):
            mask |= implied.get(bit, 0)
        if age is not None:
            by_age = self._age_masks.get(age)
            if by_age is None:
                by_age = sum(bit for bit, low, high in self._factor_ages
                             if (low is not None and age < low) or (high is not None and age > high))
                if len(self._age_masks) < 1024:  # ages are whole years up to MAX_AGE
                    self._age_masks[age] = by_age
            mask |= by_age
        return mask

    def _simple_questions(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int, rank: int,
                          fired: set[str], lang: str) -> list[tuple[int, tuple[tuple[Any, ...], Piece]]]:
        """(factor bit, (sort key, question)) for every factor a simple rule reads whose
        yes would change the tier or the fora, in question order."""
        found = []
        for bit, effect in self.whatif.simple_effects(age, true_bits, false_bits, derived_bits, rank, fired):
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
        factor = self.whatif.factor_by_bit[bit]
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
        # Most informative first: a changed tier, then the most new fora.
        new_fora = sum(len(question[f"if_{value}"]["new_fora"]) for value, _, _ in changes)
        return (True, "tier" not in would, -new_fora, factor), _piece(question)


_DEFAULT: Recommender | None = None


def recommend(case: Case | Mapping[str, Any], *, lang: str = "da",
              limit: int | None = None) -> Recommendation:
    """Recommend for one case with the bundled knowledge base and rules."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Recommender()
    return _DEFAULT.recommend(case, lang=lang, limit=limit)
