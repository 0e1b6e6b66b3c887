"""Answers a consultant would sign (issue 20), as properties over random cases: false means
false, questions follow what the case says, a victim is answered as a victim (honour measures
only where honour is at stake, no mediation where the family threatens), and a forum's
measure comes only with its forum."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kundskab import load
from kundskab.reasoning.cases import conditions, implied_factors, parse_case
from kundskab.reasoning.recommendation import PROBE_AGES, Recommender
from kundskab.reasoning.rules import Facts

KB = load()
FACTORS = sorted(f.id for f in KB.of_type("Factor") if f.is_a("RiskFactor") or f.is_a("Circumstance"))
CRIMES = sorted(c.id for c in KB.of_type("CrimeType"))
RISK = {f.id for f in KB.of_type("RiskFactor")}
HONOUR_ONLY = {m.id for m in KB.of_type("Intervention")
               if set(m.ref("addressesFactor")) & RISK == {"honour-related-conflict"}
               or set(m.ref("crimeType")) - {"youth-crime"} == {"honour-related-crime"}}
CONTROL = {m.id for m in KB.of_type("Intervention") if "control" in m.ref("kind")}
FOR_VICTIMS = {m.id for m in KB.of_type("Intervention")
               if "victim" in m.all_values("situation") or "victims-of-crime" in m.ref("targetGroup")}
MEDIATION = {m.id for m in KB.of_type("Intervention")
             if "conflict-council" in m.ref("forum") or "mediation-consent" in m.ref("addressesFactor")}
VICTIMLESS = {c.id for c in KB.of_type("CrimeType") if c.value("victimless") == "true"}
SELDOM_MET = {c.id for c in KB.of_type("CrimeType") if c.value("mediationOnRequest") == "true"}
TARGETS = {m.id: set(m.ref("addressesFactor")) & RISK for m in KB.of_type("Intervention")}
TAKES_OVER = {f.id: set(f.ref("takesOver")) for f in KB.of_type("Forum")}
GROUP_AGES = {g.id: (g.int_value("minAge") or 0, g.int_value("maxAge")) for g in KB.of_type("AgeGroup")}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _consistent(case: dict[str, Any]) -> bool:
    implied = implied_factors(KB)
    factors = case["factors"]
    if case.get("offences") and factors.get("offence-committed") is False:
        return False
    if (case.get("victim_of") or "victim" in case.get("role", [])) and factors.get("victim-of-crime") is False:
        return False
    return not any(factors.get(other) is False for f, v in factors.items() if v is True
                   for other in implied.get(f, ()))


cases = st.fixed_dictionaries(
    {"age": st.one_of(st.none(), st.integers(0, 80)),
     "factors": st.dictionaries(st.sampled_from(FACTORS), st.sampled_from([True, False, "unknown"]), max_size=7)},
    optional={"role": st.lists(st.sampled_from(["at-risk", "offender", "victim", "relative"]), min_size=1,
                               max_size=2, unique=True),
              "victim_of": st.lists(st.sampled_from(CRIMES), min_size=1, max_size=2, unique=True),
              "offences": st.lists(st.sampled_from(CRIMES), min_size=1, max_size=2, unique=True),
              "municipality": st.sampled_from(["koebenhavn", "esbjerg", "aalborg", "aarhus", "hjoerring"]),
              "age_group": st.sampled_from(sorted(GROUP_AGES))},
).filter(_consistent).map(lambda c: {**c, "age": None} if "age_group" in c else c)  # a group: the age unknown


def _allowed_ages(case: dict[str, Any]) -> tuple[int, int]:
    """The ages a case with the age unknown allows: its age group's, narrowed by its true
    factors' (ks:minAge/ks:maxAge); 80 stands for no upper bound."""
    true = parse_case(case, KB).facts.true
    low, high = GROUP_AGES.get(case.get("age_group"), (0, None))
    youngest = max([low, *(KB.get(f).int_value("minAge") or 0 for f in true)])
    oldest = min(v for v in [high, 80, *(KB.get(f).int_value("maxAge") for f in true)] if v is not None)
    return youngest, oldest


