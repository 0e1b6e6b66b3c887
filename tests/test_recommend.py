"""Recommendations: scenarios from the sources (data files in tests/scenarios/) and
properties that must hold for every case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from kundskab import CaseError, KnowledgeBase, RequestError
from kundskab.reasoning.cases import MAX_AGE, parse_case
from kundskab.reasoning.recommendation import Recommender
from kundskab.reasoning.rules import RuleSet

SCENARIOS = [
    pytest.param(s, id=f"{path.stem}: {s['name']}")
    for path in sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))
    for s in yaml.safe_load(path.read_text(encoding="utf-8"))
]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(recommender: Recommender, scenario: dict[str, Any]) -> None:
    result = recommender.recommend(scenario["case"]).as_dict()
    if "tier" in scenario:
        assert result["tier"] == scenario["tier"]
    if "fora" in scenario:
        assert result["fora"] == sorted(scenario["fora"])
    assert set(scenario.get("fora_include", [])) <= set(result["fora"])
    assert not set(scenario.get("fora_exclude", [])) & set(result["fora"])
    assert set(scenario.get("target_groups_include", [])) <= set(result["target_groups"])
    if "open_question" in scenario:
        assert scenario["open_question"] in [q["factor"] for q in result["open_questions"]]


# ------------------------------------------------------------------ properties

FACTORS = [
    "offence-committed", "charged-above-fine-level", "serious-offence", "repeat-offending",
    "concerning-behaviour", "truancy", "street-group", "no-leisure-activity", "family-problems",
    "substance-abuse", "psychiatric-illness", "gang-proximity", "gang-member",
    "wants-to-leave-gang", "released-from-custody", "radicalisation-signs",
    "honour-related-conflict", "victim-of-crime", "mediation-consent", "child-abuse-suspected",
    "not-in-education-or-work", "lives-in-vulnerable-area",
]
answers = st.sampled_from([True, False, "unknown"])


def consistent(case: dict[str, Any]) -> bool:
    """No factor true while one it implies is false (such a case is refused as a whole)."""
    from kundskab import load
    from kundskab.reasoning.cases import implied_factors

    implied = implied_factors(load())
    factors = case.get("factors", {})
    return not any(factors.get(other) is False for factor, value in factors.items() if value is True
                   for other in implied.get(factor, ()))


def applies(kb: KnowledgeBase, case: dict[str, Any], factor: str) -> bool:
    """Whether a question about `factor` makes sense for the case: not implied by its true
    factors, its condition met (what it implies holds: whether a gang member wants out, not
    whether anyone does), one of what makes it likely true (ks:askedAfterOneOf, and for a
    minor ks:askedOfMinorsAfter), not one a case raises itself (ks:askedOnlyWhenRaised), and
    possible at its age."""
    from kundskab.reasoning.cases import conditions, implied_factors, unasked_factors

    unasked = unasked_factors(kb)
    true = {f for f, v in case["factors"].items() if v is True}
    if any(factor in unasked.get(f, ()) for f in true):
        return False
    implied = implied_factors(kb)
    holding = true | {i for f in true for i in implied.get(f, ())}
    if not conditions(kb).get(factor, frozenset()) <= holding:
        return False
    age, concept = case.get("age"), kb.get(factor)
    if concept.value("askedOnlyWhenRaised") == "true":
        return False
    if concept.ref("askedAfterOneOf") and not set(concept.ref("askedAfterOneOf")) & holding:
        return False
    # A minor by the age, or with the age unknown by the age group or a true factor of
    # children only (truancy).
    group = kb.get(case["age_group"]) if age is None and case.get("age_group") else None
    minor = age < 18 if age is not None else (group is not None and (group.int_value("maxAge") or 99) < 18) or any(
        (kb.get(f).int_value("maxAge") or 99) < 18 for f in true)
    if minor and concept.ref("askedOfMinorsAfter") and not set(concept.ref("askedOfMinorsAfter")) & holding:
        return False
    low, high = concept.int_value("minAge"), concept.int_value("maxAge")
    if group is not None:  # possible at some age of the group
        youngest, oldest = group.int_value("minAge") or 0, group.int_value("maxAge")
        return not ((low is not None and oldest is not None and oldest < low) or (high is not None and youngest > high))
    return age is None or not ((low is not None and age < low) or (high is not None and age > high))


cases = st.fixed_dictionaries(
    {"age": st.one_of(st.none(), st.integers(0, 90)),
     "factors": st.dictionaries(st.sampled_from(FACTORS), answers, max_size=8)},
    optional={"ref": st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12),
              "age_group": st.sampled_from(["preschool-children", "school-age-youth", "young-adults", "adults"])},
).filter(consistent).map(lambda c: {**c, "age": None} if "age_group" in c else c)  # a group: the age unknown
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _rank(recommender: Recommender, tier: str) -> int:
    return recommender.rules.tier_ranks[tier]


@SETTINGS
@given(case=cases, extra=st.sampled_from(FACTORS))
def test_one_more_true_factor_never_lowers_the_tier(recommender: Recommender, case: dict[str, Any], extra: str) -> None:
    more = {**case, "factors": {**case["factors"], extra: True}}
    assume(consistent(more))
    before = recommender.recommend(case).tier
    after = recommender.recommend(more).tier
    assert _rank(recommender, after) >= _rank(recommender, before)


@SETTINGS
@given(case=cases)
def test_same_input_same_output(recommender: Recommender, case: dict[str, Any]) -> None:
    first = json.dumps(recommender.recommend(case).as_dict(), sort_keys=True)
    second = json.dumps(recommender.recommend(case).as_dict(), sort_keys=True)
    assert first == second


@SETTINGS
@given(case=cases)
def test_every_item_in_the_answer_is_explained(recommender: Recommender, case: dict[str, Any]) -> None:
    result = recommender.recommend(case).as_dict()
    conclusions = {e["conclusion"] for e in result["explanation"]}
    assert f"tier:{result['tier']}" in conclusions
    for forum in result["fora"]:
        assert f"forum:{forum}" in conclusions
    for group in result["target_groups"]:
        assert f"age-group:{group}" in conclusions or f"target-group:{group}" in conclusions
    for item in result["interventions"]:
        assert f"intervention:{item['id']}" in conclusions
    for entry in result["explanation"]:
        assert entry["rule"] and entry["because"] and entry["source"].count("#") == 1


@SETTINGS
@given(case=cases, factor=st.sampled_from(FACTORS))
# Honour or abuse suspected rules out the conflict council the case is referred to: asked.
@example(case={"age": None, "factors": {"offence-committed": True, "mediation-consent": True}},
         factor="honour-related-conflict")
@example(case={"age": None, "factors": {"offence-committed": True, "charged-above-fine-level": True,
                                        "serious-offence": True, "repeat-offending": True,
                                        "mediation-consent": True}},
         factor="child-abuse-suspected")
@example(case={"age": 30, "factors": {"victim-of-crime": True, "mediation-consent": True}},
         factor="family-problems")
# Victim support is no new forum for a child whose case the Børnehus has (ks:takesOver).
@example(case={"age": 0, "factors": {"child-abuse-suspected": True}}, factor="victim-of-crime")
# A truant of unknown age is a minor: a release waits for serious crime.
@example(case={"age": None, "factors": {"truancy": True, "offence-committed": True}}, factor="released-from-custody")
def test_unknown_is_neither_true_nor_false(recommender: Recommender, case: dict[str, Any], factor: str) -> None:
    unknown = {**case, "factors": {**case["factors"], factor: "unknown"}}
    absent = {**case, "factors": {k: v for k, v in case["factors"].items() if k != factor}}
    as_true = {**case, "factors": {**case["factors"], factor: True}}
    assume(consistent(as_true))

    def core(c: dict[str, Any]) -> tuple[Any, ...]:
        r = recommender.recommend(c).as_dict()
        return r["tier"], r["fora"], r["target_groups"]

    assert core(unknown) == core(absent)  # an unknown answer is as if unasked
    questions = {q["factor"]: q for q in recommender.recommend(unknown, questions=100).as_dict()["open_questions"]}
    if not applies(recommender.kb, unknown, factor):
        assert factor not in questions  # implied already, or impossible at the age
    elif core(as_true)[:2] != core(unknown)[:2]:
        # The answer matters: it must be asked, and the question says what would change.
        assert factor in questions
        change = questions[factor]["if_true"]
        assert change["tier"] == core(as_true)[0]
        assert set(change["new_fora"]) == set(core(as_true)[1]) - set(core(unknown)[1])
    else:
        assert factor not in questions


@SETTINGS
@given(case=cases)
def test_engine_agrees_with_the_reference_evaluator(recommender: Recommender, ruleset: RuleSet,
                                                    case: dict[str, Any]) -> None:
    parsed = parse_case(case, recommender.kb)
    derivation = recommender.engine.run(parsed.facts)
    state, fired = ruleset.closure(parsed.facts)
    assert derivation.conclusions == state.derived
    assert derivation.tier_rank == state.tier_rank
    assert {f.rule.id for f in derivation.firings} == {r.id for r, _ in fired}


@SETTINGS
@given(case=cases)
def test_interventions_above_the_tier_come_from_the_case_fora_or_are_for_victims(
        recommender: Recommender, case: dict[str, Any]) -> None:
    result = recommender.recommend(case).as_dict()
    limit = _rank(recommender, result["tier"])
    parsed = parse_case(case, recommender.kb)
    victim = any("victimisation" in recommender.kb.get(f).ref("inDomain") and recommender.kb.get(f).is_a("RiskFactor")
                 for f in parsed.facts.true)
    fora = set(result["fora"])
    if parsed.age is None:  # an unknown age: the measures of the fora of the ages the case allows
        from kundskab.reasoning.recommendation import PROBE_AGES
        from kundskab.reasoning.rules import Facts

        for probe in PROBE_AGES:
            state, _ = recommender.rules.closure(Facts(probe, parsed.facts.true, parsed.facts.false))
            fora |= state.derived.get("forum", set())
    for item in result["interventions"]:
        concept = recommender.kb.get(item["id"])
        if _rank(recommender, item["tier"]) > limit:
            assert set(concept.ref("forum")) & fora or (
                victim and ("victim" in concept.all_values("situation")
                            or "victims-of-crime" in concept.ref("targetGroup")))
        assert 0 < item["score"] <= 1
    scores = [i["score"] for i in result["interventions"]]
    assert scores == sorted(scores, reverse=True)


def test_ref_is_echoed(recommender: Recommender) -> None:
    assert recommender.recommend({"ref": "opaque-123", "age": 15}).ref == "opaque-123"


def test_factor_labels_and_lists_are_accepted(recommender: Recommender) -> None:
    a = recommender.recommend({"age": 15, "factors": {"Skolefravær": "ja"}}).as_dict()
    b = recommender.recommend({"age": 15, "factors": ["truancy"]}).as_dict()
    assert (a["tier"], a["fora"]) == (b["tier"], b["fora"]) == ("specific", ["ssp"])


@pytest.mark.parametrize("bad", [
    {"age": -1}, {"age": 200}, {"age": True}, {"age": "fifteen"}, {"factors": {"truancy": "maybe"}},
    {"factors": {"no-such-factor": True}}, {"factors": 5}, {"name": "Jens"}, [], "text",
    {"ref": {"nested": 1}}, {"factors": {"truancy": True, "Skolefravær": False}},
])
def test_bad_cases_are_clear_errors(kb: KnowledgeBase, bad: Any) -> None:
    with pytest.raises(CaseError):
        parse_case(bad, kb)


def test_case_repr_hides_its_content(kb: KnowledgeBase) -> None:
    case = parse_case({"ref": "secret-ref", "age": 15, "factors": ["truancy"]}, kb)
    assert "secret-ref" not in repr(case) and "truancy" not in repr(case) and "15" not in repr(case)


def test_answers_do_not_depend_on_what_was_asked_before(kb: KnowledgeBase, ruleset: RuleSet) -> None:
    """The memos hold pieces shared between cases: two recommenders asked the same cases
    in opposite orders give the same answers."""
    import random

    rng = random.Random(3)
    batch: list[dict[str, Any]] = []
    while len(batch) < 300:
        chosen = rng.sample(FACTORS, rng.randint(0, 5))
        case = {"age": rng.choice([None, *range(0, 40)]),
                "factors": {f: rng.choice([True, True, False, "unknown"]) for f in chosen}}
        if consistent(case):
            batch.append(case)
    forward, backward = Recommender(kb, ruleset), Recommender(kb, ruleset)
    first = [forward.recommend(c, lang=lang).to_json() for c in batch for lang in ("da", "en")]
    second = [backward.recommend(c, lang=lang).to_json() for c in reversed(batch) for lang in ("en", "da")]
    assert first == list(reversed(second))


def _reference_ranking(recommender: Recommender, case: dict[str, Any],
                       result: dict[str, Any]) -> list[tuple[str, float, int]]:
    """The filters and score documented in rules/interventions.yaml, computed the slow,
    obvious way from the knowledge base: (id, score, reasons of fit) of each item."""
    kb, rules = recommender.kb, recommender.rules
    w = rules.ranking.weights
    parsed = parse_case(case, kb)
    true = set(parsed.facts.true)
    age, rank = parsed.age, rules.tier_ranks[result["tier"]]
    groups, fora = set(result["target_groups"]), set(result["fora"])
    risks = {f for f in true if kb.get(f).is_a("RiskFactor")}
    situations = {"citizen"}
    if parsed.offences or any("offending" in kb.get(f).ref("inDomain") for f in risks):
        situations.add("offender")
    if any("victimisation" in kb.get(f).ref("inDomain") for f in risks):
        situations.add("victim")
    if any("victimisation" not in kb.get(f).ref("inDomain") for f in risks) or rank > 1:
        situations.add("at-risk")
    # A minor's parents are asked with them: by the age, or with it unknown by the oldest age
    # the case's age group and true factors allow.
    oldest = min([h for f in true if (h := kb.get(f).int_value("maxAge")) is not None]
                 + ([kb.get(parsed.age_group).int_value("maxAge") or 999] if parsed.age_group else []), default=999)
    if (age < 18 if age is not None else oldest < 18) or "relative" in parsed.roles:
        situations.add("relative")
    honour = "honour-related-conflict" in true or "honour-related-crime" in parsed.offences | parsed.victim_of
    is_victim = "victim" in parsed.roles or any("victimisation" in kb.get(f).ref("inDomain") for f in risks)
    family_violence = honour or "child-abuse-suspected" in true or (parsed.victim and "family-problems" in true)
    # No mediation either where a gang is party or no crime named harms anyone who could be met.
    named = parsed.offences | parsed.victim_of
    victimless = {c.id for c in kb.of_type("CrimeType") if c.value("victimless") == "true"}
    no_mediation = family_violence or "gang-member" in true or "gang-crime" in named \
        or (bool(named) and named <= victimless)
    suffered = parsed.victim_of | ({"honour-related-crime"} if honour and parsed.victim else set())
    case_fora = {ident for kind, ident in recommender.whatif.derived_bit if kind == "forum"}

    def chain(area: str) -> set[str]:
        found, todo = set(), [area]
        while todo:
            a = todo.pop()
            if a not in found:
                found.add(a)
                todo += list(kb.get(a).ref("partOf")) if a in kb else []
        return found

    allowed: tuple[int, int] | None = None
    if age is None:  # an unknown age: what fits any age the case allows (each item with its range)
        from kundskab.reasoning.recommendation import PROBE_AGES
        from kundskab.reasoning.rules import Facts

        # The ages the case's age group and true factors allow (ks:minAge/ks:maxAge): truancy 6-17.
        of_group = [parsed.age_group] if parsed.age_group else []
        lows = [kb.get(f).int_value("minAge") for f in [*true, *of_group]]
        highs = [kb.get(f).int_value("maxAge") for f in [*true, *of_group]]
        youngest = max((v for v in lows if v is not None), default=0)
        oldest = min((v for v in highs if v is not None), default=MAX_AGE)
        if youngest > 0 or oldest < MAX_AGE:
            allowed = (youngest, oldest)
        probes = [p for p in PROBE_AGES if youngest <= p <= oldest] or [youngest]
        for probe in probes:
            state, _ = rules.closure(Facts(probe, parsed.facts.true, parsed.facts.false))
            groups |= state.derived.get("target_group", set()) | state.derived.get("age_group", set())
            found = set(state.derived.get("forum", set()))
            fora |= found - {other for f in found
                             if not parsed.victim_of & set(kb.get(f).ref("takesOverUnlessSuffered"))
                             for other in kb.get(f).ref("takesOver")}
        if parsed.place is not None:  # a local forum of another place is not the case's
            fora = {f for f in fora if not kb.get(f).ref("municipality")
                    or chain(parsed.place) & set(kb.get(f).ref("municipality"))}

    scored, below = [], []
    item_fora: dict[str, set[str]] = {}
    opened: list[tuple[Any, ...]] = []
    for_the_victim: dict[str, bool] = {}
    for item in kb.of_type("Intervention"):
        scope = item.value("scope")
        status = item.value("status") or "running"
        item_groups = set(item.ref("targetGroup"))
        item_situations = set(item.all_values("situation"))
        item_rank = rules.tier_ranks[item.ref("tier")[0]]
        low, high = item.int_value("minAge"), item.int_value("maxAge")
        if low is None and high is None and "all-citizens" not in item_groups:
            bounds = [(kb.get(g).int_value("minAge"), kb.get(g).int_value("maxAge"))
                      for g in item_groups if kb.get(g).is_a("AgeGroup")]
            if bounds:
                low = min(b[0] or 0 for b in bounds)
                high = None if any(b[1] is None for b in bounds) else max(b[1] or 0 for b in bounds)
        if scope == "organisation":
            continue
        if age is not None and ((low is not None and age < low) or (high is not None and age > high)):
            continue
        # The residents' own efforts (a project in selected estates) only for one who lives there.
        if "residents-of-vulnerable-areas" in item_groups and scope in ("person", "group", None) \
                and "residents-of-vulnerable-areas" not in groups:
            continue
        # What rules a measure out for this case alone (a contraindication, a denied target,
        # honour, mediation, the crime suffered): the measure still counts as open for the
        # place's own measures of a forum (below).
        excluded = bool(set(item.ref("contraindication")) & true)
        # For no age the case's factors allow (the age unknown): ruled out the same way.
        excluded |= allowed is not None and ((low is not None and low > allowed[1])
                                             or (high is not None and high < allowed[0]))
        # Control aimed at the person is never offered as help (kept only as a victim's
        # protection for a person named only a victim).
        item_for_victims = "victim" in item.all_values("situation") or "victims-of-crime" in item.ref("targetGroup")
        control_apart = "control" in item.ref("kind") and not (
            "victim" in situations and "offender" not in situations and item_for_victims
            and "gang-member" not in true)
        # False means false: a measure whose every target risk factor the case denies.
        targets = {f for f in item.ref("addressesFactor") if kb.get(f).is_a("RiskFactor")}
        if targets and targets <= parsed.facts.false:
            excluded = True
        # Honour measures only where honour is at stake; no mediation where honour or
        # violence in the family is; a measure for victims of given crimes only for a victim
        # of one of them (for a household or place: only once the crime suffered is named).
        item_crimes = set(item.ref("crimeType")) - {"youth-crime"}
        honour_only = targets == {"honour-related-conflict"} or item_crimes == {"honour-related-crime"}
        if honour_only and not honour:
            excluded = True
        if no_mediation and ("conflict-council" in item.ref("forum")
                                or "mediation-consent" in item.ref("addressesFactor")):
            excluded = True
        for_victims = "victim" in item.all_values("situation") or "victims-of-crime" in item.ref("targetGroup")
        if for_victims and item_crimes and not honour_only and is_victim and not item_crimes & (
                suffered | parsed.offences) and (suffered or scope in ("population", "place")):
            excluded = True
        # A forum's measure (specific or individual) only where its forum is the case's.
        own = set(item.ref("forum")) & case_fora
        if own and rules.tier_ranks[item.ref("tier")[0]] > 1 and not (own - {"ssp", "ssp-plus"} or own) & fora:
            continue
        same_situation = any(kb.get(g).is_a("SituationGroup") for g in item_groups & groups - {"all-citizens"})
        needs = len(set(item.ref("addressesFactor")) & risks)
        other_situation = bool(item_situations) and not (item_situations & situations or same_situation)
        if other_situation and not needs:
            continue
        local = bool(parsed.municipality) and any(
            parsed.municipality in chain(m) or m in chain(parsed.municipality) for m in item.ref("municipality"))
        specific = (item_groups - {"all-citizens"}) & groups
        other_group = bool(item_groups) and not item_groups & groups and all(
            kb.get(g).is_a("SituationGroup") and g not in ("victims-of-crime", "all-citizens") for g in item_groups) \
            and not (item_groups <= {"homeowners"} and set(item.ref("crimeType")) & suffered & {"burglary"})
        victim = "victim" in situations and ("victim" in item_situations or "victims-of-crime" in item_groups) \
            and not other_group
        if scope == "place" and not (parsed.place and chain(parsed.place) & set(item.ref("municipality"))):
            continue
        # A campaign for everybody: about the crime a victim suffered, or about a need (then it
        # waits for that need).
        against_suffered = scope == "population" and "victim" in situations and bool(item_crimes & suffered)
        about_need = scope == "population" and "all-citizens" in item_groups and bool(targets)
        if scope == "population" and not (specific or victim or against_suffered or about_need):
            continue
        if scope == "population" and parsed.place and item.ref("municipality") and not local:
            continue
        by_forum = bool(set(item.ref("forum")) & fora)
        if not (victim or by_forum or against_suffered) and "victim" in situations \
                and not situations & {"at-risk", "offender"} \
                and not ("relative" in item_situations and "relative" in situations):
            continue
        if not ((item_rank <= rank and (specific or "all-citizens" in item_groups)) or by_forum or victim
                or against_suffered or (local and scope == "place")):
            continue
        for_the_victim[item.id] = victim or against_suffered
        opened.append((item, excluded or control_apart, scope, status, item_groups, item_situations, item_rank,
                       low, high, targets, same_situation, needs, other_situation, local, specific, by_forum,
                       about_need and not (specific or against_suffered or victim)))
    # Where the case's place has a measure of a forum the rules give cases (not SSP/SSP+), the
    # other places' person measures of that forum are not the case's.
    kinds = case_fora - {"ssp", "ssp-plus"}
    own_kinds = {f for row in opened if row[13] for f in set(row[0].ref("forum")) & kinds}
    # And a person measure of another place and of no forum gives way where the needs of the
    # case it meets are all met by a person measure of the case's own place.
    own_needs = {f for row in opened if row[13] and row[0].ref("municipality") and "control" not in row[0].ref("kind")
                 and row[2] in ("person", "group", None) for f in row[9]}
    for (item, excluded, scope, status, item_groups, item_situations, item_rank, low, high, _targets,
         same_situation, needs, other_situation, local, specific, by_forum, campaign) in opened:
        if excluded:
            continue
        if parsed.place and item.ref("municipality") and not local and scope in ("person", "group", None) \
                and set(item.ref("forum")) & own_kinds:
            continue
        met = _targets & risks
        if parsed.place and item.ref("municipality") and not local and scope in ("person", "group", None) \
                and not item.ref("forum") and met and met <= own_needs:
            continue
        if campaign and not needs:
            continue
        crimes = len(set(item.ref("crimeType")) & parsed.offences)
        crime = bool(crimes)
        gated = bool(set(item.ref("crimeType")) - {"youth-crime"}) and bool(item_situations) \
            and item_situations <= {"offender"}
        # A specific or individual measure for particular needs that the case reaches only
        # as a person at risk waits for one of its needs or offences.
        at_risk_only = bool(item.ref("addressesFactor")) and item_rank > 1 and not (
            by_forum or same_situation or item_situations & situations - {"citizen", "at-risk"})
        # The general effort of the person's group, for one with risk signs of their own,
        # only through a need or the offence.
        effort_for_all = scope == "population" and rank > 1 and not for_the_victim[item.id]
        if (gated or at_risk_only or effort_for_all) and not (crime or needs or by_forum):
            continue
        # A place measure never through an offence; for a victim, through the crime suffered.
        suffered_here = "victim" in situations and bool(set(item.ref("crimeType")) & (suffered - {"youth-crime"}))
        if scope == "place" and not (needs or by_forum or suffered_here):
            continue
        # For offenders of given crimes: offending itself (a serious or a repeated offence) is no fit.
        offending = {"offence-committed", "serious-offence", "repeat-offending"}
        if gated and not (crime or by_forum or set(item.ref("addressesFactor")) & risks - offending):
            continue
        # Help against a crime that harms no one else (drink driving) is only for a case that
        # names that crime.
        behaviour = set(item.ref("crimeType")) - {"youth-crime"}
        if behaviour and behaviour <= victimless and item_situations == {"at-risk"} \
                and scope in ("person", "group", None) and not behaviour & parsed.offences:
            continue
        if other_situation and not needs:
            continue
        gap = abs(rank - item_rank)
        parts = [
            (w["tier"] * {0: 1.0, 1: 0.5}.get(gap, 0.0), False),
            (w["group"] if specific else w["group"] / 4 if "all-citizens" in item_groups else 0.0, bool(specific)),
            (w["situation"], same_situation or bool(item_situations & (situations - {"citizen"}))),
            (w["forum"], by_forum),
            # a place measure's place counts for a person with risk signs of their own only
            # if it is help or its forum's work
            (w["place"], local and not (scope == "place" and rank > 1 and "help" not in item.ref("kind")
                                        and not by_forum)),
            (w["needs"] * min(needs, 2) / 2, False),
            (w["crime"], crime),
            (w["status"] * {"running": 1.0, "planned": 0.5}.get(status, 0.0), False),
        ]
        # Summed in the order the ranking adds them (the base, then needs and offences), so
        # that a score on a rounding edge rounds alike.
        score = sum(value for value, _ in parts[:2]) + sum(value for value, hit in parts[2:5] if hit) \
            + parts[7][0]
        score += parts[5][0] if needs else 0.0
        score += parts[6][0] if crime else 0.0
        # The reasons of fit the item shows: the tier, the target group (all-citizens too),
        # each shared situation, the forum, the place, each need and each offence addressed.
        shown_situations = len(item_situations & situations - {"citizen"})
        shared = 1 + bool(specific or "all-citizens" in item_groups) + shown_situations + by_forum + parts[4][1] \
            + needs + crimes
        span = (high if high is not None else 120) - (low if low is not None else 0)
        entry = (-round(score, 3), -shared, span, len(item_groups), item.id)
        if score >= rules.ranking.minimum_score - 1e-9:
            scored.append(entry)
        elif not (needs or crime):
            below.append(entry)
        item_fora[item.id] = set(item.ref("forum")) & fora
    scored.sort()
    below.sort()
    limit = rules.ranking.limit
    kept = scored[:limit]
    # Every forum of the case with a fitting measure keeps its best one in the list, in the
    # place of the lowest item that no other forum needs.
    for forum in sorted(fora):
        if any(forum in item_fora[e[-1]] for e in kept):
            continue
        best = next((e for e in scored[limit:] + below if forum in item_fora[e[-1]]), None)
        if best is None:
            continue
        needed = {f for e in kept for f in item_fora[e[-1]]}
        if len(kept) < limit:
            kept.append(best)
        else:
            for index in range(len(kept) - 1, -1, -1):
                others = kept[:index] + kept[index + 1:]
                if all(any(f in item_fora[o[-1]] for o in others) for f in needed & item_fora[kept[index][-1]]):
                    kept[index] = best
                    break
        kept.sort()
    return [(entry[-1], round(-entry[0], 3), -entry[1]) for entry in kept]


# Cases that also name offences and a municipality (what the ranking's crime and place read).
ranked_cases = st.fixed_dictionaries(
    {"age": st.one_of(st.none(), st.integers(0, 90)),
     "factors": st.dictionaries(st.sampled_from(FACTORS), answers, max_size=8)},
    optional={"offences": st.lists(st.sampled_from(["burglary", "violence-and-threats", "drugs", "online-crime",
                                                    "shoplifting", "traffic-offences"]), max_size=2, unique=True),
              "municipality": st.sampled_from(["koebenhavn", "esbjerg", "aalborg", "hjoerring", "aarhus",
                                               "gladsaxe", "nordjyllands-politi"]),
              "age_group": st.sampled_from(["preschool-children", "school-age-youth", "young-adults", "adults"])},
).filter(consistent).filter(lambda c: not (c.get("offences") and c["factors"].get("offence-committed") is False)) \
 .map(lambda c: {**c, "age": None} if "age_group" in c else c)  # the group stands for an unknown age


@SETTINGS
@given(case=ranked_cases)
# A burgled family: the place's own meeting after burglaries and the scheme against them.
@example(case={"age": 45, "municipality": "hjoerring", "role": ["victim"], "victim_of": ["burglary"],
               "factors": {"victim-of-crime": True}})
@example(case={"age": 81, "municipality": "aarhus", "role": ["victim"], "victim_of": ["burglary"], "factors": {}})
@example(case={"age": 30, "municipality": "aalborg", "role": ["victim"], "victim_of": ["violence-and-threats"],
               "factors": {}})
def test_ranking_matches_the_documented_score(recommender: Recommender, case: dict[str, Any]) -> None:
    """Items, scores and order as documented; and each item shows exactly the reasons of
    fit the order counts (its other reasons are the notes its fields also carry)."""
    result = recommender.recommend(case).as_dict()
    shown = [(i["id"], i["score"], len(i["reasons"]) - int(i["from_elsewhere"])
              - int(i["status"] in ("example", "planned"))) for i in result["interventions"]]
    assert shown == _reference_ranking(recommender, case, result)


@SETTINGS
@given(case=cases)
def test_json_text_equals_the_object(recommender: Recommender, case: dict[str, Any]) -> None:
    rec = recommender.recommend(case, lang="en")
    assert json.loads(rec.to_json()) == rec.as_dict()
    assert rec.to_json().isascii()
    first = rec.as_dict()
    first["interventions"].clear()  # a caller changing its copy changes nothing shared
    assert recommender.recommend(case, lang="en").as_dict() == rec.as_dict()


@pytest.mark.parametrize("text", [
    "age: 15\nfactors: {truancy: 2020-13-45}\n",  # a YAML date that cannot exist
    "age: &a 15\nfactors: *a\n",  # anchors and aliases are refused
    "- [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "\x00\x01",
])
def test_bad_case_text_is_a_case_error_never_a_crash(kb: KnowledgeBase, text: str) -> None:
    """Regression: a YAML value whose constructor fails escaped as a bare ValueError."""
    from kundskab.reasoning.cases import parse_case_text

    with pytest.raises(CaseError):
        parse_case_text(text, kb)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_case_text_is_a_case_or_a_case_error(kb: KnowledgeBase, raw: bytes) -> None:
    from kundskab.reasoning.cases import parse_case_text

    try:
        parse_case_text(raw, kb)
    except CaseError:
        pass


def test_a_rule_on_a_false_factor_makes_its_unknown_a_question(kb: KnowledgeBase, rules_copy: Any) -> None:
    """Answers can matter both ways: here "no" to consent would bring another forum."""
    (rules_copy / "zz-test.yaml").write_text(
        "rules:\n"
        "  - id: no-consent-psp\n"
        "    when: {factor: victim-of-crime, factor_false: mediation-consent}\n"
        "    then: {forum: psp}\n"
        "    because: {da: Test., en: Test.}\n"
        "    source: 000_2d4d8aed5ea821e9.txt#Konfliktråd\n", encoding="utf-8")
    recommender = Recommender(kb, RuleSet.load(kb, rules_copy))
    result = recommender.recommend({"age": 30, "factors": ["victim-of-crime"]}, questions=100).as_dict()
    (question,) = [q for q in result["open_questions"] if q["factor"] == "mediation-consent"]
    assert question["if_true"]["new_fora"] == ["conflict-council"]
    assert question["if_false"]["new_fora"] == ["psp"]
    answered = recommender.recommend({"age": 30, "factors": {"victim-of-crime": True, "mediation-consent": False}})
    assert "psp" in answered.fora


@pytest.mark.parametrize("age", [0, 3, 5])
def test_a_child_under_school_age_is_not_asked_about_offending_or_gangs(recommender: Recommender, age: int) -> None:
    """Regression: a 3-year-old with family problems was asked whether she was a gang member,
    had offended repeatedly or seriously, was close to gangs or used drugs. The sources put
    children under school age in the early-effort cooperation, and speak of offending, gangs,
    street groups, drugs and radicalisation only from school age (ks:minAge on the factors)."""
    not_before_school = {"offence-committed", "repeat-offending", "serious-offence", "charged-above-fine-level",
                         "released-from-custody", "gang-proximity", "gang-member", "wants-to-leave-gang",
                         "street-group", "substance-abuse", "radicalisation-signs", "truancy"}
    for factors in ([], ["family-problems"], ["concerning-behaviour"]):
        result = recommender.recommend({"age": age, "factors": factors}, questions=100).as_dict()
        asked = {q["factor"] for q in result["open_questions"]}
        assert asked, "some question still helps the consultant"
        assert not asked & not_before_school
    # From school age the same questions come back: the bound is an age, not a removal.
    older = recommender.recommend({"age": 13, "factors": ["family-problems"]}, questions=100).as_dict()
    assert {"gang-proximity", "offence-committed"} <= {q["factor"] for q in older["open_questions"]}


def test_a_factor_the_case_gives_brings_what_it_implies(recommender: Recommender) -> None:
    """Regression: a gang member who wants out, entered only as wanting to leave the gang,
    got the specific tier, no gang-member group and the three exit programmes below drink-
    driving treatment. Wanting to leave a gang implies membership (ks:implies), so the rules
    take membership as true, and the explanation says where that came from."""
    result = recommender.recommend({"age": 24, "factors": ["wants-to-leave-gang"]}, lang="en").as_dict()
    assert result["tier"] == "individual"
    assert "gang-members" in result["target_groups"]
    assert "exit" in result["fora"]
    top3 = {item["id"] for item in result["interventions"][:3]}
    assert top3 == {"gang-exit-programme-copenhagen", "exit-framework-model-copenhagen", "exit-unit-nordjylland"}
    (entry,) = [e for e in result["explanation"] if e["conclusion"] == "factor:gang-member=true"]
    assert entry["rule"] == "factor-implication"
    assert entry["premises"] == ["factor:wants-to-leave-gang=true"]
    assert "implies" in entry["because"] and entry["source"].count("#") == 1
    # The same answer as when membership is given, apart from that entry.
    given = recommender.recommend({"age": 24, "factors": ["wants-to-leave-gang", "gang-member"]}, lang="en").as_dict()
    assert given["interventions"] == result["interventions"] and given["fora"] == result["fora"]
    assert [e for e in result["explanation"] if e["rule"] != "factor-implication"] == given["explanation"]


def test_an_implied_factor_given_as_false_is_a_contradiction(recommender: Recommender) -> None:
    with pytest.raises(CaseError, match="contradicts itself"):
        recommender.recommend({"factors": {"wants-to-leave-gang": True, "gang-member": False}})


@pytest.mark.parametrize("age", [16, 30])
def test_a_gang_member_is_not_routed_as_close_to_gangs(recommender: Recommender, age: int) -> None:
    """Pre-Exit and the gang council are for potential members: a member is not asked whether
    he is close to gangs (ks:makesMoot), and the rules do not take it as true."""
    result = recommender.recommend({"age": age, "factors": ["gang-member"]}, questions=100).as_dict()
    assert not {"pre-exit", "gang-council"} & set(result["fora"])
    assert "gang-proximate-youth" not in result["target_groups"]
    assert "gang-proximity" not in {q["factor"] for q in result["open_questions"]}


def test_tables_per_knowledge_base_follow_the_one_asked_for() -> None:
    from kundskab._memo import per_knowledge_base

    class Owner:  # stands for a knowledge base: any object a weak reference can point to
        pass

    built: list[Owner] = []

    @per_knowledge_base
    def table(owner: Owner) -> list[Owner]:
        built.append(owner)
        return [owner]

    first, second = Owner(), Owner()
    for _ in range(3):  # alternating: the last one asked for is never the other's
        assert table(first) == [first] and table(second) == [second]
    assert built == [first, second]


def test_no_conflict_council_question_where_no_one_could_be_met_or_a_gang_is_party(
        recommender: Recommender) -> None:
    def asked(case: dict[str, Any]) -> set[str]:
        return {q.factor for q in recommender.recommend(case, questions=100).open_questions}

    burglar = {"age": 30, "role": ["offender"], "offences": ["burglary"], "factors": ["offence-committed"]}
    # A burglary's victim seldom meets the burglar (ks:mediationOnRequest): not asked unasked,
    # but a violence in the same case is met face to face, and then it is.
    assert "mediation-consent" not in asked(burglar)
    assert "mediation-consent" in asked({**burglar, "offences": ["burglary", "violence-and-threats"]})
    assert "mediation-consent" not in asked({"age": 70, "role": ["victim"], "victim_of": ["fraud"]})
    assert "mediation-consent" in asked({"age": 30, "role": ["victim"], "victim_of": ["violence-and-threats"]})
    assert "mediation-consent" in asked({**burglar, "offences": []})  # no crime named: still asked
    assert "mediation-consent" not in asked({**burglar, "offences": ["traffic-offences"]})  # drink driving
    assert "mediation-consent" not in asked({**burglar, "offences": ["drugs", "weapons-offences"]})
    assert "mediation-consent" not in asked({**burglar, "factors": ["offence-committed", "gang-member"]})
    assert "mediation-consent" not in asked({**burglar, "offences": ["burglary", "gang-crime"]})
    # Given consent, the council stays for a burglary and goes where a gang is party.
    consent = {**burglar, "factors": ["offence-committed", "mediation-consent"]}
    assert "conflict-council" in recommender.recommend(consent).fora
    gang = {**consent, "factors": ["offence-committed", "mediation-consent", "gang-member"]}
    assert "conflict-council" not in recommender.recommend(gang).fora


def test_a_first_offence_at_15_is_not_asked_about_a_release(recommender: Recommender) -> None:
    def asked(case: dict[str, Any]) -> set[str]:
        return {q.factor for q in recommender.recommend(case, questions=100).open_questions}

    first = {"age": 15, "role": ["offender"], "offences": ["shoplifting"],
             "factors": {"offence-committed": True, "repeat-offending": False, "charged-above-fine-level": False}}
    assert "released-from-custody" not in asked(first)
    # Repeated petty crime or a charge seldom brings a minor into custody; serious crime can.
    repeat = {**first, "factors": {"offence-committed": True, "repeat-offending": True}}
    assert "released-from-custody" not in asked(repeat)
    assert "released-from-custody" not in asked({**first, "factors": {"offence-committed": True,
                                                                      "charged-above-fine-level": True}})
    assert "released-from-custody" in asked({**first, "factors": {"offence-committed": True, "serious-offence": True}})
    adult = {**first, "age": 30}  # of an adult it is asked as before
    assert "released-from-custody" in asked(adult)
    # With the age unknown, a factor of children only (truancy, to 17) makes the person a minor.
    pupil = {"role": ["offender"], "factors": {"offence-committed": True, "truancy": True}}
    assert "released-from-custody" not in asked(pupil)
    assert "released-from-custody" in asked({"role": ["offender"], "factors": {"offence-committed": True}})


def test_with_the_age_unknown_the_fora_of_each_age_range_are_shown(recommender: Recommender) -> None:
    case = {"factors": {"street-group": True}, "municipality": "odense"}
    answer = recommender.recommend(case, lang="da")
    assert answer.fora == []
    assert [(f.id, f.min_age, f.max_age, f.rule) for f in answer.fora_by_age] == [
        ("ssp", 6, 17, "forum-ssp"), ("ssp-plus", 18, 25, "forum-ssp-plus")]
    assert json.loads(answer.to_json())["fora_by_age"][0] == {
        "id": "ssp", "label": "SSP", "min_age": 6, "max_age": 17, "rule": "forum-ssp",
        "source": "000_2d4d8aed5ea821e9.txt#SSP og SSP+"}
    assert recommender.recommend({**case, "age": 14}).fora_by_age == ()
    # Within the ages the case's factors allow: a release is from 15 (ks:minAge).
    released = recommender.recommend({"factors": ["released-from-custody"]})
    assert [(f.id, f.min_age, f.max_age) for f in released.fora_by_age] == [("ssp", 15, 17), ("ssp-plus", 18, 25)]
    assert "fora_by_age" not in json.loads(recommender.recommend({**case, "age": 14}).to_json())


def test_a_victims_reaction_raises_no_tier(recommender: Recommender) -> None:
    """A 12-year-old groomed online who has gone quiet: the worry is her reaction to what was
    done to her, not a sign of her own offending (tier general, the Børnehus and victim
    support, no SSP)."""
    groomed = {"age": 12, "municipality": "broenderslev", "role": ["relative", "victim"],
               "victim_of": ["sexual-abuse", "online-crime"],
               "factors": {"child-abuse-suspected": True, "concerning-behaviour": True, "offence-committed": False}}
    answer = recommender.recommend(groomed, lang="da")
    assert answer.tier == "general" and answer.fora == ["childrens-house", "victim-support"]
    withheld = [e for e in answer.explanation if e.rule == "case-role" and e.conclusion.id == "victim"]
    assert withheld and "reagerer" in withheld[0].because
    # Named at risk as well, the same worry is a risk sign of her own.
    assert recommender.recommend({**groomed, "role": ["at-risk", "victim"]}).tier == "specific"


def test_the_boernehus_shares_a_child_abused_online_with_victim_support(recommender: Recommender) -> None:
    """The Børnehus takes over victim support for a child who may be abused at home, not for
    one abused online by a stranger (ks:takesOverUnlessSuffered online-crime): there the
    parents are a victim's relatives, whom victim support helps as well."""
    at_home = {"age": 9, "role": ["victim"], "victim_of": ["violence-and-threats"],
               "factors": {"child-abuse-suspected": True, "victim-of-crime": True}}
    online = {**at_home, "victim_of": ["sexual-abuse", "online-crime"]}
    assert recommender.recommend(at_home).fora == ["childrens-house"]
    assert recommender.recommend(online).fora == ["childrens-house", "victim-support"]
    # With the age unknown (suspected abuse: 0-17), the same at every age, and no question
    # offers victim support as new where the Børnehus would take it over.
    unknown = recommender.recommend({**online, "age": None})
    assert unknown.fora == ["childrens-house", "victim-support"]
    assert recommender.recommend({**at_home, "age": None}).fora == ["childrens-house"]
    asked = recommender.recommend({"age": 9, "factors": {"child-abuse-suspected": True}})
    assert all("victim-support" not in q.if_true.new_fora for q in asked.open_questions
               if q.factor == "victim-of-crime" and q.if_true is not None)


