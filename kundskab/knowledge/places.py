"""Where things are: municipalities, police districts, and the places and programmes a
concept belongs to. The one home of "is X in Y" for `list`, `interventions`, the service
and the recommender's ranking.

Areas (ontology/concepts/areas.ttl) are the 98 municipalities and the 12 police districts;
a municipality lies in its district (ks:partOf). Two areas *meet* when one lies in the
other or they are the same: a district's measure applies to the cases of its
municipalities, and a municipality's measure is one of its district's.

Where a concept is:
- an area: where it lies (itself and its district);
- a measure or a source document: its ks:municipality; a measure without one is where
  its programme's source document is (the source is about that place);
- a programme: where its source documents are;
- anything else (a forum, an actor, a target group...): where the source documents that
  name it are, and where the measures that name it run. A forum the Nordjylland plan
  names is one of North Jutland's fora.

A concept's programmes: its own (ks:partOfProgramme, ks:ofProgramme, and for a principle or
sub-goal those that take it over), the programmes whose source document names it, and the
programmes of the measures that name it.
"""

from __future__ import annotations

from collections.abc import Iterable

from kundskab._memo import per_knowledge_base
from kundskab.knowledge.base import Concept, KnowledgeBase

__all__ = ["area_ancestors", "area_scope", "district_of", "municipalities_of", "places_of",
           "programmes_of_concept", "select"]


class _Places:
    """Everything this module works out for one knowledge base, once."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        parents = {a.id: set(a.ref("partOf")) for a in kb.of_type("Area")}
        self.ancestors: dict[str, frozenset[str]] = {}
        for area in parents:
            seen = {area}
            stack = list(parents[area])
            while stack:
                other = stack.pop()
                if other not in seen:
                    seen.add(other)
                    stack.extend(parents.get(other, ()))
            self.ancestors[area] = frozenset(seen)
        self.descendants: dict[str, set[str]] = {a: set() for a in parents}
        for area, above in self.ancestors.items():
            for other in above:
                self.descendants.setdefault(other, set()).add(area)
        # seed file (or public record key) -> the areas and programmes of its document
        self.file_places: dict[str, frozenset[str]] = {}
        for record in kb.of_type("SourceDocument"):
            for file in record.all_values("file"):
                self.file_places[str(file)] = frozenset(record.ref("municipality"))
        self.file_programmes: dict[str, set[str]] = {}
        for programme in kb.of_type("Programme"):
            for source in programme.sources:
                self.file_programmes.setdefault(source.file, set()).add(programme.id)
        # concept id -> the measures that name it (any property)
        self.named_by: dict[str, list[Concept]] = {}
        for measure in kb.of_type("Intervention"):
            for ids in measure.refs.values():
                for ident in ids:
                    self.named_by.setdefault(ident, []).append(measure)
        self._places: dict[str, frozenset[str]] = {}
        self._programmes: dict[str, frozenset[str]] = {}

    def files_places(self, concept: Concept) -> set[str]:
        return {a for s in concept.sources for a in self.file_places.get(s.file, ())}

    def measure_places(self, measure: Concept) -> frozenset[str]:
        own = measure.ref("municipality")
        return frozenset(own) if own else frozenset(self.files_places(measure))

    def places(self, concept: Concept) -> frozenset[str]:
        found = self._places.get(concept.id)
        if found is not None:
            return found
        if concept.is_a("Area"):
            result = self.ancestors.get(concept.id, frozenset({concept.id}))
        elif concept.is_a("Intervention") or concept.is_a("SourceDocument"):
            result = self.measure_places(concept)
        else:
            here = self.files_places(concept)
            for measure in self.named_by.get(concept.id, ()):
                here |= self.measure_places(measure)
            result = frozenset(here)
        self._places[concept.id] = result
        return result

    def programmes(self, concept: Concept) -> frozenset[str]:
        found = self._programmes.get(concept.id)
        if found is not None:
            return found
        from kundskab.knowledge.programmes import programmes_of

        own = set(concept.ref("partOfProgramme")) | set(concept.ref("ofProgramme"))
        if concept.is_a("Programme"):
            own.add(concept.id)
        if concept.is_a("Principle") or concept.is_a("SubGoal"):
            own.update(programmes_of(self.kb, concept.id))
        if not concept.is_a("Intervention"):
            own.update(p for s in concept.sources for p in self.file_programmes.get(s.file, ()))
            for measure in self.named_by.get(concept.id, ()):
                own.update(measure.ref("partOfProgramme"))
        result = frozenset(own)
        self._programmes[concept.id] = result
        return result


_places = per_knowledge_base(_Places)


def area_ancestors(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """Each area with every area it lies in (ks:partOf, followed), itself included."""
    return _places(kb).ancestors


def district_of(kb: KnowledgeBase, area: str) -> list[str]:
    """The police districts an area lies in (a district: itself), sorted."""
    return sorted(a for a in _places(kb).ancestors.get(area, ()) if kb.get(a).is_a("PoliceDistrict"))


def municipalities_of(kb: KnowledgeBase, area: str) -> list[str]:
    """The municipalities that lie in an area (a municipality: itself), sorted."""
    places = _places(kb)
    inside = places.descendants.get(area, set()) | {area}
    return sorted(a for a in inside if a in kb and kb.get(a).is_a("Municipality"))


def area_scope(kb: KnowledgeBase, area: str, *, whole_district: bool = False) -> frozenset[str]:
    """The areas that meet `area` (an area id): the areas it lies in and those that lie in
    it. With `whole_district`, a municipality stands for its whole police district."""
    places = _places(kb)
    start = {area}
    if whole_district:
        start = set(district_of(kb, area)) or start
    found: set[str] = set()
    for one in start:
        found |= places.ancestors.get(one, frozenset({one}))
        found |= places.descendants.get(one, set())
    return frozenset(found)


def places_of(kb: KnowledgeBase, concept: Concept) -> frozenset[str]:
    """The areas a concept is in, as the module's docstring says (empty: not placed)."""
    return _places(kb).places(concept)


def programmes_of_concept(kb: KnowledgeBase, concept: Concept) -> frozenset[str]:
    """The programmes a concept belongs to, as the module's docstring says."""
    return _places(kb).programmes(concept)


def select(kb: KnowledgeBase, concepts: Iterable[Concept], *, municipality: Iterable[str] = (),
           district: Iterable[str] = (), programme: Iterable[str] = ()) -> list[Concept]:
    """The concepts in a place and of a programme (filters combine with AND, the values of
    one filter with OR). `municipality`: names or ids of any area (a municipality with its
    district, or a district with its municipalities); `district`: of police districts, or of
    municipalities each standing for its district; `programme`: of programmes. An unknown
    name raises UnknownConceptError with the nearest names."""
    places: set[str] = set()
    for name in municipality:
        places |= area_scope(kb, kb.resolve(name, "Area"))
    districts: set[str] = set()
    for name in district:
        districts |= area_scope(kb, kb.resolve(name, "Area"), whole_district=True)
    wanted = {kb.resolve(name, "Programme") for name in programme}
    scopes = [scope for scope in (places, districts) if scope]
    found = []
    for concept in concepts:
        here = places_of(kb, concept) if scopes else frozenset()
        if any(not (here & scope) for scope in scopes):
            continue
        if wanted and not (wanted & programmes_of_concept(kb, concept)):
            continue
        found.append(concept)
    return found
