"""Which principles an initiative supports, and on what ground; programme verdicts.

Four kinds of support are kept apart everywhere; the first three count:

- placed: the programme's own document places the initiative in the chapter that opens
  with the principle (ks:inFocusArea on a ks:FocusArea with ks:underPrinciple), with the
  chapter's pages. The strategy's placement is its statement, so it counts;
- stated: the source (a catalogue link that no ks:inferred node marks as the editor's
  reading) or the document itself says so, with its section or line;
- derived: a rule of rules/principles.yaml concludes it from the initiative's facts
  (partners and their sectors, fora, target groups, factors, evidence, effect follow-up),
  run by the same engine as the recommendations, with the rule and the facts;
- claimed: a link or claim with neither ground (an editor's inferred catalogue link, a
  document's bare claim), or a derivation that rests on an inferred fact (a derivation from
  an inference is an inference): shown, warned about, never counted.

A programme requirement applies to the initiatives its ks:appliesTo says (Sikker By's
three of five: only those funded under the strategy); outside that scope a verdict is
information, never a failure, and where funding is unknown the report says so. A measure
that is not an initiative the programme's requirements are about (its own follow-up, a
measuring tool, core police work, another strategy's measure: ks:outsideRequirements, kind
follow-up) is listed apart with why: verdict `not-graded`. A verdict is `meets` (enough
support shown), `falls-short` (only where the evidence is complete: a document that states
its own principles, or a catalogue initiative its source describes fully, ks:fullyDescribed)
or `cannot-tell` (fewer shown and the source too thin to say more: "cannot be shown from the
source").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kundskab._memo import per_knowledge_base
from kundskab.i18n import N_, Messages, gettext
from kundskab.knowledge.base import Concept, KnowledgeBase
from kundskab.knowledge.programmes import DEVELOPMENT, FUNDED, Requirement, parts, requirements
from kundskab.reasoning.engine import RulesEngine
from kundskab.reasoning.rules import Facts, RuleSet

__all__ = [
    "InitiativeAssessment",
    "InitiativeFacts",
    "PrincipleDeriver",
    "ProgrammeAssessment",
    "RequirementVerdict",
    "Support",
    "assess_intervention",
    "assess_programme",
    "deriver",
    "initiative_facts",
    "intervention_facts",
    "stated_links",
    "verdict_for_count",
]

MEETS, FALLS_SHORT, CANNOT_TELL, NOT_GRADED = "meets", "falls-short", "cannot-tell", "not-graded"
VERDICTS = (MEETS, FALLS_SHORT, CANNOT_TELL, NOT_GRADED)
PLACED, STATED, DERIVED, CLAIMED = "placed", "stated", "derived", "claimed"
COUNTED = (PLACED, STATED, DERIVED)
FOLLOW_UP_KIND = "follow-up"
# Why a measure is outside its programme's requirements (ks:outsideRequirements; kind follow-up).
OUTSIDE_REASONS = ("follow-up", "measurement", "core-police-work", "core-services", "other-strategy", "statutory")
# Requirement field -> the catalogue property that records it; other fields (effect
# follow-up, goals) are not recorded for catalogue initiatives.
CATALOGUE_FIELDS = {"principles": "supportsPrinciple", "subgoals": "servesSubGoal", "evidence": "evidence"}
UNKNOWN_EVIDENCE = "evidence-unknown"

# The words of this module's reports (English; the Danish is in the message catalogue).
TEXTS = Messages({
    "meets": N_("meets"),
    "falls-short": N_("falls short"),
    "cannot-tell": N_("cannot be shown from the source"),
    "not-graded": N_("not graded"),
    "placed": N_("placed by the strategy"),
    "stated": N_("stated"),
    "derived": N_("derived"),
    "claimed": N_("claimed without ground"),
    "count": N_("{count} of the required {needed}"),
    "count_open": N_("{count} of the required {needed}; {possible} more may depend on what is unknown: {open}"),
    "count_short": N_("{count} of the required {needed}, and at most {best} even if the unknowns turned out well"),
    "count_thin": N_("{count} of the required {needed} shown; the source says too little about the initiative "
                     "to show more"),
    "count_complete": N_("{count} of the required {needed}, and the source describes the initiative fully"),
    "outside_follow-up": N_("the follow-up the programme itself prescribes, not an initiative under it"),
    "outside_measurement": N_("a measuring tool, not an initiative"),
    "outside_core-police-work": N_("core police work"),
    "outside_core-services": N_("the municipality's core services, not an initiative under the programme"),
    "outside_other-strategy": N_("belongs to another strategy or plan"),
    "outside_statutory": N_("a task the authorities have by law"),
    "development": N_("a working group or development initiative the programme sets up"),
    "not_development": N_("the requirement applies to the working groups and development initiatives the "
                          "programme sets up; this is neither"),
    "funding_header": N_("Funding: the source does not say which initiatives are funded under the programme, "
                         "and the requirement applies only to those; the table shows what the source can show, "
                         "not findings."),
    "apart_title": N_("Listed apart, not graded:"),
    "graded_title": N_("Graded:"),
    "shown": N_("shown"),
    "pages": N_("p. {pages}"),
    "funded": N_("funded under the programme (the source says so)"),
    "funded_other": N_("funded under {other}, not under the programme: for information"),
    "funding_unknown": N_("the source does not say whether it is funded under the programme: for information"),
    "example": N_("the source names it only as an example: for information"),
    "all": N_("the requirement applies to every initiative of the programme"),
    "not_recorded": N_("the field '{field}' is not recorded for catalogue initiatives: unknown"),
    "values_have": N_("{field}: {have}"),
    "values_unknown": N_("{field}: the source does not say"),
    "values_wrong": N_("{field}: {have}, but the requirement is one of {allowed}"),
    "values_missing": N_("{field}: none given in the source"),
    "inferred": N_("the editor's inference, not the source's words"),
    "inferred_link": N_("editor's inference, not counted"),
    "fact": N_("{fact}"),
    "requirement": N_("Requirement: {label} [{id}]: {scope} (source {source})"),
    "scope_funded": N_("applies to initiatives funded under the programme"),
    "scope_all": N_("applies to every initiative of the programme"),
    "scope_development": N_("applies to the working groups and development initiatives the programme sets up"),
    "legend": N_("Principles: placed by the strategy = the strategy describes the initiative in the "
                 "chapter on the principle; stated = the source says so; derived = a rule in "
                 "rules/principles.yaml concludes it from facts the source states; the editor's "
                 "inference, what is derived from it and claims without ground are not counted."),
    "none": N_("none"),
    "scope_word": N_("scope"),
    "scope_counts": N_("the requirement applies to {true}, not to {false}, unknown for {unknown}; "
                       "only those it applies to can be findings"),
})


text = TEXTS.text


# ---------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class InitiativeFacts:
    """What is known about an initiative, as the principle rules read it.

    `known` holds; `unknown` might hold but nobody has said (an evidence basis the source
    does not state, an effect follow-up the catalogue does not record), so a verdict that
    depends on them cannot be told. `basis` says how each derived fact was established."""

    known: frozenset[str]
    unknown: frozenset[str] = frozenset()
    basis: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Known facts that rest on an editor's inference (an inferred link, or a forum's members
    # that are not named as the initiative's partners): a rule may fire on them, but what it
    # concludes is an inference too and is never counted.
    inferred: frozenset[str] = frozenset()

    def explain(self, fact: str) -> str:
        why = self.basis.get(fact)
        return f"{fact} ({'; '.join(why)})" if why else fact


def _sectors(kb: KnowledgeBase, actors: Iterable[str]) -> dict[str, list[str]]:
    """Sector -> the actors in it, a sector within a wider one present counting as that one."""
    found: dict[str, list[str]] = {}
    for actor in actors:
        if actor in kb:
            for sector in kb.get(actor).ref("sector"):
                found.setdefault(sector, []).append(actor)
    # A municipal service and "the municipality" are one party, not two sectors.
    for sector in list(found):
        wider = [b for b in kb.get(sector).ref("broader") if b in found] if sector in kb else []
        for broader in wider:
            found[sector] = found[sector] + found.pop(broader, [])
    return found


def initiative_facts(kb: KnowledgeBase, *, actors: Iterable[str] = (), fora: Iterable[str] = (),
                     target_groups: Iterable[str] = (), factors: Iterable[str] = (),
                     evidence: str | None = None, effect_follow_up: str | None = None,
                     actors_known: bool = True) -> InitiativeFacts:
    """The facts of an initiative given by its parts (ids). `evidence` None or
    evidence-unknown, and `effect_follow_up` None, are unknown; `actors_known` False says
    that the partners are not known (so partners of several sectors might be)."""
    known: set[str] = set()
    unknown: set[str] = set()
    basis: dict[str, tuple[str, ...]] = {}
    actors = sorted(set(actors))
    for actor in actors:
        known.add(f"actor:{actor}")
    sectors = _sectors(kb, actors)
    def who(actor: str, sector: str) -> str:
        inferred = actor in kb and kb.get(actor).is_inferred("sector", sector)
        return f"actor:{actor} (inferred)" if inferred else f"actor:{actor}"

    for sector, members in sectors.items():
        known.add(f"sector:{sector}")
        basis[f"sector:{sector}"] = tuple(who(a, sector) for a in members)
    if len(sectors) >= 2:
        known.add("sectors:several")
        basis["sectors:several"] = tuple(f"{s}: {', '.join(m)}" for s, m in sorted(sectors.items()))
    elif not actors_known or not actors:
        unknown.add("sectors:several")
    for forum in sorted(set(fora)):
        known.add(f"forum:{forum}")
        if forum in kb:
            spread = _sectors(kb, kb.get(forum).ref("memberOrganisation"))
            if len(spread) >= 2 and "forum-sectors:several" not in known:
                known.add("forum-sectors:several")
                basis["forum-sectors:several"] = (f"forum:{forum}: {', '.join(sorted(spread))}",)
    for group in sorted(set(target_groups)):
        known.add(f"target-group:{group}")
    for factor in sorted(set(factors)):
        known.add(f"factor:{factor}")
    if evidence and evidence != UNKNOWN_EVIDENCE:
        known.add(f"evidence:{evidence}")
    else:
        unknown.add("evidence:documented")
    if effect_follow_up is None:
        unknown.add("effect-follow-up:yearly")
    elif effect_follow_up.strip().lower() in ("yearly", "årligt", "årlig", "annually", "annual"):
        known.add("effect-follow-up:yearly")
    return InitiativeFacts(frozenset(known), frozenset(unknown - known), basis)


def intervention_facts(kb: KnowledgeBase, concept: Concept) -> InitiativeFacts:
    """The facts of a catalogue intervention, from what its source states; those resting on
    an inferred link are marked as inferred."""
    evidence = concept.ref("evidence")
    facts = initiative_facts(
        kb, actors=concept.ref("actor"), fora=concept.ref("forum"),
        target_groups=concept.ref("targetGroup"), factors=concept.ref("addressesFactor"),
        evidence=evidence[0] if evidence else None,
        effect_follow_up=concept.value("effectFollowUp"),
        actors_known=bool(concept.ref("actor")))
    inferred: set[str] = set()
    for prefix, prop in (("actor", "actor"), ("forum", "forum"), ("target-group", "targetGroup"),
                         ("factor", "addressesFactor"), ("evidence", "evidence")):
        inferred.update(f"{prefix}:{v}" for v in concept.ref(prop) if concept.is_inferred(prop, v))
    stated_actors = [a for a in concept.ref("actor") if not concept.is_inferred("actor", a)]
    stated_sectors = {s for s, members in _sectors(kb, stated_actors).items()
                      if any(not (m in kb and kb.get(m).is_inferred("sector", s)) for m in members)}
    inferred.update(f for f in facts.known if f.startswith("sector:") and f[7:] not in stated_sectors)
    if "sectors:several" in facts.known and len(stated_sectors) < 2:
        inferred.add("sectors:several")
    # A forum's member organisations are the forum's, not named as the initiative's partners.
    inferred.add("forum-sectors:several")
    return InitiativeFacts(facts.known, facts.unknown, facts.basis, frozenset(inferred & facts.known))


# ---------------------------------------------------------------------------- support


@dataclass(frozen=True)
class Support:
    """One ground for one principle (or sub-goal)."""

    id: str
    support: str  # stated | derived | claimed
    source: str | None = None  # stated: seed file and section, or the document and line
    line: int | None = None
    rule: str | None = None  # derived
    because: tuple[str, ...] = ()  # derived: the facts, with how each was established
    rationale: Mapping[str, str] = field(default_factory=dict)  # derived: the rule's because
    note: str | None = None  # claimed: why it is not counted
    inferred: bool = False  # a catalogue link the editor inferred (ks:inferred)

    def as_dict(self, lang: str = "da") -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "support": self.support}
        if self.source is not None:
            out["source"] = self.source
        if self.line is not None:
            out["line"] = self.line
        if self.rule is not None:
            out["rule"] = self.rule
            out["because"] = list(self.because)
            out["rationale"] = self.rationale.get(lang) or self.rationale.get("en", "")
        if self.note is not None:
            out["note"] = self.note
        if self.inferred:
            out["inferred"] = True
        return out


def _inferred(concept: Concept, prop: str) -> dict[str, str]:
    """Links of `prop` that a ks:inferred node marks as the editor's inference: value -> note."""
    return {i.get("value", ""): i.get("note", "") for i in concept.inferred if i.get("property") == prop}


