"""How well the recommendations match what the sources lead a consultant to expect.

    python benchmarks/score_scenarios.py [--folder cases|holdout] [--dir PATH] [--quiet]
                                         [--kinds-from CHECKOUT] [--random N]

Scores every scenario in tests/scenarios/cases and tests/scenarios/holdout (each folder
reported on its own), or in any folder of scenario files (`--dir`, repeatable), with
`Recommender().recommend(case, lang="da", limit=10)`:
- tier right; fora right (the exact set);
- the share of the expected interventions found in the top 5;
- the wrong ones (the scenario's `not_top10`) found in the top 10;
and the answers that break plain sense (issue 20), counted per set:
- questions the case already answers, directly or through what it implies, either way
  (a factor given true or false; one a true factor implies; one that implies a false
  factor; the age when it is given; the victim factor for a victim);
- control and enforcement measures (`ks:kind control`) offered to a person who wants out
  of a gang (in the list of measures or under any heading of the answer);
- honour measures (aimed at honour-related conflict or crime alone) where the case has no
  honour factor;
- mediation (a conflict-council measure or forum, or the question of consent) where honour
  or violence in the family is at stake;
- the scenario's `not_asked` factors that are asked anyway;
- (apart, no goal) of the scenario's `ask_first` questions, how many the answer asks;
  (a question is one of `open_questions` or of `need_questions`, where the answer has them)
- measures whose every target risk factor the case denies.
The goals of issues 10 and 20 are printed beside the figures; the script exits 0 whatever
the score (it measures).

`offences`, `municipality`, `role`, `victim_of` and `area` are passed only where the
installed case parser accepts them, and a value it does not know is dropped; the output
says what was dropped or mapped. A parser without `role`/`victim_of` gets
`victim-of-crime: true` for a victim instead. Where the knowledge base has no `ks:kind`,
`--kinds-from` names a checkout whose ontology gives it. `--random N` also counts the
plain-sense breaks over N random cases (seeded: the same cases each run). An intervention
id that the knowledge base does not know is a broken scenario file: the script stops with
exit 1 and names it. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kundskab import KnowledgeBase, Recommender
from kundskab.errors import CaseError, KundskabError
from tests.scenarios.load import FOLDERS, Scenario, load_all, load_dir

GOAL_TOP5 = 0.80
GOAL_WRONG_PER_CASE = 0.3
OPTIONAL_FIELDS = ("offences", "municipality", "role", "victim_of", "area", "age_group")
PROBES: dict[str, Any] = {"offences": [], "municipality": "", "role": [], "victim_of": [], "area": "", "age_group": ""}
VICTIM = "victim-of-crime"
OFFENCE = "offence-committed"
WANTS_OUT = "wants-to-leave-gang"
HONOUR_FACTOR = "honour-related-conflict"
HONOUR_CRIME = "honour-related-crime"
MEDIATION_FORUM = "conflict-council"
MEDIATION_FACTOR = "mediation-consent"
# Violence in the family: abuse of a child, or a victim of violence or sexual abuse whose
# family is the trouble (family problems true).
FAMILY_VIOLENCE_CRIMES = frozenset({"violence-and-threats", "sexual-abuse"})
BREAKS = ("answered", "control_for_leaver", "honour_without_factor", "mediation_in_honour",
          "not_asked", "denied_target")
BREAK_TITLES = {"answered": "questions already answered", "control_for_leaver": "control for a leaver",
                "honour_without_factor": "honour w/o honour factor",
                "mediation_in_honour": "mediation in honour/family violence",
                "not_asked": "not_asked asked", "denied_target": "measure for a denied factor"}


@dataclass
class Score:
    scenario: Scenario
    tier: str
    fora: frozenset[str]
    top10: list[str]
    dropped: list[str] = field(default_factory=list)
    breaks: dict[str, list[str]] = field(default_factory=dict)  # plain-sense breaks, by class
    asked: int = 0  # questions in the answer (open ones and those about needs)
    # With the age unknown: the fora the answer gives by age range (`fora_by_age`).
    by_age: frozenset[str] = frozenset()
    # The scenario's `ask_first` questions the answer asks (among all its questions).
    asked_first: int = 0

    @property
    def tier_ok(self) -> bool:
        return self.tier == self.scenario.expect.tier

    @property
    def fora_ok(self) -> bool:
        return self.fora == self.scenario.expect.fora

    @property
    def age_unknown(self) -> bool:
        return self.scenario.case.get("age") is None

    @property
    def fora_ok_by_age(self) -> bool:
        """The age unknown: every expected forum is among the fora or the fora by age, and
        no forum given for every age is unexpected (what the answer offers once the age is
        asked; counted apart, never in `fora right`)."""
        expected = self.scenario.expect.fora
        return self.fora <= expected <= self.fora | self.by_age

    # Control and enforcement the answer shows apart (its `control` list, issue 20): an
    # expected one found there is found (it is where it belongs); a wrong one is wrong there too.
    control: list[str] = field(default_factory=list)

    @property
    def found(self) -> list[str]:
        return [i for i in self.scenario.expect.top5 if i in self.top10[:5] or i in self.control[:5]]

    @property
    def wrong(self) -> list[str]:
        return [i for i in self.scenario.expect.not_top10 if i in self.top10 or i in self.control]


def accepted_fields(recommender: Recommender) -> dict[str, bool]:
    """Which optional case fields this version's case parser knows: one it does not know
    is refused with the same words as a field nobody knows; a known one with an empty value
    is accepted or refused for its value, which still shows that the field is known."""
    def refusal(case: dict[str, Any]) -> str | None:
        try:
            recommender.recommend(case, limit=1)
            return None
        except (CaseError, KundskabError) as error:
            return str(error)

    unknown = refusal({"factors": {}, "zz-no-such-field": ""})
    return {name: refusal({"factors": {}, name: probe}) != unknown for name, probe in PROBES.items()}


def _as_list(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value or ())


def adapt(case: Mapping[str, Any], accepted: Mapping[str, bool]) -> tuple[dict[str, Any], list[str]]:
    """The case as this version's parser can take it, and what was dropped or mapped."""
    out = {k: v for k, v in case.items() if k not in OPTIONAL_FIELDS or accepted.get(k)}
    notes = [k for k in OPTIONAL_FIELDS if k in case and not accepted.get(k)]
    victim = "victim" in _as_list(case.get("role")) or bool(case.get("victim_of"))
    if victim and not (accepted.get("role") and accepted.get("victim_of")):
        factors = dict(out.get("factors") or {})
        if factors.get(VICTIM) is not False:
            factors[VICTIM] = True
            notes.append(f"role/victim_of -> {VICTIM}: true")
        out["factors"] = factors
    return out, notes


