"""A portfolio of initiatives: what it covers, where the holes are, where it overlaps.

A portfolio is a set of initiatives: initiative documents (validated first; the invalid
ones are reported and left out) and/or the catalogue's measures of a programme, a
municipality or a police district. It is judged against the **needs the sources state**,
never against what an initiative happens not to record:

- the rules (rules/*.yaml, each citing its source) say which tier, fora and target groups
  a person of an age band with a risk factor of a domain needs; the reference evaluator
  (`RuleSet.closure`) is asked once per age and factor, so the needs follow the rules;
- the programmes in scope name their own needs: their principles, sub-goals, areas of
  effort and goals (with the groups and crime types their indicators name), and the
  profiles, groups, crime types and fora of the measures their source describes.

The age bands in scope are those the programmes' own catalogue measures reach (all bands
where none states an age). A need no initiative covers is a **hole**; one that only
initiatives whose record is silent could cover (no age, no factor, no crime type stated)
is **uncertain**, never a hole; one that only the organisation of the work serves (working
groups, planning: scope `organisation`) is a hole too, and says so. Holes are ranked by,
in order: whether the programme's own source names the need, whether a goal names it, the
tier it calls for, and how many rules lead to it.

The analysis is plain data (dataclasses); renderers (kundskab.edges.portfolio_output) turn it
into text, JSON, CSV, xlsx and HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kundskab._memo import per_knowledge_base
from kundskab.documents.principle_support import DERIVED, STATED, assess_intervention
from kundskab.documents.validation import read_paths, validate_documents
from kundskab.errors import RequestError, TooManyDocumentsError
from kundskab.i18n import N_, Messages, gettext, ngettext
from kundskab.knowledge import places, programmes
from kundskab.knowledge.base import Concept, KnowledgeBase, Source, tier_ranks
from kundskab.knowledge.base import load as load_kb
from kundskab.knowledge.places import area_scope, places_of
from kundskab.reasoning.ranking import SITUATIONS
from kundskab.reasoning.rules import Facts, RuleSet, implied_factors

__all__ = [
    "ANY_DOMAIN",
    "Cell",
    "CoverageRow",
    "Initiative",
    "Need",
    "NeedCoverage",
    "Network",
    "Overlap",
    "PortfolioReport",
    "analyse",
    "portfolio",
]

ANY_DOMAIN = "any"  # the profile row of needs that hold whatever the risk factor (general tier)
ORGANISATION = "organisation"
NOT_ACTING = frozenset({"organisation", "follow-up"})  # kinds of measure that act on no one
NEED_KINDS = ("profile", "target-group", "crime-type", "principle", "sub-goal", "focus-area", "forum")
# Ages beyond which no rule distinguishes (the oldest age bound in rules/ is 25): adults are
# asked at 26..ADULT_PROBE.
ADULT_PROBE = 30
COVERED, UNCERTAIN, HOLE = "covered", "uncertain", "hole"
MAX_DOCUMENTS = 10_000

TEXT = Messages({
    "own_source": N_("the programme's own source names it"),
    "goal": N_("a goal names it ({goals})"),
    "tier": N_("tier: {tier}"),
    "only_organised": N_("only the organisation of the work serves it"),
    "nothing": N_("nothing to analyse: give documents, --programme, --municipality or --district"),
    "no_measures": N_("the catalogue has no measures for {name}; give its initiative documents as PATH"),
})
text = TEXT.text


# ---------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Initiative:
    """One initiative of the portfolio, from the catalogue or from a document."""

    id: str
    label: str
    origin: str  # "catalogue" or "document"
    programme: str | None = None
    tier: str | None = None
    target_groups: tuple[str, ...] = ()
    fora: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    principles: tuple[str, ...] = ()  # counted as `check --programme` counts: stated or derived
    subgoals: tuple[str, ...] = ()
    focus_areas: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # ks:situation: at-risk, offender, victim, relative, citizen
    kinds: tuple[str, ...] = ()  # ks:kind (help, control, …) where the knowledge base records it
    scope: str | None = None
    status: str | None = None
    municipalities: tuple[str, ...] = ()
    bands: tuple[str, ...] | None = None  # age bands reached; None: the record states no age
    sources: tuple[str, ...] = ()  # seed file and section, or the document's name
    # Links the editor inferred (ks:inferred) and principles facts not stated could bring
    # (`check --programme`'s `possible`): never coverage, but they make a need uncertain.
    inferred: tuple[str, ...] = ()

    @property
    def acting(self) -> bool:
        """Whether it acts on people or places, not only on the organisation of the work:
        its scope is not `organisation`, and its kinds (ks:kind), where recorded, are not only
        organisation and follow-up."""
        return self.scope != ORGANISATION and not (self.kinds and set(self.kinds) <= NOT_ACTING)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "label": self.label, "origin": self.origin, "programme": self.programme,
            "tier": self.tier, "target_groups": list(self.target_groups), "fora": list(self.fora),
            "actors": list(self.actors), "crime_types": list(self.crime_types),
            "factors": list(self.factors), "principles": list(self.principles),
            "subgoals": list(self.subgoals), "focus_areas": list(self.focus_areas),
            "roles": list(self.roles), "kinds": list(self.kinds), "scope": self.scope, "status": self.status,
            "municipalities": list(self.municipalities),
            "age_bands": None if self.bands is None else list(self.bands),
            "sources": list(self.sources), "inferred": list(self.inferred),
        }


@dataclass(frozen=True)
class Need:
    """A need a source states: a profile, group, crime type, principle, sub-goal, area of
    effort or forum, with what makes it matter."""

    kind: str
    id: str  # the concept id; for a profile "band/domain/tier"
    label: str
    sources: tuple[Source, ...]
    tier: str | None = None
    band: str | None = None
    domain: str | None = None
    factors: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    own_source: bool = False

    def rank_key(self, tier_ranks: dict[str, int]) -> tuple[int, int, int, int]:
        """Higher matters more: own source, named by a goal, tier, number of rules."""
        return (int(self.own_source), int(bool(self.goals)), tier_ranks.get(self.tier or "", 0), len(self.rules))

    def merged(self, other: Need) -> Need:
        def union(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(dict.fromkeys((*a, *b)))

        return Need(self.kind, self.id, self.label, union(self.sources, other.sources), self.tier,
                    self.band, self.domain, union(self.factors, other.factors),
                    union(self.rules, other.rules), union(self.goals, other.goals),
                    self.own_source or other.own_source)


@dataclass(frozen=True)
class NeedCoverage:
    """One need and the initiatives that meet it."""

    need: Need
    status: str  # covered, uncertain, hole
    covered_by: tuple[str, ...] = ()
    maybe_by: tuple[str, ...] = ()  # initiatives whose record is silent on what decides it
    organised_by: tuple[str, ...] = ()  # serve it only by organising the work
    why: str = ""  # how it was ranked

    def as_dict(self, lang: str = "da") -> dict[str, Any]:
        need = self.need
        return {
            "kind": need.kind, "id": need.id, "label": need.label, "status": self.status,
            "tier": need.tier, "age_band": need.band, "domain": need.domain,
            "factors": list(need.factors), "rules": list(need.rules), "goals": list(need.goals),
            "own_source": need.own_source, "why": self.why,
            "sources": [s.as_dict() | {"citation": s.citation(lang)} for s in need.sources],
            "covered_by": list(self.covered_by), "maybe_by": list(self.maybe_by),
            "organised_by": list(self.organised_by),
        }


@dataclass(frozen=True)
class Cell:
    """One cell of the profile heat map: age band × risk domain × tier."""

    band: str
    domain: str
    tier: str
    initiatives: tuple[str, ...]
    organised: tuple[str, ...]
    maybe: tuple[str, ...]
    need: str | None  # the status of the need in this cell, or None where no source states one

    def as_dict(self) -> dict[str, Any]:
        return {"age_band": self.band, "domain": self.domain, "tier": self.tier,
                "count": len(self.initiatives), "initiatives": list(self.initiatives),
                "organised_by": list(self.organised), "maybe_by": list(self.maybe), "need": self.need}


@dataclass(frozen=True)
class CoverageRow:
    """How many initiatives cover one value of a dimension (a target group, a crime type …)."""

    dimension: str
    id: str
    label: str
    initiatives: tuple[str, ...]
    needed: bool  # whether a need of the portfolio's scope names it
    status: str | None = None  # for goals: covered, uncertain (the goal names nothing to check)

    def as_dict(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "id": self.id, "label": self.label,
                "count": len(self.initiatives), "initiatives": list(self.initiatives),
                "needed": self.needed, "status": self.status}


@dataclass(frozen=True)
class Overlap:
    """Several acting initiatives for the same profile, tier and need (risk factor), of the
    same kind where kinds are recorded (an investigation and a treatment for people who
    have offended meet different needs)."""

    band: str
    domain: str
    tier: str
    factor: str
    initiatives: tuple[str, ...]
    kinds: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"age_band": self.band, "domain": self.domain, "tier": self.tier,
                "factor": self.factor, "kinds": list(self.kinds), "initiatives": list(self.initiatives)}


@dataclass(frozen=True)
class Network:
    """Partners (actors), fora and initiatives, as networkx sees them."""

    nodes: tuple[tuple[str, str, str, int], ...]  # (type, id, label, degree)
    edges: tuple[tuple[str, str], ...]  # "type:id" pairs
    carriers: tuple[tuple[str, int], ...]  # actor id, initiatives it takes part in (most first)
    single_partner: tuple[tuple[str, str], ...]  # initiative id, its one partner
    idle_fora: tuple[str, ...]  # fora the needs name that no initiative uses

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": [{"type": t, "id": i, "label": label, "degree": d} for t, i, label, d in self.nodes],
            "edges": [list(e) for e in self.edges],
            "carriers": [{"id": a, "initiatives": n} for a, n in self.carriers],
            "single_partner": [{"initiative": i, "partner": a} for i, a in self.single_partner],
            "fora_without_measure": list(self.idle_fora),
        }


@dataclass
class PortfolioReport:
    """The whole analysis (the JSON of `portfolio --format json`)."""

    scope: dict[str, Any]
    initiatives: list[Initiative]
    invalid: list[dict[str, Any]]
    bands: list[str]
    domains: list[str]
    tiers: list[str]
    cells: list[Cell]
    coverage: list[CoverageRow]
    needs: list[NeedCoverage]  # every need, ranked (holes and uncertain first)
    overlaps: list[Overlap]
    network: Network
    labels: dict[str, str]
    lang: str = "da"
    kb_version: str = ""

    @property
    def holes(self) -> list[NeedCoverage]:
        return [n for n in self.needs if n.status == HOLE]

    @property
    def uncertain(self) -> list[NeedCoverage]:
        return [n for n in self.needs if n.status == UNCERTAIN]

    def label(self, ident: str | None) -> str:
        return self.labels.get(ident or "", ident or "")

    def as_dict(self) -> dict[str, Any]:
        lang = self.lang
        return {
            "scope": self.scope,
            "kb_version": self.kb_version,
            "initiatives": [i.as_dict() for i in self.initiatives],
            "invalid": self.invalid,
            "age_bands": self.bands, "domains": self.domains, "tiers": self.tiers,
            "profiles": [c.as_dict() for c in self.cells],
            "coverage": [r.as_dict() for r in self.coverage],
            "holes": [n.as_dict(lang) for n in self.holes],
            "uncertain": [n.as_dict(lang) for n in self.uncertain],
            "needs": [n.as_dict(lang) for n in self.needs],
            "overlaps": [o.as_dict() for o in self.overlaps],
            "network": self.network.as_dict(),
            "labels": self.labels,
            "summary": {"initiatives": len(self.initiatives), "invalid": len(self.invalid),
                        "needs": len(self.needs), "holes": len(self.holes),
                        "holes_own_source": sum(1 for n in self.holes if n.need.own_source),
                        "uncertain": len(self.uncertain), "overlaps": len(self.overlaps)},
        }


# ---------------------------------------------------------------------------- the model


class _Model:
    """What the analysis needs from one knowledge base, worked out once."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.tier_ranks = tier_ranks(kb)
        self.tiers = sorted(self.tier_ranks, key=lambda t: self.tier_ranks[t])
        bands = sorted(kb.of_type("AgeGroup"), key=lambda c: c.int_value("minAge") or 0)
        self.bands = [b.id for b in bands]
        self.band_ages = {b.id: (b.int_value("minAge") or 0, b.int_value("maxAge")) for b in bands}
        protective = {f.id for f in kb.of_type("ProtectiveFactor")}
        self.factor_domain = {f.id: f.ref("inDomain")[0] for f in kb.of_type("Factor")
                              if f.ref("inDomain") and f.id not in protective}
        self.domains = [d.id for d in kb.of_type("RiskDomain") if d.id in set(self.factor_domain.values())]
        self.rules = RuleSet.load(kb)
        self.initiative_rules = RuleSet.load(kb, applies_to="initiatives")
        implied = implied_factors(kb)
        min_age = {f.id: f.int_value("minAge") or 0 for f in kb.of_type("Factor")}
        self.age_bands_of_group = {b: (b,) for b in self.bands}
        # Needs by the rules: per age band and factor, what the rules conclude with the factor
        # that they do not conclude without it (the baseline: the same age, nothing known).
        self.rule_needs: dict[str, list[Need]] = {b: [] for b in self.bands}
        for band in self.bands:
            low, high = self.band_ages[band]
            ages = range(low, (high if high is not None else max(low, ADULT_PROBE)) + 1)
            found: dict[tuple[str, str], Need] = {}
            for age in ages:
                base_state, base_fired = self.rules.closure(_facts(age, frozenset()))
                base_rules = {r.id for r, _ in base_fired}
                general = [r for r, _ in base_fired for kind, _i in r.conclusions if kind == "tier"]
                if general:
                    tier = base_state.tier or self.tiers[0]
                    self._add(found, Need("profile", f"{band}/{ANY_DOMAIN}/{tier}", "", self._sources(general),
                                          tier, band, ANY_DOMAIN, (), tuple(r.id for r in general)))
                for factor, domain in self.factor_domain.items():
                    if age < min_age.get(factor, 0):
                        continue
                    state, fired = self.rules.closure(_facts(age, frozenset({factor, *implied.get(factor, ())})))
                    new = [r for r, _ in fired if r.id not in base_rules]
                    tier_rules = [r for r in new if any(k == "tier" for k, _ in r.conclusions)]
                    if tier_rules and state.tier:
                        leading = [r for r in tier_rules if ("tier", state.tier) in r.conclusions]
                        self._add(found, Need("profile", f"{band}/{domain}/{state.tier}", "",
                                              self._sources(leading), state.tier, band, domain, (factor,),
                                              tuple(r.id for r in leading)))
                    for rule in new:
                        for kind, ident in rule.conclusions:
                            if kind in ("forum", "target_group"):
                                need_kind = "forum" if kind == "forum" else "target-group"
                                self._add(found, Need(need_kind, ident, "", self._sources([rule]),
                                                      None, None, None, (factor,), (rule.id,)))
            self.rule_needs[band] = list(found.values())
        self.principle_rules: dict[str, tuple[str, ...]] = {}
        for rule in self.initiative_rules:
            for kind, ident in rule.conclusions:
                if kind == "principle":
                    self.principle_rules[ident] = (*self.principle_rules.get(ident, ()), rule.id)

    def _sources(self, rules: Iterable[Any]) -> tuple[Source, ...]:
        titles = self.kb.source_titles
        return tuple(dict.fromkeys(Source.parse(r.source, titles) for r in rules))

    @staticmethod
    def _add(found: dict[tuple[str, str], Need], need: Need) -> None:
        key = (need.kind, need.id)
        found[key] = found[key].merged(need) if key in found else need

    def bands_of(self, concept_bands: Iterable[str], min_age: int | None,
                 max_age: int | None) -> tuple[str, ...] | None:
        """The age bands an initiative reaches: by its ages where stated, else by the age
        groups among its target groups; None where neither is stated."""
        if min_age is not None or max_age is not None:
            low, high = min_age or 0, max_age if max_age is not None else 200
            return tuple(b for b in self.bands if self.band_ages[b][0] <= high
                         and (self.band_ages[b][1] is None or self.band_ages[b][1] >= low))  # type: ignore[operator]
        named = [b for b in self.bands if b in set(concept_bands)]
        return tuple(named) if named else None