def stated_links(kb: KnowledgeBase, concept: Concept, prop: str, lang: str = "da") -> list[Support]:
    """The concept's links of `prop` as support: stated (with the concept's sources) unless
    marked inferred, then claimed without ground (a derivation may still back it)."""
    inferred = _inferred(concept, prop)
    source = "; ".join(str(s) for s in concept.sources) or None
    out = []
    for ident in concept.ref(prop):
        if ident in inferred:
            note = text(lang, "inferred") + (f": {inferred[ident]}" if inferred[ident] else "")
            out.append(Support(ident, CLAIMED, source=source, note=note, inferred=True))
        else:
            out.append(Support(ident, STATED, source=source))
    return out


def placed_links(kb: KnowledgeBase, concept: Concept, lang: str = "da") -> list[Support]:
    """The principles whose chapter the programme's document places the initiative in
    (ks:inFocusArea on a chapter with ks:underPrinciple): support "placed", citing the
    chapter with its pages."""
    out = []
    for area in concept.ref("inFocusArea"):
        if area not in kb or concept.is_inferred("inFocusArea", area):
            continue
        chapter = kb.get(area)
        pages = chapter.value("pages")
        source = "; ".join(str(s) for s in chapter.sources) or None
        for principle in chapter.ref("underPrinciple"):
            note = gettext(N_("the chapter '{chapter}' (p. {pages}) opens with this principle"), lang).format(
                chapter=chapter.label(lang), pages=pages or "?")
            out.append(Support(principle, PLACED, source=source, note=note))
    return out


