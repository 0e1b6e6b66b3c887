"""What-if questions (kundskab.reasoning.whatif) against the reference semantics: an unknown factor's
effect, worked out over the rules' bit masks, equals running `RuleSet.closure` again with
the factor known, whether it is answered yes or no."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from kundskab.reasoning.cases import parse_case
from kundskab.reasoning.recommendation import Recommender
from kundskab.reasoning.rules import Facts, RuleSet
from kundskab.reasoning.whatif import CompiledRule, WhatIf, single_bits
from tests.test_recommend import SETTINGS, cases


@pytest.fixture(scope="module")
def whatif(ruleset: RuleSet) -> WhatIf:
    return WhatIf(ruleset)


def test_what_if_matches_full_recomputation(ruleset: RuleSet, whatif: WhatIf) -> None:
    """The one-pass effects of unknowns equal a full re-run with the factor set true."""
    base_facts = Facts(15, frozenset({"truancy"}))
    state, fired = ruleset.closure(base_facts)
    unknown = [f for f in ruleset.factors_read if f not in base_facts.true]
    effects = whatif.effects_of_unknowns(state, unknown, frozenset(r.id for r, _ in fired))
    for factor in unknown:
        full, _ = ruleset.closure(Facts(15, base_facts.true | {factor}))
        rank, bits = effects.get(factor, (state.tier_rank, whatif.bits_of(state)[2]))
        assert rank == full.tier_rank, factor
        assert bits == whatif.bits_of(full)[2], factor


@SETTINGS
@given(case=cases)
def test_what_if_matches_full_recomputation_for_any_case(recommender: Recommender, ruleset: RuleSet,
                                                          whatif: WhatIf, case: dict[str, Any]) -> None:
    """The memoised one-pass effects equal re-running the rules with the factor set true,
    whatever else the case says (regression guard for the split into simple and
    multi-condition rules)."""
    facts = parse_case(case, recommender.kb).facts
    state, fired = ruleset.closure(facts)
    unknown = [f for f in ruleset.factors_read if f not in facts.true and f not in facts.false]
    effects = whatif.effects_of_unknowns(state, unknown, frozenset(r.id for r, _ in fired))
    for factor in unknown:
        full, _ = ruleset.closure(Facts(facts.age, facts.true | {factor}, facts.false))
        rank, bits = effects.get(factor, (state.tier_rank, whatif.bits_of(state)[2]))
        assert (rank, bits) == (full.tier_rank, whatif.bits_of(full)[2]), factor


@SETTINGS
@given(case=cases)
def test_a_no_matches_full_recomputation(recommender: Recommender, ruleset: RuleSet, whatif: WhatIf,
                                         case: dict[str, Any]) -> None:
    """An unknown factor answered no: the same as re-running the rules with it false."""
    facts = parse_case(case, recommender.kb).facts
    state, fired = ruleset.closure(facts)
    done = frozenset(r.id for r, _ in fired)
    for factor in sorted(ruleset.factors_read_false - facts.true - facts.false):
        full, _ = ruleset.closure(Facts(facts.age, facts.true, facts.false | {factor}))
        assert whatif.what_if(state, factor, False, done) == (full.tier_rank, whatif.bits_of(full)[2]), factor


def test_compiled_rules_have_named_fields(whatif: WhatIf, ruleset: RuleSet) -> None:
    entry = CompiledRule("r", 6, 17, (0b11,), 0, (), 0, 0b100, 2)
    assert (entry.lo, entry.hi, entry.any_masks, entry.out_rank) == (6, 17, (0b11,), 2)
    assert entry.simple and not entry._replace(min_rank=1).simple
    assert list(single_bits(0b1011)) == [1, 2, 8]
    assert set(whatif.factor_bit) >= set(ruleset.factors_read)
    assert whatif.read_bits == sum(whatif.factor_bit[f] for f in ruleset.factors_read)


def test_the_rule_set_keeps_a_small_public_surface(ruleset: RuleSet) -> None:
    """Evaluation and lookup only: the what-if machinery lives in kundskab.reasoning.whatif."""
    public = {name for name in dir(ruleset) if not name.startswith("_")}
    assert public == {"applies_to", "by_id", "closure", "consumed_kinds", "factors_read", "factors_read_false",
                      "kb", "load", "ranking", "rules", "tier_by_rank", "tier_ranks"}