def _answered(case: dict[str, Any]) -> tuple[set[str], set[str]]:
    """What the case says yes and no to, with what that implies either way (ks:implies, and
    ks:presupposes for a no)."""
    parsed = parse_case(case, KB)
    true, false = set(parsed.facts.true), set(parsed.facts.false)
    implied = implied_factors(KB)
    for f in list(true):
        true |= implied.get(f, frozenset())
    rests = conditions(KB)
    false |= {f for f, on in rests.items() if on & false and f not in true}  # unless given true
    return true, false


@SETTINGS
@given(case=cases)
def test_false_means_false(recommender: Recommender, case: dict[str, Any]) -> None:
    """No question the case answers, directly or through what it implies, either way; no
    question before its condition holds; no measure whose every target factor is denied."""
    answer = recommender.recommend(case, questions=100, need_questions=3).as_dict()
    true, false = _answered(case)
    asked = {q["factor"] for q in answer["open_questions"] + answer.get("need_questions", [])}
    assert not asked & (true | false)
    if case.get("age") is not None:
        assert "age" not in asked
    rests = conditions(KB)
    assert all(rests.get(f, frozenset()) <= true for f in asked if f != "age")
    for item in answer["interventions"]:
        assert not (TARGETS[item["id"]] and TARGETS[item["id"]] <= false), item["id"]


@SETTINGS
@given(case=cases)
def test_honour_measures_only_where_honour_is_at_stake_and_no_mediation_in_the_family(
        recommender: Recommender, case: dict[str, Any]) -> None:
    parsed = parse_case(case, KB)
    true = parsed.facts.true
    answer = recommender.recommend(case, limit=100, questions=100, need_questions=3).as_dict()
    ids = {i["id"] for i in answer["interventions"]}
    honour = "honour-related-conflict" in true or "honour-related-crime" in parsed.victim_of | parsed.offences
    if not honour:
        assert not ids & HONOUR_ONLY
    family = honour or "child-abuse-suspected" in true or (parsed.victim and "family-problems" in true)
    # Nor where a gang is party, nor where every crime named harms no one who could be met.
    named = parsed.offences | parsed.victim_of
    gang = "gang-member" in true or "gang-crime" in named
    if family or gang or (named and named <= VICTIMLESS):
        assert not ids & MEDIATION
        assert "conflict-council" not in answer["fora"]
        assert "mediation-consent" not in {q["factor"] for q in answer["open_questions"]
                                           + answer.get("need_questions", [])}


@SETTINGS
@given(case=cases)
def test_a_forums_measure_comes_with_its_forum(recommender: Recommender, case: dict[str, Any]) -> None:
    """A measure of the specific or individual effort that belongs to fora the rules give
    cases is listed only where one of them (other than SSP/SSP+, if it names another) is
    the case's."""
    given_fora = {ident for kind, ident in recommender.whatif.derived_bit if kind == "forum"}
    answer = recommender.recommend(case, limit=100).as_dict()
    fora = set(answer["fora"])
    if case.get("age") is None:  # an unknown age: the fora of the ages the case allows
        parsed = parse_case(case, KB)
        for probe in PROBE_AGES:
            state, _ = recommender.rules.closure(Facts(probe, parsed.facts.true, parsed.facts.false))
            fora |= state.derived.get("forum", set())
    for item in answer["interventions"]:
        concept = KB.get(item["id"])
        own = set(concept.ref("forum")) & given_fora
        if own and item["tier"] != "general":
            assert (own - {"ssp", "ssp-plus"} or own) & fora, item["id"]


@SETTINGS
@given(case=cases)
def test_a_person_named_only_a_victim_is_answered_as_a_victim(recommender: Recommender,
                                                                case: dict[str, Any]) -> None:
    """Being a victim, with what was done to them, raises no tier; they are not asked about
    their own offending; they are not put in the group of children at risk for it."""
    parsed = parse_case(case, KB)
    offending = {f.id for f in KB.of_type("Factor") if "offending" in f.ref("inDomain")}
    if not parsed.victim or not parsed.roles <= {"victim", "relative"} or parsed.facts.true & offending:
        return
    answer = recommender.recommend(case, questions=100).as_dict()
    family = {f.id for f in KB.of_type("Factor") if "family" in f.ref("inDomain")}
    own = {f.id for f in KB.of_type("Factor") if {"offending", "gangs-domain"} & set(f.ref("inDomain"))}
    assert not {q["factor"] for q in answer["open_questions"]} & own
    if not parsed.facts.true - family - {f.id for f in KB.of_type("Factor") if "victimisation" in f.ref("inDomain")}:
        assert answer["tier"] == "general"
        assert "at-risk-youth" not in answer["target_groups"]
        fora = set(answer["fora"])
        if parsed.age is None:  # an unknown age: the fora of the ages the case allows
            for probe in PROBE_AGES:
                state, _ = recommender.rules.closure(Facts(probe, parsed.facts.true - family, parsed.facts.false))
                fora |= state.derived.get("forum", set())
        # Measures for victims (or their parents), of their fora, or a campaign against the
        # crime they suffered (IT skills against fraud).
        for item in answer["interventions"]:
            concept = KB.get(item["id"])
            assert "victim" in concept.all_values("situation") or "victims-of-crime" in concept.ref("targetGroup") \
                or "relative" in concept.all_values("situation") or set(concept.ref("forum")) & fora \
                or (item["scope"] == "population" and set(concept.ref("crimeType")) & parsed.victim_of), item["id"]