class PrincipleDeriver:
    """The principle rules of one knowledge base and the engine that runs them."""

    def __init__(self, kb: KnowledgeBase, rules: RuleSet | None = None) -> None:
        self.kb = kb
        self.rules = rules or RuleSet.load(kb, applies_to="initiatives")
        self.engine = RulesEngine(self.rules)
        self.read = frozenset(i for r in self.rules for c in r.conditions for i in c.ids)

    def run(self, known: frozenset[str]) -> list[Any]:
        """The engine's firings for these facts. With no fact that a rule reads nothing can
        fire, and the engine is not asked."""
        if not known & self.read:
            return []
        return list(self.engine.run(Facts(None, known)).firings)

    def derive(self, facts: InitiativeFacts) -> list[Support]:
        """One Support per rule firing, from the known facts only. A firing whose conditions
        do not all hold on facts free of inference is itself an inference: claimed, with the
        rule and its premises shown, never counted."""
        firings = self.run(facts.known)
        sure = facts.known - facts.inferred
        out = []
        for firing in firings:
            rule = firing.rule
            stated = all((any if c.kind.startswith("any") else all)(i in sure for i in c.ids)
                         for c in rule.conditions if c.ids)
            # The facts behind the firing, read off the rule's conditions: independent of
            # how the engine spells its premises.
            used = [i for c in rule.conditions for i in c.ids if i in (sure if stated else facts.known)]
            premises = tuple(dict.fromkeys(
                facts.explain(f) + ("" if f in sure else " (inferred)") for f in used))
            for kind, ident in rule.conclusions:
                if kind == "principle":
                    out.append(Support(ident, DERIVED if stated else CLAIMED, source=rule.source, rule=rule.id,
                                       because=premises, rationale=dict(rule.because), inferred=not stated))
        # One ground per rule and principle (the engine may fire a rule once per matching fact).
        unique = {(s.id, s.support, s.rule): s for s in out}
        return sorted(unique.values(), key=lambda s: (s.id, s.rule or ""))

    def possible(self, facts: InitiativeFacts) -> dict[str, list[str]]:
        """Principles not derived from what is known that the unknown facts could still
        bring: principle -> the unknown facts that would. The rules only add, so running
        them with every unknown taken as true bounds what any answer could give."""
        if not facts.unknown:
            return {}
        now = {s.id for s in self.derive(facts)}
        out: dict[str, list[str]] = {}
        for firing in self.run(facts.known | facts.unknown):
            needs = [i for c in firing.rule.conditions for i in c.ids if i in facts.unknown]
            for kind, ident in firing.rule.conclusions:
                if kind == "principle" and ident not in now and needs:
                    out.setdefault(ident, [])
                    out[ident] = sorted(set(out[ident]) | set(needs))
        return out


