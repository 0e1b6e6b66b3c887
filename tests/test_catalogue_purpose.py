"""What each catalogue intervention is for (scope, status, ages, situation, area) and the
provenance of its links, read straight from the Turtle of the catalogue files that carry it.

Reads the graph with rdflib, so the checks hold whatever the compiled cache does with the
ks:inferred nodes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, SKOS

from kundskab import KnowledgeBase
from kundskab._paths import ontology_dir
from kundskab.knowledge import vocab as _vocab

KS = rdflib.Namespace(_vocab.KS)
KB = rdflib.Namespace(_vocab.KB)

SCOPES = {"person", "group", "place", "population", "organisation"}
STATUSES = {"running", "planned", "example"}
SITUATIONS = {"offender", "at-risk", "victim", "relative", "citizen"}

# The catalogue files reviewed for issue 10, with the areas their measures may belong to.
AREAS = {
    # The plain-clothes patrol is staffed from the Esbjerg, Varde and Ribe stations (000 Vold).
    "000-esbjerg-2011.ttl": {"esbjerg", "varde", "syd-og-soenderjyllands-politi"},
    "001-vestegn-2013.ttl": {"herlev", "ballerup", "gladsaxe"},
    "002-tryg-i-aarhus-2017.ttl": {"aarhus", "oestjyllands-politi"},
    "003-sikker-by-2018.ttl": {"koebenhavn", "koebenhavns-politi"},
    "004-nordjylland-2020.ttl": {"nordjyllands-politi", "hjoerring", "aalborg", "jammerbugt",
                                 "frederikshavn"},
}


def _graph(name: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(Path(ontology_dir()) / "catalogue" / name, format="turtle")
    return graph


def _interventions(graph: rdflib.Graph) -> list[rdflib.term.Node]:
    return sorted(graph.subjects(RDF.type, KS.Intervention))


def _local(node: rdflib.term.Node) -> str:
    return str(node).rpartition("/")[2]


def _local_areas_in(places: set[str]) -> set[str]:
    """The local areas (ontology/concepts/local-areas.ttl: an estate, a district) that lie in
    one of `places`: a measure of one estate runs in its source's place too."""
    graph = rdflib.Graph()
    graph.parse(Path(ontology_dir()) / "concepts" / "local-areas.ttl", format="turtle")
    return {_local(area) for area, place in graph.subject_objects(KS.partOf) if _local(place) in places}


@pytest.fixture(scope="module", params=sorted(AREAS))
def catalogue(request: pytest.FixtureRequest) -> tuple[str, rdflib.Graph]:
    return request.param, _graph(request.param)


def test_every_intervention_says_what_it_is_for(catalogue: tuple[str, rdflib.Graph]) -> None:
    name, graph = catalogue
    problems = []
    for item in _interventions(graph):
        scopes = [str(o) for o in graph.objects(item, KS.scope)]
        statuses = [str(o) for o in graph.objects(item, KS.status)]
        situations = {str(o) for o in graph.objects(item, KS.situation)}
        if len(scopes) != 1 or scopes[0] not in SCOPES:
            problems.append((_local(item), "scope", scopes))
        if len(statuses) != 1 or statuses[0] not in STATUSES:
            problems.append((_local(item), "status", statuses))
        if not situations or not situations <= SITUATIONS:
            problems.append((_local(item), "situation", situations))
        low, high = ([o.toPython() for o in graph.objects(item, p)] for p in (KS.minAge, KS.maxAge))
        malformed = any(len(v) > 1 or not all(isinstance(a, int) for a in v) for v in (low, high))
        if malformed or (low and high and low[0] > high[0]):
            problems.append((_local(item), "ages", low, high))
        areas = {_local(o) for o in graph.objects(item, KS.municipality)}
        if not areas <= AREAS[name] | _local_areas_in(AREAS[name]):
            problems.append((_local(item), "municipality", areas))
        if scopes == ["place"] and not list(graph.objects(item, KS.area)):
            problems.append((_local(item), "a place-scope measure names its area", []))
    assert problems == []


def test_every_inferred_node_marks_a_link_that_is_there(catalogue: tuple[str, rdflib.Graph]) -> None:
    _, graph = catalogue
    problems = []
    for item, node in graph.subject_objects(KS.inferred):
        props = list(graph.objects(node, KS.property))
        values = list(graph.objects(node, KS.value))
        notes = [n for n in graph.objects(node, SKOS.note) if getattr(n, "language", None) == "en"]
        if len(props) != 1 or len(values) != 1 or len(notes) != 1:
            problems.append((_local(item), props, values))
            continue
        prop, value = props[0], values[0]
        asserted = set(graph.objects(item, prop))
        if isinstance(value, rdflib.Literal):
            # a literal link is compared by its value ("person", 17)
            if value.toPython() not in {o.toPython() for o in asserted if isinstance(o, rdflib.Literal)}:
                problems.append((_local(item), _local(prop), str(value)))
        elif value not in asserted:
            problems.append((_local(item), _local(prop), _local(value)))
    assert problems == []