@SETTINGS
@given(case=cases)
def test_control_is_never_offered_as_help(recommender: Recommender, case: dict[str, Any]) -> None:
    """Control and enforcement is never among the measures offered as help (but for the
    protection of a person named only a victim); it is shown apart only for an active
    offender or a gang member with no wish to leave, never for one who wants out."""
    parsed = parse_case(case, KB)
    true = parsed.facts.true
    answer = recommender.recommend(case, limit=100).as_dict()
    suffered = {f.id for f in KB.of_type("RiskFactor") if "victimisation" in f.ref("inDomain")}
    victim_only = bool(true & suffered) and "gang-member" not in true and not parsed.offences \
        and not true & {f.id for f in KB.of_type("Factor") if "offending" in f.ref("inDomain")}
    for item in answer["interventions"]:
        assert item["id"] not in CONTROL or (victim_only and item["id"] in FOR_VICTIMS), item["id"]
    apart = [item["id"] for item in answer.get("control", [])]
    assert set(apart) <= CONTROL
    if {"wants-to-leave-gang", "released-from-custody"} & true:
        assert apart == []
    offending = {f.id for f in KB.of_type("Factor") if "offending" in f.ref("inDomain")}
    if apart:
        assert parsed.offences or true & offending or "gang-member" in true


AREAS = ["tingbjerg", "noerrebro", "valby", "esbjerg-nord", "stengaard"]
placed = st.fixed_dictionaries(
    {"age": st.one_of(st.none(), st.integers(6, 60)),
     "factors": st.dictionaries(st.sampled_from(FACTORS), st.sampled_from([True, False, "unknown"]), max_size=6)},
    optional={"offences": st.lists(st.sampled_from(CRIMES), min_size=1, max_size=2, unique=True),
              "municipality": st.sampled_from(["koebenhavn", "esbjerg", "aalborg", "herlev", "odense", "randers"]),
              "area": st.sampled_from(AREAS)},
).filter(_consistent)


def _chain(place: str | None) -> set[str]:
    """A place and every area it lies in (ks:partOf)."""
    found, todo = set(), [place] if place else []
    while todo:
        here = todo.pop()
        if here not in found:
            found.add(here)
            todo.extend(KB.get(here).ref("partOf"))
    return found


@SETTINGS
@given(case=placed)
def test_a_measure_of_another_place_stands_in_only_where_the_case_place_has_none(
        recommender: Recommender, case: dict[str, Any]) -> None:
    """Where the case's own place has a measure of a forum the rules give cases, other than
    SSP/SSP+ (PSP, KSP, Exit, ...), no other place's measure of that forum is listed; a measure of another place
    that is listed says where it exists."""
    specific = {ident for kind, ident in recommender.whatif.derived_bit if kind == "forum"} - {"ssp", "ssp-plus"}
    answer = recommender.recommend(case, limit=100).as_dict()
    own: set[str] = set()
    for item in answer["interventions"]:
        if item["municipality"] and not item["from_elsewhere"] and item["kind"] != "control":
            own |= set(KB.get(item["id"]).ref("forum")) & specific
    for item in answer["interventions"]:
        if item["from_elsewhere"]:
            assert not set(KB.get(item["id"]).ref("forum")) & own, item["id"]
            assert any(r.startswith(("findes i", "from elsewhere")) for r in item["reasons"]), item["id"]
    # Nor, for a measure of no forum, where the needs of the case it meets are all met by a
    # listed person measure of the case's own place (Copenhagen's extremism effort in Aarhus).
    needs = parse_case(case, KB).facts.true & RISK
    met_here: set[str] = set()
    for item in answer["interventions"]:
        if item["municipality"] and not item["from_elsewhere"] and item["kind"] != "control" \
                and item["scope"] in ("person", "group"):
            met_here |= TARGETS[item["id"]]
    for item in answer["interventions"]:
        concept = KB.get(item["id"])
        if item["from_elsewhere"] and not concept.ref("forum") and item["scope"] in ("person", "group"):
            met = TARGETS[item["id"]] & needs
            assert not (met and met <= met_here), item["id"]


