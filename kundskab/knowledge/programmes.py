"""A programme's parts and requirements: the one place that works them out.

A programme's principles (or sub-goals, goals, areas of effort) are those whose
ks:ofProgramme is the programme plus those it takes over with ks:includes (schema.ttl):
a new version of a programme reuses the old one's ids. An included programme brings all
its parts. Its requirements are the ks:Requirement concepts of the programme itself.
`check`, `show`, `template` and `validate` all ask here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from kundskab._memo import per_knowledge_base
from kundskab.knowledge.base import Concept, KnowledgeBase

__all__ = ["Requirement", "parts", "programmes_of", "requirements"]

# Where a requirement applies (ks:appliesTo): "funded" means only initiatives funded under
# the programme; "development" only the working groups and development initiatives the
# programme sets up (ks:developmentInitiative); absent means every initiative of the programme.
FUNDED = "funded"
DEVELOPMENT = "development"


@dataclass(frozen=True)
class Requirement:
    """A ks:Requirement, read from the knowledge base."""

    id: str
    programme: str
    field: str
    code: str
    min_count: int | None
    values_from: str | None
    required: tuple[str, ...]
    allowed: tuple[str, ...]
    applies_to: str | None = None  # FUNDED, or None: every initiative of the programme
    source: str = ""


class _Programmes:
    """Parts and requirements of every programme of one knowledge base, worked out once."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._parts: dict[tuple[str, str], list[Concept]] = {}
        self.requirements: dict[str, list[Requirement]] = {}
        for concept in kb.of_type("Requirement"):
            values_from = concept.ref("valuesFrom")
            for programme in concept.ref("ofProgramme"):
                self.requirements.setdefault(programme, []).append(Requirement(
                    id=concept.id, programme=programme, field=concept.value("field") or "",
                    code=concept.value("errorCode") or "missing-field",
                    min_count=concept.int_value("minCount"),
                    values_from=values_from[0] if values_from else None,
                    required=tuple(concept.all_values("requiredValue")),
                    allowed=tuple(sorted(concept.all_values("allowedValue"))),
                    applies_to=concept.value("appliesTo"),
                    source=str(concept.sources[0]) if concept.sources else ""))
        for found in self.requirements.values():
            found.sort(key=lambda r: r.id)

    def parts(self, programme: str, class_name: str) -> list[Concept]:
        key = (programme, class_name)
        if key not in self._parts:
            ids: set[str] = set()
            seen: set[str] = set()
            stack = [programme]
            while stack:  # included programmes bring their own parts (and what they include)
                current = stack.pop()
                if current in seen or current not in self.kb:
                    continue
                seen.add(current)
                ids.update(c.id for c in self.kb.referrers(current, "ofProgramme", class_name))
                for included in self.kb.get(current).ref("includes"):
                    if included not in self.kb:
                        continue
                    concept = self.kb.get(included)
                    if concept.is_a("Programme"):
                        stack.append(included)
                    elif concept.is_a(class_name):
                        ids.add(included)
            found = [self.kb.get(i) for i in ids]
            self._parts[key] = sorted(found, key=lambda c: (c.int_value("principleNumber") or 99, c.id))
        return self._parts[key]


_programmes = per_knowledge_base(_Programmes)


def parts(kb: KnowledgeBase, programme: str, class_name: str = "Principle") -> list[Concept]:
    """The programme's parts of one class (Principle, SubGoal, Goal, FocusArea...): its own
    plus those it includes, ordered by principle number, then id."""
    return list(_programmes(kb).parts(programme, class_name))


def requirements(kb: KnowledgeBase, programme: str) -> list[Requirement]:
    """The requirements the programme places on its initiatives, ordered by id."""
    return list(_programmes(kb).requirements.get(programme, []))


def programmes_of(kb: KnowledgeBase, part: str) -> list[str]:
    """The programmes a principle or sub-goal belongs to: its own and those including it."""
    if part not in kb:
        return []
    concept = kb.get(part)
    return sorted(p.id for p in kb.of_type("Programme")
                  if any(part == c.id for c in parts(kb, p.id, concept.type)))