@per_knowledge_base
def deriver(kb: KnowledgeBase) -> PrincipleDeriver:
    """The principle deriver of a knowledge base, built once."""
    return PrincipleDeriver(kb)


def verdict_for_count(count: int, possible: int, needed: int) -> str:
    """meets when the counted support reaches the requirement; cannot-tell when only the
    unknown could make it reach; falls-short when even that could not."""
    if count >= needed:
        return MEETS
    return CANNOT_TELL if count + possible >= needed else FALLS_SHORT


# ---------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class RequirementVerdict:
    requirement: str
    field: str
    verdict: str
    why: str
    counted: bool = True  # False: the catalogue does not record the field; not in the row verdict

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.requirement, "field": self.field, "verdict": self.verdict,
                "why": self.why, "counted": self.counted}


@dataclass
class InitiativeAssessment:
    """One row of `check --programme`."""

    id: str
    label: str
    in_scope: bool | None
    scope: str  # why in or out of scope (or unknown)
    verdict: str
    why: str
    principles: list[Support]
    possible: dict[str, list[str]]
    requirements: list[RequirementVerdict]
    subgoals: list[Support] = field(default_factory=list)  # for programmes with sub-goals
    kind: str | None = None  # what the measure does (ks:kind)
    outside: str | None = None  # why the requirements are not about it (OUTSIDE_REASONS), or None
    chapter: str | None = None  # the programme's chapter it is placed in, as a citation with pages

    @property
    def failure(self) -> bool:
        """A finding: in scope, and falls short."""
        return self.in_scope is True and self.verdict == FALLS_SHORT

    def counted(self, kinds: Iterable[str] = COUNTED) -> list[str]:
        wanted = set(kinds)
        return list(dict.fromkeys(s.id for s in self.principles if s.support in wanted))

    def grounds(self) -> dict[str, list[Support]]:
        """Principle -> its grounds, the strongest first (placed, stated, derived, claimed)."""
        order = {PLACED: 0, STATED: 1, DERIVED: 2, CLAIMED: 3}
        out: dict[str, list[Support]] = {}
        for s in sorted(self.principles, key=lambda s: (order.get(s.support, 9), s.rule or "")):
            out.setdefault(s.id, []).append(s)
        return out

    def as_dict(self, lang: str = "da") -> dict[str, Any]:
        # One entry per principle: its strongest ground at the top (as the contract shows it)
        # and every ground in `evidence`.
        principles = []
        for grounds in self.grounds().values():
            entry = grounds[0].as_dict(lang)
            entry["counted"] = grounds[0].support in COUNTED
            entry["evidence"] = [g.as_dict(lang) for g in grounds]
            principles.append(entry)
        return {
            "id": self.id, "label": self.label, "in_scope": self.in_scope, "scope": self.scope,
            "verdict": self.verdict, "why": self.why, "kind": self.kind, "outside": self.outside,
            "chapter": self.chapter,
            "principles": principles,
            "subgoals": [s.as_dict(lang) for s in self.subgoals],
            "possible": [{"id": k, "if": v} for k, v in sorted(self.possible.items())],
            "requirements": [r.as_dict() for r in self.requirements],
        }