def unknown_interventions(kb: KnowledgeBase, scenarios: list[Scenario]) -> dict[str, list[str]]:
    """Expected ids the knowledge base cannot resolve to an intervention, by scenario."""
    unknown: dict[str, list[str]] = {}
    for s in scenarios:
        for ident in (*s.expect.top5, *s.expect.not_top10):
            try:
                ok = kb.get(kb.resolve(ident, "Intervention")).is_a("Intervention")
            except KundskabError:
                ok = False
            if not ok:
                unknown.setdefault(s.id, []).append(ident)
    return unknown


def canonical(kb: KnowledgeBase, scenario: Scenario) -> Scenario:
    """The scenario with every intervention id through its alias, as answers name them."""
    def one(ident: str) -> str:
        return kb.resolve(ident, "Intervention")

    expect = scenario.expect
    return Scenario(scenario.id, scenario.description, scenario.folder, scenario.file, scenario.case,
                    type(expect)(expect.tier, expect.fora, tuple(map(one, expect.top5)),
                                 tuple(map(one, expect.not_top10)), expect.not_asked,
                                 *((expect.ask_first,) if hasattr(expect, "ask_first") else ())),
                    scenario.sources, scenario.why_fewer, scenario.outside_catalogue)


@dataclass(frozen=True)
class Knowledge:
    """What the plain-sense counts read from the knowledge base: ks:implies (transitive),
    and which measures are control, honour or mediation measures, and their target factors."""

    implies: dict[str, frozenset[str]]
    control: frozenset[str]
    honour: frozenset[str]
    mediation: frozenset[str]
    targets: dict[str, frozenset[str]]  # a measure's risk factors (ks:addressesFactor)

    @classmethod
    def of(cls, kb: KnowledgeBase, kinds: Mapping[str, str]) -> Knowledge:
        direct = {f.id: set(f.ref("implies")) for f in kb.of_type("Factor")}
        implies = {}
        for factor in direct:
            seen: set[str] = set()
            todo = list(direct[factor])
            while todo:
                other = todo.pop()
                if other not in seen:
                    seen.add(other)
                    todo.extend(direct.get(other, ()))
            implies[factor] = frozenset(seen)
        risk = {f.id for f in kb.of_type("RiskFactor")}
        measures = kb.of_type("Intervention")
        # Aimed at honour alone: the honour conflict its only target risk factor, or honour
        # crime its only crime type (a unit for all violence, honour included, is not one).
        honour = frozenset(m.id for m in measures
                           if set(m.ref("addressesFactor")) & risk == {HONOUR_FACTOR}
                           or set(m.ref("crimeType")) - {"youth-crime"} == {HONOUR_CRIME})
        mediation = frozenset(m.id for m in measures if MEDIATION_FORUM in m.ref("forum")
                              or MEDIATION_FACTOR in m.ref("addressesFactor"))
        control = frozenset(i for i, kind in kinds.items() if kind == "control")
        targets = {m.id: frozenset(m.ref("addressesFactor")) & risk for m in measures}
        return cls(implies, control, honour, mediation, targets)


