"""Areas (municipalities, police districts), source documents as records, and links the
editor inferred (ks:inferred), as the knowledge base compiles and serves them."""

from __future__ import annotations

import pytest
import rdflib

from kundskab import KnowledgeBase
from kundskab._paths import ontology_dir
from kundskab.knowledge.compile import compile_directory, compile_graph

MUNICIPALITIES = {
    "esbjerg": "syd-og-soenderjyllands-politi",
    "herlev": "koebenhavns-vestegns-politi",
    "ballerup": "koebenhavns-vestegns-politi",
    "gladsaxe": "koebenhavns-vestegns-politi",
    "aarhus": "oestjyllands-politi",
    "koebenhavn": "koebenhavns-politi",
    **{m: "nordjyllands-politi" for m in (
        "aalborg", "broenderslev", "frederikshavn", "hjoerring", "jammerbugt", "laesoe",
        "mariagerfjord", "rebild", "vesthimmerland")},
}
SEED_FILES = {
    "source-esbjerg-2011": "000_2d4d8aed5ea821e9.txt",
    "source-vestegn-2013": "001_350d4dead12ae4c2.txt",
    "source-tryg-i-aarhus-2017": "002_af39631d06cec792.txt",
    "source-sikker-by-2018": "003_6b7c798122e4c5f5.txt",
    "source-nordjylland-2020": "004_82e8bad0a830fa3a.txt",
}


@pytest.mark.parametrize(("municipality", "district"), sorted(MUNICIPALITIES.items()))
def test_municipalities_lie_in_their_police_district(
    kb: KnowledgeBase, municipality: str, district: str
) -> None:
    concept = kb.get(municipality)
    assert concept.is_a("Municipality") and concept.is_a("Area")
    assert concept.ref("partOf") == (district,)
    assert kb.get(district).is_a("PoliceDistrict")


@pytest.mark.parametrize(("name", "ident"), [
    ("København", "koebenhavn"), ("Copenhagen", "koebenhavn"), ("koebenhavn", "koebenhavn"),
    ("Aarhus Kommune", "aarhus"), ("Århus", "aarhus"), ("Læsø", "laesoe"),
    ("Københavns Vestegns Politi", "koebenhavns-vestegns-politi"),
])
def test_area_names_resolve(kb: KnowledgeBase, name: str, ident: str) -> None:
    assert kb.resolve(name, "Area") == ident


def test_every_seed_file_has_one_source_record(kb: KnowledgeBase) -> None:
    records = {c.id: c for c in kb.of_type("SourceDocument")}
    assert {ident: c.value("file") for ident, c in records.items()} == SEED_FILES
    for concept in records.values():
        assert concept.value("shortTitle", "da")
        assert concept.value("year")
        assert concept.value("placeName")
        assert concept.all_values("http://purl.org/dc/terms/publisher")
        assert concept.all_values("http://purl.org/dc/terms/title")


def test_inferred_nodes_compile_into_a_list_not_a_ref() -> None:
    graph = rdflib.Graph().parse(data="""
        @prefix ks: <https://w3id.org/kundskab/schema#> .
        @prefix kb: <https://w3id.org/kundskab/id/> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        kb:x ks:addressesFactor kb:truancy ; ks:area "Stengårdsvej-kvarteret" ;
            ks:inferred [ ks:property ks:addressesFactor ; ks:value kb:truancy ;
                          skos:note "School absence is implied."@en ] ,
                        [ ks:property ks:area ; ks:value "Stengårdsvej-kvarteret" ;
                          skos:note "Named in the heading only."@en ] .
    """, format="turtle")
    entry = compile_graph(graph)["concepts"]["x"]
    assert "inferred" not in entry["refs"]
    assert entry["inferred"] == [
        {"property": "addressesFactor", "value": "truancy", "note": "School absence is implied."},
        {"property": "area", "value": "Stengårdsvej-kvarteret", "note": "Named in the heading only."},
    ]
    # The blank nodes never become concepts of their own.
    assert set(compile_graph(graph)["concepts"]) == {"x"}


def test_the_knowledge_base_compiles_inferred_links() -> None:
    # Aarhus's police district is the editor's reading of the strategy, and says so.
    aarhus = compile_directory(ontology_dir())["concepts"]["aarhus"]
    assert [(i["property"], i["value"]) for i in aarhus["inferred"]] == [
        ("partOf", "oestjyllands-politi")]
    assert aarhus["inferred"][0]["note"]
    assert "inferred" not in aarhus["refs"]


# ------------------------------------------------------------------ what each measure is for

