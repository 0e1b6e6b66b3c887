"""Recommendations: scenarios from the sources (data files in tests/scenarios/) and
properties that must hold for every case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kundskab import CaseError, KnowledgeBase
from kundskab.cases import PRESUPPOSES, parse_case
from kundskab.recommendation import Recommender
from kundskab.rules import Facts, RuleSet

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
    """No factor true whose presupposed factor is false (such a case is a CaseError)."""
    factors = case["factors"]
    return not any(factors.get(a) is True and factors.get(b) is False for a, b in PRESUPPOSES.items())


cases = st.fixed_dictionaries(
    {"age": st.one_of(st.none(), st.integers(0, 90)),
     "factors": st.dictionaries(st.sampled_from(FACTORS), answers, max_size=8)},
    optional={"ref": st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12)},
).filter(consistent)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _rank(recommender: Recommender, tier: str) -> int:
    return recommender.rules.tier_ranks[tier]


@SETTINGS
@given(case=cases, extra=st.sampled_from(FACTORS))
def test_one_more_true_factor_never_lowers_the_tier(recommender: Recommender, case: dict[str, Any], extra: str) -> None:
    before = recommender.recommend(case).tier
    more = {**case, "factors": {**case["factors"], extra: True}}
    assume(consistent(more))
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
def test_unknown_is_neither_true_nor_false(recommender: Recommender, case: dict[str, Any], factor: str) -> None:
    unknown = {**case, "factors": {**case["factors"], factor: "unknown"}}
    absent = {**case, "factors": {k: v for k, v in case["factors"].items() if k != factor}}
    as_true = {**case, "factors": {**case["factors"], factor: True}}
    assume(consistent(as_true))

    def core(c: dict[str, Any]) -> tuple[Any, ...]:
        r = recommender.recommend(c).as_dict()
        return r["tier"], r["fora"], r["target_groups"]

    assert core(unknown) == core(absent)  # an unknown answer is as if unasked
    questions = {q["factor"]: q for q in recommender.recommend(unknown).as_dict()["open_questions"]}
    if core(as_true)[:2] != core(unknown)[:2]:
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
def test_interventions_never_overshoot_the_tier(recommender: Recommender, case: dict[str, Any]) -> None:
    result = recommender.recommend(case).as_dict()
    limit = _rank(recommender, result["tier"])
    for item in result["interventions"]:
        assert _rank(recommender, item["tier"]) <= limit
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


def test_what_if_matches_full_recomputation(ruleset: RuleSet) -> None:
    """The one-pass effects of unknowns equal a full re-run with the factor set true."""
    base_facts = Facts(15, frozenset({"truancy"}))
    state, fired = ruleset.closure(base_facts)
    unknown = [f for f in ruleset.factors_read if f not in base_facts.true]
    effects = ruleset.effects_of_unknowns(state, unknown, frozenset(r.id for r, _ in fired))
    for factor in unknown:
        full, _ = ruleset.closure(Facts(15, base_facts.true | {factor}))
        rank, bits = effects.get(factor, (state.tier_rank, ruleset.bits_of(state)[2]))
        assert rank == full.tier_rank, factor
        assert bits == ruleset.bits_of(full)[2], factor


@SETTINGS
@given(case=cases)
def test_what_if_matches_full_recomputation_for_any_case(recommender: Recommender, ruleset: RuleSet,
                                                          case: dict[str, Any]) -> None:
    """The memoised one-pass effects equal re-running the rules with the factor set true,
    whatever else the case says (regression guard for the split into simple and
    multi-condition rules)."""
    facts = parse_case(case, recommender.kb).facts
    state, fired = ruleset.closure(facts)
    unknown = [f for f in ruleset.factors_read if f not in facts.true and f not in facts.false]
    effects = ruleset.effects_of_unknowns(state, unknown, frozenset(r.id for r, _ in fired))
    for factor in unknown:
        full, _ = ruleset.closure(Facts(facts.age, facts.true | {factor}, facts.false))
        rank, bits = effects.get(factor, (state.tier_rank, ruleset.bits_of(state)[2]))
        assert (rank, bits) == (full.tier_rank, ruleset.bits_of(full)[2]), factor


def test_answers_do_not_depend_on_what_was_asked_before(kb: KnowledgeBase, ruleset: RuleSet) -> None:
    """The memos hold pieces shared between cases: two recommenders asked the same cases
    in opposite orders give the same answers."""
    import random

    rng = random.Random(3)
    batch = []
    for _ in range(300):
        chosen = rng.sample(FACTORS, rng.randint(0, 5))
        batch.append({"age": rng.choice([None, *range(0, 40)]),
                      "factors": {f: rng.choice([True, True, False, "unknown"]) for f in chosen}})
    forward, backward = Recommender(kb, ruleset), Recommender(kb, ruleset)
    first = [forward.recommend(c, lang=lang).to_json() for c in batch for lang in ("da", "en")]
    second = [backward.recommend(c, lang=lang).to_json() for c in reversed(batch) for lang in ("en", "da")]
    assert first == list(reversed(second))


def test_memos_are_bounded() -> None:
    from kundskab.recommendation import _Memo

    memo = _Memo(8)
    for key in range(100):
        assert memo.make(key, lambda k: k * 2, key) == key * 2
        assert len(memo) <= 8
    assert memo.get(99) == 198


def _reference_ranking(recommender: Recommender, result: dict[str, Any], true: set[str]) -> list[tuple[str, float]]:
    """The score documented in rules/interventions.yaml, computed the slow, obvious way."""
    kb, rules = recommender.kb, recommender.rules
    w = rules.ranking.weights
    rank = rules.tier_ranks[result["tier"]]
    risks = {f for f in true if kb.get(f).is_a("RiskFactor")}
    scored = []
    for item in kb.of_type("Intervention"):
        item_rank = rules.tier_ranks[item.ref("tier")[0]]
        groups = set(item.ref("targetGroup"))
        if item_rank > rank:
            continue
        if groups & set(result["target_groups"]) - {"all-citizens"}:
            group = 1.0
        elif "all-citizens" in groups:
            group = 0.5
        else:
            continue
        tier = {0: 1.0, 1: 0.5}.get(rank - item_rank, 0.0)
        factors = len(set(item.ref("addressesFactor")) & risks) / len(risks) if risks else 0.0
        forum = 1.0 if set(item.ref("forum")) & set(result["fora"]) else 0.0
        score = w["tier"] * tier + w["group"] * group + w["factors"] * factors + w["forum"] * forum
        if score >= rules.ranking.minimum_score - 1e-9:
            scored.append((-round(score, 9), item.id))
    scored.sort()
    return [(ident, round(-score, 3)) for score, ident in scored[: rules.ranking.limit]]


@SETTINGS
@given(case=cases)
def test_ranking_matches_the_documented_score(recommender: Recommender, case: dict[str, Any]) -> None:
    result = recommender.recommend(case).as_dict()
    true = {k for k, v in parse_case(case, recommender.kb).factors.items() if v is True}
    assert [(i["id"], i["score"]) for i in result["interventions"]] == _reference_ranking(recommender, result, true)


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
    from kundskab.cases import parse_case_text

    with pytest.raises(CaseError):
        parse_case_text(text, kb)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_case_text_is_a_case_or_a_case_error(kb: KnowledgeBase, raw: bytes) -> None:
    from kundskab.cases import parse_case_text

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
    result = recommender.recommend({"age": 30, "factors": ["victim-of-crime"]}).as_dict()
    (question,) = [q for q in result["open_questions"] if q["factor"] == "mediation-consent"]
    assert question["if_true"]["new_fora"] == ["conflict-council"]
    assert question["if_false"]["new_fora"] == ["psp"]
    answered = recommender.recommend({"age": 30, "factors": {"victim-of-crime": True, "mediation-consent": False}})
    assert "psp" in answered.fora
