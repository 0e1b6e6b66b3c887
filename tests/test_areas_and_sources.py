"""Areas (municipalities, police districts), source documents as records, and links the
editor inferred (ks:inferred), as the knowledge base compiles and serves them."""

from __future__ import annotations

import pytest
import rdflib

from kundskab import KnowledgeBase
from kundskab._compile import compile_directory, compile_graph
from kundskab._paths import ontology_dir

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