def _facts(age: int, true: frozenset[str]) -> Any:
    return Facts(age, true)


_model = per_knowledge_base(_Model)


# ---------------------------------------------------------------------------- initiatives


def _from_catalogue(kb: KnowledgeBase, model: _Model, concept: Concept, lang: str) -> Initiative:
    programme = next(iter(concept.ref("partOfProgramme")), None)
    principles: tuple[str, ...] = ()
    inferred = [i.get("value", "") for i in concept.inferred]
    if programme is not None:
        assessment = assess_intervention(kb, concept, programme, lang)
        principles = tuple(assessment.counted())
        inferred += [*assessment.possible, *assessment.counted(["claimed"])]
    return Initiative(
        id=concept.id, label=concept.label(lang), origin="catalogue", programme=programme,
        tier=next(iter(concept.ref("tier")), None), target_groups=concept.ref("targetGroup"),
        fora=concept.ref("forum"), actors=concept.ref("actor"), crime_types=concept.ref("crimeType"),
        factors=tuple(f for f in concept.ref("addressesFactor") if not concept.is_inferred("addressesFactor", f)),
        principles=principles,
        subgoals=tuple(s for s in concept.ref("servesSubGoal") if not concept.is_inferred("servesSubGoal", s)),
        focus_areas=concept.ref("inFocusArea"), roles=tuple(concept.all_values("situation")),
        kinds=concept.ref("kind"), scope=concept.value("scope"), status=concept.value("status"),
        municipalities=concept.ref("municipality"),
        bands=model.bands_of(concept.ref("targetGroup"), concept.int_value("minAge"), concept.int_value("maxAge")),
        sources=tuple(str(s) for s in concept.sources),
        inferred=tuple(dict.fromkeys(i for i in inferred if i and i not in principles)),
    )


