"""Rules made from the ontology rather than written: one per age group, from the age
bounds the ontology gives it."""

from __future__ import annotations

from collections.abc import Iterable

from kundskab.knowledge.base import KnowledgeBase
from kundskab.reasoning.rules.records import Condition, Rule


def age_group_rules(kb: KnowledgeBase) -> Iterable[Rule]:
    """One rule per age group, from the age bounds the ontology gives it."""
    for group in kb.of_type("AgeGroup"):
        low, high = group.int_value("minAge"), group.int_value("maxAge")
        span_da = f"{low}–{high} år" if high is not None else f"{low} år og derover"
        span_en = f"{low}–{high}" if high is not None else f"{low} and over"
        # As a rule file would write it: an open bound is left out, never "max: None".
        bounds = ", ".join(f"{name}: {value}" for name, value in (("min", low), ("max", high)) if value is not None)
        yield Rule(
            id=f"age-group-{group.id}",
            conditions=(Condition("age", min_age=low, max_age=high,
                                  origin=f"age: {{{bounds}}}"),),
            conclusions=(("age_group", group.id),),
            because={"da": f"Alderen hører til {group.label('da').lower()} ({span_da}).",
                     "en": f"The age falls in {group.label('en').lower()} ({span_en})."},
            source=str(group.sources[0]) if group.sources else "",
            file="ontology (age bounds)",
            line=0,
            generated=True,
        )