def kinds_of(kb: KnowledgeBase, checkout: Path | None) -> tuple[dict[str, str], str]:
    """Each intervention's ks:kind, from the knowledge base, else from the Turtle of another
    checkout (so that an older version is counted by the same kinds); and where from."""
    found = {c.id: kind for c in kb.of_type("Intervention") if (kind := (c.ref("kind") or (c.value("kind"),))[0])}
    if found or checkout is None:
        return found, "the knowledge base" if found else "nowhere (no ks:kind): control is not counted"
    import rdflib  # only here: the knowledge base itself never needs it at run time

    graph = rdflib.Graph()
    for path in sorted((checkout / "ontology").rglob("*.ttl")):
        if "shapes" not in path.parts:
            graph.parse(path, format="turtle")
    kind = rdflib.URIRef("https://w3id.org/kundskab/schema#kind")
    base = "https://w3id.org/kundskab/id/"
    for subject, value in graph.subject_objects(kind):
        text = str(value)
        found[str(subject).removeprefix(base)] = text.removeprefix(base).rsplit("#", 1)[-1]
    return found, f"{checkout}/ontology"


def closure(case: Mapping[str, Any], k: Knowledge) -> tuple[set[str], set[str]]:
    """The factors a case answers yes and no, with what they imply either way."""
    factors = case.get("factors") or {}
    if isinstance(factors, list):
        factors = dict.fromkeys(factors, True)
    true = {f for f, v in factors.items() if v is True}
    false = {f for f, v in factors.items() if v is False}
    if case.get("offences"):
        true.add(OFFENCE)
    if "victim" in _as_list(case.get("role")) or case.get("victim_of"):
        true.add(VICTIM)
    for f in list(true):
        true |= k.implies.get(f, frozenset())
    false |= {f for f, implied in k.implies.items() if implied & false}
    return true, false


