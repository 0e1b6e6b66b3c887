"""The ranking scores a new set of conclusions only over the measures it can reach
(`Ranker._candidates`): the same open candidates as trying every measure of the catalogue."""

from __future__ import annotations

import random

from kundskab.reasoning.cases import MAX_AGE
from kundskab.reasoning.ranking import SITUATIONS, _Base
from kundskab.reasoning.recommendation import Recommender


def test_candidates_give_the_same_open_measures_as_every_measure(recommender: Recommender) -> None:
    ranker = recommender.ranker
    groups = sorted({g for m in ranker.measures for g in m.groups} | {c.id for c in recommender.kb.of_type("AgeGroup")})
    fora = sorted({f for m in ranker.measures for f in m.fora} | {"no-such-forum"})
    areas = [None, *sorted(ranker._ancestors)]
    tiers = sorted(recommender.rules.tier_ranks.items())
    bands = sorted({ranker._band(age) for age in [None, *range(MAX_AGE + 1)]})  # every band a case can have
    rng = random.Random(3)
    opened = 0
    for _ in range(1500):
        tier, rank = rng.choice(tiers)
        base = _Base(tier, rank, frozenset(rng.sample(groups, rng.randint(0, 4))),
                     frozenset(rng.sample(fora, rng.randint(0, 3))), rng.choice(bands), rng.choice(areas),
                     frozenset({"citizen", *rng.sample(SITUATIONS, rng.randint(0, 3))}))
        fast, every = ranker._build_open(base), ranker._build_open(base, every=True)
        assert fast == every, base
        opened += sum(score >= 0 for score in every.base)
    assert opened > 1500  # the bases open measures: the comparison is not between empty sets