def _from_document(model: _Model, report: Any) -> Initiative:
    concepts: dict[str, list[str]] = report.concepts

    def many(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(concepts.get(name, ())))

    principles = tuple(dict.fromkeys(s.id for s in report.support
                                     if s.support in (STATED, DERIVED) and s.id in set(report.principles)))
    programme = next(iter(concepts.get("programme", ())), None)
    return Initiative(
        id=report.file, label=report.title or report.file, origin="document", programme=programme,
        tier=next(iter(concepts.get("tier", ())), None), target_groups=many("target_groups"),
        fora=many("fora"), actors=many("actors"), crime_types=many("crime_types"),
        factors=many("risk_factors"), principles=principles, subgoals=tuple(report.subgoals),
        bands=model.bands_of(many("target_groups"), None, None), sources=(report.file,),
    )


# ---------------------------------------------------------------------------- needs


def _programme_needs(kb: KnowledgeBase, model: _Model, programme: str, bands: Sequence[str],
                     lang: str) -> list[Need]:
    """What a programme's own source names: its principles, sub-goals, areas of effort,
    goals (and the groups and crime types their indicators name), and the profiles, groups,
    crime types and fora of the measures it describes (links the editor inferred left out)."""
    out: list[Need] = []
    for kind, class_name in (("principle", "Principle"), ("sub-goal", "SubGoal"), ("focus-area", "FocusArea")):
        for part in programmes.parts(kb, programme, class_name):
            rules = model.principle_rules.get(part.id, ()) if kind == "principle" else ()
            out.append(Need(kind, part.id, part.label(lang), part.sources, rules=rules, own_source=True))
    for goal in programmes.parts(kb, programme, "Goal"):
        for indicator in goal.ref("hasIndicator"):
            if indicator not in kb:
                continue
            concept = kb.get(indicator)
            for group in concept.ref("targetGroup"):
                out.append(Need("target-group", group, "", concept.sources, goals=(goal.id,), own_source=True))
            for crime in concept.ref("crimeType"):
                out.append(Need("crime-type", crime, "", concept.sources, goals=(goal.id,), own_source=True))
    for measure in kb.interventions(programme=[programme]):
        def stated(prop: str, m: Concept = measure) -> tuple[str, ...]:
            return tuple(v for v in m.ref(prop) if not m.is_inferred(prop, v))

        tier = next(iter(measure.ref("tier")), None)
        reach = model.bands_of(measure.ref("targetGroup"), measure.int_value("minAge"), measure.int_value("maxAge"))
        for factor in stated("addressesFactor"):
            domain = model.factor_domain.get(factor)
            if domain is None or tier is None:
                continue
            for band in reach or ():
                if band in bands:
                    out.append(Need("profile", f"{band}/{domain}/{tier}", "", measure.sources, tier, band,
                                    domain, (factor,), own_source=True))
        for group in stated("targetGroup"):
            if group not in model.bands:
                out.append(Need("target-group", group, "", measure.sources, own_source=True))
        for crime in stated("crimeType"):
            out.append(Need("crime-type", crime, "", measure.sources, own_source=True))
        for forum in stated("forum"):
            out.append(Need("forum", forum, "", measure.sources, own_source=True))
    return out