@dataclass
class ProgrammeAssessment:
    programme: str
    label: str
    initiatives: list[InitiativeAssessment]
    requirements: list[Requirement]
    kb_version: str = ""

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for row in self.initiatives:
            out[row.verdict] += 1
        return out

    def as_dict(self, lang: str = "da") -> dict[str, Any]:
        in_scope = {"true": 0, "false": 0, "unknown": 0}
        for row in self.initiatives:
            in_scope["unknown" if row.in_scope is None else str(row.in_scope).lower()] += 1
        return {
            "programme": self.programme,
            "label": self.label,
            "kb_version": self.kb_version,
            "requirements": [{"id": r.id, "field": r.field, "min_count": r.min_count,
                              "applies_to": r.applies_to or "all", "source": r.source}
                             for r in self.requirements],
            "initiatives": [row.as_dict(lang) for row in self.initiatives],
            "summary": {"verdicts": self.counts(), "in_scope": in_scope,
                        "funding_unknown": any(r.applies_to == FUNDED for r in self.requirements)
                        and any(row.in_scope is None for row in self.initiatives),
                        "failures": sum(1 for r in self.initiatives if r.failure)},
        }


# Facts a reason names, in words (the rules' own spelling stays in the JSON).
FACT_WORDS = Messages({
    "effect-follow-up:yearly": N_("yearly effect follow-up"),
    "evidence:documented": N_("documented effect"),
    "sectors:several": N_("partners from several sectors"),
    "forum-sectors:several": N_("a forum where several sectors meet"),
})


