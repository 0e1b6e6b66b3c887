"""Which catalogue interventions fit a case, and in what order (rules/interventions.yaml).

A measure is a candidate only if it can apply to the person at all (the filters): it is
not about how the partners organise their work (scope `organisation`), the case's age is
within its age range, no factor of the case is a contraindication, its situation (offender,
at risk, victim, relative, citizen) is the case's, a place measure runs in the case's
municipality, a population measure is one the person takes part in (the general effort
for their group; prevention advice for a victim's household), and it is within reach: its
tier is not above the case's and it shares a target group with the case, or it belongs to
a forum the case is referred to, or it is for victims and the case is a victim. A measure
aimed at offenders of given crime types waits for a case that names one of them (or that
has a need it addresses); a place measure waits for a need it addresses. Another place's
measure of a forum (PSP, KSP, Exit ...) gives way where the case's own place has one.

The score sums the weights of what the case and the measure share (see the YAML file);
ties (of the score as shown, to three decimals) go to the more specific fit: more reasons of
fit, then a narrower age range, then fewer target groups, and only then the id. The reasons
of fit are exactly the item's reasons other than its notes ("from elsewhere", "only an
example", "planned"): one for the tier, one for the target group, one per shared situation,
one per need and per offence the measure addresses, one for the forum and one for the place.
The count the order uses and the reasons the item shows are made from the same features.

The part of the score that does not depend on the case's needs and offences is worked out
once per set of conclusions, age band, area and situations and kept; needs and offences
lift only the measures that address them. Keys hold concept ids, ranks and age bands,
never a case's reference.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from kundskab._memo import BoundedMemo
from kundskab.i18n import LANGUAGES, N_, gettext
from kundskab.knowledge.base import Concept, KnowledgeBase, Source
from kundskab.knowledge.places import area_ancestors
from kundskab.reasoning.answer import Explanation, Fact, RankedIntervention
from kundskab.reasoning.cases import OFFENCE_FACTOR, AgeBands
from kundskab.reasoning.rules import Ranking, implying_factors

__all__ = ["SITUATIONS", "CaseView", "Measure", "Ranked", "Ranker"]

ALL_CITIZENS = "all-citizens"
VICTIM_GROUP = "victims-of-crime"
VICTIM_FACTOR = "victim-of-crime"
HONOUR_FACTOR = "honour-related-conflict"
HONOUR_CRIME = "honour-related-crime"
MEDIATION_FORUM = "conflict-council"
MEDIATION_FACTOR = "mediation-consent"
SCOPES = ("person", "group", "place", "population", "organisation")
STATUSES = ("running", "planned", "example")
SITUATIONS = ("offender", "at-risk", "victim", "relative", "citizen")
OFFENDING_DOMAIN = "offending"
VICTIM_DOMAIN = "victimisation"
ADULT_AGE = 18  # a child's parents take part in measures for relatives until then
YOUTH_CRIME = "youth-crime"
# Crime types that stand for a person's crime as a whole (a young person's, a gang's), not
# for one kind of it.
WHOLE_CRIMES = frozenset({YOUTH_CRIME, "gang-crime"})
CRIME_WAIT = "offences or needs besides offending"  # see _Open.crime_only
GENERAL_RANK = 1  # ks:rank of the general effort (ontology/concepts/tiers-levels.ttl)
BROAD_FORA = frozenset({"ssp", "ssp-plus"})
PERSON_SCOPES = frozenset({"person", "group", None})  # measures a person takes part in (None: not said)
HOUSEHOLD_GROUPS = frozenset({"homeowners"})
RESIDENTS_GROUP = "residents-of-vulnerable-areas"  # the efforts for the people of vulnerable housing areas
FIRST = 5  # the first measures of an answer, what a yes to a need question would change
HOME_CRIMES = frozenset({"burglary"})
CONTROL_KIND = "control"  # ks:kind of control and enforcement (ontology/concepts/kinds.ttl)
HELP_KIND = "help"
GANG_MEMBER = "gang-member"
CONTROL_LIMIT = 5  # control measures shown apart at most
_NOTHING: frozenset[str] = frozenset()

# The reasons of a ranking: English here, Danish in the message catalogue.
MESSAGES: dict[str, str] = {
    "same_tier": N_("same tier as the case"),
    "lower_tier": N_("one tier below the case"),
    "higher_tier": N_("one tier above the case, but run by a forum for the case"),
    "higher_tier_victim": N_("one tier above the case, but for victims like the person"),
    "higher_tier_place": N_("one tier above the case, but in the person's own area"),
    "group": N_("target group: {}"),
    "all": N_("aimed at all citizens"),
    "needs": N_("addresses {}"),  # the factor's label in lower case: "rettet mod gentagen kriminalitet"
    "crime": N_("aimed at {} (the case's offence)"),
    "forum": N_("runs in {}"),
    "offender": N_("for people who have committed crime"),
    "at-risk": N_("for people at risk"),
    "victim": N_("for victims of crime"),
    "relative": N_("for parents and relatives"),
    "here": N_("in {}"),
    "elsewhere": N_("from elsewhere: {}"),  # Danish "findes i Esbjerg Kommune"
    "example": N_("only an example in the source"),
    "planned": N_("planned, according to the source"),
}
TEXT = {lang: {key: gettext(text, lang) for key, text in MESSAGES.items()} for lang in LANGUAGES}


class Measure(NamedTuple):
    """One catalogue intervention as the ranking sees it. (A named tuple, not a dataclass:
    `@dataclass(slots=True)` took 2.5 ms of every start to generate the class.)"""

    position: int
    id: str
    tier: str
    tier_rank: int
    scope: str | None  # None: the catalogue does not say (treated as a measure for a person)
    kind: str | None  # what it does (ks:kind: help, control, situational...); shown, not ranked on
    status: str | None  # None: the catalogue does not say (treated as running)
    situations: frozenset[str]
    groups: frozenset[str]
    factors: frozenset[str]
    crime_types: frozenset[str]
    contraindications: frozenset[str]
    fora: frozenset[str]
    municipalities: tuple[str, ...]  # where it runs (one or more municipalities or districts)
    areas: frozenset[str]  # those and every area they lie in
    min_age: int | None
    max_age: int | None
    source: Source | None

    # Worked out once from the fields above (see `_measure`): ranking reads them for every
    # candidate of every new base, where recomputing them was a tenth of a new base's cost.
    age_span: int  # the width of its age range (0 to 120 when open): narrower ranks first on ties
    for_victims: bool  # for the situation "victim" or the group of victims of crime
    # Aimed at offenders of given crime types: fits only a case that names one. Youth crime
    # is any crime a young person commits (concepts/crime-types.ttl): the age filter, not
    # the offence, decides whether it fits.
    crime_gated: bool
    specific_groups: frozenset[str]  # its target groups other than all citizens
    for_all: bool  # aimed at all citizens
    own_situation_groups: frozenset[str]  # its target groups that are situations (young offenders...)
    # Only for situation groups other than victims of crime (shop owners): not the case's
    # unless the case is in one of them.
    situation_groups_only: bool
    status_weight: float  # the share of the status weight: running 1, planned 0.5, example 0

    @property
    def municipality(self) -> str | None:
        return self.municipalities[0] if self.municipalities else None

    def admits(self, age: int | None) -> bool:
        """Whether a person of `age` is within its age range (an unknown age always is)."""
        return age is None or ((self.min_age is None or age >= self.min_age)
                               and (self.max_age is None or age <= self.max_age))


class CaseView(NamedTuple):
    """What the ranking needs of a case and its conclusions (no reference, no raw answers)."""

    tier: str
    tier_rank: int
    groups: frozenset[str]
    fora: frozenset[str]
    needs: frozenset[str]  # true risk factors
    true: frozenset[str]  # every true factor (for contraindications)
    false: frozenset[str]  # every factor the case denies (a measure for them is no fit)
    offences: frozenset[str]
    area: str | None
    age: int | None
    roles: frozenset[str] = frozenset({"at-risk"})  # who the person is (kundskab.reasoning.cases ROLES)
    suffered: frozenset[str] = frozenset()  # crime types the person has suffered
    honour: bool = False  # honour is at stake (an honour conflict, or honour crime suffered or done)
    no_mediation: bool = False  # no conflict council: the family or a gang threatens, or no one to meet
    own_needs: frozenset[str] | None = None  # needs that are the person's own risk signs (None: all)
    # Control and enforcement aimed at the person is shown apart, and only for an active
    # offender or a gang member with no wish to leave (never for one who wants out).
    show_control: bool = False
    # With the age unknown, the ages the case's own factors allow (truancy: 6-17); None: any.
    ages: tuple[int, int] | None = None


class _Base(NamedTuple):
    """What decides the part of the score that needs and offences do not change."""

    tier: str
    tier_rank: int
    groups: frozenset[str]
    fora: frozenset[str]
    band: int
    area: str | None
    situations: frozenset[str]
    # Crime types the person suffered: a burglary victim is of the household the burglary
    # advice (for homeowners) is for.
    suffered: frozenset[str] = frozenset()


class _Entry(NamedTuple):
    """A scored candidate; entries sort best first (ties: more specific, then the id)."""

    neg_score: float  # the score as the item shows it (three decimals), negated
    neg_shared: int  # the number of the item's reasons of fit, negated
    age_span: int
    group_count: int
    id: str
    position: int


class _Open(NamedTuple):
    """The candidates of one base: base score and count of reasons of fit by position (-1:
    not open), and the ungated ones in order."""

    # Flat arrays, not lists: no float object per measure, so that many bases fit the memo.
    base: array[float]
    shared: array[int]
    gated: frozenset[int]
    needs_only: frozenset[int]  # for another situation: only a need of the case lifts them
    # for offenders of given crimes: only one of those crimes, or a need other than offending
    # itself, lifts them (a violent offender is not a case for the burglary group)
    crime_only: frozenset[int]
    order: list[_Entry]
    # What the open measures address, are aimed at and rule out: of a case's needs, offences
    # and true factors only these can change its ranking (the key of the rankings memo).
    factors: frozenset[str]
    crime_types: frozenset[str]
    contraindications: frozenset[str]
    # Per position ranked for this base, the base narrowed to the measure (what its item's
    # words depend on, the key of the shared items): made once per base, not per case.
    shown: dict[int, _Base]
    # Per measure of another place, the needs it addresses that a measure of the case's own
    # place addresses too: where these are all the case's needs it meets, it gives way.
    covered: Mapping[int, frozenset[str]] = {}


class Ranked(NamedTuple):
    """A ranking: the answer's items, their explanation entries."""

    items: tuple[RankedIntervention, ...]
    explained: tuple[Explanation, ...]
    ids: frozenset[str]  # the items' measures (whose labels the answer carries)
    control: tuple[RankedIntervention, ...] = ()  # control and enforcement aimed at the person, shown apart
    # Per unknown risk factor whose yes would bring measures into the first five, best first:
    # the factor and those measures (see `Ranker._lifts`).
    lifts: tuple[tuple[str, tuple[str, ...]], ...] = ()