def _scope_places(kb: KnowledgeBase, scope: dict[str, Any]) -> frozenset[str] | None:
    """The areas the portfolio is about, when the caller named them (a municipality, a
    district or a programme, whose places are where its source document is); None when the
    place is unknown (documents alone): then no forum is taken to be absent."""
    named = [scope[key] for key in ("municipality", "district") if scope.get(key)]
    if not named and scope.get("programme"):
        named = sorted(places_of(kb, kb.get(scope["programme"])))
    if not named:
        return None
    return frozenset(a for area in named for a in area_scope(kb, area))


def _local_elsewhere(kb: KnowledgeBase, forum: str, here: frozenset[str] | None) -> bool:
    """A forum the sources place somewhere (ks:municipality on the forum: banderåd in Esbjerg
    Nord, Pre-Exit in North Jutland) that is not the portfolio's place: the rules' call for it
    is no need here, as the recommender does not give it as a case's forum elsewhere."""
    if here is None:
        return False
    where = kb.get(forum).ref("municipality")
    return bool(where) and here.isdisjoint(where)


def _needs(kb: KnowledgeBase, model: _Model, scope_programmes: Sequence[str], bands: Sequence[str],
           lang: str, here: frozenset[str] | None = None) -> list[Need]:
    found: dict[tuple[str, str], Need] = {}
    for band in bands:
        for need in model.rule_needs[band]:
            if need.kind == "forum" and _local_elsewhere(kb, need.id, here):
                continue
            _Model._add(found, need)
    for programme in scope_programmes:
        for need in _programme_needs(kb, model, programme, bands, lang):
            _Model._add(found, need)
    out = []
    for need in found.values():
        label = need.label or _need_label(kb, need, lang)
        out.append(Need(need.kind, need.id, label, need.sources, need.tier, need.band, need.domain,
                        tuple(sorted(need.factors)), tuple(sorted(need.rules)), tuple(sorted(need.goals)),
                        need.own_source))
    return out