ANNOTATED = ("esbjerg-2011", "vestegn-2013")


def test_annotated_catalogues_say_what_each_intervention_is_for(kb: KnowledgeBase) -> None:
    items = [i for i in kb.of_type("Intervention") if set(i.ref("partOfProgramme")) & set(ANNOTATED)]
    assert len(items) >= 80
    for item in items:
        assert len(item.all_values("scope")) == 1, item.id
        assert len(item.all_values("status")) == 1, item.id
        assert item.all_values("situation"), item.id
        assert item.ref("municipality"), item.id
        if item.value("scope") == "place":
            assert item.value("area"), item.id


@pytest.mark.parametrize("ident", [
    # Esbjerg, "SSP og SSP+": the tiers are illustrated with "f.eks." and "kan".
    "information-campaigns-esbjerg", "ssp-days-esbjerg", "police-ssp-regular-meetings-esbjerg",
    "parent-boards-cooperation-esbjerg", "school-project-joint-activities-esbjerg",
    "fathers-groups-cooperation-esbjerg", "outreach-street-work-esbjerg",
    "treatment-young-offenders-esbjerg", "work-placements-local-businesses-esbjerg",
    # Esbjerg, "Indbrud.": "Det vil f.eks. kunne dreje sig om ...".
    "street-lighting-esbjerg", "hedge-trimming-esbjerg", "cctv-exposed-areas-esbjerg",
    "neighbourhood-watch-esbjerg", "safety-walks-esbjerg",
    # Vestegn, "3. Udvikling af nye indsatser og metoder": "Det være sig ... mv.".
    "safety-walks-vestegn", "local-police-officer-vestegn", "hotspot-vestegn",
])
def test_examples_in_the_sources_are_not_running_work(kb: KnowledgeBase, ident: str) -> None:
    assert kb.get(ident).value("status") == "example"


@pytest.mark.parametrize("ident", [
    "police-ssp-regular-meetings-esbjerg", "training-municipal-planners-esbjerg",
    "crime-preventive-urban-planning-project-esbjerg", "stengaard-working-group-esbjerg",
    "radicalisation-prevention-course-esbjerg", "working-groups-vestegn", "risk-profiles-vestegn",
])
def test_organisation_of_the_work_has_organisation_scope(kb: KnowledgeBase, ident: str) -> None:
    assert kb.get(ident).value("scope") == "organisation"


def test_ages_follow_the_sources(kb: KnowledgeBase) -> None:
    assert (kb.get("ssp-plus-cooperation-esbjerg").int_value("minAge"),
            kb.get("ssp-plus-cooperation-esbjerg").int_value("maxAge")) == (18, 25)
    assert kb.get("youth-sanction-council-esbjerg").int_value("maxAge") == 17
    assert kb.get("early-effort-cooperation-esbjerg").int_value("maxAge") == 5
    for item in kb.of_type("Intervention"):
        low, high = item.int_value("minAge"), item.int_value("maxAge")
        assert low is None or high is None or low <= high, item.id


# ------------------------------------------------------------------ corrections of the review

def test_ssp_is_for_under_18s_in_both_languages(kb: KnowledgeBase) -> None:
    ssp = kb.get("ssp")
    assert "til og med 18" not in (ssp.definition("da") or "")
    assert "under 18" in (ssp.definition("da") or "")


def test_no_crime_type_claims_a_tryghedsindeks_flag_without_a_source(kb: KnowledgeBase) -> None:
    assert [c.id for c in kb.of_type("CrimeType") if c.values.get("inTryghedsindeks")] == []


def test_fraud_cites_sections_that_speak_of_fraud(kb: KnowledgeBase) -> None:
    sections = {str(s) for s in kb.get("fraud").sources}
    assert "003_6b7c798122e4c5f5.txt#s. 5 Fokus på tværgående samarbejde" not in sections
    assert "002_af39631d06cec792.txt#Digital tryghed" in sections


def test_fora_list_only_the_members_their_sources_name(kb: KnowledgeBase) -> None:
    assert set(kb.get("childrens-house").ref("memberOrganisation")) == {"police", "municipality"}
    assert "volunteers" not in kb.get("victim-support").ref("memberOrganisation")


def test_conflict_council_has_no_age_limit(kb: KnowledgeBase) -> None:
    groups = [kb.get(g) for g in kb.get("conflict-council").ref("targetGroup")]
    assert groups and all(g.int_value("minAge") is None and g.int_value("maxAge") is None for g in groups)
    assert "young-offenders" not in {g.id for g in groups}
