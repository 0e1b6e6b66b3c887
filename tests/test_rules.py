"""Rules as data: validation with file and line, the class hierarchy, lint."""

from __future__ import annotations

from pathlib import Path

import pytest

from kundskab import KnowledgeBase, RuleError
from kundskab.reasoning.lint import lint, rule_graph, to_dot
from kundskab.reasoning.rules import RuleSet

GOOD_RULE = """
  - id: {id}
    when:
      {when}
    then:
      {then}
    because:
      da: En begrundelse.
      en: A rationale.
    source: 000_2d4d8aed5ea821e9.txt#SSP og SSP+
"""


def _write(rules_copy: Path, text: str, name: str = "zz-test.yaml") -> Path:
    path = rules_copy / name
    path.write_text(text, encoding="utf-8")
    return path


def _rule(id: str = "test-rule", when: str = "factor: truancy", then: str = "tier: specific") -> str:
    return "rules:" + GOOD_RULE.format(id=id, when=when, then=then)


@pytest.mark.parametrize(("text", "message", "line"), [
    (_rule(when="factor: no-such-factor"), "unknown", 4),
    (_rule(then="forum: no-such-forum"), "unknown", 6),
    (_rule(when="colour: red"), "unknown condition 'colour'", 4),
    (_rule(then="verdict: guilty"), "unknown conclusion 'verdict'", 6),
    (_rule(when="age: {min: 20, max: 10}"), "above max", 4),
    (_rule(id="Bad Id"), "kebab-case", 2),
    ("rules:\n  - id: no-because\n    when: {factor: truancy}\n    then: {tier: specific}\n"
     "    source: 000_2d4d8aed5ea821e9.txt#SSP og SSP+\n", "because", 2),
    (_rule().replace("000_2d4d8aed5ea821e9.txt#SSP og SSP+", "somewhere"), "source", 2),
    ("rules:\n  - id: x\n    when: [unclosed\n", "invalid YAML", None),
    ("rules:\n  - id: " + "a\n    when: &a {factor: truancy}\n    then: *a\n", "", None),
])
def test_malformed_rules_name_file_and_line(kb: KnowledgeBase, rules_copy: Path, text: str,
                                            message: str, line: int | None) -> None:
    path = _write(rules_copy, text)
    with pytest.raises(RuleError) as info:
        RuleSet.load(kb, rules_copy)
    assert info.value.file and Path(info.value.file).name == path.name
    assert message in str(info.value)
    if line is not None:
        assert info.value.line == line


def test_duplicate_rule_ids_are_refused(kb: KnowledgeBase, rules_copy: Path) -> None:
    _write(rules_copy, _rule(id="tier-individual-offence"))
    with pytest.raises(RuleError, match="duplicate rule id"):
        RuleSet.load(kb, rules_copy)


def _replacing(id: str, replaces: str, then: str = "tier: specific") -> str:
    return "rules:" + GOOD_RULE.format(id=id, when="factor: truancy", then=then).replace(
        "    because:", f"    replaces: {replaces}\n    because:", 1)


@pytest.mark.parametrize(("replaces", "then", "message"), [
    ("no-such-rule", "tier: specific", "which is no rule"),
    ("forum-psp", "tier: specific", "does not draw all its conclusions"),
    ("test-replacing", "tier: specific", "names other rules by id"),
    ("[Not An Id]", "tier: specific", "names other rules by id"),
])
def test_a_rule_replaces_only_a_rule_whose_conclusions_it_draws(
        kb: KnowledgeBase, rules_copy: Path, replaces: str, then: str, message: str) -> None:
    """`replaces` names existing rules whose every conclusion the replacing rule draws too,
    so that leaving their reason out of an answer never leaves a conclusion unexplained."""
    _write(rules_copy, _replacing("test-replacing", replaces, then))
    with pytest.raises(RuleError, match=message):
        RuleSet.load(kb, rules_copy, use_cache=False)