class Ranker:
    """Ranks the catalogue for cases; built once per knowledge base and ranking."""

    def __init__(self, kb: KnowledgeBase, ranking: Ranking, tier_ranks: Mapping[str, int],
                 case_fora: Iterable[str] = (), need_factors: Iterable[str] | None = None) -> None:
        self.kb = kb
        self.ranking = ranking
        self.weights = ranking.weights
        self._labels = {lang: kb.labels(lang) for lang in LANGUAGES}  # the knowledge base's tables
        self._ancestors = area_ancestors(kb)
        groups = {g.id: g for g in kb.of_type("AgeGroup")}
        self._situation_groups = frozenset(g.id for g in kb.of_type("SituationGroup")) - {ALL_CITIZENS}
        self.measures = [_measure(i, c, tier_ranks, groups, self._ancestors, self._situation_groups)
                         for i, c in enumerate(kb.of_type("Intervention"))]
        self._risk = {f.id for f in kb.of_type("RiskFactor")}
        # Situations come from risk factors only (consent to mediation is not victimhood).
        self._offending = {f for f in self._risk if OFFENDING_DOMAIN in kb.get(f).ref("inDomain")}
        self._victim = {f for f in self._risk if VICTIM_DOMAIN in kb.get(f).ref("inDomain")}
        # Offending itself: having offended, and what implies it (a serious or a repeated
        # offence). It does not fit a measure for offenders of other crimes; a release from
        # custody, which does not imply an offence, is a need of its own.
        self._offending_itself = frozenset({OFFENCE_FACTOR, *implying_factors(kb).get(OFFENCE_FACTOR, ())})
        # Age bands: ages within one band pass the same age filters.
        edges = {ADULT_AGE}
        for m in self.measures:
            if m.min_age is not None:
                edges.add(m.min_age)
            if m.max_age is not None:
                edges.add(m.max_age + 1)
        self._bands = AgeBands(edges)
        # Honour measures (for honour conflicts or crime), mediation measures, and measures for
        # victims of given crimes (position -> crime types, and whether it is for a household
        # or a place rather than the person): see `_blocked`.
        # An honour measure is aimed at honour alone: its only target risk factor is the honour
        # conflict, or its only crime type honour crime (the violence unit, which handles all
        # violence and honour too, is not one).
        self._honour = frozenset(m.position for m in self.measures
                                 if m.factors & self._risk == {HONOUR_FACTOR}
                                 or m.crime_types - {YOUTH_CRIME} == {HONOUR_CRIME})
        self._mediation = frozenset(m.position for m in self.measures
                                    if MEDIATION_FORUM in m.fora or MEDIATION_FACTOR in m.factors)
        self._for_victims_of = {m.position: (m.crime_types - {YOUTH_CRIME}, m.scope in ("population", "place"))
                                for m in self.measures if m.for_victims and m.crime_types - {YOUTH_CRIME}
                                and m.position not in self._honour}
        self._victim_crime_types = frozenset(c for types, _ in self._for_victims_of.values() for c in types)
        self._blocked_memo = BoundedMemo("ranking.blocked")
        # Control and enforcement (ks:kind control); those also for victims, which protect a
        # victim (a police response to honour threats), are kept for a person named only one.
        self._control = frozenset(m.position for m in self.measures if m.kind == CONTROL_KIND)
        # Help for people at risk of a crime that harms no one else (ks:victimless: drink
        # driving, where the behaviour is the crime): only a case that names that crime is a
        # case for it, whatever need they share (an alcohol abuse is no drink-driving; see `_rank`).
        victimless = {c.id for c in kb.of_type("CrimeType") if c.value("victimless") == "true"}
        self._behaviour_crimes = {m.position: m.crime_types for m in self.measures
                                  if m.scope in PERSON_SCOPES and m.situations == {"at-risk"}
                                  and (named := m.crime_types - {YOUTH_CRIME}) and named <= victimless}
        self._control_not_for_victims = frozenset(p for p in self._control if not self.measures[p].for_victims)
        # Control aimed at one kind of crime (the violence unit, the burglary operations) is
        # shown apart only for a case that names that crime: not for a shoplifter, nor for an
        # offence the case does not name.
        self._control_crimes = {m.position: named for m in self.measures
                                if m.kind == CONTROL_KIND and (named := m.crime_types - WHOLE_CRIMES)}
        # The fora a measure of the specific or individual effort needs among the case's:
        # the fora the rules can give a case (`case_fora`) that it belongs to, SSP and SSP+
        # only where it names no other (they run most work with children and young adults;
        # a Pre-Exit measure is Pre-Exit's even when SSP takes part). A forum's measure is
        # listed only when its forum is the case's: the youth crime board's measures wait
        # for a case before the board (the question that would bring it says so).
        given = frozenset(case_fora)
        self._kind_fora = given - BROAD_FORA  # what makes two places' measures of one kind (_superseded)
        self._needs_forum: dict[int, frozenset[str]] = {}
        for m in self.measures:
            own = m.fora & given
            if own and m.tier_rank > GENERAL_RANK:
                self._needs_forum[m.position] = own - BROAD_FORA or own
        self._by_factor: dict[str, list[int]] = {}
        # A measure's target risk factors: when the case denies every one of them, the
        # measure is not a candidate (Pre-Exit is for someone close to gangs; a case that
        # says the person is not is no case for it).
        self._targets = {m.position: len(m.factors & self._risk) for m in self.measures}
        self._by_target: dict[str, list[int]] = {}
        for m in self.measures:
            for f in sorted(m.factors & self._risk):
                self._by_target.setdefault(f, []).append(m.position)
        self._by_crime: dict[str, list[int]] = {}
        self._by_contra: dict[str, list[int]] = {}
        for m in self.measures:
            for f in sorted(m.factors):
                self._by_factor.setdefault(f, []).append(m.position)
            for c in sorted(m.crime_types):
                self._by_crime.setdefault(c, []).append(m.position)
            for f in sorted(m.contraindications):
                self._by_contra.setdefault(f, []).append(m.position)
        # The measures a base can reach at all (see `_candidates`): by a group or forum
        # they name, for all citizens, for victims, or a place measure; per age band, those
        # that pass the scope and age filters.
        self._reach_group: dict[str, frozenset[int]] = {}
        self._reach_forum: dict[str, frozenset[int]] = {}
        for m in self.measures:
            for g in m.groups:
                self._reach_group[g] = self._reach_group.get(g, frozenset()) | {m.position}
            for f in m.fora:
                self._reach_forum[f] = self._reach_forum.get(f, frozenset()) | {m.position}
        self._reach_all = frozenset(m.position for m in self.measures if ALL_CITIZENS in m.groups)
        self._reach_victim = frozenset(m.position for m in self.measures if m.for_victims)
        # Campaigns and schemes against a crime (Nabohjælp against burglary): a victim of it.
        self._reach_against_crime = frozenset(m.position for m in self.measures
                                              if m.scope == "population" and m.crime_types)
        self._reach_place = frozenset(m.position for m in self.measures if m.scope == "place")
        self._in_band: dict[int, frozenset[int]] = {}
        # The factors a need question may ask about (the caller's; default: every risk
        # factor), and the measures aimed at each target group (`groups_matter`).
        self._need_factors = frozenset(self._risk if need_factors is None else need_factors) & self._risk
        self._of_group: dict[str, tuple[Measure, ...]] = {}
        # Memos (bounds: kundskab._memo.BOUNDS; why: benchmarks/NOTES.md). An open memo entry holds two score
        # arrays and references to the sets and entries the tables share (`_sets`, `_entries`).
        self._open_memo = BoundedMemo("ranking.open")
        self._rankings = BoundedMemo("ranking.rankings")
        self._items = BoundedMemo("ranking.items")
        self._shown = BoundedMemo("ranking.shown")
        self._sets = BoundedMemo("ranking.sets")
        self._entries = BoundedMemo("ranking.entries")
        self._by_need = BoundedMemo("ranking.by_need")

    # ------------------------------------------------------------------ public

    def _need_order(self, candidates: _Open) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """Per factor a need question may ask about (in id order), the open measures of a
        base that address it, best base score first (`_lifts`: made only when asked for)."""
        scores, by_need = candidates.base, {}
        for f in sorted(self._need_factors & candidates.factors):
            open_ones = [p for p in self._by_factor[f] if scores[p] >= 0]
            if open_ones:
                by_need[f] = tuple(sorted(open_ones, key=scores.__getitem__, reverse=True))
        return tuple(by_need.items())

    def groups_matter(self, view: CaseView, ranked: Ranked, groups: frozenset[str], factor: str) -> bool:
        """Whether putting the case in `groups` as well, with `factor` one more need, could
        change which measures are the first five of `ranked`: a measure aimed at one of
        them, not among the first five, could reach them with the group (scored as `_rank`
        would, at most: no contraindication or place counted against it), or could give a
        measure of its forum from another place way. Where none can, `_lifts` (counted on
        the need alone) holds for the yes."""
        first = ranked.items[:FIRST]
        shown = {item.id for item in first}
        # What a measure must reach: the fifth, or being listed at all when fewer are.
        fifth = first[-1].score - 0.001 if len(first) == FIRST else self.ranking.minimum_score - 1e-9
        base = _Base(view.tier, view.tier_rank, view.groups | groups, view.fora, self._band(view.age), view.area,
                     self.situations(view), view.suffered)
        age = self._bands.first_age(base.band)
        chain = self._ancestors.get(base.area, frozenset({base.area})) if base.area else frozenset()
        needs = view.needs | {factor}
        w = self.weights
        for g in sorted(groups):
            if g not in self._of_group:
                self._of_group[g] = tuple(m for m in self.measures if g in m.groups)
            for m in self._of_group[g]:
                if m.id in shown or m.scope == "organisation" or not m.admits(age):
                    continue
                fit = self._base_fit(m, base, age, chain)
                if fit is None:
                    continue
                if m.fora & self._kind_fora:
                    return True  # it may give way to, or take the place of, another place's measure
                count = len(needs & m.factors)
                crime = bool(m.crime_types & view.offences)
                if fit[2] and not count and not crime:
                    continue  # waits for a need or an offence the case does not have
                if fit[0] + w["needs"] * min(count, 2) / 2 + (w["crime"] if crime else 0.0) >= fifth:
                    return True
        return False

    def situations(self, view: CaseView) -> frozenset[str]:
        """The case's situations, from its factors, offences, tier, age and roles (a parent
        asking for help is a relative; what was done to a victim is no risk of their own)."""
        found = {"citizen"}
        if view.offences or view.true & self._offending:
            found.add("offender")
        if view.true & self._victim:
            found.add("victim")
        own = view.needs if view.own_needs is None else view.own_needs
        if own - self._victim or view.tier_rank > GENERAL_RANK:
            found.add("at-risk")
        if ((view.age < ADULT_AGE if view.age is not None else view.ages is not None and view.ages[1] < ADULT_AGE)
                or "relative" in view.roles):  # a minor's parents are asked with them
            found.add("relative")
        return frozenset(found)

    def rank(self, view: CaseView, lang: str, limit: int, lifts: bool = False) -> Ranked:
        """The ranking of the catalogue for a case (`lifts`: also what a yes to each open need
        would bring into the first five, for the questions about needs; only when asked for)."""
        base = _Base(view.tier, view.tier_rank, view.groups, view.fora, self._band(view.age), view.area,
                     self.situations(view), view.suffered)
        candidates = self._open(base)
        # Only what the base's open measures address, aim at or rule out can change the
        # ranking, so cases that differ in nothing else share one (a quarter fewer rankings
        # to make for random cases).
        blocked = self._blocked(view)
        if view.ages is not None and view.age is None:
            blocked = blocked | self._outside(view.ages)
        # Control aimed at the person is never among the measures offered as help: shown
        # apart, or not at all. For a person named only a victim, control of the offender in
        # their case (a police response to honour threats) is protection, and stays.
        protected = "victim" in base.situations and "offender" not in base.situations \
            and GANG_MEMBER not in view.true  # never control in the list of one in a gang (or leaving it)
        apart = self._control_not_for_victims if protected else self._control
        key = (base, view.needs & candidates.factors, view.offences & candidates.crime_types,
               view.true & candidates.contraindications, view.false & candidates.factors, blocked,
               apart, view.show_control, lang, limit, lifts)
        found = self._rankings.get(key)
        if found is None:
            found = self._rankings.make(key, self._rank, base, candidates, view, lang, limit, blocked, apart,
                                        view.show_control, lifts)
        return found  # type: ignore[no-any-return]

    def _blocked(self, view: CaseView) -> frozenset[int]:
        """Measures that never fit this person, whatever else they share:
        - honour measures (for honour conflicts or honour crime) where honour is not at stake;
        - mediation (a conflict council, the victim meeting the offender) where honour or
          violence in the family is at stake (000 "Konfliktråd": voluntary for both; meeting
          an offender from one's own family is no help: the editor's reading, DOMAIN), a gang
          is party, or no one could be met (Recommender.recommend says when);
        - for a victim, a measure for victims of given crimes (burglary advice, shop visits)
          when they suffered others; where the crime suffered is not named, the ones for a
          household or a place (prevention advice) wait for it."""
        key = (view.honour, view.no_mediation, view.suffered & self._victim_crime_types,
               view.offences & self._victim_crime_types,
               # a victim by role or by any victimisation factor (abuse suspected too)
               "victim" in view.roles or not self._victim.isdisjoint(view.true),
               bool(view.suffered))
        found = self._blocked_memo.get(key)
        if found is None:
            blocked = set() if view.honour else set(self._honour)
            if view.no_mediation:
                blocked |= self._mediation
            crimes = key[2] | key[3]
            for position, (types, household) in self._for_victims_of.items():
                if key[4] and not types & crimes and (key[5] or household):
                    blocked.add(position)
            found = self._blocked_memo.make(key, frozenset, blocked)
        return found  # type: ignore[no-any-return]

    def _outside(self, ages: tuple[int, int]) -> frozenset[int]:
        """The measures for no age within `ages` (youth centres from 18 for a truant whose age
        is not given)."""
        found = self._blocked_memo.get(ages)
        if found is None:
            low, high = ages
            found = self._blocked_memo.make(ages, frozenset, (
                m.position for m in self.measures
                if (m.min_age is not None and m.min_age > high) or (m.max_age is not None and m.max_age < low)))
        return found  # type: ignore[no-any-return]

    def area_chain(self, area: str) -> frozenset[str]:
        """An area and every area it lies in (ks:partOf, followed)."""
        return self._ancestors.get(area, frozenset({area}))

    def label(self, ident: str, lang: str) -> str:
        return self._labels.get(lang, self._labels["en"]).get(ident, ident)

    def labels(self, lang: str) -> Mapping[str, str]:
        """Every concept's label in `lang`, by id (the one table of labels of the answers)."""
        return self._labels.get(lang, self._labels["en"])

    # ------------------------------------------------------------------ candidates

    def _band(self, age: int | None) -> int:
        return self._bands.band(age)

    def _open(self, base: _Base) -> _Open:
        found = self._open_memo.get(base)
        if found is None:
            found = self._open_memo.make(base, self._build_open, base)
        return found  # type: ignore[no-any-return]

    def _candidates(self, base: _Base, age: int | None) -> list[int]:
        """The positions of the measures `_base_fit` may let through for a base (a superset:
        it decides), in catalogue order: about a quarter of the catalogue, so a new base is
        scored four times faster than over every measure."""
        in_band = self._in_band.get(base.band)
        if in_band is None:
            in_band = self._in_band[base.band] = frozenset(
                m.position for m in self.measures if m.scope != "organisation" and m.admits(age))
        group, forum = self._reach_group, self._reach_forum
        reach = self._reach_all.union(*[group[g] for g in base.groups if g in group],
                                      *[forum[f] for f in base.fora if f in forum])
        if "victim" in base.situations:
            reach |= self._reach_victim | self._reach_against_crime
        if base.area is not None:
            reach |= self._reach_place
        return sorted(reach & in_band)

    def _build_open(self, base: _Base, every: bool = False) -> _Open:
        """The open candidates of a base (`every`: trying every measure, not only those
        `_candidates` names; for the test that the two agree)."""
        age = self._bands.first_age(base.band)
        area_chain = self._ancestors.get(base.area, frozenset({base.area})) if base.area else frozenset()
        scores = array("d", [-1.0]) * len(self.measures)
        shared_counts = array("H", [0]) * len(self.measures)
        gated, needs_only, crime_only = set(), set(), set()
        factors: set[str] = set()
        crime_types: set[str] = set()
        contraindications: set[str] = set()
        order = []
        measures, entries = self.measures, self._entries
        fits = [(m, fit) for m in (measures if every else [measures[p] for p in self._candidates(base, age)])
                if (fit := self._base_fit(m, base, age, area_chain)) is not None]
        covered: dict[int, frozenset[str]] = {}
        if base.area is not None:
            away = self._superseded([m for m, _ in fits], base.area, area_chain)
            if away:
                fits = [(m, fit) for m, fit in fits if m.position not in away]
            covered = self._covered_here([m for m, _ in fits], base.area, area_chain)
        for m, fit in fits:
            factors |= m.factors
            crime_types |= m.crime_types
            contraindications |= m.contraindications
            score, shared, waits = fit
            scores[m.position] = score
            shared_counts[m.position] = shared
            if waits:
                gated.add(m.position)
                if waits == "needs":
                    needs_only.add(m.position)
                elif waits == CRIME_WAIT:
                    crime_only.add(m.position)
            else:
                # Shared by every base that scores the measure alike: an entry is most of
                # a table's memory, and there are a few thousand distinct ones.
                order.append(entries.intern(
                    _Entry(-_shown(score), -shared, m.age_span, len(m.groups), m.id, m.position)))
        order.sort()

        # One object per distinct set: the bases' tables share them (a table holds six sets,
        # of a few dozen ids each, that many bases have alike).
        def one(items: set[Any]) -> frozenset[Any]:
            return self._sets.intern(frozenset(items))

        return _Open(scores, shared_counts, one(gated), one(needs_only), one(crime_only), order,
                     one(factors), one(crime_types), one(contraindications), {}, covered)

    def _superseded(self, open_measures: list[Measure], area: str, area_chain: frozenset[str]) -> set[int]:
        """The measures for a person of another place that one of the case's own place
        replaces: where the case's place has a measure of the same forum (PSP, KSP, Exit, the
        youth sanction council: a forum the rules can give a case other than SSP and SSP+,
        which run most work with young people), the other place's measure of that forum is
        not the case's; only where its place has none does a measure of another place stand
        in, saying where it exists. The own place's measure counts whatever its kind: North
        Jutland's youth sanction council, whose measure is a recommendation to the court,
        still means that the case goes there, not to Esbjerg's youth crime team.
        (The case is referred to its own municipality's or police district's cooperation:
        000 "PSP", "KSP-samarbejdet"; 004 Bilag 1; the editor's reading of whose measure it is.)"""
        def local(m: Measure) -> bool:
            return area in m.areas or not area_chain.isdisjoint(m.municipalities)

        own_fora: set[str] = set()
        for m in open_measures:
            if m.municipalities and local(m):
                own_fora |= m.fora & self._kind_fora
        if not own_fora:
            return set()
        return {m.position for m in open_measures
                if m.municipalities and m.scope in PERSON_SCOPES and not own_fora.isdisjoint(m.fora)
                and not local(m)}

    def _covered_here(self, open_measures: list[Measure], area: str,
                      area_chain: frozenset[str]) -> dict[int, frozenset[str]]:
        """Per person measure of another place and of no forum, the risk factors it addresses that a person
        measure of the case's own place (not control) addresses too: the Copenhagen
        extremism effort for a case in Aarhus, which has its own anti-radicalisation effort.
        `_rank` drops it where these are all the needs of the case it meets (an example from
        elsewhere stands in only for a need the case's place leaves open: the editor's
        reading, as for `_superseded`)."""
        def local(m: Measure) -> bool:
            return area in m.areas or not area_chain.isdisjoint(m.municipalities)

        own: set[str] = set()
        for m in open_measures:
            if m.municipalities and m.kind != CONTROL_KIND and m.scope in PERSON_SCOPES and local(m):
                own |= m.factors & self._risk
        if not own:
            return {}
        # A measure of a forum (victim support, an Infohus: schemes that run everywhere,
        # written down where the source is) is left to `_superseded`.
        return {m.position: both for m in open_measures
                if m.municipalities and m.scope in PERSON_SCOPES and not m.fora and not local(m)
                and (both := frozenset(m.factors & own))}

    def _base_fit(self, m: Measure, base: _Base, age: int | None,
                  area_chain: frozenset[str]) -> tuple[float, int, str] | None:
        """The filters, then (base score, reasons of fit, waits for a need or offence) of a
        measure for a base. Each feature counted here is one reason `_item` shows."""
        if m.scope == "organisation":
            return None
        if not m.admits(age):
            return None
        # An effort for the residents of vulnerable housing areas (a project in selected
        # estates, a holiday camp held there) is for a person who lives in one: not for every
        # child with trouble at home (the editor's reading of whom these efforts reach).
        if RESIDENTS_GROUP in m.groups and m.scope in PERSON_SCOPES and RESIDENTS_GROUP not in base.groups:
            return None
        # A situation group both name (gang members, young offenders, victims...) is the
        # situation itself, whatever words the measure uses for it.
        same_situation = not m.own_situation_groups.isdisjoint(base.groups)
        other_situation = bool(m.situations) and not (same_situation or not m.situations.isdisjoint(base.situations))
        if other_situation and not m.factors:
            return None
        # Victim measures for a group the case is not in (shop owners) are not the case's.
        # (A victim of a crime against the home is of the household group: burglary advice
        # for homeowners is for the burglary victim.)
        other_group = m.situation_groups_only and m.groups.isdisjoint(base.groups) \
            and not (m.groups <= HOUSEHOLD_GROUPS and not m.crime_types.isdisjoint(base.suffered & HOME_CRIMES))
        victim = m.for_victims and "victim" in base.situations and not other_group
        specific_groups = m.specific_groups & base.groups
        # The same place: the measure's area lies in the case's, or the case's in the measure's.
        local = base.area is not None and (base.area in m.areas or not area_chain.isdisjoint(m.municipalities))
        # A place measure only where the case lies within its place: the safety partnership
        # of Tingbjerg for a case that names Tingbjerg as its area, not for every case in
        # Copenhagen (a measure for a whole municipality's housing areas fits its cases).
        if m.scope == "place" and area_chain.isdisjoint(m.municipalities):
            return None
        # Against a crime the person suffered (burglary advice for a burgled family).
        against_crime_suffered = "victim" in base.situations \
            and not m.crime_types.isdisjoint(base.suffered - {YOUTH_CRIME})
        # A campaign for everybody is the person's only through what it is about: the crime a
        # victim suffered (the IT-skills campaign against fraud for a defrauded pensioner), or
        # a need of the case (the prevention of substance abuse, waiting for that need).
        against_suffered = m.scope == "population" and against_crime_suffered
        about_need = m.scope == "population" and m.for_all and not m.factors.isdisjoint(self._risk)
        if m.scope == "population" and not (specific_groups or victim or against_suffered or about_need):
            return None
        # A population measure (meetings, campaigns, the general effort of schools) is for the
        # people of its place: a case elsewhere does not take part in it.
        if m.scope == "population" and base.area is not None and m.municipalities and not local:
            return None
        by_forum = not m.fora.isdisjoint(base.fora)
        needs_forum = self._needs_forum.get(m.position)
        if needs_forum is not None and needs_forum.isdisjoint(base.fora):
            return None
        # A person named only a victim is answered as a victim: measures for victims (and
        # for their parents), or of their fora; not the effort of their age group (traffic
        # policy, campaigns, the SSP cooperation).
        if not (victim or by_forum or against_suffered) and "victim" in base.situations \
                and base.situations.isdisjoint(("at-risk", "offender")) \
                and not ("relative" in m.situations and "relative" in base.situations):
            return None
        by_group = m.tier_rank <= base.tier_rank and bool(specific_groups or m.for_all)
        # What lets a measure through here, `_candidates` must name (the test of
        # `_build_open(every=True)` checks that they agree).
        if not (by_group or by_forum or victim or against_suffered or (local and m.scope == "place")):
            return None
        w = self.weights
        gap = abs(base.tier_rank - m.tier_rank)
        score = w["tier"] * (1.0 if gap == 0 else 0.5 if gap == 1 else 0.0)
        shared = 1  # the tier line every item shows
        if specific_groups:
            score += w["group"]
            shared += 1
        elif m.for_all:
            score += w["group"] / 4
            shared += 1
        situations = m.situations & base.situations - {"citizen"}
        if same_situation or situations:
            score += w["situation"]
        # One reason per shared situation; a situation group both name is shown (and
        # counted) as the target group.
        shared += len(situations)
        if by_forum:
            score += w["forum"]
            shared += 1
        # A place measure is the place's own effort (situational prevention, campaigns, its
        # organisation): for a person with risk signs of their own, help for the person comes
        # first, so its place counts only if it is help or the work of the case's forum.
        if local and not (m.scope == "place" and base.tier_rank > GENERAL_RANK and m.kind != HELP_KIND
                          and not by_forum):
            score += w["place"]
            shared += 1
        score += w["status"] * m.status_weight
        # For another situation, or for offenders of given crimes only: listed only where it
        # addresses a need or offence of the case (or its forum is the case's).
        # A place measure fits a person of that place only through a need it addresses (living
        # in a vulnerable area), never through the person's offence: lighting, hedges and
        # neighbourhood watch against burglary protect the homes, they are no help to the burglar.
        # For a victim, though, the place's own measure against the crime they suffered (a
        # citizens' meeting after burglaries, for a burgled family) is what they ask for.
        place_only = m.scope == "place" and not by_forum and not against_crime_suffered
        # A measure for particular needs (it addresses risk factors) that the case reaches only
        # as "a person at risk" fits it only through one of those needs: drink-driving
        # treatment is for people with an alcohol problem, not for every adult at risk.
        # (The general effort is for everybody: its measures need no such fit.)
        broad_only = bool(m.factors) and m.tier_rank > GENERAL_RANK \
            and not (by_forum or same_situation or situations - {"at-risk"})
        campaign_for_a_need = about_need and not (specific_groups or against_suffered or victim)
        # The general effort for a person's age group (teaching, campaigns, clubs) is no
        # measure for one with risk signs of their own unless it is about one of them, or
        # the person's offence: traffic teaching is not an answer to a charge at 16.
        effort_for_all = m.scope == "population" and base.tier_rank > GENERAL_RANK \
            and not (victim or against_suffered)
        waits = "needs" if other_situation or campaign_for_a_need or place_only else \
            CRIME_WAIT if m.crime_gated and not by_forum else \
            "needs or offences" if (broad_only or effort_for_all) and not by_forum else ""
        return score, shared, waits

    # ------------------------------------------------------------------ ranking

    def _rank(self, base: _Base, candidates: _Open, view: CaseView, lang: str, limit: int,
              blocked: frozenset[int] = frozenset(), apart: frozenset[int] = frozenset(),
              show_apart: bool = False, lifts: bool = False) -> Ranked:
        w = self.weights
        minimum = self.ranking.minimum_score - 1e-9
        excluded = {p for f in view.true for p in self._by_contra.get(f, ())}
        excluded |= blocked
        if apart:
            excluded.update(p for p, crimes in self._control_crimes.items()
                            if p in apart and crimes.isdisjoint(view.offences))
        control: list[_Entry] = []
        if view.false:
            denied: Counter[int] = Counter()
            for factor in view.false:
                if factor in self._by_target:
                    denied.update(self._by_target[factor])
            targets = self._targets
            excluded.update(p for p, count in denied.items() if count == targets[p])
        if self._behaviour_crimes:  # drink-driving treatment for a burglar, or for a case that names no crime
            excluded.update(p for p, crimes in self._behaviour_crimes.items() if crimes.isdisjoint(view.offences))
        given_way: set[int] = set()  # by the needs alone (`_lifts` sees what one more does)
        if candidates.covered:  # another place's measure for a need the case's place meets
            needs, measures = view.needs, self.measures
            given_way = {p for p, both in candidates.covered.items()
                         if (met := needs & measures[p].factors) and met <= both} - excluded - apart
            excluded |= given_way
        # Counted in C (Counter's update): a need can name a few dozen measures.
        hits: Counter[int] = Counter()
        by_factor, by_crime = self._by_factor, self._by_crime
        for factor in view.needs:
            if factor in by_factor:
                hits.update(by_factor[factor])
        crime_hits: Counter[int] = Counter()
        for crime in view.offences:
            if crime in by_crime:
                crime_hits.update(by_crime[crime])
        top: list[_Entry] = []
        lifted = set()
        for position in hits.keys() | crime_hits:
            score = candidates.base[position]
            if score < 0 or position in excluded or (position in candidates.needs_only and position not in hits):
                continue
            if position in candidates.crime_only and position not in crime_hits and \
                    not (view.needs & self.measures[position].factors) - self._offending_itself:
                continue
            lifted.add(position)
            shared = candidates.shared[position]
            count = hits.get(position, 0)
            if count:
                score += w["needs"] * min(count, 2) / 2
                shared += count
            if position in crime_hits:
                score += w["crime"]
                shared += crime_hits[position]
            if score >= minimum:
                m = self.measures[position]
                (control if position in apart else top).append(
                    _Entry(-_shown(score), -shared, m.age_span, len(m.groups), m.id, position))
        # The best of the others are among the first `limit + len(lifted) + len(excluded)`.
        taken = 0
        for entry in candidates.order:
            if taken >= limit:
                break
            if entry.position in lifted or entry.position in excluded:
                continue
            if -entry.neg_score < minimum:
                break
            if entry.position in apart:
                control.append(entry)
                continue
            top.append(entry)
            taken += 1
        top.sort()
        ranked = list(top) if lifts else top  # before the cut (`_lifts` makes it again with one more need)
        away = excluded | apart
        self._keep_fora(top, candidates, base.fora, lifted, away, limit)
        lifted_by = self._lifts(top[:min(FIRST, limit)], ranked, candidates, base, view, away, given_way, hits,
                                crime_hits, lifted, limit) if lifts else ()
        control.sort()
        items, explained = self._items_of(top, base, candidates, view, lang)
        shown_apart: list[RankedIntervention] = []
        if show_apart and control and base.area is not None:
            # Control and enforcement is the police's and the authorities' of a place: another
            # place's (Esbjerg's violence unit for a case in Næstved) is nothing to show.
            chain = self.area_chain(base.area)
            control = [e for e in control if not (m := self.measures[e.position]).municipalities
                       or base.area in m.areas or not chain.isdisjoint(m.municipalities)]
        if show_apart and control:
            shown_apart, more = self._items_of(control[:CONTROL_LIMIT], base, candidates, view, lang)
            explained += more
        return Ranked(tuple(items), tuple(explained), frozenset(item.id for item in items + shown_apart),
                      tuple(shown_apart), lifted_by)

    def _lifts(self, first: list[_Entry], ranked: list[_Entry], candidates: _Open, base: _Base, view: CaseView,
               away: set[int], given_way: set[int], hits: Counter[int], crime_hits: Counter[int], lifted: set[int],
               limit: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """For each risk factor the case leaves open that some open measure addresses: the
        measures a yes would bring into the first five (`first`), scored as `_rank` scores
        them with that one more need (`ranked`, the ranking before its cut, made again with
        the measures the need raises, and cut the same way); the factors whose yes brings
        any, the best brought first. Only a factor whose yes lifts some measure past the
        fifth is tried. A factor whose yes would put the person in another situation (an
        offender, a victim, at risk) changes the base, not only the needs: it is left to the
        open questions. The caller checks what the rules would conclude."""
        w_needs, w_crime = self.weights["needs"], self.weights["crime"]
        minimum = self.ranking.minimum_score - 1e-9
        measures, scores = self.measures, candidates.base
        in_first = {e.position for e in first}
        shown = min(FIRST, limit)  # the first five, or all of a shorter list
        worst = first[-1] if len(first) == shown else None
        # No measure whose base score is this far below the fifth can reach it with one need.
        low = -worst.neg_score - 0.001 if worst else minimum  # what a measure must reach
        bar = low - w_needs - (w_crime if crime_hits else 0.0)
        by_need = self._by_need.get(base)
        if by_need is None:
            by_need = self._by_need.make(base, self._need_order, candidates)
        found = []
        situations = base.situations
        same = self._need_factors - view.needs - view.false
        if "offender" not in situations:
            same -= self._offending
        if "victim" not in situations:
            same -= self._victim
        if "at-risk" not in situations:
            same &= self._victim

        def raised(cands: _Open, position: int, needs: frozenset[str], count: int) -> _Entry | None:
            """The entry of a measure with `count` of the case's needs (one more among
            them), as `_rank` scores it on `cands`; None where it stays out."""
            score = cands.base[position]
            if score < 0 or (position in away and position not in given_way):
                return None  # not open, or out whatever the needs (given way: see below)
            m = measures[position]
            if position in cands.covered and (met := needs & m.factors) <= cands.covered[position] and met:
                return None  # the case's own place has a measure for this need
            crime = position in crime_hits
            if position in cands.gated and not count and (not crime or position in cands.needs_only):
                return None  # only a need (or, where it says so, an offence) of the case lifts it
            if position in cands.crime_only and not crime and not (needs & m.factors) - self._offending_itself:
                return None
            shared = cands.shared[position]
            if count:
                score += w_needs * min(count, 2) / 2
                shared += count
            if crime:
                score += w_crime
                shared += crime_hits[position]
            if score < minimum:
                return None
            return _Entry(-_shown(score), -shared, m.age_span, len(m.groups), m.id, position)

        for factor, open_ones in by_need:
            if factor not in same:
                continue
            if scores[open_ones[0]] < bar:
                continue
            needs = view.needs | {factor}
            # Raising the first five's own measures only makes the fifth harder to beat: a
            # measure that does not beat it now stays out.
            outside = []
            for position in open_ones:
                score = scores[position]
                if score < bar:
                    break
                # One more need adds half the needs weight to a measure the case's needs do not
                # reach yet (and to one they reach once; none past two): a quick bound first.
                if position in in_first or score + (w_needs if position in hits else w_needs / 2) \
                        + (w_crime if position in crime_hits else 0.0) < low:
                    continue
                entry = raised(candidates, position, needs, hits.get(position, 0) + 1)
                if entry is not None and (worst is None or entry < worst):
                    outside.append(entry)
            if not outside:
                continue
            # The ranking again with the need: its measures that address it raised, the others
            # added, cut as `_rank` cuts it (a forum's only measure may push one out of the
            # first five, where the fora need more places than the rest of the list leaves).
            again: list[_Entry] = []
            for e in ranked:
                if factor in measures[e.position].factors:
                    if (entry := raised(candidates, e.position, needs, hits.get(e.position, 0) + 1)) is not None:
                        again.append(entry)
                else:
                    again.append(e)
            there = {e.position for e in again}
            again += [e for e in outside if e.position not in there]
            again.sort()
            if base.fora and len(base.fora) > sum(1 for e in again[shown:limit]
                                                  if not measures[e.position].fora & base.fora):
                self._keep_fora(again, candidates, base.fora, lifted | {e.position for e in outside}, away, limit)
            brought = [e for e in again[:shown] if e.position not in in_first]
            if brought:
                found.append((brought[0], factor, tuple(e.id for e in brought)))
        found.sort()
        return tuple((factor, ids) for _, factor, ids in found)

    def _items_of(self, top: list[_Entry], base: _Base, candidates: _Open, view: CaseView,
                  lang: str) -> tuple[list[RankedIntervention], list[Explanation]]:
        """The answer's items of ranked entries, and their explanation entries."""
        items, explained = [], []
        shown_by_position, needs, offences = candidates.shown, view.needs, view.offences
        for entry in top:
            position = entry.position
            m = self.measures[position]
            # What the item's words depend on (the base narrowed to this measure), so that
            # many cases share one item.
            shown = shown_by_position.get(position)
            if shown is None:
                # One object per distinct narrowed base (a few hundred), shared by every
                # base's table: the tables then hold references, not sets of their own.
                shown = shown_by_position[position] = self._shown.intern(_Base(
                    base.tier, base.tier_rank, base.groups & m.groups, base.fora & m.fora, 0, base.area,
                    base.situations & m.situations))
            parts = (lang, position, shown, -entry.neg_score,
                     needs & m.factors if needs else _NOTHING, offences & m.crime_types if offences else _NOTHING)
            found = self._items.get(parts)
            if found is None:
                found = self._items.make(parts, self._item, m, shown, *parts[3:], lang)
            items.append(found[0])
            explained.append(found[1])
        return items, explained

    def _keep_fora(self, top: list[_Entry], candidates: _Open, fora: frozenset[str], lifted: set[int],
                   excluded: set[int], limit: int) -> None:
        """Cut `top` (sorted) to `limit`, keeping for every forum of the case that has an
        open measure at least one of them: a forum's measures are what the referral brings.
        A forum's best measure takes the place of the lowest item no other forum needs."""
        measures = self.measures
        kept = top[:limit]
        # How many kept items each forum of the case has: an item may give way to another
        # forum's measure when every forum of the case it serves keeps another item.
        serves = {e.position: measures[e.position].fora & fora for e in kept}
        counts = dict.fromkeys(fora, 0)
        for served in serves.values():
            for forum in served:
                counts[forum] += 1
        for forum in sorted(fora):
            if counts[forum]:
                continue  # kept already, or brought in by another forum's measure (one measure, two fora)
            # The forum's best measure: among the ranked ones past the limit (lifted by a need)
            # and the open ones not taken, whichever ranks higher.
            found = [e for e in (
                next((e for e in top[limit:] if forum in measures[e.position].fora), None),
                next((e for e in candidates.order if forum in measures[e.position].fora
                      and e.position not in lifted and e.position not in excluded), None)) if e is not None]
            best = min(found) if found else None
            if best is None:
                continue  # no measure of this forum fits the case
            if len(kept) < limit:
                kept.append(best)
            else:
                for index in range(len(kept) - 1, -1, -1):
                    served = serves[kept[index].position]
                    if all(counts[f] >= 2 for f in served):
                        for f in served:
                            counts[f] -= 1
                        kept[index] = best
                        break
                else:
                    continue  # every kept item is some forum's only one
            serves[best.position] = measures[best.position].fora & fora
            for f in serves[best.position]:
                counts[f] += 1
        kept.sort()
        top[:] = kept

    def _item(self, m: Measure, base: _Base, score: float, needs: frozenset[str], crimes: frozenset[str],
              lang: str) -> tuple[RankedIntervention, Explanation]:
        """The answer's item for a ranked measure (reasons in words, once each) and its
        explanation entry (premises as ids). Its reasons of fit are the features
        `_base_fit` and `_rank` count, one each; "from elsewhere", "only an example" and
        "planned" are notes, not counted."""
        words = TEXT.get(lang, TEXT["en"])

        def names(ids: Iterable[str]) -> str:
            return ", ".join(self.label(i, lang) for i in sorted(ids))

        reasons: list[str] = []
        premises = [Fact("tier", base.tier)]
        gap = base.tier_rank - m.tier_rank
        if gap >= 0:
            reasons.append(words["same_tier"] if gap == 0 else words["lower_tier"])
        elif m.fora & base.fora and not (m.for_victims and "victim" in base.situations):
            reasons.append(words["higher_tier"])
        else:  # reached as a victims' measure or as a measure of the person's own place
            reasons.append(words["higher_tier_victim"] if m.for_victims else words["higher_tier_place"])
        specific = (m.groups - {ALL_CITIZENS}) & base.groups
        if specific:
            reasons.append(words["group"].format(names(specific)))
            premises += [Fact("target-group", g) for g in sorted(specific)]
        elif ALL_CITIZENS in m.groups:
            reasons.append(words["all"])
        for situation in SITUATIONS:
            if situation != "citizen" and situation in m.situations and situation in base.situations:
                reasons.append(words[situation])
                premises.append(Fact("situation", situation))
        for need in sorted(needs):
            reasons.append(words["needs"].format(_in_sentence(self.label(need, lang))))
            premises.append(Fact("factor", need, "true"))
        for crime in sorted(crimes):
            reasons.append(words["crime"].format(self.label(crime, lang)))
            premises.append(Fact("offence", crime))
        fora = m.fora & base.fora
        if fora:
            reasons.append(words["forum"].format(names(fora)))
            premises += [Fact("forum", f) for f in sorted(fora)]
        elsewhere = False
        municipality = m.municipality
        place_counts = not (m.scope == "place" and base.tier_rank > GENERAL_RANK and m.kind != HELP_KIND
                            and not fora)  # as `_base_fit` counts the place
        if base.area and m.municipalities:
            chain = self._ancestors.get(base.area, frozenset({base.area}))
            here = [a for a in m.municipalities if a in chain or base.area in self._ancestors.get(a, frozenset({a}))]
            if here:
                municipality = here[0]
                if place_counts:
                    reasons.append(words["here"].format(self.label(municipality, lang)))
                    premises.append(Fact("municipality", base.area))
            else:
                elsewhere = True
                reasons.append(words["elsewhere"].format(names(m.municipalities)))
        if m.status in ("example", "planned"):
            reasons.append(words[m.status])
        shown = tuple(dict.fromkeys(reasons))  # once per reason
        source = str(m.source) if m.source else ""
        item = RankedIntervention(
            id=m.id, label=self.label(m.id, lang), tier=m.tier, score=score, scope=m.scope, kind=m.kind,
            status=m.status, municipality=municipality, from_elsewhere=elsewhere, min_age=m.min_age,
            max_age=m.max_age, reasons=shown, source=source, citation=m.source.citation(lang) if m.source else "",
            fora=tuple(sorted(fora)))
        # The reasons this measure really matched (its reasons of fit and notes), not the
        # ranking's general description.
        entry = Explanation(rule=self.ranking.id, conclusion=Fact("intervention", m.id), because="; ".join(shown),
                            premises=tuple(premises), source=source)
        return item, entry


def _in_sentence(label: str) -> str:
    """A label inside a sentence: its first letter in lower case, unless it is an
    abbreviation ("PSP")."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _shown(score: float) -> float:
    """The score as an item shows it: equal shown scores are ties, so that what decides
    between them is what the items show."""
    return round(score, 3)


def _measure(position: int, c: Concept, tier_ranks: Mapping[str, int], age_groups: Mapping[str, Concept],
             ancestors: Mapping[str, frozenset[str]], situation_groups: frozenset[str]) -> Measure:
    tier = c.ref("tier")[0] if c.ref("tier") else "general"
    groups = frozenset(c.ref("targetGroup"))
    low, high = c.int_value("minAge"), c.int_value("maxAge")
    if low is None and high is None and ALL_CITIZENS not in groups:
        # No age range of its own: the union of its age groups' ranges, if it names any.
        bounds = [(g.int_value("minAge"), g.int_value("maxAge")) for i in groups if (g := age_groups.get(i))]
        if bounds:
            low = min(b[0] or 0 for b in bounds)
            high = None if any(b[1] is None for b in bounds) else max(b[1] or 0 for b in bounds)
    municipalities = c.ref("municipality")
    scope, status = c.value("scope"), c.value("status")
    situations = frozenset(s for s in c.all_values("situation") if s in SITUATIONS)
    crime_types = frozenset(c.ref("crimeType"))
    shown_status = status if status in STATUSES else None
    running = shown_status or "running"
    return Measure(
        position=position, id=c.id, tier=tier, tier_rank=tier_ranks.get(tier, 1),
        scope=scope if scope in SCOPES else None, kind=c.ref("kind")[0] if c.ref("kind") else None,
        status=shown_status,
        situations=situations,
        groups=groups, factors=frozenset(c.ref("addressesFactor")), crime_types=crime_types,
        contraindications=frozenset(c.ref("contraindication")), fora=frozenset(c.ref("forum")),
        municipalities=municipalities,
        areas=frozenset(a for m in municipalities for a in ancestors.get(m, frozenset({m}))),
        min_age=low, max_age=high, source=c.sources[0] if c.sources else None,
        age_span=(high if high is not None else 120) - (low if low is not None else 0),
        for_victims="victim" in situations or VICTIM_GROUP in groups,
        crime_gated=bool(crime_types - {YOUTH_CRIME}) and bool(situations) and situations <= {"offender"},
        specific_groups=groups - {ALL_CITIZENS}, for_all=ALL_CITIZENS in groups,
        own_situation_groups=groups & situation_groups,
        situation_groups_only=bool(groups) and groups <= situation_groups - {VICTIM_GROUP},
        status_weight=1.0 if running == "running" else 0.5 if running == "planned" else 0.0)
