"""Analysis of the rules as a graph (networkx): lint findings and the DOT picture.

The rule graph has a node per fact a rule reads or writes ("factor:truancy", "tier",
"forum:ssp") and per rule; edges run fact -> rule (reads) and rule -> fact (writes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

from kundskab.i18n import gettext
from kundskab.knowledge.base import KnowledgeBase
from kundskab.reasoning.rules import Rule, RuleSet

__all__ = ["LintFinding", "lint", "rule_graph", "to_dot"]

INPUT_PREFIXES = ("factor:", "case")


@dataclass(frozen=True)
class LintFinding:
    code: str  # cycle | never-fires | conflict | unused-conclusion
    rules: list[str]
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rule_graph(rules: RuleSet) -> nx.DiGraph:
    graph = nx.DiGraph()
    for rule in rules:
        node = f"rule:{rule.id}"
        graph.add_node(node, kind="rule", generated=rule.generated, source=rule.source)
        for condition in rule.conditions:
            for fact in condition.reads():
                graph.add_node(fact, kind="fact")
                graph.add_edge(fact, node)
        for fact in rule.writes():
            graph.add_node(fact, kind="fact")
            graph.add_edge(node, fact)
    return graph


def _age_range(rule: Rule) -> tuple[int, int]:
    low, high = 0, 10**6
    for c in rule.conditions:
        if c.kind == "age":
            low = max(low, c.min_age if c.min_age is not None else 0)
            high = min(high, c.max_age if c.max_age is not None else 10**6)
    return low, high


def _or_open(value: int | None) -> int:
    return 10**6 if value is None else value


def _forum_age_range(kb: KnowledgeBase, forum: str) -> tuple[int, int] | None:
    """The ages a forum serves, where all its target groups are age groups."""
    groups = [kb.get(g) for g in kb.get(forum).ref("targetGroup") if g in kb]
    ages = [g for g in groups if g.is_a("AgeGroup")]
    if not ages:
        return None  # a forum defined by situation, not by age
    low = min(g.int_value("minAge") or 0 for g in ages)
    high = max(_or_open(g.int_value("maxAge")) for g in ages)
    return low, high


def lint(rules: RuleSet, lang: str = "da") -> list[LintFinding]:
    """Cycles, rules that can never fire, and conclusions that conflict (messages in `lang`)."""

    def _(message: str) -> str:
        return gettext(message, lang)

    kb = rules.kb
    graph = rule_graph(rules)
    findings: list[LintFinding] = []

    for cycle in nx.simple_cycles(graph):
        involved = sorted(n.split(":", 1)[1] for n in cycle if n.startswith("rule:"))
        findings.append(LintFinding("cycle", involved, _("rules feed each other: {cycle}").format(
            cycle=" -> ".join(cycle))))

    # Facts that can hold: inputs, plus whatever a rule that can fire writes (a fixpoint).
    producible = {n for n in graph if any(n.startswith(p) for p in INPUT_PREFIXES)}
    firable: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in rules:
            if rule.id in firable or _self_contradictory(rule, lang):
                continue
            if all(any(f in producible for f in c.reads()) for c in rule.conditions):
                firable.add(rule.id)
                producible.update(rule.writes())
                changed = True
    for rule in rules:
        if rule.id in firable:
            continue
        reason = _self_contradictory(rule, lang) or _("it reads a fact that no rule concludes")
        findings.append(LintFinding("never-fires", [rule.id], _("{rule} can never fire: {reason}").format(
            rule=rule.id, reason=reason)))

    # Conflicts: a rule concluding a forum or age group for ages the concept excludes.
    for rule in rules:
        low, high = _age_range(rule)
        for kind, ident in rule.conclusions:
            if kind == "age_group":
                group = kb.get(ident)
                g_low = group.int_value("minAge") or 0
                g_high = group.int_value("maxAge")
                g_high = 10**6 if g_high is None else g_high
                if low < g_low or high > g_high:
                    findings.append(LintFinding("conflict", [rule.id], _(
                        "{rule} concludes {group} ({group_low}-{group_high}) for ages {low}-{high}").format(
                        rule=rule.id, group=ident, group_low=g_low, group_high=g_high, low=low, high=high)))
            if kind == "forum":
                served = _forum_age_range(kb, ident)
                if served and (high < served[0] or low > served[1]):
                    findings.append(LintFinding("conflict", [rule.id], _(
                        "{rule} sends ages {low}-{high} to {forum}, which serves ages {served_low}-{served_high}"
                    ).format(rule=rule.id, low=low, high=high, forum=ident, served_low=served[0],
                             served_high=served[1])))
    # Two rules with the same conditions that conclude different tiers: one is dead weight.
    by_conditions: dict[tuple[Any, ...], list[Rule]] = {}
    for rule in rules:
        by_conditions.setdefault(rule.conditions, []).append(rule)
    for same in by_conditions.values():
        tiers = {i for r in same for k, i in r.conclusions if k == "tier"}
        if len(tiers) > 1:
            findings.append(LintFinding("conflict", sorted(r.id for r in same),
                _("same conditions conclude different tiers: {tiers}").format(tiers=", ".join(sorted(tiers)))))
    return findings


def _self_contradictory(rule: Rule, lang: str = "da") -> str | None:
    true = {i for c in rule.conditions if c.kind == "factor" for i in c.ids}
    false = {i for c in rule.conditions if c.kind == "factor_false" for i in c.ids}
    both = true & false
    if both:
        return gettext("it needs {factors} both true and false", lang).format(factors=", ".join(sorted(both)))
    low, high = _age_range(rule)
    if low > high:
        return gettext("its age conditions exclude each other ({low} > {high})", lang).format(low=low, high=high)
    return None


def to_dot(rules: RuleSet, lang: str = "da") -> str:
    """The rule graph in Graphviz DOT: rules as boxes, facts as ellipses."""
    graph = rule_graph(rules)

    def quote(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'

    lines = ["digraph kundskab_rules {", "  rankdir=LR;", "  node [fontname=Helvetica];"]
    for node, data in sorted(graph.nodes(data=True)):
        if data.get("kind") == "rule":
            style = "dashed" if data.get("generated") else "solid"
            lines.append(f"  {quote(node)} [shape=box, style={style}, label={quote(node[5:])}];")
        else:
            name = node.split(":", 1)[-1]
            label = f"{node}\n{rules.kb.label(name, lang)}" if name in rules.kb else node
            lines.append(f"  {quote(node)} [shape=ellipse, label={quote(label)}];")
    for a, b in sorted(graph.edges()):
        lines.append(f"  {quote(a)} -> {quote(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