@SETTINGS
@given(case=placed)
def test_an_estate_forum_and_a_place_measure_only_where_the_case_names_that_place(
        recommender: Recommender, case: dict[str, Any]) -> None:
    """A forum for the residents of its own estates (a safety partnership) is the case's only
    where the case names one of them; a place measure is offered only within its place."""
    answer = recommender.recommend(case, limit=100).as_dict()
    parsed = parse_case(case, KB)
    chain = _chain(parsed.place)
    for forum in answer["fora"]:
        concept = KB.get(forum)
        if "residents-of-vulnerable-areas" in concept.ref("targetGroup") and concept.ref("municipality"):
            assert chain & set(concept.ref("municipality")), forum
    for item in answer["interventions"]:
        if item["scope"] == "place":
            assert chain & set(KB.get(item["id"]).ref("municipality")), item["id"]


@SETTINGS
@given(case=placed, relative=st.booleans())
def test_place_and_control_measures_belong_to_the_person_and_the_place(
        recommender: Recommender, case: dict[str, Any], relative: bool) -> None:
    """A place measure is offered through a need of the case it addresses (or its forum),
    never through the person's offence alone; a population measure for a person with risk
    signs of their own through one of them, the offence or its forum; control shown apart is of the case's own
    place, and never for a parent or relative who asks for help."""
    if relative:
        case = {**case, "role": ["relative"]}
    answer = recommender.recommend(case, limit=100).as_dict()
    parsed = parse_case(case, KB)
    fora = set(answer["fora"])
    if parsed.age is None:  # an unknown age: the fora of the ages the case allows
        for probe in PROBE_AGES:
            state, _ = recommender.rules.closure(Facts(probe, parsed.facts.true, parsed.facts.false))
            fora |= state.derived.get("forum", set())
    for item in answer["interventions"]:
        concept = KB.get(item["id"])
        through = set(concept.ref("addressesFactor")) & parsed.facts.true or set(concept.ref("forum")) & fora
        if item["scope"] == "place":
            assert through, item["id"]
        # The general effort of the person's group, for one with risk signs of their own:
        # only about one of them or the offence (no traffic teaching for a charge at 16).
        if item["scope"] == "population" and answer["tier"] != "general" and not parsed.victim:
            assert through or set(concept.ref("crimeType")) & parsed.offences, item["id"]
    apart = answer.get("control", [])
    if relative:
        assert apart == []
    chain = _chain(parsed.place)
    for item in apart:
        places = set(KB.get(item["id"]).ref("municipality"))
        assert not places or not chain or any(_chain(p) & chain for p in places), item["id"]


@SETTINGS
@given(case=cases)
def test_a_release_is_asked_of_a_minor_only_after_serious_crime(
        recommender: Recommender, case: dict[str, Any]) -> None:
    parsed = parse_case(case, KB)
    asked = {q["factor"] for q in recommender.recommend(case, questions=100).as_dict()["open_questions"]}
    # A minor by the age, or with the age unknown by a factor of children only (truancy).
    minor = parsed.age < 18 if parsed.age is not None else any(
        (KB.get(f).int_value("maxAge") or 99) < 18 for f in parsed.facts.true)
    if minor and "serious-offence" not in parsed.facts.true:
        assert "released-from-custody" not in asked
    # Nor is consent to a conflict council asked where every crime named is one whose victim
    # seldom meets the offender, or that harms no one who could be met.
    named = set(case.get("offences", [])) | set(case.get("victim_of", []))
    if named and named <= SELDOM_MET | VICTIMLESS:
        assert "mediation-consent" not in asked