def test_a_replacing_rule_gives_its_reason_alone_and_survives_the_cache(
        kb: KnowledgeBase, rules_copy: Path) -> None:
    """When both fire, the answer explains the conclusion by the replacing rule only; the
    replaced rule still fires alone (a school-age truant keeps the general reason), and the
    rules cache keeps `replaces` (a second load reads it from the cache)."""
    from kundskab.reasoning.recommendation import Recommender

    _write(rules_copy, _replacing("test-replacing", "tier-specific-risk-signs"))
    for use_cache in (True, True):
        rules = RuleSet.load(kb, rules_copy, use_cache=use_cache)
        assert rules.by_id["test-replacing"].replaces == ("tier-specific-risk-signs",)
    answer = Recommender(kb, rules).recommend({"age": 14, "factors": {"truancy": True}})
    assert [e.rule for e in answer.explanation if e.conclusion.kind == "tier"] == ["test-replacing"]
    answer = Recommender(kb, rules).recommend({"age": 14, "factors": {"concerning-behaviour": True}})
    assert [e.rule for e in answer.explanation if e.conclusion.kind == "tier"] == ["tier-specific-risk-signs"]


def test_a_domain_condition_matches_every_factor_of_the_domain(kb: KnowledgeBase, rules_copy: Path) -> None:
    _write(rules_copy, _rule(id="family-rule", when="domain: family", then="forum: psp"))
    rules = RuleSet.load(kb, rules_copy)
    (condition,) = rules.by_id["family-rule"].conditions
    family = {f.id for f in kb.of_type("RiskFactor") if "family" in f.ref("inDomain")}
    assert set(condition.ids) == family and {"family-problems", "honour-related-conflict"} <= family


def test_labels_are_accepted_in_rules(kb: KnowledgeBase, rules_copy: Path) -> None:
    _write(rules_copy, _rule(id="label-rule", when="factor: Skolefravær", then="forum: Ungesamråd"))
    rule = RuleSet.load(kb, rules_copy).by_id["label-rule"]
    assert rule.conditions[0].ids == ("truancy",)
    assert rule.conclusions == (("forum", "youth-sanction-council"),)


def test_age_group_rules_come_from_the_ontology(ruleset: RuleSet) -> None:
    rule = ruleset.by_id["age-group-school-age-youth"]
    assert rule.generated
    (condition,) = rule.conditions
    assert (condition.min_age, condition.max_age) == (6, 17)


def test_bundled_rules_lint_clean(ruleset: RuleSet) -> None:
    assert lint(ruleset) == []


def test_lint_finds_a_cycle(kb: KnowledgeBase, rules_copy: Path) -> None:
    _write(rules_copy, "rules:" + GOOD_RULE.format(id="a-to-b", when="forum: ssp", then="forum: psp")
           + GOOD_RULE.format(id="b-to-a", when="forum: psp", then="forum: ssp"))
    findings = lint(RuleSet.load(kb, rules_copy))
    assert any(f.code == "cycle" and {"a-to-b", "b-to-a"} <= set(f.rules) for f in findings)


def test_lint_finds_a_rule_that_can_never_fire(kb: KnowledgeBase, rules_copy: Path) -> None:
    _write(rules_copy, _rule(id="waits-for-nothing", when="forum: infohouse\n      target_group: parents",
                             then="tier: specific")
           .replace("then:", "then:", 1))
    _write(rules_copy, _rule(id="true-and-false", when="factor: truancy\n      factor_false: truancy"),
           "zz-test2.yaml")
    codes = {(f.code, f.rules[0]) for f in lint(RuleSet.load(kb, rules_copy))}
    assert ("never-fires", "waits-for-nothing") in codes  # no rule concludes target group parents
    assert ("never-fires", "true-and-false") in codes


def test_lint_finds_conflicting_conclusions(kb: KnowledgeBase, rules_copy: Path) -> None:
    _write(rules_copy, _rule(id="adult-to-ungesamraad", when="age: {min: 30}\n      factor: truancy",
                             then="forum: youth-sanction-council"))
    _write(rules_copy, _rule(id="truancy-individual", when="factor: truancy", then="tier: individual")
           + GOOD_RULE.format(id="truancy-general", when="factor: truancy", then="tier: general"),
           "zz-test2.yaml")
    findings = lint(RuleSet.load(kb, rules_copy))
    assert any(f.code == "conflict" and f.rules == ["adult-to-ungesamraad"] for f in findings)
    assert any(f.code == "conflict" and set(f.rules) == {"truancy-individual", "truancy-general"} for f in findings)


def test_graph_has_reads_and_writes(ruleset: RuleSet) -> None:
    graph = rule_graph(ruleset)
    assert graph.has_edge("factor:truancy", "rule:tier-specific-risk-signs")
    assert graph.has_edge("rule:tier-specific-risk-signs", "tier")
    assert graph.has_edge("tier", "rule:forum-ssp")
    dot = to_dot(ruleset)
    assert dot.startswith("digraph") and '"tier" -> "rule:forum-ssp";' in dot