def test_release_goes_to_ksp_not_the_youth_crime_board(recommender: Recommender) -> None:
    """A 17-year-old leaving a youth sanction for robbery: the case has been decided, and the
    release cooperation plans what follows (ksp ks:takesOver youth-crime-board); still in
    the criminal case, the same young person goes before the board."""
    open_case = {"age": 17, "municipality": "esbjerg", "offences": ["serious-or-person-endangering-crime"],
                 "factors": {"offence-committed": True, "serious-offence": True}}
    assert "youth-crime-board" in recommender.recommend(open_case).fora
    leaving = recommender.recommend({**open_case, "factors": {**open_case["factors"], "released-from-custody": True}})
    assert leaving.fora == ["ksp", "ssp"]


def test_an_age_group_bounds_the_ages_of_a_case_whose_age_is_unknown(recommender: Recommender) -> None:
    """A pupil with a street group, the age unknown: SSP, as at every age of the group (6-17),
    with an explanation that names the group; a young adult: SSP+. Nothing outside the
    group's ages is listed or asked; given with the age, the group changes nothing, and a
    group the age is outside is refused."""
    street = {"factors": {"street-group": True}, "municipality": "odense"}
    pupil = recommender.recommend({**street, "age_group": "skolebørn"})  # a name, as a place's
    assert pupil.fora == ["ssp"] and pupil.fora_by_age == () and "school-age-youth" in pupil.target_groups
    entry = next(e for e in pupil.explanation if e.conclusion.kind == "forum" and e.conclusion.id == "ssp")
    assert [str(p) for p in entry.premises[:2]] == ["age:6-17", "age-group:school-age-youth"]
    assert all((item.min_age or 0) <= 17 and (item.max_age is None or item.max_age >= 6)
               for item in pupil.interventions)
    assert recommender.recommend({**street, "age_group": "young-adults"}).fora == ["ssp-plus"]
    toddler = recommender.recommend({"age_group": "preschool-children", "factors": {"family-problems": True}})
    assert toddler.fora == ["early-effort"]
    assert not {q.factor for q in toddler.open_questions} & {"truancy", "street-group", "offence-committed"}
    # Only where the age is unknown; with it, the group has only to agree.
    assert recommender.recommend({**street, "age": 15, "age_group": "school-age-youth"}).to_json() == \
        recommender.recommend({**street, "age": 15}).to_json()
    with pytest.raises(CaseError) as refused:
        recommender.recommend({**street, "age": 30, "age_group": "school-age-youth"})
    assert "30" not in str(refused.value)