@SETTINGS
@given(case=cases)
def test_with_the_age_unknown_what_holds_at_every_allowed_age_is_the_answer(
        recommender: Recommender, case: dict[str, Any]) -> None:
    """A forum or group given for an unknown age is the case's at every age its age group
    and factors allow (the ends and the middle of the range), and no measure is for none of
    them."""
    if case["age"] is not None:
        return
    youngest, oldest = _allowed_ages(case)
    assume(youngest <= oldest)
    answer = recommender.recommend(case).as_dict()
    for age in {youngest, oldest, (youngest + oldest) // 2}:
        at_age = recommender.recommend({**case, "age": age, "age_group": None}).as_dict()
        # (Unless a forum of that age takes it over there, as SSP takes over PSP: one that
        # every allowed age's forum takes over is not given.)
        taken = {other for f in at_age["fora"] for other in TAKES_OVER.get(f, ())}
        assert set(answer["fora"]) - taken <= set(at_age["fora"]), age
        assert set(answer["target_groups"]) <= set(at_age["target_groups"]), age
    for item in answer["interventions"]:
        low, high = item["min_age"] or 0, item["max_age"] if item["max_age"] is not None else 200
        assert low <= oldest and high >= youngest, item["id"]


@SETTINGS
@given(case=cases)
def test_with_the_age_unknown_each_forum_by_age_is_the_cases_at_those_ages(
        recommender: Recommender, case: dict[str, Any]) -> None:
    answer = recommender.recommend(case).as_dict()
    by_age = answer.get("fora_by_age", [])
    if case["age"] is not None:
        assert by_age == []
        return
    assert not {f["id"] for f in by_age} & set(answer["fora"])
    for forum in by_age:
        low, high = forum["min_age"] or 0, forum["max_age"] if forum["max_age"] is not None else 80
        assert low <= high and forum["rule"] and forum["source"]
        for age in {low, high, (low + high) // 2}:  # the ends and the middle of its range
            at_age = recommender.recommend({**case, "age": age, "age_group": None}).as_dict()
            assert forum["id"] in at_age["fora"], (forum, age)
        # Just below its range it is not the case's (unless another range has it), where the
        # case allows that age at all (a release is from 15: its SSP range starts there).
        youngest = _allowed_ages(case)[0]
        if forum["min_age"] and forum["min_age"] - 1 >= youngest:
            below = recommender.recommend({**case, "age": forum["min_age"] - 1, "age_group": None}).as_dict()
            assert forum["id"] not in below["fora"] or any(
                other["id"] == forum["id"] and other is not forum for other in by_age)


AFTER_ONE_OF = {f.id: set(f.ref("askedAfterOneOf")) for f in KB.of_type("Factor") if f.ref("askedAfterOneOf")}
ONLY_WHEN_RAISED = {f.id for f in KB.of_type("Factor") if f.value("askedOnlyWhenRaised") == "true"}


@SETTINGS
@given(case=cases)
def test_a_question_waits_for_what_makes_it_likely_and_some_are_never_asked(
        recommender: Recommender, case: dict[str, Any]) -> None:
    assert AFTER_ONE_OF and ONLY_WHEN_RAISED  # the knowledge base names some (a charge, abuse; radicalisation)
    true = parse_case(case, KB).facts.true
    asked = {q["factor"] for q in recommender.recommend(case, questions=100).as_dict()["open_questions"]}
    assert not asked & ONLY_WHEN_RAISED
    for factor, likely in AFTER_ONE_OF.items():
        if factor in asked:
            assert likely & true, factor


@SETTINGS
@given(case=cases)
def test_a_need_question_says_what_a_yes_brings(recommender: Recommender, case: dict[str, Any]) -> None:
    """Each need question is a risk factor the case leaves open and no open question asks,
    and a yes to it brings each measure it names into the first five; at most three."""
    answer = recommender.recommend(case, need_questions=3)
    assert not recommender.recommend(case).need_questions  # asked for only
    needs = answer.need_questions
    assert len(needs) <= 3
    assert not {q.factor for q in needs} & {q.factor for q in answer.open_questions}
    first = [item.id for item in answer.interventions[:5]]
    for question in needs:
        assert question.factor in RISK and question.would_bring
        ids = {m.id for m in question.would_bring}
        assert not ids & set(first)
        yes = {**case, "factors": {**case["factors"], question.factor: True}}
        brought = [item.id for item in recommender.recommend(yes).interventions[:5]]
        assert ids <= set(brought), (question.factor, ids, brought)