def _inferred_links(graph: rdflib.Graph, item: rdflib.term.Node, prop: rdflib.URIRef) -> set[rdflib.term.Node]:
    return {v for node in graph.objects(item, KS.inferred) if (node, KS.property, prop) in graph
            for v in graph.objects(node, KS.value)}


def test_sikker_by_principles_per_initiative_are_the_editors() -> None:
    """The strategy orders its chapters by principle but never says which principles an
    initiative supports (003, s. 6 Effektmåling): every such link is marked inferred."""
    graph = _graph("003-sikker-by-2018.ttl")
    unmarked = [(_local(i), _local(p)) for i in _interventions(graph)
                for p in graph.objects(i, KS.supportsPrinciple)
                if p not in _inferred_links(graph, i, KS.supportsPrinciple)]
    assert unmarked == []
    # Only the strategy's own words could make an initiative funded under it; none says so.
    assert not list(graph.subject_objects(KS.fundedBy))


def test_tryg_i_aarhus_sub_goals_per_initiative_are_the_editors() -> None:
    """The sub-goal of each initiative is in its initiative document, which is not part of the
    source (002, 5. Mål og delmål)."""
    graph = _graph("002-tryg-i-aarhus-2017.ttl")
    unmarked = [(_local(i), _local(g)) for i in _interventions(graph)
                for g in graph.objects(i, KS.servesSubGoal)
                if g not in _inferred_links(graph, i, KS.servesSubGoal)]
    assert unmarked == []


@pytest.mark.parametrize(("ident", "section"), [
    # "Dette kan f.eks. bestå i workshopaktiviteter ... Men også egentlige oplysningsaktiviteter"
    ("online-protection-workshops-aarhus", "Digital tryghed"),
    ("safe-internet-advice-aarhus", "Digital tryghed"),
    # "Metoderne kan f.eks. være Kend dine naboer-initiativer, deltager/borgerbudgetter og ..."
    ("know-your-neighbours-aarhus", "Aktivt medborgerskab som drivkraft i utrygge boligområder"),
    ("citizen-budgets-aarhus", "Aktivt medborgerskab som drivkraft i utrygge boligområder"),
    ("co-creation-projects-aarhus", "Aktivt medborgerskab som drivkraft i utrygge boligområder"),
])
def test_aarhus_methods_offered_as_examples_are_examples(ident: str, section: str) -> None:
    graph = _graph("002-tryg-i-aarhus-2017.ttl")
    item = KB[ident]
    assert [str(o) for o in graph.objects(item, KS.status)] == ["example"]
    assert f"002_af39631d06cec792.txt#{section}" in {str(s) for s in graph.objects(item, rdflib.DCTERMS.source)}


def test_no_catalogue_fact_of_tryg_i_aarhus_rests_on_the_related_documents_header() -> None:
    """The file's "Relaterede dokumenter" list names six Tryghedsindeks crime types; the
    strategy's own text does not, so no Aarhus intervention is tied to them on that ground."""
    graph = _graph("002-tryg-i-aarhus-2017.ttl")
    header_only = {KB["drugs"], KB["vandalism"], KB["harassment"], KB["violence-and-threats"]}
    assert not [(_local(i), _local(c)) for i in _interventions(graph)
                for c in graph.objects(i, KS.crimeType) if c in header_only]


def test_sikker_by_citations_stay_within_the_strategy(kb: KnowledgeBase) -> None:
    """Only pages 1-13 of seed 003 are the strategy; the "Læs mere" teasers after them are other
    documents (seeds/README.md)."""
    pages = [(concept.id, source.section) for concept in kb for source in concept.sources
             if source.file.startswith("003_")]
    assert pages
    outside = [(ident, section) for ident, section in pages
               if not (match := re.match(r"s\. (\d+) ", section)) or not 1 <= int(match.group(1)) <= 13]
    assert outside == []


def test_a_burglary_hit_neighbourhood_is_not_a_vulnerable_housing_area() -> None:
    """004 "Hjørring Kommune: Projekt Fri for Indbrud": the meeting is for any local area hit by
    burglaries, which says nothing about it being a vulnerable housing area."""
    graph = _graph("004-nordjylland-2020.ttl")
    groups = set(graph.objects(KB["rapid-burglary-citizens-meeting-hjoerring"], KS.targetGroup))
    assert groups == {KB["homeowners"]}