def test_ssp_and_early_effort_take_over_psp_for_a_child(recommender: Recommender) -> None:
    """A 13-year-old with a mental illness is SSP's, not PSP's as well (ssp ks:takesOver
    psp); an adult is PSP's. With the age unknown PSP stays, for SSP has the person only if
    under 18; named a pupil, SSP has the case at every age the group allows."""
    ill = {"factors": {"psychiatric-illness": True}}
    assert recommender.recommend({**ill, "age": 13}).fora == ["ssp"]
    assert recommender.recommend({**ill, "age": 4}).fora == ["early-effort"]
    assert recommender.recommend({**ill, "age": 30}).fora == ["psp"]
    assert "psp" in recommender.recommend(ill).fora
    assert recommender.recommend({**ill, "age_group": "school-age-youth"}).fora == ["ssp"]
    # Nor does a question offer PSP to a child whom the same yes brings to SSP.
    asked = recommender.recommend({"age": 13, "factors": {}}, questions=100).open_questions
    assert all("psp" not in q.if_true.new_fora for q in asked if q.if_true is not None)
    assert any(q.factor == "psychiatric-illness" and q.if_true is not None and q.if_true.new_fora == ("ssp",)
               for q in asked)


def test_a_person_whom_one_service_holds_is_not_psps(recommender: Recommender) -> None:
    """PSP is for a person who falls between the services (000 "PSP"; psp
    ks:notForCaseDenying falls-between-services): a case that says one service holds the
    person is not PSP's, even with a mental illness, and the answer says so apart, with no
    PSP measure, reason or question; a yes or an unknown keeps PSP."""
    ill = {"age": 51, "factors": {"psychiatric-illness": True}}
    assert recommender.recommend(ill).fora == ["psp"]
    between = {**ill, "factors": {**ill["factors"], "falls-between-services": True}}
    assert recommender.recommend(between).fora == ["psp"]
    held = {**ill, "factors": {**ill["factors"], "falls-between-services": False}}
    answer = recommender.recommend(held, lang="da")
    assert answer.fora == [] and answer.fora_ruled_out
    assert [(f.id, f.factor) for f in answer.fora_ruled_out] == [("psp", "falls-between-services")]
    shown = answer.as_dict()["fora_ruled_out"][0]
    assert shown["label"] == "PSP" and shown["factor_label"] == "Falder mellem myndighederne"
    assert shown["source"].startswith("000_")
    kb = recommender.kb
    assert not any("psp" in kb.get(item.id).ref("forum") for item in answer.interventions)
    assert all(entry.conclusion.id != "psp" for entry in answer.explanation)
    assert all("psp" not in q.if_true.new_fora for q in answer.open_questions if q.if_true is not None)
    # Nor does the question of a mental illness offer PSP to one whom one service holds.
    asked = recommender.recommend({"age": 51, "factors": {"falls-between-services": False}},
                                  questions=100).open_questions
    assert all("psp" not in q.if_true.new_fora for q in asked if q.if_true is not None)
    # The age unknown: not a forum at every age, nor one by age.
    unknown = recommender.recommend({"factors": held["factors"]})
    assert "psp" not in unknown.fora and all(f.id != "psp" for f in unknown.fora_by_age)
    assert [f.id for f in unknown.fora_ruled_out] == ["psp"]
    # Where no rule brings PSP, nothing is ruled out.
    assert recommender.recommend({"age": 51, "factors": {"falls-between-services": False}}).fora_ruled_out == ()