def _need_label(kb: KnowledgeBase, need: Need, lang: str) -> str:
    if need.kind == "profile":
        domain = gettext(N_("any risk factor"), lang) if need.domain == ANY_DOMAIN \
            else kb.label(need.domain or "", lang)
        return f"{kb.label(need.band or '', lang)} · {domain} · {kb.label(need.tier or '', lang)}"
    return kb.label(need.id, lang)


def _meets(model: _Model, need: Need, initiative: Initiative) -> str | None:
    """'yes', 'maybe' (the record is silent on what decides it, or only the editor's
    inference links it) or None."""
    found = _meets_stated(model, need, initiative)
    if found is None and need.kind != "profile" and need.id in initiative.inferred:
        return "maybe"
    return found


def _meets_stated(model: _Model, need: Need, initiative: Initiative) -> str | None:
    if need.kind == "profile":
        if initiative.tier != need.tier:
            return None
        if need.domain != ANY_DOMAIN:
            domains = {model.factor_domain.get(f) for f in initiative.factors}
            if need.domain not in domains:
                return "maybe" if not initiative.factors else None
        if initiative.bands is None:
            return "maybe"
        return "yes" if need.band in initiative.bands else None
    if need.kind == "target-group":
        return "yes" if need.id in initiative.target_groups else None
    if need.kind == "crime-type":
        if need.id in initiative.crime_types:
            return "yes"
        return "maybe" if not initiative.crime_types else None
    if need.kind == "principle":
        return "yes" if need.id in initiative.principles else None
    if need.kind == "sub-goal":
        return "yes" if need.id in initiative.subgoals else None
    if need.kind == "focus-area":
        return "yes" if need.id in initiative.focus_areas else None
    if need.kind == "forum":
        return "yes" if need.id in initiative.fora else None
    return None


