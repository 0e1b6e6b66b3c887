"""The goals of the issues "Interventions that fit the case" and "Answers a consultant would
sign", on the scenarios written from the sources (tests/scenarios/cases; the held-back cases
in tests/scenarios/holdout are scored by benchmarks/score_scenarios.py and never tuned on,
so they are not asserted here): every tier right, every forum right (of the project's own
cases: the blind set of issue 20, blind-2026.yaml, is scored for fora by the benchmark, which
reports its misses, and so are the few own cases in OTHER_READING), at least 80% of the
expected interventions in the top 5, at most 0.3 wrong ones per case in the top 10, and no
answer that breaks plain sense: no question the case already answers, no control for a
person who wants out, no honour measure without honour, no mediation where honour or
violence in the family is at stake, no `not_asked` question asked beyond the few the
benchmark reports, no measure for a denied factor."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kundskab.reasoning.recommendation import Recommender
from tests.scenarios.load import Scenario, load_folder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from score_scenarios import Knowledge, Score, accepted_fields, canonical, kinds_of, score

GOAL_TOP5 = 0.80
GOAL_WRONG_PER_CASE = 0.3


@pytest.fixture(scope="module")
def scores(recommender: Recommender) -> list[Score]:
    scenarios: list[Scenario] = load_folder("cases")
    assert len(scenarios) >= 30
    accepted = accepted_fields(recommender)
    assert accepted["offences"] and accepted["municipality"], "the case parser must know offences and municipality"
    knowledge = Knowledge.of(recommender.kb, kinds_of(recommender.kb, None)[0])
    found = [score(recommender, canonical(recommender.kb, s), accepted, knowledge) for s in scenarios]
    assert not any(s.dropped for s in found), [s.scenario.id for s in found if s.dropped]
    return found


def test_every_tier_is_right(scores: list[Score]) -> None:
    assert [s.scenario.id for s in scores if not s.tier_ok] == []


BLIND_FILE = "blind-2026.yaml"


# Own cases whose expected fora follow a reading of the sources that the rules no longer
# take, because the independent sets written blind read the source otherwise (their
# expectations stay as written; the benchmark reports the misses).
OTHER_READING = {
    # rules/fora.yaml forum-psp: substance abuse alone is no PSP case (000 "PSP"); blind set 3
    # gives no PSP to drink-drivers or released prisoners with substance abuse.
    "drink-driver-45-aalborg": "PSP for substance abuse alone",
    # concepts/fora.ttl childrens-house ks:takesOver victim-support unless the child suffered
    # online crime: the case (written before `victim_of`) says "via social media" only in
    # its description, so the Børnehus takes the case alone.
    "groomed-online-13-hjoerring": "victim support beside the Børnehus",
}


def test_every_forum_is_right(scores: list[Score]) -> None:
    assert [s.scenario.id for s in scores if not s.fora_ok and s.scenario.file != BLIND_FILE
            and s.scenario.id not in OTHER_READING] == []
    # The other readings are still misses (else the entry is stale).
    assert {s.scenario.id for s in scores if s.scenario.id in OTHER_READING and not s.fora_ok} == set(OTHER_READING)


@pytest.mark.parametrize("kind", ["answered", "control_for_leaver", "honour_without_factor",
                                  "mediation_in_honour", "denied_target"])
def test_no_answer_breaks_plain_sense(scores: list[Score], kind: str) -> None:
    assert {s.scenario.id: s.breaks[kind] for s in scores if kind in s.breaks} == {}


def test_expected_interventions_reach_the_top_five(scores: list[Score]) -> None:
    expected = sum(len(s.scenario.expect.top5) for s in scores)
    found = sum(len(s.found) for s in scores)
    missing = {s.scenario.id: [i for i in s.scenario.expect.top5 if i not in s.found]
               for s in scores if len(s.found) < len(s.scenario.expect.top5)}
    assert found / expected >= GOAL_TOP5, f"{found}/{expected} in the top 5; missing: {missing}"


def test_few_wrong_interventions_in_the_top_ten(scores: list[Score]) -> None:
    wrong = {s.scenario.id: s.wrong for s in scores if s.wrong}
    assert sum(map(len, wrong.values())) / len(scores) <= GOAL_WRONG_PER_CASE, wrong