def test_need_questions_are_asked_for_and_bring_what_they_say(recommender: Recommender) -> None:
    """Questions about needs come only when asked for (they cost a what-if ranking per open
    need); each names a risk factor the case leaves open and the measures a yes brings
    into the first five, with their labels, and a yes brings them."""
    truant = {"age": 16, "municipality": "aalborg", "factors": {"truancy": True}}
    assert recommender.recommend(truant).need_questions == ()
    assert "need_questions" not in recommender.recommend(truant).as_dict()
    answer = recommender.recommend(truant, lang="da", need_questions=3)
    assert 0 < len(answer.need_questions) <= 3
    assert recommender.recommend(truant, need_questions=1).need_questions == answer.need_questions[:1]
    first = {item.id for item in answer.interventions[:5]}
    for question in answer.need_questions:
        assert question.factor not in truant["factors"] and question.label
        assert all(m.id not in first and m.label for m in question.would_bring)
        yes = recommender.recommend({**truant, "factors": {**truant["factors"], question.factor: True}})
        assert {m.id for m in question.would_bring} <= {item.id for item in yes.interventions[:5]}
    shown = answer.as_dict()["need_questions"][0]
    assert set(shown) == {"factor", "label", "would_bring"} and set(shown["would_bring"][0]) == {"id", "label"}
    for bad in (-1, "3", 2.0, True):
        with pytest.raises(RequestError):
            recommender.recommend(truant, need_questions=bad)  # type: ignore[arg-type]


