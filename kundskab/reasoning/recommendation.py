"""Recommendations: tier of effort, fora and interventions for a case, explained.

The rules engine (durable-rules) derives the age group, target groups, tier and fora; the
catalogue's interventions are then ranked by the weights in rules/interventions.yaml; the
same rules compiled to bit masks (kundskab.reasoning.whatif) answer which unknown factors would change
the answer.

The answer is typed (kundskab.reasoning.answer); its JSON text is written by
kundskab.reasoning.answer_json. The engine runs for every case. What follows from its
conclusions is a pure function of few inputs, so it is built once and kept in bounded memos
(cleared when full), and answers alike share the very objects: an explanation entry per
rule and premises; the ranking per tier, target groups, fora and risk factors; the
questions the one-condition rules raise per set of conclusions. Their keys hold concept
ids, ranks and ages, never a case's reference, and nothing is written anywhere. A test
checks that answers do not depend on what was asked before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from kundskab._memo import BoundedMemo
from kundskab.errors import RequestError
from kundskab.i18n import LANGUAGES, N_, gettext
from kundskab.knowledge.base import KnowledgeBase, load
from kundskab.reasoning.answer import (
    Brought,
    CaseWarning,
    Change,
    Explanation,
    Fact,
    ForumByAge,
    ForumElsewhere,
    ForumRuledOut,
    NeedQuestion,
    OpenQuestion,
    Recommendation,
)
from kundskab.reasoning.cases import (
    MAX_AGE,
    Case,
    age_group_ages,
    case_warnings,
    conditions,
    parse_case,
    unasked_factors,
)
from kundskab.reasoning.engine import Derivation, RulesEngine
from kundskab.reasoning.ranking import FIRST, CaseView, Ranked, Ranker
from kundskab.reasoning.rules import Facts, Rule, RuleSet
from kundskab.reasoning.whatif import WhatIf, single_bits

__all__ = ["Recommendation", "Recommender", "recommend"]

DEFAULT_QUESTIONS = 5
MAX_LIMIT = 100  # the most interventions an answer lists (the CLI's --limit bound)
NEED_QUESTIONS = 3  # the most need questions an answer asks (beside its open questions)
PROBE_AGES = (3, 8, 12, 15, 17, 20, 30)  # one age per region of the age bounds the rules use
EXPLANATION_ORDER = {"tier": 0, "age-group": 1, "target-group": 2, "forum": 3}

# The words of an answer: English here, Danish in the message catalogue (the ranking's
# reasons are kundskab.reasoning.ranking's).
MESSAGES: dict[str, str] = {"age": N_("age")}
TEXT = {lang: {key: gettext(text, lang) for key, text in MESSAGES.items()} for lang in LANGUAGES}

# The explanation's "rule" for a factor taken as true because another implies it: the link
# is knowledge (ks:implies in ontology/concepts/factors.ttl), not a rule in rules/.
IMPLICATION_RULE = "factor-implication"
IMPLICATION_BECAUSE = N_("'{factor}' implies '{other}' (a link in the knowledge base, the editor's inference), "
                         "so the rules take it as true.")

# Who the person is (kundskab.reasoning.cases): the roles of a person answered as a victim only.
VICTIM_ROLES = frozenset({"victim", "relative"})
VICTIM_FACTOR = "victim-of-crime"
HONOUR_FACTOR = "honour-related-conflict"
HONOUR_CRIME = "honour-related-crime"
CHILD_ABUSE = "child-abuse-suspected"
FAMILY_PROBLEMS = "family-problems"
MEDIATION_FACTOR = "mediation-consent"
MEDIATION_FORUM = "conflict-council"
WANTS_OUT = "wants-to-leave-gang"
RELEASED = "released-from-custody"
GANG_MEMBER = "gang-member"
GANG_CRIME = "gang-crime"
# Factors whose yes changes more than the needs the ranking meets (honour and abuse rule
# mediation and honour measures in or out, a gang member or a release turns control on or
# off, a victim is answered as one): never a need question. (Trouble at home does so only for
# a victim, whose questions leave out what was done to them anyway.)
NOT_A_NEED_ONLY = frozenset({HONOUR_FACTOR, CHILD_ABUSE, GANG_MEMBER, WANTS_OUT, RELEASED, VICTIM_FACTOR})
ADULT_AGE = 18  # ks:askedOfMinorsAfter applies below it
RESIDENTS_GROUP = "residents-of-vulnerable-areas"  # the target group of a forum for an estate's residents
FAMILY_DOMAIN = "family"
# For a person named only a victim: what happens at home is part of what was done to them,
# and worrying behaviour their reaction to it (a groomed child who has gone quiet); neither is
# a sign of their own offending (blind cases of December 2026: every victim-only case general).
VICTIM_CONTEXT_DOMAINS = frozenset({FAMILY_DOMAIN, "behaviour"})
OFFENDING_DOMAIN = "offending"
# What a person named only a victim is asked about: what was done to them (not their own
# offending, gang ties or other risk signs of their own; what happens at home is taken as
# part of what was done to them and raises no tier, so it changes no answer either).
VICTIM_QUESTION_DOMAINS = {"victimisation"}
ROLE_RULE = "case-role"
RELATIVE = "relative"
RELATIVE_ONLY = frozenset({RELATIVE})
# SSP's parent-board cooperation and victim support for relatives: the sources' help for parents.
RELATIVE_SOURCE = "000_2d4d8aed5ea821e9.txt#SSP og SSP+"
RELATIVE_BECAUSE = N_("A parent or close relative asks for help: the age and factors describe the child or young "
                      "person they are worried about; measures for parents and relatives are included.")
ROLE_BECAUSE = N_("The case names the person a victim of crime: the answer gives support and protection "
                  "matched to what they have suffered.")
WITHHELD_BECAUSE = N_("The person is named a victim: {factors} describe what was done to them or how they "
                      "react to it, not signs of their own offending, so they do not raise the tier; the "
                      "measures still meet them.")

_NONE: frozenset[str] = frozenset()
# No groups, fora or entries: a case whose factors leave every age open.
_NO_BOUND: tuple[frozenset[str], frozenset[str], tuple[Explanation, ...]] = (_NONE, _NONE, ())
Keyed = tuple[tuple[Any, ...], OpenQuestion]  # a question and its sort key


class Recommender:
    """Load once, recommend many times (the engine and indexes are reused)."""

    def __init__(self, kb: KnowledgeBase | None = None, rules: RuleSet | None = None) -> None:
        self.kb = kb if kb is not None else load()  # an empty knowledge base is still the one given
        self.rules = rules or RuleSet.load(self.kb)
        self.engine = RulesEngine(self.rules)
        self.whatif = WhatIf(self.rules)
        in_domain = {f.id: set(f.ref("inDomain")) for f in self.kb.of_type("Factor")}
        # A need question asks about a risk factor that changes only the needs the measures
        # meet: not one of NOT_A_NEED_ONLY, not one a case must raise, not offending itself.
        need_factors = {f.id for f in self.kb.of_type("RiskFactor") if OFFENDING_DOMAIN not in in_domain[f.id]
                        and f.id not in NOT_A_NEED_ONLY and f.value("askedOnlyWhenRaised") != "true"}
        self.ranker = Ranker(self.kb, self.rules.ranking, self.rules.tier_ranks,
                             {ident for kind, ident in self.whatif.derived_bit if kind == "forum"}, need_factors)
        self._risk_factors = frozenset(f.id for f in self.kb.of_type("RiskFactor"))
        # Rule id -> the rules whose reason it gives instead when both fire (rules' `replaces`).
        self._replacing = {r.id: r.replaces for r in self.rules if r.replaces}
        self._forum_by_bit = sorted(
            ((bit, ident) for (kind, ident), bit in self.whatif.derived_bit.items() if kind == "forum"),
            key=lambda x: x[1])
        self._forum_bits = sum(bit for bit, _ in self._forum_by_bit)
        self._bit_of_forum = {forum: bit for bit, forum in self._forum_by_bit}
        self._derived_of_bit = {bit: derived for derived, bit in self.whatif.derived_bit.items()}
        # Questions never ask about a factor the case's answers already imply, nor one that
        # cannot apply at the case's age (ks:implies, ks:makesMoot, ks:minAge/ks:maxAge on factors).
        factor_bit = self.whatif.factor_bit
        # ks:makesMoot (a gang member is not asked whether he is close to gangs) counts here too.
        self._implied_mask = {factor_bit[f]: sum(factor_bit[i] for i in implied if i in factor_bit)
                              for f, implied in unasked_factors(self.kb).items() if f in factor_bit}
        # A factor that implies others is asked only once those hold (conditional questions
        # after their condition): whether a person wants to leave a gang only of a gang
        # member, whether an offence was serious only of someone who offended.
        self._conditions = [(factor_bit[f], sum(factor_bit[i] for i in rests if i in factor_bit))
                            for f, rests in sorted(conditions(self.kb).items()) if f in factor_bit]
        # Some only once one of others holds (ks:askedAfterOneOf: abuse after trouble at home
        # or worrying behaviour), of a person under 18 (ks:askedOfMinorsAfter: a release only
        # after serious or repeated crime); some never (ks:askedOnlyWhenRaised: radicalisation).
        def one_of(prop: str) -> list[tuple[int, int]]:
            return [(factor_bit[f.id], sum(factor_bit[o] for o in f.ref(prop) if o in factor_bit))
                    for f in self.kb.of_type("Factor") if f.id in factor_bit and f.ref(prop)]

        self._any_conditions = one_of("askedAfterOneOf")
        self._minor_conditions = one_of("askedOfMinorsAfter")
        self._never_asked = sum(factor_bit[f.id] for f in self.kb.of_type("Factor")
                                if f.id in factor_bit and f.value("askedOnlyWhenRaised") == "true")
        # Factors of the same risk domain as each factor (what a true one makes likely), and
        # how many others a factor implies or makes moot (a stronger claim is asked later).
        domains = {f.id: set(f.ref("inDomain")) for f in self.kb.of_type("Factor")}
        self._same_domain = {factor_bit[f]: sum(factor_bit[o] for o, d in domains.items()
                                                 if d & mine and o in factor_bit and o != f)
                             for f, mine in domains.items() if f in factor_bit and mine}
        unasked = unasked_factors(self.kb)
        self._strength = {f: len(moot) for f, moot in unasked.items()}
        # Who the person is (kundskab.reasoning.cases ROLES): the factors that describe what was done to
        # a victim rather than signs of their own offending (the family domain: an honour
        # conflict, trouble at home), and the questions never put to a person named only a
        # victim (anything but what was done to them) or, where the family threatens, about
        # consent to meet the offender (harmful).
        self._victim_context = frozenset(f for f, d in in_domain.items() if d & VICTIM_CONTEXT_DOMAINS)
        self._offending = frozenset(f for f, d in in_domain.items() if OFFENDING_DOMAIN in d)
        self._own_offending_bits = sum(factor_bit[f] for f, d in in_domain.items()
                                       if not d & VICTIM_QUESTION_DOMAINS and f in factor_bit)
        self._harmful_bits = factor_bit.get(MEDIATION_FACTOR, 0)
        self._victimless = frozenset(c.id for c in self.kb.of_type("CrimeType") if c.value("victimless") == "true")
        # Crimes whose victim seldom meets the offender (ks:mediationOnRequest): consent to a
        # conflict council is not asked for them alone; the council stays open on a yes.
        self._unmet = self._victimless | {c.id for c in self.kb.of_type("CrimeType")
                                          if c.value("mediationOnRequest") == "true"}
        # Local fora (ks:municipality on a forum) and where they are.
        self._forum_places = {f.id: tuple(f.ref("municipality")) for f in self.kb.of_type("Forum")
                              if f.ref("municipality")}
        # Local fora for the residents of their own estate (a safety partnership, 003 s. 11):
        # the case's only where it names that area, so not for a case that names no place.
        self._estate_fora = frozenset(f for f in self._forum_places
                                      if RESIDENTS_GROUP in self.kb.get(f).ref("targetGroup"))
        # The factors whose yes can bring one (what a question must ask for it to matter);
        # None: a rule for one reads more than factors and the age, so every question may.
        estate_rules = [rule for rule in self.rules
                        if any(kind == "forum" and value in self._estate_fora for kind, value in rule.conclusions)]
        self._estate_triggers: frozenset[str] | None = frozenset(
            ident for rule in estate_rules for c in rule.conditions if c.kind in ("factor", "any_factor")
            for ident in c.ids)
        if any(c.kind not in ("factor", "any_factor", "factor_false", "age") for r in estate_rules
               for c in r.conditions):
            self._estate_triggers = None
        self._supersedes = {f.id: frozenset(f.ref("takesOver")) for f in self.kb.of_type("Forum")
                            if f.ref("takesOver")}
        # ...except for a person who has suffered one of these (ks:takesOverUnlessSuffered).
        self._shares_when = {f: frozenset(self.kb.get(f).ref("takesOverUnlessSuffered"))
                             for f in self._supersedes}
        self._sharing_crimes = frozenset().union(*self._shares_when.values())
        self._takeable = frozenset().union(*self._supersedes.values())  # the fora some forum takes over
        # A forum that a case is not for when it gives one of these factors false
        # (ks:notForCaseDenying: PSP for a person whom one service holds). The rules stay
        # monotone; the forum is left out afterwards, like a forum taken over.
        self._denied_by = {f.id: frozenset(f.ref("notForCaseDenying")) for f in self.kb.of_type("Forum")
                           if f.ref("notForCaseDenying")}
        self._denying = frozenset().union(*self._denied_by.values())
        # The take-overs that hold whatever the person suffered, as bits (SSP: PSP): what an
        # answer would bring leaves out what a forum it brings, or the case has, takes over.
        self._takeover_bits = tuple(
            (self._bit_of_forum[f], sum(self._bit_of_forum.get(o, 0) for o in taken))
            for f, taken in sorted(self._supersedes.items()) if not self._shares_when[f] and f in self._bit_of_forum)
        self._taken_bits = 0
        for _, taken in self._takeover_bits:
            self._taken_bits |= taken  # (PSP is taken over by two: an or, not a sum)
        self._factor_ages = [(factor_bit[f.id], f.int_value("minAge"), f.int_value("maxAge"))
                             for f in self.kb.of_type("Factor")
                             if f.id in factor_bit and (f.int_value("minAge") is not None
                                                        or f.int_value("maxAge") is not None)]
        self._age_masks = BoundedMemo("recommendation.age_masks")
        self._not_asked_memo = BoundedMemo("recommendation.not_asked")
        self._need_memo = BoundedMemo("recommendation.need_questions")  # shared, so their JSON text is kept
        # The ages at which each factor can apply (ks:minAge/ks:maxAge): a case that gives it
        # true allows only those (a release from 15), for the fora by age of an unknown age.
        self._factor_age_bounds = {f.id: (f.int_value("minAge"), f.int_value("maxAge"))
                                   for f in self.kb.of_type("Factor")
                                   if f.int_value("minAge") is not None or f.int_value("maxAge") is not None}
        # Memos, one per kind of piece (bounds: kundskab._memo.BOUNDS; why: benchmarks/NOTES.md).
        # Explanation entries per language and firing (rule and premises).
        self._firings = {lang: BoundedMemo("recommendation.firings") for lang in TEXT}
        self._questions = BoundedMemo("recommendation.questions")  # one open question
        self._implied = BoundedMemo("recommendation.implied")
        self._labels = BoundedMemo("recommendation.labels")
        self._any_age = BoundedMemo("recommendation.any_age")
        self._by_age = BoundedMemo("recommendation.fora_by_age")

    def __reduce__(self) -> tuple[Any, ...]:
        # A recommender crosses to a spawned batch worker as what it was built from (the
        # engine and memos are rebuilt there): the worker answers with the caller's
        # knowledge base and rules, not the bundled ones.
        return type(self), (self.kb, self.rules)

    # ------------------------------------------------------------------ public

    def recommend(self, case: Case | Mapping[str, Any], *, lang: str = "da",
                  limit: int | None = None, questions: int | None = None,
                  need_questions: int = 0) -> Recommendation:
        """The recommendation for one case: `limit` interventions (the ranking's default
        when None), at most `questions` open questions (5 when None) and at most
        `need_questions` questions about needs (none unless asked for: they cost a what-if
        ranking per open need, which the consultant's outputs ask for and a batch need not
        pay; at most NEED_QUESTIONS)."""
        if limit is not None and (type(limit) is not int or limit < 1):
            raise RequestError(N_("'limit' is a whole number from 1 (at most {max} are listed)"), max=MAX_LIMIT)
        if type(need_questions) is not int or need_questions < 0:
            raise RequestError(N_("'need_questions' is a whole number from 0 (at most {max} are asked)"),
                               max=NEED_QUESTIONS)
        if not isinstance(case, Case):
            case = parse_case(case, self.kb)
        if lang not in TEXT:
            lang = "en"
        facts = case.facts
        # A person named only a victim (no offending, not at risk) is answered as a victim:
        # what was done to them (an honour conflict, trouble in the family) is no sign of
        # their own offending, so the rules do not read it for the tier and groups; the
        # measures still meet it as a need.
        victim_only = case.victim and case.roles <= VICTIM_ROLES and not facts.true & self._offending
        engine_facts = facts
        withheld = _NONE
        if victim_only and facts.true & self._victim_context:
            withheld = facts.true & self._victim_context
            engine_facts = Facts(facts.age, facts.true - withheld, facts.false, facts.age_group)
        derivation = self.engine.run(engine_facts)
        tier = derivation.tier or "general"
        conclusions = derivation.conclusions
        true = facts.true
        honour = HONOUR_FACTOR in true or HONOUR_CRIME in case.victim_of | case.offences
        # No mediation where the threat comes from the family or honour is at stake (000
        # "Konfliktråd": voluntary for both; meeting the offender is no help then): neither
        # the forum, nor its measures, nor the question of consent.
        family_violence = honour or CHILD_ABUSE in true or (case.victim and FAMILY_PROBLEMS in true)
        # Nor where a gang is party (the other side meets under pressure: the editor's reading
        # of the same section, voluntary for both), nor where every crime the case names
        # harms no one who could meet the offender (ks:victimless: drugs, drink driving).
        named = case.offences | case.victim_of
        no_mediation = (family_violence or GANG_MEMBER in true or GANG_CRIME in named
                        or (bool(named) and named <= self._victimless))
        found = conclusions.get("forum", _NONE)
        # With the age unknown, what the case has at every age its own factors allow is its
        # answer as surely as what needs no age (suspected abuse: 0-17, so the Børnehus).
        bounded: tuple[frozenset[str], frozenset[str], tuple[Explanation, ...]] = _NO_BOUND
        ages = None
        if case.age is None and self._bounds_ages(facts):
            youngest, oldest, by = self._allowed_ages(facts)
            if youngest > 0 or oldest < MAX_AGE:
                ages = (youngest, oldest)
                bounded = self._at_every_age(engine_facts, ages, by, lang)
                if bounded[1]:
                    found = found | bounded[1]
        found = self._superseded(found, case.victim_of)
        if case.age is None and not self._takeable.isdisjoint(found):
            # ... nor one that a forum of every age the case allows takes over there (PSP
            # where SSP has the case of a child in school). Where only some of those ages
            # have the other forum, the age decides, and the forum stays (PSP for a person
            # of unknown age, whom SSP has only if under 18).
            found = set(found) - self._taken_at_every_age(engine_facts, frozenset(found), case.victim_of)
        # The fora the case itself rules out, whatever rule brings them: mediation as above,
        # and a forum whose own factor the case denies (ks:notForCaseDenying), which the
        # answer names apart (`fora_ruled_out`).
        denied = self._denied(facts.false)
        excluded = denied | {MEDIATION_FORUM} if no_mediation else denied
        ruled_out = denied & frozenset(found) if denied else _NONE
        if not excluded.isdisjoint(found):
            found = set(found) - excluded
        # A local forum (ks:municipality on the forum) is the case's only where the case is:
        # elsewhere it is listed apart, with where it exists. An unknown place keeps it.
        elsewhere: list[str] = []
        place = case.place
        if self._forum_places.keys() & found:
            if place is not None:
                chain = self._area_chain(place)
                elsewhere = sorted(f for f in found if f in self._forum_places
                                   and chain.isdisjoint(self._forum_places[f]))
            else:
                elsewhere = sorted(self._estate_fora.intersection(found))
            if elsewhere:
                found = set(found) - set(elsewhere)
        fora = sorted(found)
        groups = sorted(conclusions.get("age_group", _NONE) | conclusions.get("target_group", _NONE) | bounded[0])
        explanation = self._explain(derivation, tier, lang, frozenset(fora) if fora else _NONE)
        if bounded[2]:
            shown = frozenset(fora).union(groups)
            explanation += [e for e in bounded[2] if e.conclusion.id in shown]
        if case.implied:
            key = (lang, *sorted(case.implied.items()))
            implied = self._implied.get(key)
            if implied is None:
                implied = self._implied.make(key, self._implications, case, lang)
            explanation = implied + explanation
        if case.victim or withheld or RELATIVE in case.roles:
            explanation = self._role_entries(case, withheld, lang) + explanation
        suffered = case.victim_of | ({HONOUR_CRIME} if honour and case.victim else _NONE)
        # With the age unknown, the measures are those that fit the ages the case allows
        # (each item says its age range): the groups and fora the case would have at any age.
        reach_groups, reach_fora = frozenset(groups), frozenset(fora)
        if case.age is None:
            extra_groups, extra_fora = self._at_any_age(engine_facts, case.victim_of)
            reach_groups |= extra_groups
            if place is not None:
                chain = self._area_chain(place)
                extra_fora = frozenset(f for f in extra_fora if f not in self._forum_places
                                       or not chain.isdisjoint(self._forum_places[f]))
            else:
                extra_fora = extra_fora - self._estate_fora
            reach_fora |= extra_fora - denied
        view = CaseView(tier, derivation.tier_rank, reach_groups, reach_fora,
                        true & self._risk_factors, true, facts.false, case.offences, case.place,
                        case.age, case.roles, suffered, honour, no_mediation,
                        frozenset(true - withheld) & self._risk_factors,
                        # control apart: for an active offender or a gang member who does not want
                        # out; not for one being released (the return is what the help is for), nor
                        # for a parent or relative who asks for help
                        WANTS_OUT not in true and RELEASED not in true and not case.roles <= RELATIVE_ONLY
                        and bool(case.offences or true & self._offending or GANG_MEMBER in true),
                        ages)
        ranked = self.ranker.rank(view, lang, min(limit or self.rules.ranking.limit, MAX_LIMIT), need_questions > 0)
        harmful = self._harmful_bits if no_mediation or (named and named <= self._unmet) else 0
        not_for_victims = self._own_offending_bits if victim_only else 0
        asked = self._open_questions(case, engine_facts, derivation, lang, harmful, not_for_victims, frozenset(fora))
        if MEDIATION_FORUM in fora:
            asked = self._mediation_checks(case, tier, asked, lang)
        # What the questions would bring leaves out the fora this case cannot have: local fora
        # of other places, and those it rules out (mediation where the family threatens, a
        # forum whose own factor it denies).
        away: frozenset[str] = frozenset()
        if place is not None and self._forum_places:
            chain = self._area_chain(place)
            away = frozenset(f for f, places in self._forum_places.items() if chain.isdisjoint(places))
        elif place is None and self._estate_fora and (
                self._estate_triggers is None
                or not self._estate_triggers.isdisjoint(question.factor for question in asked)):
            away = self._estate_fora
        away |= excluded
        if bounded[1]:  # the fora of every allowed age are the answer's already: no new ones
            away |= bounded[1]
        if fora and not self._supersedes.keys().isdisjoint(fora):
            # A forum one of the case's takes over is no new forum (victim support where
            # the Børnehus has the child's case).
            away |= self._taken_over(fora, case.victim_of)
        if away:
            asked = self._questions_here(asked, away)
        count = DEFAULT_QUESTIONS if questions is None else max(0, questions)
        asked = asked[:count]
        needs = self._need_questions(case, engine_facts, derivation, view, ranked, asked, harmful | not_for_victims,
                                     away, lang, min(limit or self.rules.ranking.limit, MAX_LIMIT),
                                     min(need_questions, NEED_QUESTIONS)) if ranked.lifts and need_questions else ()
        labels = self._labels_of(lang, tier, groups, fora, ranked.ids)
        by_age = () if case.age is not None else self._fora_by_age(
            engine_facts, place, excluded, frozenset(found) | frozenset(elsewhere), case.victim_of, lang)
        warnings = tuple(CaseWarning(code, gettext(message, lang)) for code, message in case_warnings(case)) \
            if case.ref is not None or case.unknown_place else ()
        return Recommendation(case.ref, case.age, tier, groups, fora,  # type: ignore[arg-type]
                              ranked.items, tuple(asked), (*explanation, *ranked.explained), labels,
                              self.kb.version, self._elsewhere(tuple(elsewhere), lang) if elsewhere else (),
                              ranked.control, warnings, by_age, needs,
                              self._ruled_out(ruled_out, facts.false, lang) if ruled_out else (),
                              case.facts.age_group)

    def _need_questions(self, case: Case, facts: Facts, derivation: Derivation, view: CaseView, ranked: Ranked,
                        asked: list[OpenQuestion], never: int, away: frozenset[str], lang: str,
                        limit: int, most: int) -> tuple[NeedQuestion, ...]:
        """The risk factors the case leaves open whose yes would bring measures into the first
        five (`ranked.lifts`, best first), asked as the open questions are (not what the case
        answers or implies, nor what its age or conditions rule out, nor `never`), and not
        one of `asked`: at most `most`. Only a yes that leaves the tier and the
        case's fora as they are (else it is an open question's business), and not one that
        rules measures out or in (`NOT_A_NEED_ONLY`); where a yes also puts the person in a
        target group (substance abuse: the socially vulnerable), the measures it brings are
        those of the ranking with the group and the need (`lifts` counted on the need
        alone); with the age unknown, only a yes that changes neither the ages the case
        allows nor what any of them brings."""
        whatif = self.whatif
        have = {question.factor for question in asked}
        bit_of = whatif.factor_bit
        closed = derived_bits = rank = -1
        found = []
        first: frozenset[str] | None = None
        for factor, brought in ranked.lifts:
            if factor in have or factor in NOT_A_NEED_ONLY or (case.victim and factor in self._victim_context):
                continue
            if closed == -1:  # worked out for the first factor that gets this far
                true_bits, false_bits = whatif.factor_bits(case.facts)
                closed = true_bits | false_bits | self._not_asked(case.age, true_bits, facts.age_group) | never
                engine_true, engine_false = whatif.factor_bits(facts)
                derived_bits, rank = whatif.concluded_bits(derivation.fired), derivation.tier_rank
            bit = bit_of.get(factor, 0)
            if bit & closed:
                continue
            if bit & whatif.read_bits:
                new_rank, new_bits = whatif.what_if_bit(facts.age, engine_true, engine_false, derived_bits, rank,
                                                        bit, True, derivation.fired)
                if new_rank != rank:
                    continue  # a yes changes the tier: an open question's business
                new = [self._derived_of_bit[b] for b in single_bits(new_bits & ~derived_bits)]
                if any(kind == "forum" and ident not in away for kind, ident in new):
                    continue  # ... or the case's fora
                groups = frozenset(ident for kind, ident in new if kind != "forum")
                if groups and self.ranker.groups_matter(view, ranked, groups, factor):  # the ranking with both
                    if first is None:
                        first = frozenset(item.id for item in ranked.items[:FIRST])  # (as `Ranker._lifts`)
                    yes = self.ranker.rank(view._replace(
                        groups=view.groups | groups, needs=view.needs | {factor}, true=view.true | {factor},
                        own_needs=None if view.own_needs is None else view.own_needs | {factor}), lang, limit)
                    brought = tuple(item.id for item in yes.items[:FIRST] if item.id not in first)
                    if not brought:
                        continue
            if case.age is None and (factor in self._factor_age_bounds or self._at_any_age(
                    Facts(None, facts.true | {factor}, facts.false, facts.age_group), case.victim_of)
                    != self._at_any_age(facts, case.victim_of)):
                continue
            key = (factor, brought, lang)
            question = self._need_memo.get(key)
            if question is None:
                label = self.ranker.label
                question = self._need_memo.make(key, NeedQuestion, factor, label(factor, lang),
                                                tuple(Brought(m, label(m, lang)) for m in brought))
            found.append(question)
            if len(found) == most:
                break
        return tuple(found)

    def _mediation_checks(self, case: Case, tier: str, asked: list[OpenQuestion],
                          lang: str) -> list[OpenQuestion]:
        """The questions with, before a conflict council, whether honour or violence in the
        family is at stake (honour, abuse suspected; for a victim, trouble at home): a yes
        rules the council out (000 "Konfliktråd": voluntary for both; meeting an offender from
        one's own family is no help), so where the case leaves it open it is asked, right
        after the age. Each is asked only where it could be (unknown, its condition and the
        age allowing it)."""
        whatif = self.whatif
        true_bits, false_bits = whatif.factor_bits(case.facts)
        open_bits = ~(true_bits | false_bits | self._not_asked(case.age, true_bits, case.facts.age_group))
        have = {question.factor for question in asked}
        checks = []
        for factor in (HONOUR_FACTOR, CHILD_ABUSE, *((FAMILY_PROBLEMS,) if case.victim else ())):
            bit = whatif.factor_bit.get(factor, 0)
            if bit & open_bits and factor not in have:
                key = (lang, "mediation-check", factor, tier)
                found = self._questions.get(key)
                if found is None:
                    found = self._questions.make(key, OpenQuestion, factor, self._label(factor, lang), ("fora",),
                                                 Change(tier, ()), None)
                checks.append(found)
        if not checks:
            return asked
        at = 1 if asked and asked[0].factor == "age" else 0
        return [*asked[:at], *checks, *asked[at:]]

    def _at_any_age(self, facts: Facts, suffered: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
        """The target groups and fora the facts would bring at the ages the rules tell apart
        (PROBE_AGES): what an answer for an unknown age may offer, each with its age range."""
        suffered = suffered & self._sharing_crimes
        key = (facts.true, facts.false, facts.age_group, suffered)
        found = self._any_age.get(key)
        if found is None:
            groups: set[str] = set()
            fora: set[str] = set()
            for probe in self._probe_ages(facts):
                state, _ = self.rules.closure(Facts(probe, facts.true, facts.false))
                groups |= state.derived.get("target_group", set()) | state.derived.get("age_group", set())
                fora |= self._superseded(state.derived.get("forum", _NONE), suffered)
            found = self._any_age.make(key, lambda: (frozenset(groups), frozenset(fora)))
        return found  # type: ignore[no-any-return]

    def _bounds_ages(self, facts: Facts) -> bool:
        """Whether the case narrows the ages an unknown age can be: by its age group or a
        true factor of some ages only (truancy: 6-17)."""
        return facts.age_group is not None or not facts.true.isdisjoint(self._factor_age_bounds)

    def _allowed_ages(self, facts: Facts) -> tuple[int, int, tuple[str, ...]]:
        """The ages a case with the age unknown allows: those of the age group it names, at
        which each of its true factors can apply (ks:minAge/ks:maxAge), and the factors
        that bound them further."""
        youngest, oldest = (0, MAX_AGE) if facts.age_group is None else age_group_ages(self.kb, facts.age_group)
        by: list[str] = []
        for factor in sorted(facts.true & self._factor_age_bounds.keys()):
            low, high = self._factor_age_bounds[factor]
            if low is not None and low > youngest:
                youngest = low
                by.append(factor)
            if high is not None and high < oldest:
                oldest = high
                by.append(factor)
        return youngest, oldest, tuple(dict.fromkeys(by))

    def _bands_within(self, youngest: int, oldest: int) -> list[tuple[int, int]]:
        """The bands of ages the rules tell apart that meet youngest..oldest, each with its
        first age within the range (one probe stands for the band)."""
        bands = self.whatif.age_bands
        found = []
        for band in range(len(bands)):
            first = bands.first_age(band)
            last_age = bands.first_age(band + 1) - 1 if band + 1 < len(bands) else MAX_AGE  # type: ignore[operator]
            if first is not None and last_age >= youngest and first <= oldest:
                found.append((band, max(first, youngest)))
        return found

    def _probe_ages(self, facts: Facts) -> tuple[int, ...]:
        """PROBE_AGES within the ages the case's factors allow (the youngest of them when
        none falls inside)."""
        if not self._bounds_ages(facts):
            return PROBE_AGES
        youngest, oldest, _by = self._allowed_ages(facts)
        return tuple(a for a in PROBE_AGES if youngest <= a <= oldest) or (youngest,)

    def _at_every_age(self, facts: Facts, ages: tuple[int, int], by: tuple[str, ...], lang: str
                      ) -> tuple[frozenset[str], frozenset[str], tuple[Explanation, ...]]:
        """With the age unknown: the target groups and fora the rules give at every age the
        case's factors allow (one probe per band of ages the rules tell apart), with an
        explanation entry each that names the range and the factors behind it. Nothing where
        the factors leave every age open."""
        key = ("every-age", lang, facts.true, facts.false, facts.age_group, ages, by)
        found = self._any_age.get(key)
        if found is None:
            found = self._any_age.make(key, self._build_at_every_age, facts, ages, by, lang)
        return found  # type: ignore[no-any-return]

    def _build_at_every_age(self, facts: Facts, ages: tuple[int, int], by: tuple[str, ...], lang: str
                            ) -> tuple[frozenset[str], frozenset[str], tuple[Explanation, ...]]:
        youngest, oldest = ages
        common: dict[tuple[str, str], tuple[Rule, list[str]]] | None = None
        for _band, first in self._bands_within(youngest, oldest):
            _, firings = self.rules.closure(Facts(first, facts.true, facts.false))
            here: dict[tuple[str, str], tuple[Rule, list[str]]] = {}
            for rule, premises in firings:
                for kind, value in rule.conclusions:
                    if kind in ("forum", "target_group", "age_group"):
                        here.setdefault((kind, value), (rule, premises))
            common = here if common is None else {k: v for k, v in common.items() if k in here}
        if not common:
            return _NO_BOUND
        span = Fact("age", f"{youngest}-{oldest}" if oldest < MAX_AGE else f"{youngest}-")
        bounds = (*((Fact("age-group", facts.age_group),) if facts.age_group else ()),
                  *(Fact("factor", f, "true") for f in by))
        entries = []
        for (kind, value), (rule, premises) in sorted(common.items()):
            facts_of = tuple(Fact.read(p) for p in premises if not p.startswith("age:"))
            entries.append(Explanation(rule.id, Fact(kind.replace("_", "-"), value),
                                       rule.because.get(lang, rule.because["en"]),
                                       (span, *bounds, *(f for f in facts_of if f not in bounds)), rule.source))
        return (frozenset(v for k, v in common if k != "forum"), frozenset(v for k, v in common if k == "forum"),
                tuple(entries))

    def _fora_by_age(self, facts: Facts, place: str | None, excluded: frozenset[str], given: frozenset[str],
                     suffered: frozenset[str], lang: str) -> tuple[ForumByAge, ...]:
        """With the age unknown: the fora the case would have at some of the ages it allows
        beyond those it has at every age (`given`, with those of other places), each with
        its age range and the rule that brings it. The ranges are the rules' own (one
        probe per band of ages the rules' age conditions cut); a local forum of another
        place and the fora the case rules out (`excluded`: mediation where it is ruled out,
        a forum whose own factor the case denies) are left out as from `fora`."""
        suffered = suffered & self._sharing_crimes
        key = (lang, facts.true, facts.false, facts.age_group, place, excluded, given, suffered)
        found = self._by_age.get(key)
        if found is None:
            found = self._by_age.make(key, self._build_fora_by_age, facts, place, excluded, given, suffered,
                                      lang)
        return found  # type: ignore[no-any-return]

    def _build_fora_by_age(self, facts: Facts, place: str | None, excluded: frozenset[str], given: frozenset[str],
                           suffered: frozenset[str], lang: str) -> tuple[ForumByAge, ...]:
        bands = self.whatif.age_bands
        chain = self._area_chain(place) if place is not None else None
        # The ages the case allows: those at which each of its true factors can apply.
        youngest, oldest, _by = self._allowed_ages(facts)
        runs: list[list[Any]] = []  # [forum, first band, last band, rule], in the order found
        open_run: dict[str, list[Any]] = {}
        for band, first in self._bands_within(youngest, oldest):
            _, firings = self.rules.closure(Facts(first, facts.true, facts.false))
            brought: dict[str, Any] = {}
            for rule, _premises in firings:
                for kind, value in rule.conclusions:
                    if kind == "forum":
                        brought.setdefault(value, rule)
            for forum in self._superseded(frozenset(brought), suffered):
                if forum in given or forum in excluded:
                    continue
                places = self._forum_places.get(forum)
                if places and ((chain is None and forum in self._estate_fora)
                               or (chain is not None and chain.isdisjoint(places))):
                    continue
                run = open_run.get(forum)
                if run is not None and run[2] == band - 1:
                    run[2] = band
                else:
                    open_run[forum] = run = [forum, band, band, brought[forum]]
                    runs.append(run)
        def low(band: int) -> int | None:
            age = max(bands.first_age(band) or 0, youngest)
            return age or None  # from birth: no lower bound

        def high(band: int) -> int | None:
            age = min(bands.first_age(band + 1) - 1 if band + 1 < len(bands) else MAX_AGE,  # type: ignore[operator]
                      oldest)
            return None if age >= MAX_AGE else age

        return tuple(sorted(
            (ForumByAge(forum, self._label(forum, lang), low(first), high(end), rule.id, rule.source or None)
             for forum, first, end, rule in runs),
            key=lambda f: (f.min_age or 0, f.id)))

    def _area_chain(self, place: str) -> frozenset[str]:
        """The place and every area it lies in."""
        return self.ranker.area_chain(place)

    def _elsewhere(self, fora: tuple[str, ...], lang: str) -> tuple[ForumElsewhere, ...]:
        """The fora whose trigger the case meets but that exist elsewhere, with where (kept:
        a few distinct ones)."""
        key = (lang, "elsewhere", fora)
        found = self._implied.get(key)
        if found is None:
            found = self._implied.make(key, lambda: tuple(
                ForumElsewhere(f, self._label(f, lang), self._forum_places[f],
                               ", ".join(self._label(p, lang) for p in self._forum_places[f]))
                for f in fora))
        return found  # type: ignore[no-any-return]

    def _questions_here(self, asked: list[OpenQuestion], away: frozenset[str]) -> list[OpenQuestion]:
        """The questions without the fora in `away` among what they would bring (a question
        that then changes nothing is not asked)."""
        kept = []
        for question in asked:
            yes, no = question.if_true, question.if_false
            if (yes is None or away.isdisjoint(yes.new_fora)) and (no is None or away.isdisjoint(no.new_fora)):
                kept.append(question)  # (checked inline: this runs for every question of most cases)
                continue
            key = ("here", question, away)
            found = self._questions.get(key)
            if found is None:
                found = self._questions.make(key, _without_fora, question, away)
            if found is not False:
                kept.append(found)
        return kept

    def _superseded(self, fora: frozenset[str] | set[str], suffered: frozenset[str] = _NONE
                    ) -> set[str] | frozenset[str]:
        """The fora without those another of them takes over (ks:takesOver: a child suspected
        abused goes to the Børnehus, which gathers the whole case, not to victim support as
        well), unless the person suffered a crime for which it does not (abuse online)."""
        if not fora or self._supersedes.keys().isdisjoint(fora):
            return fora
        return set(fora) - self._taken_over(fora, suffered)

    def _ruled_out(self, fora: frozenset[str], false: frozenset[str], lang: str) -> tuple[ForumRuledOut, ...]:
        """The fora a rule brought that the case rules out, each with the factor it gives
        false (kept: a few distinct ones)."""
        key = (lang, "ruled-out", fora, false & self._denying)
        found = self._implied.get(key)
        if found is None:
            def build() -> tuple[ForumRuledOut, ...]:
                out = []
                for forum in sorted(fora):
                    factor = min(self._denied_by[forum] & false)
                    sources = self.kb.get(forum).sources
                    out.append(ForumRuledOut(forum, self._label(forum, lang), factor, self._label(factor, lang),
                                             str(sources[0]) if sources else None))
                return tuple(out)
            found = self._implied.make(key, build)
        return found  # type: ignore[no-any-return]

    def _denied(self, false: frozenset[str]) -> frozenset[str]:
        """The fora a case is not for because it gives a factor false that the forum is
        for (ks:notForCaseDenying)."""
        if not self._denied_by or not false:
            return _NONE
        return frozenset(f for f, factors in self._denied_by.items() if not factors.isdisjoint(false))

    def _taken_at_every_age(self, facts: Facts, found: frozenset[str], suffered: frozenset[str]) -> frozenset[str]:
        """With the age unknown: those of `found` that, at every age the case allows (one
        probe per band), a forum the case has there takes over."""
        suffered = suffered & self._sharing_crimes
        key = ("taken", facts.true, facts.false, facts.age_group, found, suffered)
        taken = self._any_age.get(key)
        if taken is None:
            def build() -> frozenset[str]:
                bands = self._bands_within(*self._allowed_ages(facts)[:2])
                out = set(found) if bands else set()  # (no age allowed: nothing is taken over)
                for _band, first in bands:
                    state, _ = self.rules.closure(Facts(first, facts.true, facts.false))
                    out &= self._taken_over(state.derived.get("forum", _NONE), suffered)
                return frozenset(out)
            taken = self._any_age.make(key, build)
        return taken  # type: ignore[no-any-return]

    def _taken_over(self, fora: Iterable[str], suffered: frozenset[str]) -> set[str]:
        """The fora one of `fora` takes over from a person who suffered `suffered`."""
        return {other for f in fora if f in self._supersedes and self._shares_when[f].isdisjoint(suffered)
                for other in self._supersedes[f]}

    def _role_entries(self, case: Case, withheld: frozenset[str], lang: str) -> list[Explanation]:
        """The explanation of who the person is: a victim (by role or by what they have
        suffered), and the factors the rules leave to the measures for that reason."""
        key = (lang, "roles", case.victim, tuple(sorted(case.roles)), tuple(sorted(case.victim_of)),
               tuple(sorted(withheld)))
        found = self._implied.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        entries = []
        source = str(self.kb.get(VICTIM_FACTOR).sources[0]) if self.kb.get(VICTIM_FACTOR).sources else None
        if case.victim:
            premises = (*(Fact("role", r) for r in sorted(case.roles)),
                        *(Fact("victim-of", c) for c in sorted(case.victim_of)))
            entries.append(Explanation(ROLE_RULE, Fact("factor", VICTIM_FACTOR, "true"),
                                       gettext(ROLE_BECAUSE, lang), premises, source))
        if RELATIVE in case.roles:
            entries.append(Explanation(ROLE_RULE, Fact("role", RELATIVE), gettext(RELATIVE_BECAUSE, lang),
                                       (Fact("role", RELATIVE),), RELATIVE_SOURCE))
        if withheld:
            entries.append(Explanation(
                ROLE_RULE, Fact("role", "victim"), gettext(WITHHELD_BECAUSE, lang).format(
                    factors=", ".join(self._label(f, lang) for f in sorted(withheld))),
                tuple(Fact("factor", f, "true") for f in sorted(withheld)), source))
        return self._implied.make(key, lambda: entries)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ parts

    def _label(self, ident: str, lang: str) -> str:
        return self.ranker.label(ident, lang)  # the ranker's table of labels: one per language

    def _explain(self, derivation: Derivation, tier: str, lang: str, fora: frozenset[str]) -> list[Explanation]:
        """One entry per rule, conclusion and premises behind the tier, fora and groups; a
        rule that another fired rule replaces gives no entry (the general tier of a victim
        by the victims' rule alone: "every child and young person" is not the reason for an
        adult victim; a small child's specific tier by early effort's words)."""
        conclusions = derivation.conclusions
        replaced = _NONE
        if not self._replacing.keys().isdisjoint(derivation.fired):
            replaced = frozenset(r for f in derivation.fired if f in self._replacing for r in self._replacing[f])
        if len(fora) != len(conclusions.get("forum", _NONE)):  # a forum taken over by another
            conclusions = {**conclusions, "forum": set(fora)}
        keyed: dict[str, Explanation] = {}
        memo, build = self._firings[lang], self._firing_entries
        for firing in derivation.firings:
            # A firing is one object for every case that matches its rule on the same facts
            # (the engine keeps them), so it is its own key: no tuple to build and hash. The
            # memo's keys keep them alive, so an object's identity is never reused meanwhile.
            pieces = memo.get(firing)
            if pieces is None:
                pieces = memo.make(firing, build, firing.rule, firing.premises, lang)
            if firing.rule.id in replaced:
                continue
            for kind, ident, order, entry in pieces:
                # Only what the answer shows: not the general tier when a higher one holds.
                if (ident == tier if kind == "tier" else ident in conclusions.get(kind, _NONE)) \
                        and order not in keyed:
                    keyed[order] = entry
        return [keyed[k] for k in sorted(keyed)]

    def _implications(self, case: Case, lang: str) -> list[Explanation]:
        """One explanation entry per factor the rules took as true because a factor the case
        gives implies it (ks:implies, the editor's inference in the knowledge base)."""
        entries = []
        for factor, given in sorted(case.implied.items()):
            sources = self.kb.get(given).sources
            entries.append(Explanation(
                IMPLICATION_RULE, Fact("factor", factor, "true"), gettext(IMPLICATION_BECAUSE, lang).format(
                    factor=self._label(given, lang), other=self._label(factor, lang)),
                (Fact("factor", given, "true"),), str(sources[0]) if sources else None))
        return entries

    def _firing_entries(self, rule: Rule, premises: tuple[str, ...],
                        lang: str) -> tuple[tuple[str, str, str, Explanation], ...]:
        """A firing's explanation entries, one per conclusion, with their sort order: kind
        of conclusion, conclusion, rule, premises, as one text (NUL-separated, so it sorts
        as the tuple of its parts would, and quicker)."""
        facts = tuple(Fact.read(p) for p in premises)  # the engine writes premises in the rules' notation
        because = rule.because.get(lang, rule.because["en"])
        entries = []
        for kind, ident in rule.conclusions:
            conclusion = Fact(kind.replace("_", "-"), ident)
            order = "\0".join((str(EXPLANATION_ORDER.get(conclusion.kind, 9)), str(conclusion), rule.id, *premises))
            entries.append((kind, ident, order, Explanation(rule.id, conclusion, because, facts, rule.source)))
        return tuple(entries)

    def _labels_of(self, lang: str, tier: str, groups: list[str], fora: list[str],
                   ranked: frozenset[str]) -> Mapping[str, str]:
        """The labels of every concept the answer names, by id in id order (kept, and shared
        by the answers that name the same: not to be changed)."""
        key = (lang, tier, *groups, "", *fora, ranked)  # "" ends the groups: no id is empty
        found = self._labels.get(key)
        if found is None:
            label = self.ranker.labels(lang).get
            found = MappingProxyType({i: label(i, i) for i in sorted(ranked.union(fora, groups, (tier,)))})
            self._labels.keep(key, found)
        return found

    def _open_questions(self, case: Case, facts: Facts, derivation: Derivation, lang: str,
                        harmful: int = 0, not_for_victims: int = 0,
                        fora: frozenset[str] = _NONE) -> list[OpenQuestion]:
        """Each unknown factor whose answer would change the tier or the fora, and what
        would change; and the age, when it is unknown and would matter. `facts` are what the
        rules read; never asked: what the case answers (its own facts), `harmful` questions
        (consent to mediation where the family threatens) and, for a person named only a
        victim, `not_for_victims` (their own offending)."""
        whatif = self.whatif
        age, rank, fired = facts.age, derivation.tier_rank, derivation.fired
        true_bits, false_bits = whatif.factor_bits(facts)
        given_true, given_false = (true_bits, false_bits) if facts is case.facts else whatif.factor_bits(case.facts)
        derived_bits = whatif.concluded_bits(fired)
        unknown_bits = whatif.read_bits & ~given_true & ~given_false \
            & ~self._not_asked(age, given_true, facts.age_group) & ~harmful & ~not_for_victims
        keyed: list[Keyed] = []
        if not unknown_bits & whatif.read_false_bits:
            # The usual case: a yes can change something, a no cannot. The questions the
            # simple rules raise depend on what was concluded, not on which factors are
            # unknown, so they are kept per conclusions (in question order) and filtered.
            triggered = whatif.trigger_effects(age, true_bits, false_bits, derived_bits, rank, unknown_bits, fired)
            plain = whatif.per_simple_effects(lang, age, true_bits, false_bits, derived_bits, rank, fired,
                                              self._simple_questions, rank, derived_bits, lang)
            if not triggered and age is not None:  # already in question order
                return self._likely_first([entry[1] for bit, entry in plain if bit & unknown_bits], given_true)
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
            keyed = self._bounded_effects(keyed, facts, unknown_bits, fora, rank, derived_bits, case.victim_of, lang)
            outcomes = set()
            for probe in self._probe_ages(facts):
                state, _ = self.rules.closure(Facts(probe, facts.true, facts.false))
                outcomes.add((state.tier_rank, frozenset(state.derived.get("forum", ()))))
            if len(outcomes) > 1:
                would = ("fora",) if len({o[0] for o in outcomes}) == 1 else ("fora", "tier")
                keyed.append(((False, "tier" not in would, 0, "age"), self._age_question(would, lang)))
        keyed.sort()  # sort keys are unique: one per factor
        return self._likely_first([question for _, question in keyed], given_true)

    def _bounded_effects(self, keyed: list[Keyed], facts: Facts, unknown_bits: int, fora: frozenset[str],
                         rank: int, derived_bits: int, suffered: frozenset[str], lang: str) -> list[Keyed]:
        """With the age unknown: the questions with the fora a yes would bring through the
        ages it leaves (truancy yes: 6-17, so SSP at every one of them), beyond those the
        what-if of an unknown age finds. Only where the case or the factor bounds the ages."""
        bounds = self._factor_age_bounds
        bounded_now = self._bounds_ages(facts)
        whatif = self.whatif
        extra: dict[int, int] = {}
        for bit in single_bits(unknown_bits):
            factor = whatif.factor_by_bit[bit]
            if not bounded_now and factor not in bounds:
                continue
            yes = Facts(None, facts.true | {factor}, facts.false, facts.age_group)
            youngest, oldest, by = self._allowed_ages(yes)
            if youngest == 0 and oldest >= MAX_AGE:
                continue
            _, brought, _ = self._at_every_age(yes, (youngest, oldest), by, lang)
            more = sum(self._bit_of_forum[f] for f in self._superseded(brought, suffered) - fora
                       if f in self._bit_of_forum) & ~derived_bits
            if more:
                extra[bit] = more
        if not extra:
            return keyed
        ranks, bit_of = self.rules.tier_ranks, self._bit_of_forum
        out = []
        for entry in keyed:
            bit = whatif.factor_bit.get(entry[1].factor, 0)
            more = extra.pop(bit, 0)
            if not more:
                out.append(entry)
                continue
            question = entry[1]
            changes = []
            for value, change in (("true", question.if_true), ("false", question.if_false)):
                if change is None and value == "false":
                    continue
                new_rank = ranks.get(change.tier, rank) if change and change.tier else rank
                have = sum(bit_of[f] for f in change.new_fora) if change else 0
                bits = have | (more if value == "true" else 0)
                changes.append((value, new_rank, self._not_taken(bits, bits | derived_bits)))
            out.append(self._question_for(bit, changes, rank, lang))
        out += [self._question_for(bit, [("true", rank, more)], rank, lang) for bit, more in extra.items()]
        return out

    def _age_question(self, would: tuple[str, ...], lang: str) -> OpenQuestion:
        """The question of the age, when it is unknown and would change `would` (kept)."""
        key = ("age", would, lang)
        found = self._questions.get(key)
        if found is None:
            found = self._questions.make(key, OpenQuestion, "age", TEXT[lang]["age"], would, None, None)
        return found  # type: ignore[no-any-return]

    def _likely_first(self, questions: list[OpenQuestion], true_bits: int) -> list[OpenQuestion]:
        """The questions a consultant would ask next, in that order: the age when unknown;
        then what is close to what the case already says (a factor of the same risk domain
        as a true one) before what is merely impactful; and a plain question before the
        stronger one it leads to (close to gangs before member, an offence before a charge).
        Within each step the most informative first (the order given)."""
        if len(questions) < 2:
            return questions
        related = 0
        for bit in single_bits(true_bits):
            related |= self._same_domain.get(bit, 0)
        bit_of, strength = self.whatif.factor_bit, self._strength
        return [entry[-1] for entry in sorted(
            (q.factor != "age", not related & bit_of.get(q.factor, 0),
             strength.get(q.factor, 0), index, q) for index, q in enumerate(questions))]

    def _not_asked(self, age: int | None, true_bits: int, age_group: str | None = None) -> int:
        """The factor bits never asked: raised only by a case, implied by the true ones,
        conditional on what does not hold (yet), on none of what makes it likely (for a minor,
        also a release), or impossible at the age (with the age unknown: at every age of
        the age group the case names)."""
        key = (age, true_bits, age_group)
        found = self._not_asked_memo.get(key)
        if found is None:
            found = self._not_asked_memo.make(key, self._build_not_asked, age, true_bits, age_group)
        return found  # type: ignore[no-any-return]

    def _build_not_asked(self, age: int | None, true_bits: int, age_group: str | None) -> int:
        mask = self._never_asked
        implied = self._implied_mask
        for bit in single_bits(true_bits):
            mask |= implied.get(bit, 0)
        for bit, condition in self._conditions:
            if condition & ~true_bits:
                mask |= bit
        for bit, any_of in self._any_conditions:
            if not any_of & true_bits:
                mask |= bit
        # A minor: by the age, or with the age unknown by the age group or a true factor of
        # children only (truancy, suspected abuse: ks:maxAge under 18).
        group = None if age is not None or age_group is None else age_group_ages(self.kb, age_group)
        minor = age < ADULT_AGE if age is not None else (group is not None and group[1] < ADULT_AGE) or any(
            high is not None and high < ADULT_AGE and bit & true_bits for bit, _low, high in self._factor_ages)
        if minor:
            for bit, any_of in self._minor_conditions:
                if not any_of & true_bits:
                    mask |= bit
        if age is not None:
            by_age = self._age_masks.get(age)
            if by_age is None:
                by_age = sum(bit for bit, low, high in self._factor_ages
                             if (low is not None and age < low) or (high is not None and age > high))
                self._age_masks.keep(age, by_age)
            mask |= by_age
        elif group is not None:  # a factor that can apply at none of the group's ages
            youngest, oldest = group
            mask |= sum(bit for bit, low, high in self._factor_ages
                        if (low is not None and oldest < low) or (high is not None and youngest > high))
        return mask

    def _simple_questions(self, effects: list[tuple[int, tuple[int, int]]], rank: int, derived_bits: int,
                          lang: str) -> list[tuple[int, Keyed]]:
        """(factor bit, (sort key, question)) for every factor of the simple rules' effects
        whose yes would change the tier or the fora, in question order."""
        found = []
        for bit, effect in effects:
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
        if new_fora & self._taken_bits:
            new_fora = self._not_taken(new_fora, new_bits | derived_bits)
        return (value, new_rank, new_fora) if new_rank != rank or new_fora else None

    def _not_taken(self, new_fora: int, have: int) -> int:
        """The fora bits `new_fora` without those a forum of `have` takes over."""
        for taker, taken in self._takeover_bits:
            if have & taker:
                new_fora &= ~taken
        return new_fora

    def _question_for(self, bit: int, changes: list[tuple[str, int, int]], rank: int,
                      lang: str) -> Keyed:
        key = (lang, bit, rank, *changes)
        found = self._questions.get(key)
        if found is None:
            found = self._questions.make(key, self._question, bit, changes, rank, lang)
        return found  # type: ignore[no-any-return]

    def _question(self, bit: int, changes: list[tuple[str, int, int]], rank: int,
                  lang: str) -> Keyed:
        tier_by_rank = self.rules.tier_by_rank
        base_tier = tier_by_rank.get(rank, "general")
        factor = self.whatif.factor_by_bit[bit]
        answers: dict[str, Change] = {}
        would = set()
        for value, new_rank, new_fora in changes:
            tier = tier_by_rank.get(new_rank, base_tier)
            fora = tuple(f for b, f in self._forum_by_bit if b & new_fora)
            answers[value] = Change(tier, fora)
            if tier != base_tier:
                would.add("tier")
            if fora:
                would.add("fora")
        question = OpenQuestion(factor, self._label(factor, lang), tuple(sorted(would)),
                                answers.get("true"), answers.get("false"))
        # Most informative first: a changed tier, then the most new fora.
        new_fora = sum(len(change.new_fora) for change in answers.values())
        return (True, "tier" not in would, -new_fora, factor), question


def _without_fora(question: OpenQuestion, away: frozenset[str]) -> OpenQuestion | bool:
    """The question without the fora in `away` among what its answers would bring; False
    when it would then change nothing."""
    would = set()
    changes = []
    for change in (question.if_true, question.if_false):
        if change:
            change = Change(change.tier, tuple(f for f in change.new_fora if f not in away))
            if change.new_fora:
                would.add("fora")
        changes.append(change)
    if "tier" in question.would_change:
        would.add("tier")
    if not would:
        return False
    return question._replace(would_change=tuple(sorted(would)), if_true=changes[0], if_false=changes[1])


_DEFAULT: Recommender | None = None


def recommend(case: Case | Mapping[str, Any], *, lang: str = "da",
              limit: int | None = None) -> Recommendation:
    """Recommend for one case with the bundled knowledge base and rules."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Recommender()
    return _DEFAULT.recommend(case, lang=lang, limit=limit)