def plain_sense(case: Mapping[str, Any], answer: Any, k: Knowledge,
                not_asked: Iterable[str] = ()) -> dict[str, list[str]]:
    """The answer's breaks of plain sense, by class (see the module's doc)."""
    true, false = closure(case, k)
    as_dict = answer.as_dict()
    # The questions the answer asks: the open ones and those about needs (need_questions).
    asked = [q["factor"] for q in as_dict.get("open_questions", []) + as_dict.get("need_questions", [])]
    top10 = [i["id"] for i in as_dict.get("interventions", [])][:10]
    shown = set(top10)
    for key, value in as_dict.items():  # measures under headings of their own, whatever the key
        if key != "interventions" and isinstance(value, list):
            shown |= {i["id"] for i in value if isinstance(i, dict) and "id" in i and "score" in i}
    victim_of = set(_as_list(case.get("victim_of")))
    offences = set(_as_list(case.get("offences")))
    honour = HONOUR_FACTOR in true or HONOUR_CRIME in victim_of | offences
    family_violence = "child-abuse-suspected" in true or (
        bool(victim_of & FAMILY_VIOLENCE_CRIMES) and "family-problems" in true)
    breaks = {
        "answered": [f for f in asked if f in true or f in false or (f == "age" and case.get("age") is not None)],
        "control_for_leaver": sorted(i for i in shown if i in k.control) if WANTS_OUT in true else [],
        "honour_without_factor": [] if honour else [i for i in top10 if i in k.honour],
        "mediation_in_honour": ([i for i in top10 if i in k.mediation]
                                + [f"question:{f}" for f in asked if f == MEDIATION_FACTOR]
                                + [f"forum:{f}" for f in as_dict.get("fora", []) if f == MEDIATION_FORUM])
        if honour or family_violence else [],
        "not_asked": [f for f in asked if f in set(not_asked)],
        "denied_target": [i for i in top10 if k.targets.get(i) and k.targets[i] <= false],
    }
    return {key: value for key, value in breaks.items() if value}


def score(recommender: Recommender, scenario: Scenario, accepted: dict[str, bool],
          knowledge: Knowledge | None = None) -> Score:
    case, dropped = adapt(scenario.case, accepted)
    # A value this knowledge base does not know yet (e.g. an area still to be added) is
    # dropped, the area first, and the output says so; any other bad case is an error.
    for name in ("area", "municipality", "victim_of", "offences", None):
        try:
            # The consultant's questions: the open ones and those about needs (asked for, as
            # the text, the interview and the web page ask for them).
            try:
                answer = recommender.recommend(case, lang="da", limit=10, need_questions=3)
            except TypeError:  # a kundskab before need questions
                answer = recommender.recommend(case, lang="da", limit=10)
            break
        except CaseError as error:
            if name is None or not any(k in case for k in OPTIONAL_FIELDS):
                raise
            if name in case:
                dropped.append(f"{name} ({error})")
                case = {k: v for k, v in case.items() if k != name}
    top10 = [item.id for item in answer.interventions][:10]
    breaks = plain_sense(scenario.case, answer, knowledge, scenario.expect.not_asked) if knowledge else {}
    control = [item.id for item in answer.control]
    questions = [q.factor for q in (*answer.open_questions, *getattr(answer, "need_questions", ()))]
    return Score(scenario, answer.tier, frozenset(answer.fora), top10, dropped, breaks,
                 len(questions), control=control,
                 by_age=frozenset(f.id for f in getattr(answer, "fora_by_age", ())),
                 asked_first=len(set(scenario.expect.ask_first) & set(questions)))


def _ids(items: list[str] | frozenset[str]) -> str:
    return ", ".join(sorted(items)) or "-"