# Document fields as a person names them.
FIELD_WORDS = Messages({
    "principles": N_("principles"), "subgoals": N_("sub-goals"), "evidence": N_("evidence basis"),
    "goals": N_("goals"), "indicators": N_("indicators"), "success_criteria": N_("success criteria"),
    "effect_follow_up": N_("effect follow-up"),
})


def field_words(name: str, lang: str) -> str:
    return FIELD_WORDS.text(lang, name) if name in FIELD_WORDS else name


def fact_words(kb: KnowledgeBase, fact: str, lang: str) -> str:
    """A fact as a person reads it: in words, or the named concept's label."""
    if fact in FACT_WORDS:
        return FACT_WORDS.text(lang, fact)
    ident = fact.partition(":")[2]
    return kb.label(ident, lang) if ident in kb else fact


def outside_reason(concept: Concept) -> str | None:
    """Why the programme's requirements are not about this measure (OUTSIDE_REASONS), from
    its kind (its programme's own follow-up) or ks:outsideRequirements; None if they are."""
    if FOLLOW_UP_KIND in concept.ref("kind"):
        return "follow-up"
    reason = concept.value("outsideRequirements")
    return reason if reason in OUTSIDE_REASONS else None


def _scope(kb: KnowledgeBase, concept: Concept, programme: str, reqs: list[Requirement],
           lang: str) -> tuple[bool | None, str]:
    if "example" in concept.all_values("status"):  # not an initiative of the programme at all
        return False, text(lang, "example")
    outside = outside_reason(concept)
    if outside:
        return False, text(lang, f"outside_{outside}")
    if any(r.applies_to == DEVELOPMENT for r in reqs):
        if concept.value("developmentInitiative") == "true":
            return True, text(lang, "development")
        return False, text(lang, "not_development")
    if not any(r.applies_to == FUNDED for r in reqs):
        return True, text(lang, "all")
    funders = concept.ref("fundedBy")
    if programme in funders:
        return True, text(lang, "funded")
    if funders:
        return False, text(lang, "funded_other", other=", ".join(funders))
    return None, text(lang, "funding_unknown")


