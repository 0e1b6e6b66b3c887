"""What factors imply: ks:implies followed transitively, both ways (a case that gives a
factor gives every factor it implies; a rule about a factor is met by every factor that
implies it)."""

from __future__ import annotations

from kundskab._memo import per_knowledge_base
from kundskab.knowledge.base import KnowledgeBase


@per_knowledge_base
def implied_factors(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """For each factor, every factor it implies (ks:implies, followed transitively)."""
    direct = {f.id: set(f.ref("implies")) for f in kb.of_type("Factor")}
    found = {}
    for factor in direct:
        seen: set[str] = set()
        stack = list(direct[factor])
        while stack:
            other = stack.pop()
            if other not in seen and other != factor:
                seen.add(other)
                stack.extend(direct.get(other, ()))
        found[factor] = frozenset(seen)
    return found


def implying_factors(kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """For each factor, the factors that imply it (ks:implies, transitively), in id order."""
    found: dict[str, set[str]] = {}
    for factor, implied in implied_factors(kb).items():
        for other in implied:
            found.setdefault(other, set()).add(factor)
    return {k: tuple(sorted(v)) for k, v in found.items()}