def report_case(s: Score) -> None:
    exp = s.scenario.expect
    mark = "ok" if s.tier_ok and s.fora_ok and len(s.found) == len(exp.top5) and not s.wrong else "--"
    print(f"[{mark}] {s.scenario.id}  ({s.scenario.file})")
    print(f"     tier  {'ok ' if s.tier_ok else 'NO '} {s.tier} (expected {exp.tier})")
    if not s.fora_ok:
        print(f"     fora  NO  got [{_ids(s.fora)}]; missing [{_ids(exp.fora - s.fora)}],"
              f" extra [{_ids(s.fora - exp.fora)}]")
    else:
        print(f"     fora  ok  [{_ids(s.fora)}]")
    if exp.top5:
        missing = [i for i in exp.top5 if i not in s.found]
        print(f"     top5  {len(s.found)}/{len(exp.top5)}" + (f"  missing: {', '.join(missing)}" if missing else ""))
    else:
        print("     top5  (outside the catalogue: nothing expected)")
    if s.wrong:
        print(f"     wrong in top 10: {', '.join(s.wrong)}")
    if s.dropped:
        print(f"     dropped from the case: {'; '.join(s.dropped)}")
    for kind, items in s.breaks.items():
        print(f"     {BREAK_TITLES[kind]}: {', '.join(items)}")