def _principle_verdict(kb: KnowledgeBase, req: Requirement, support: list[Support],
                       possible: dict[str, list[str]], lang: str, complete: bool = False) -> RequirementVerdict:
    allowed = {p.id for p in parts(kb, req.programme, req.values_from or "Principle")}
    counted = {s.id for s in support if s.support in COUNTED and s.id in allowed}
    could = {p: v for p, v in possible.items() if p in allowed and p not in counted}
    needed = req.min_count or 0
    if complete:
        # The source describes the initiative fully: what it does not say is absent.
        if len(counted) >= needed:
            return RequirementVerdict(req.id, req.field, MEETS, text(lang, "count", count=len(counted), needed=needed))
        return RequirementVerdict(req.id, req.field, FALLS_SHORT,
                                  text(lang, "count_complete", count=len(counted), needed=needed))
    verdict = verdict_for_count(len(counted), len(could), needed)
    if verdict == FALLS_SHORT:
        # A thin source: fewer shown is not fewer there ("cannot be shown from the source").
        return RequirementVerdict(req.id, req.field, CANNOT_TELL,
                                  text(lang, "count_thin", count=len(counted), needed=needed))
    if verdict == MEETS:
        why = text(lang, "count", count=len(counted), needed=needed)
    elif verdict == CANNOT_TELL:
        shown = ", ".join(f"{kb.label(p, lang)} ({' / '.join(fact_words(kb, f, lang) for f in v)})"
                          for p, v in sorted(could.items()))
        why = text(lang, "count_open", count=len(counted), needed=needed, possible=len(could), open=shown)
    else:
        why = text(lang, "count_short", count=len(counted), needed=needed, best=len(counted) + len(could))
    return RequirementVerdict(req.id, req.field, verdict, why)


def _catalogue_verdict(kb: KnowledgeBase, concept: Concept, req: Requirement,
                       lang: str) -> RequirementVerdict:
    prop = CATALOGUE_FIELDS.get(req.field)
    if prop is None:
        return RequirementVerdict(req.id, req.field, CANNOT_TELL,
                                  text(lang, "not_recorded", field=field_words(req.field, lang)), counted=False)
    if req.values_from:  # sub-goals: only what the source states counts; absent is unknown
        allowed = {p.id for p in parts(kb, req.programme, req.values_from)}
        stated = [s.id for s in stated_links(kb, concept, prop, lang) if s.support == STATED and s.id in allowed]
        needed = req.min_count or 0
        if len(stated) >= needed:
            return RequirementVerdict(req.id, req.field, MEETS, text(lang, "count", count=len(stated), needed=needed))
        return RequirementVerdict(req.id, req.field, CANNOT_TELL,
                                  text(lang, "values_missing", field=field_words(req.field, lang)))
    have = [h for h in concept.ref(prop) if h != UNKNOWN_EVIDENCE] or [
        v for v in concept.all_values(prop)]
    accepted = set(req.allowed) | set(req.required)
    if not have:
        return RequirementVerdict(req.id, req.field, CANNOT_TELL,
                                  text(lang, "values_unknown", field=field_words(req.field, lang)))
    if not accepted or accepted & set(have):
        return RequirementVerdict(req.id, req.field, MEETS,
                                  text(lang, "values_have", field=field_words(req.field, lang), have=", ".join(have)))
    return RequirementVerdict(req.id, req.field, FALLS_SHORT, text(
        lang, "values_wrong", field=field_words(req.field, lang), have=", ".join(have),
        allowed=", ".join(sorted(accepted))))