def _assess(model: _Model, need: Need, initiatives: Sequence[Initiative], lang: str) -> NeedCoverage:
    covered: list[str] = []
    organised: list[str] = []
    maybe: list[str] = []
    for initiative in initiatives:
        found = _meets(model, need, initiative)
        if found is None:
            continue
        if need.kind == "profile" and not initiative.acting:
            if found == "yes":  # organising work whose record is silent serves nothing known
                organised.append(initiative.id)
        elif found == "yes":
            covered.append(initiative.id)
        else:
            maybe.append(initiative.id)
    status = COVERED if covered else UNCERTAIN if maybe else HOLE
    why = [text(lang, "own_source")] if need.own_source else []
    if need.goals:
        why.append(text(lang, "goal", goals=", ".join(need.goals)))
    if need.tier:
        why.append(text(lang, "tier", tier=model.kb.label(need.tier, lang)))
    if need.rules:
        why.append(ngettext("{n} rule leads to it", "{n} rules lead to it", len(need.rules), lang).format(
            n=len(need.rules)))
    if status == HOLE and organised:
        why.append(text(lang, "only_organised"))
    return NeedCoverage(need, status, tuple(covered), tuple(maybe), tuple(organised), "; ".join(why))


# ---------------------------------------------------------------------------- the analysis


def _cells(model: _Model, initiatives: Sequence[Initiative], bands: Sequence[str],
           needs: dict[str, NeedCoverage]) -> list[Cell]:
    out = []
    for domain in [ANY_DOMAIN, *model.domains]:
        for band in bands:
            for tier in model.tiers:
                probe = Need("profile", f"{band}/{domain}/{tier}", "", (), tier, band, domain)
                yes, organised, maybe = [], [], []
                for initiative in initiatives:
                    found = _meets(model, probe, initiative)
                    if found is None:
                        continue
                    if not initiative.acting:
                        if found == "yes":
                            organised.append(initiative.id)
                    elif found == "yes":
                        yes.append(initiative.id)
                    else:
                        maybe.append(initiative.id)
                need = needs.get(probe.id)
                out.append(Cell(band, domain, tier, tuple(yes), tuple(organised), tuple(maybe),
                                need.status if need else None))
    return out


def _overlaps(model: _Model, initiatives: Sequence[Initiative], bands: Sequence[str],
              needs: Sequence[NeedCoverage]) -> list[Overlap]:
    """Needed profiles met by several acting initiatives that address the same risk factor."""
    out = []
    for entry in needs:
        need = entry.need
        if need.kind != "profile" or need.domain == ANY_DOMAIN or len(entry.covered_by) < 2:
            continue
        by_id = {i.id: i for i in initiatives}
        factors = sorted({f for i in entry.covered_by for f in by_id[i].factors
                          if model.factor_domain.get(f) == need.domain})
        for factor in factors:
            by_kind: dict[tuple[str, ...], list[str]] = {}
            for ident in entry.covered_by:
                if factor in by_id[ident].factors:
                    by_kind.setdefault(tuple(sorted(by_id[ident].kinds)), []).append(ident)
            for kinds, sharing in sorted(by_kind.items()):
                if len(sharing) >= 2:
                    out.append(Overlap(need.band or "", need.domain or "", need.tier or "", factor,
                                       tuple(sharing), kinds))
    return out