def test_no_drink_driving_treatment_for_other_crimes(recommender: Recommender) -> None:
    """Help against a crime that harms no one else (drink driving: ks:victimless) is only for
    a case that names that crime, whatever need they share: not for a burglar with an
    alcohol problem, nor for an alcohol problem with no crime named (blind cases of December
    2026: every one that expects it names drink driving; sixteen with abuse and no such crime
    rule it out)."""
    treatment = "drink-driving-addiction-treatment-nordjylland"
    burglar = {"age": 38, "municipality": "frederikshavn", "offences": ["burglary"],
               "factors": {"offence-committed": True, "substance-abuse": True}}
    assert treatment not in {i.id for i in recommender.recommend(burglar, limit=50).interventions}
    drunk_driver = {**burglar, "offences": ["traffic-offences"]}
    assert treatment in {i.id for i in recommender.recommend(drunk_driver).interventions}
    assert treatment not in {i.id for i in recommender.recommend(
        {"age": 38, "municipality": "frederikshavn", "factors": {"substance-abuse": True}}, limit=50).interventions}


def test_crime_specific_control_only_for_that_crime(recommender: Recommender) -> None:
    """Control aimed at one kind of crime (Esbjerg's violence unit) is shown apart only for
    a case that names that crime: not for a shoplifter, a released burglar or an offence the
    case does not name; control of a gang's crime as a whole stays for a gang member."""
    unit = "violence-unit-esbjerg"
    base = {"age": 31, "municipality": "esbjerg", "factors": {"offence-committed": True}}
    for offences in ([], ["shoplifting"], ["burglary"]):
        answer = recommender.recommend({**base, "offences": offences}, limit=50)
        assert unit not in {i.id for i in (*answer.interventions, *answer.control)}, offences
    violent = recommender.recommend({**base, "offences": ["violence-and-threats"]}, limit=50)
    assert unit in {i.id for i in violent.control}
    member = recommender.recommend({"age": 24, "municipality": "koebenhavn",
                                    "factors": {"gang-member": True, "wants-to-leave-gang": False}}, limit=50)
    assert "police-gang-investigation-copenhagen" in {i.id for i in member.control}