def assess_intervention(kb: KnowledgeBase, concept: Concept, programme: str,
                        lang: str = "da") -> InitiativeAssessment:
    """The verdict on one catalogue initiative against the programme's requirements."""
    reqs = requirements(kb, programme)
    derive = deriver(kb)
    facts = intervention_facts(kb, concept)
    derived = derive.derive(facts)
    linked = stated_links(kb, concept, "supportsPrinciple", lang)
    # A link the editor inferred that a rule also derives (from facts free of inference) is
    # derived support; one no such rule backs stays claimed.
    backed = {s.id for s in derived if s.support == DERIVED}
    linked = [s for s in linked if s.support == STATED or s.id not in backed]
    placed = [s for s in placed_links(kb, concept, lang) if s.id in {p.id for p in parts(kb, programme, "Principle")}]
    support = sorted(placed + linked + derived, key=lambda s: (s.id, s.support, s.rule or ""))
    possible = derive.possible(facts)
    in_scope, scope = _scope(kb, concept, programme, reqs, lang)
    outside = outside_reason(concept)
    complete = concept.value("fullyDescribed") == "true"
    verdicts = []
    for req in reqs:
        if req.field == "principles" and req.min_count is not None:
            verdicts.append(_principle_verdict(kb, req, support, possible, lang, complete))
        else:
            verdicts.append(_catalogue_verdict(kb, concept, req, lang))
    counted = [v for v in verdicts if v.counted]
    if in_scope is False:
        # Not an initiative the requirements are about: listed apart, with why, not graded.
        verdict, why = NOT_GRADED, scope
    elif not counted:
        verdict, why = CANNOT_TELL, "; ".join(v.why for v in verdicts)
    else:
        order = {FALLS_SHORT: 0, CANNOT_TELL: 1, MEETS: 2}
        worst = min(counted, key=lambda v: order[v.verdict])
        verdict = worst.verdict
        why = "; ".join(v.why for v in counted)
    allowed = {p.id for p in parts(kb, programme, "Principle")}
    shown = [s for s in support if s.id in allowed or s.support not in (DERIVED, CLAIMED) or not s.rule]
    chapters = [kb.get(a) for a in concept.ref("inFocusArea") if a in kb and kb.get(a).value("pages")]
    chapter = "; ".join(f"{c.label(lang)} ({text(lang, 'pages', pages=c.value('pages'))})"
                        for c in chapters) or None
    return InitiativeAssessment(
        id=concept.id, label=concept.label(lang), in_scope=in_scope, scope=scope, verdict=verdict,
        why=why, principles=shown,
        possible={p: v for p, v in possible.items() if p in allowed},
        requirements=verdicts, subgoals=stated_links(kb, concept, "servesSubGoal", lang),
        kind=concept.ref("kind")[0] if concept.ref("kind") else None, outside=outside, chapter=chapter)


def assess_programme(kb: KnowledgeBase, programme: str, lang: str = "da") -> ProgrammeAssessment:
    """Every catalogue initiative of the programme (an id or a label), with its verdict."""
    ident = kb.resolve(programme, "Programme")
    rows = [assess_intervention(kb, c, ident, lang) for c in kb.interventions(programme=[ident])]
    return ProgrammeAssessment(ident, kb.label(ident, lang), rows, requirements(kb, ident), kb.version)


# The programme's table as text, csv and xlsx is rendering (kundskab.edges.rendering); its names
# stay importable from here, where they were.
_RENDERED = {"CSV_COLUMNS": "CSV_COLUMNS", "TABLE_COLUMNS": "TABLE_COLUMNS", "report_lines": "programme_lines",
             "table_csv": "table_csv", "table_headers": "table_headers", "table_rows": "table_rows",
             "write_xlsx": "write_xlsx"}


def __getattr__(name: str) -> Any:
    if name not in _RENDERED:
        missing = f"module {__name__!r} has no attribute {name!r}"  # Python's protocol, as for any module
        raise AttributeError(missing)
    from kundskab.edges import rendering

    return getattr(rendering, _RENDERED[name])