def _network(kb: KnowledgeBase, initiatives: Sequence[Initiative], needs: Sequence[NeedCoverage],
             lang: str) -> Network:
    import networkx as nx

    graph = nx.Graph()
    for initiative in initiatives:
        graph.add_node(f"initiative:{initiative.id}", type="initiative", id=initiative.id, label=initiative.label)
        for actor in initiative.actors:
            graph.add_node(f"actor:{actor}", type="actor", id=actor, label=kb.label(actor, lang))
            graph.add_edge(f"initiative:{initiative.id}", f"actor:{actor}")
        for forum in initiative.fora:
            graph.add_node(f"forum:{forum}", type="forum", id=forum, label=kb.label(forum, lang))
            graph.add_edge(f"initiative:{initiative.id}", f"forum:{forum}")
    needed_fora = [n.need.id for n in needs if n.need.kind == "forum"]
    for forum in needed_fora:
        graph.add_node(f"forum:{forum}", type="forum", id=forum, label=kb.label(forum, lang))
    nodes = tuple(sorted(((d["type"], d["id"], d["label"], int(graph.degree(n))) for n, d in graph.nodes(data=True)),
                         key=lambda t: (t[0], -t[3], t[1])))
    edges = tuple(sorted((min(a, b), max(a, b)) for a, b in graph.edges()))
    carriers = tuple((i, d) for t, i, _label, d in sorted(nodes, key=lambda t: (-t[3], t[1])) if t == "actor")
    single = tuple((i.id, i.actors[0]) for i in initiatives if len(set(i.actors)) == 1)
    idle = tuple(sorted(f for f in dict.fromkeys(needed_fora) if graph.degree(f"forum:{f}") == 0))
    return Network(nodes, edges, carriers, single, idle)


def _coverage_rows(kb: KnowledgeBase, initiatives: Sequence[Initiative], needs: Sequence[NeedCoverage],
                   goals: Sequence[Concept], lang: str) -> list[CoverageRow]:
    needed = {(n.need.kind, n.need.id) for n in needs}
    rows: list[CoverageRow] = []
    dimensions: list[tuple[str, str, Any]] = [
        ("tier", "", lambda i: (i.tier,) if i.tier else ()),
        ("target-group", "target-group", lambda i: i.target_groups),
        ("crime-type", "crime-type", lambda i: i.crime_types),
        ("role", "", lambda i: i.roles),
        ("principle", "principle", lambda i: i.principles),
        ("sub-goal", "sub-goal", lambda i: i.subgoals),
        ("focus-area", "focus-area", lambda i: i.focus_areas),
        ("forum", "forum", lambda i: i.fora),
        ("kind", "", lambda i: i.kinds),
    ]
    for dimension, need_kind, values in dimensions:
        by_value: dict[str, list[str]] = {}
        for initiative in initiatives:
            for value in values(initiative):
                by_value.setdefault(value, []).append(initiative.id)
        for need in needs:
            if need.need.kind == need_kind:
                by_value.setdefault(need.need.id, [])
        if dimension == "role":
            order = [r for r in SITUATIONS if r in by_value] + sorted(set(by_value) - set(SITUATIONS))
        else:
            order = sorted(by_value, key=lambda v: (-len(by_value[v]), v))
        for value in order:
            label = ROLE_NAMES.text(lang, value) if dimension == "role" and value in ROLE_NAMES \
                else kb.label(value, lang)
            rows.append(CoverageRow(dimension, value, label, tuple(dict.fromkeys(by_value[value])),
                                    (need_kind, value) in needed))
    by_need = {(n.need.kind, n.need.id): n for n in needs}
    for goal in goals:
        serving: list[str] = []
        named = False
        for kind, ident in _goal_names(kb, goal):
            named = True
            entry = by_need.get((kind, ident))
            if entry is not None:
                serving.extend(entry.covered_by)
        status = (COVERED if serving else HOLE) if named else UNCERTAIN
        rows.append(CoverageRow("goal", goal.id, goal.label(lang), tuple(dict.fromkeys(serving)), True, status))
    return rows


ROLE_NAMES = Messages({"offender": N_("has committed crime"), "at-risk": N_("at risk"), "victim": N_("victim"),
                       "relative": N_("relative"), "citizen": N_("citizen")})


def _goal_names(kb: KnowledgeBase, goal: Concept) -> list[tuple[str, str]]:
    out = []
    for indicator in goal.ref("hasIndicator"):
        if indicator in kb:
            concept = kb.get(indicator)
            out += [("target-group", g) for g in concept.ref("targetGroup")]
            out += [("crime-type", c) for c in concept.ref("crimeType")]
    return out