def test_a_small_child_is_answered_in_early_efforts_words(recommender: Recommender) -> None:
    """A child under school age with danger signs: the specific tier by the early effort's
    reason alone (not people "developing criminal behaviour"), and the group of small children,
    not "children and young people at risk of crime"; from school age both are as before."""
    small = recommender.recommend({"age": 4, "factors": {"family-problems": True}}, lang="da")
    tier_rules = [e.rule for e in small.explanation if e.conclusion.kind == "tier"]
    assert small.tier == "specific" and tier_rules == ["tier-specific-young-child"]
    assert "kriminel adfærd" not in " ".join(e.because for e in small.explanation)
    assert "at-risk-youth" not in small.target_groups and "preschool-children" in small.target_groups
    pupil = recommender.recommend({"age": 6, "factors": {"family-problems": True}}, lang="da")
    assert [e.rule for e in pupil.explanation if e.conclusion.kind == "tier"] == ["tier-specific-risk-signs"]
    assert "at-risk-youth" in pupil.target_groups


def test_being_outside_education_is_asked_of_a_minor_only_after_a_release(
        kb: KnowledgeBase, recommender: Recommender) -> None:
    """A pupil's trouble at school is asked as truancy; being outside education and work is
    asked of an under-18 once a release is known (ks:askedOfMinorsAfter), of an adult at once."""
    neet = "not-in-education-or-work"
    pupil = {"age": 16, "municipality": "aalborg", "factors": {"truancy": True, "street-group": True}}
    answer = recommender.recommend(pupil, questions=100, need_questions=3)
    assert neet not in {q.factor for q in (*answer.open_questions, *answer.need_questions)}
    assert not applies(kb, pupil, neet)
    assert applies(kb, {**pupil, "factors": {**pupil["factors"], "offence-committed": True,
                                              "released-from-custody": True}}, neet)
    assert applies(kb, {**pupil, "age": 19, "factors": {"street-group": True}}, neet)


def test_falling_between_the_services_brings_psp(kb: KnowledgeBase, recommender: Recommender) -> None:
    """000's own definition of a PSP case: an adult whose abuse leaves them between the
    services gets PSP (abuse alone does not); the question is put once an abuse is known,
    and not of a child SSP already has (SSP takes over PSP)."""
    between = "falls-between-services"
    drinker = {"age": 52, "municipality": "esbjerg", "factors": {"substance-abuse": True}}
    assert "psp" not in recommender.recommend(drinker).fora
    asked = recommender.recommend(drinker, questions=100)
    assert between in {q.factor for q in asked.open_questions}
    assert recommender.recommend({**drinker, "factors": {**drinker["factors"], between: True}}).fora == ["psp"]
    sober = {"age": 52, "municipality": "esbjerg", "factors": {"offence-committed": True}}
    assert between not in {q.factor for q in recommender.recommend(sober, questions=100).open_questions}
    child = {"age": 15, "factors": {"substance-abuse": True, "truancy": True}}
    assert between not in {q.factor for q in recommender.recommend(child, questions=100).open_questions}
    assert recommender.recommend({**child, "factors": {**child["factors"], between: True}}).fora == ["ssp"]