@dataclass(frozen=True)
class Totals:
    cases: int
    tiers_right: int
    fora_right: int
    expected: int
    found: int
    wrong: int
    breaks: dict[str, int] = field(default_factory=dict)
    questions: int = 0
    age_unknown: int = 0  # cases with the age unknown,
    age_unknown_fora: int = 0  # of which fora right,
    age_unknown_by_age: int = 0  # and of which the expected fora among fora and fora by age
    ask_first: int = 0  # questions the scenarios expect next,
    ask_first_asked: int = 0  # of which the answers ask

    @classmethod
    def of(cls, scores: list[Score]) -> Totals:
        return cls(len(scores), sum(s.tier_ok for s in scores), sum(s.fora_ok for s in scores),
                   sum(len(s.scenario.expect.top5) for s in scores), sum(len(s.found) for s in scores),
                   sum(len(s.wrong) for s in scores),
                   {kind: sum(len(s.breaks.get(kind, ())) for s in scores) for kind in BREAKS},
                   sum(s.asked for s in scores), sum(s.age_unknown for s in scores),
                   sum(s.age_unknown and s.fora_ok for s in scores),
                   sum(s.age_unknown and s.fora_ok_by_age for s in scores),
                   sum(len(s.scenario.expect.ask_first) for s in scores), sum(s.asked_first for s in scores))

    @property
    def top5_share(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def wrong_per_case(self) -> float:
        return self.wrong / self.cases if self.cases else 0.0


def summary(totals: dict[str, Totals]) -> None:
    print()
    print(f"{'folder':<9} {'cases':>5} {'tier right':>11} {'fora right':>11} "
          f"{'expected in top 5':>18} {'wrong in top 10 / case':>23}")
    for folder, t in totals.items():
        print(f"{folder:<9} {t.cases:>5} {t.tiers_right:>5}/{t.cases:<5} {t.fora_right:>5}/{t.cases:<5} "
              f"{t.found:>5}/{t.expected:<4} {t.top5_share:>6.0%} {t.wrong:>9} {t.wrong_per_case:>9.2f}")
    print(f"{'goal':<9} {'':>5} {'all':>11} {'all':>11} {GOAL_TOP5:>18.0%} {GOAL_WRONG_PER_CASE:>23.2f}")
    for folder, t in totals.items():
        if t.age_unknown:
            print(f"{folder}: {t.age_unknown} with the age unknown, fora right {t.age_unknown_fora}; "
                  f"expected fora among the fora and the fora by age: {t.age_unknown_by_age} "
                  "(apart: the tool cannot know the age)")
    print()
    print(f"{'plain sense (goal 0 each)':<36}" + "".join(f"{f:>10}" for f in totals))
    for kind in BREAKS:
        print(f"{BREAK_TITLES[kind]:<36}" + "".join(f"{t.breaks.get(kind, 0):>10}" for t in totals.values()))
    print(f"{'(questions asked in all)':<36}" + "".join(f"{t.questions:>10}" for t in totals.values()))
    for folder, t in totals.items():
        if t.ask_first:
            print(f"{folder}: of {t.ask_first} questions the scenarios would ask next, the answers ask "
                  f"{t.ask_first_asked} ({t.ask_first_asked / t.ask_first:.0%})")


def random_cases(kb: KnowledgeBase, count: int, seed: int = 20) -> list[dict[str, Any]]:
    """Random consistent cases (the same ones for the same seed and knowledge base)."""
    rng = random.Random(seed)
    factors = sorted(f.id for f in kb.of_type("Factor") if f.is_a("RiskFactor") or f.is_a("Circumstance"))
    crimes = sorted(c.id for c in kb.of_type("CrimeType"))
    out = []
    while len(out) < count:
        chosen = rng.sample(factors, rng.randint(1, 5))
        case: dict[str, Any] = {"age": rng.choice([None, *range(3, 60)]),
                                "factors": {f: rng.random() < 0.7 for f in chosen}}
        if rng.random() < 0.3:
            case["victim_of"] = rng.sample(crimes, 1)
            case["role"] = ["victim"]
        if rng.random() < 0.2 and case["factors"].get(OFFENCE) is not False:
            case["offences"] = rng.sample(crimes, 1)
        out.append(case)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", choices=FOLDERS, action="append",
                        help="score only this folder (repeatable; both by default)")
    parser.add_argument("--dir", type=Path, action="append", default=[],
                        help="also score the scenario files of this folder (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="only the summary table")
    parser.add_argument("--kinds-from", type=Path, help="a checkout whose ontology gives ks:kind")
    parser.add_argument("--random", type=int, default=0, help="also count plain-sense breaks over N random cases")
    args = parser.parse_args(argv)

    folders = load_all()
    chosen = args.folder or ([] if args.dir else list(FOLDERS))
    for path in args.dir:
        folders[path.name] = load_dir(path)
        chosen.append(path.name)
    recommender = Recommender()
    kb = recommender.kb
    kinds, kinds_from = kinds_of(kb, args.kinds_from)
    knowledge = Knowledge.of(kb, kinds)

    unknown = unknown_interventions(kb, [s for f in chosen for s in folders[f]])
    if unknown:
        print("error: scenario files name interventions the knowledge base does not know:",
              file=sys.stderr)
        for sid, ids in unknown.items():
            print(f"  {sid}: {', '.join(ids)}", file=sys.stderr)
        return 1

    accepted = accepted_fields(recommender)
    print(f"knowledge base {kb.version}; kinds of measure from {kinds_from} ({len(knowledge.control)} control)")
    for name in OPTIONAL_FIELDS:
        used = sum(name in s.case for f in chosen for s in folders[f])
        state = "passed" if accepted[name] else "DROPPED (this version's case parser does not accept it)"
        print(f"case field '{name}': {state}; {used} scenario(s) give it")

    totals = {}
    for folder in chosen:
        scores = [score(recommender, canonical(kb, s), accepted, knowledge) for s in folders[folder]]
        if not args.quiet:
            print(f"\n== {folder} ({len(scores)} scenarios) ==")
            for s in scores:
                report_case(s)
        totals[folder] = Totals.of(scores)
    summary(totals)
    if args.random:
        counts = dict.fromkeys(BREAKS, 0)
        broken = 0
        for case in random_cases(kb, args.random):
            adapted, _ = adapt(case, accepted)
            try:
                answer = recommender.recommend(adapted, lang="da", limit=10)
            except CaseError:
                continue
            found = plain_sense(case, answer, knowledge)
            broken += bool(found)
            for kind, items in found.items():
                counts[kind] += len(items)
        print(f"\n{args.random} random cases: {broken} answers break plain sense; "
              + ", ".join(f"{BREAK_TITLES[k]} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