def portfolio(paths: str | Path | Iterable[str | Path] = (), *, documents: Sequence[Any] = (),
              programme: str | None = None, municipality: str | None = None, district: str | None = None,
              kb: KnowledgeBase | None = None, lang: str = "da") -> PortfolioReport:
    """Analyse a portfolio: initiative documents (files or folders in `paths`, or already
    read `documents`: (filename, content) pairs, where a content may be the DocumentError
    that refused it) and/or the catalogue's measures of a
    programme, a municipality or a police district (ids or names). Documents are validated
    first (as `kundskab validate`); the invalid ones are reported in `invalid` and left out.
    """
    kb = kb or load_kb()
    model = _model(kb)
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    too_many = TooManyDocumentsError(MAX_DOCUMENTS)
    items: list[Any] = read_paths(given, documents=documents, limit=MAX_DOCUMENTS, too_many=too_many)
    if not items and not (programme or municipality or district):
        raise RequestError(TEXT["nothing"])
    initiatives: list[Initiative] = []
    invalid: list[dict[str, Any]] = []
    if items:
        report = validate_documents(items, kb, lang=lang)
        for entry in report.files:
            if entry.valid:
                initiatives.append(_from_document(model, entry))
            else:
                invalid.append(entry.as_dict())
    scope: dict[str, Any] = {"programme": None, "municipality": None, "district": None}
    if programme:
        scope["programme"] = kb.resolve(programme, "Programme")
    if municipality:
        scope["municipality"] = kb.resolve(municipality, "Municipality")
    if district:
        scope["district"] = kb.resolve(district, "PoliceDistrict")
    measures: list[Concept] = []
    if programme or municipality or district:
        # Where a measure is, and which measures a place has, is kundskab.knowledge.places' to say.
        measures = places.select(kb, kb.of_type("Intervention"),
                                 municipality=[scope["municipality"]] if municipality else [],
                                 district=[scope["district"]] if district else [],
                                 programme=[scope["programme"]] if programme else [])
        if not measures and not items and (municipality or district):
            name = scope["municipality"] or scope["district"]
            raise RequestError(TEXT["no_measures"], name=kb.label(name, lang))
    initiatives += [_from_catalogue(kb, model, m, lang) for m in measures]
    scope_programmes = [scope["programme"]] if scope["programme"] else \
        list(dict.fromkeys(i.programme for i in initiatives if i.programme))
    return analyse(initiatives, scope_programmes, kb=kb, lang=lang, scope=scope, invalid=invalid)


def _unique(initiatives: Iterable[Initiative]) -> list[Initiative]:
    """Every initiative under an id of its own: two documents sent under one file name are
    two initiatives ("a.md", "a.md (2)")."""
    seen: dict[str, int] = {}
    out = []
    for initiative in initiatives:
        n = seen[initiative.id] = seen.get(initiative.id, 0) + 1
        out.append(initiative if n == 1 else replace(initiative, id=f"{initiative.id} ({n})"))
    return out


def analyse(initiatives: Sequence[Initiative], scope_programmes: Sequence[str], *,
            kb: KnowledgeBase | None = None, lang: str = "da", scope: dict[str, Any] | None = None,
            invalid: Sequence[dict[str, Any]] = ()) -> PortfolioReport:
    """The analysis of initiatives already gathered, against the needs of the programmes in
    scope (their own and the rules', over the age bands their catalogue measures reach)."""
    kb = kb or load_kb()
    model = _model(kb)
    initiatives = _unique(initiatives)
    scope = dict(scope or {"programme": None, "municipality": None, "district": None})
    scope_programmes = list(scope_programmes)
    scope["programmes"] = scope_programmes
    reach = {b for p in scope_programmes for m in kb.interventions(programme=[p])
             for b in (model.bands_of(m.ref("targetGroup"), m.int_value("minAge"), m.int_value("maxAge")) or ())}
    bands = [b for b in model.bands if b in reach] or list(model.bands)
    scope["age_bands"] = bands
    needs = _needs(kb, model, scope_programmes, bands, lang, _scope_places(kb, scope))
    assessed = [_assess(model, n, initiatives, lang) for n in needs]
    order = {HOLE: 0, UNCERTAIN: 1, COVERED: 2}
    assessed.sort(key=lambda n: (order[n.status], tuple(-k for k in n.need.rank_key(model.tier_ranks)),
                                 NEED_KINDS.index(n.need.kind), n.need.id))
    by_id = {n.need.id: n for n in assessed if n.need.kind == "profile"}
    goals = [g for p in scope_programmes for g in programmes.parts(kb, p, "Goal")]
    labels: dict[str, str] = {}
    # Sorted: a set's order changes from process to process, and the report must not.
    for ident in sorted({*model.bands, *model.domains, *model.tiers, *scope_programmes,
                  *(v for i in initiatives for v in (*i.target_groups, *i.fora, *i.actors, *i.crime_types,
                                                    *i.factors, *i.principles, *i.subgoals, *i.focus_areas,
                                                    *i.municipalities, *i.kinds)),
                  *(f for n in assessed for f in n.need.factors),
                  *(g for n in assessed for g in n.need.goals),
                  *(n.need.id for n in assessed if n.need.kind != "profile")}):
        labels[ident] = kb.label(ident, lang)
    labels[ANY_DOMAIN] = gettext(N_("any risk factor"), lang)
    for initiative in initiatives:
        labels.setdefault(initiative.id, initiative.label)
    return PortfolioReport(
        scope=scope, initiatives=initiatives, invalid=list(invalid), bands=bands,
        domains=[ANY_DOMAIN, *model.domains], tiers=list(model.tiers),
        cells=_cells(model, initiatives, bands, by_id),
        coverage=_coverage_rows(kb, initiatives, assessed, goals, lang),
        needs=assessed, overlaps=_overlaps(model, initiatives, bands, assessed),
        network=_network(kb, initiatives, assessed, lang), labels=labels, lang=lang, kb_version=kb.version)
