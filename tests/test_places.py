"""The 98 municipalities and 12 police districts: names that resolve however they are spelt,
provenance that says they are public record and not a source, and listings filtered by
place and programme alike from the command line and from Python."""

from __future__ import annotations

import json
import unicodedata
from collections import Counter

import pytest
from click.testing import CliRunner

from kundskab import KnowledgeBase
from kundskab.edges.cli import main
from kundskab.errors import UnknownConceptError
from kundskab.knowledge.browse import describe, list_concepts
from kundskab.knowledge.places import area_scope, district_of, municipalities_of, places_of

# The municipalities of each police district (the police reform, in force 1 January 2007),
# written out here from the public record so that the ontology is checked against a second copy.
DISTRICTS = {
    "nordjyllands-politi": "Aalborg Brønderslev Frederikshavn Hjørring Jammerbugt Læsø Mariagerfjord Rebild "
                           "Vesthimmerland",
    "oestjyllands-politi": "Aarhus Favrskov Norddjurs Odder Randers Samsø Skanderborg Syddjurs",
    "midt-og-vestjyllands-politi": "Herning Holstebro Ikast-Brande Lemvig Morsø Ringkøbing-Skjern Silkeborg "
                                   "Skive Struer Thisted Viborg",
    "sydoestjyllands-politi": "Billund Fredericia Hedensted Horsens Kolding Vejle",
    "syd-og-soenderjyllands-politi": "Aabenraa Esbjerg Fanø Haderslev Sønderborg Tønder Varde Vejen",
    "fyns-politi": "Assens Faaborg-Midtfyn Kerteminde Langeland Middelfart Nordfyn Nyborg Odense Svendborg Ærø",
    "sydsjaellands-og-lolland-falsters-politi": "Faxe Guldborgsund Køge Lolland Næstved Stevns Vordingborg",
    "midt-og-vestsjaellands-politi": "Greve Holbæk Kalundborg Lejre Odsherred Ringsted Roskilde Slagelse "
                                     "Solrød Sorø",
    "nordsjaellands-politi": "Allerød Egedal Fredensborg Frederikssund Furesø Gentofte Gribskov Halsnæs "
                             "Helsingør Hillerød Hørsholm Lyngby-Taarbæk Rudersdal",
    "koebenhavns-vestegns-politi": "Albertslund Ballerup Brøndby Gladsaxe Glostrup Herlev Hvidovre "
                                   "Høje-Taastrup Ishøj Rødovre Vallensbæk",
    "koebenhavns-politi": "København Frederiksberg Tårnby Dragør",
    "bornholms-politi": "Bornholm",
}
# The ids the five sources gave their areas before the rest were added: they stay.
OLD_IDS = ["esbjerg", "herlev", "ballerup", "gladsaxe", "aarhus", "koebenhavn", "aalborg", "broenderslev",
           "frederikshavn", "hjoerring", "jammerbugt", "laesoe", "mariagerfjord", "rebild", "vesthimmerland",
           "syd-og-soenderjyllands-politi", "koebenhavns-vestegns-politi", "oestjyllands-politi",
           "koebenhavns-politi", "nordjyllands-politi"]
SEED_PLACES = set(OLD_IDS)


def _without_danish_letters(name: str) -> str:
    """How a keyboard without æøå spells a name: ø as o, å as a, æ as ae."""
    name = name.replace("æ", "ae").replace("Æ", "Ae").replace("ø", "o").replace("Ø", "O")
    return name.replace("å", "a").replace("Å", "A")


def _ascii_spelling(name: str) -> str:
    """The spelling the label lookup folds to: ø as oe, å as aa."""
    return unicodedata.normalize("NFC", name.replace("ø", "oe").replace("å", "aa").replace("æ", "ae"))


def test_there_are_98_municipalities_and_12_police_districts(kb: KnowledgeBase) -> None:
    municipalities = kb.of_type("Municipality")
    assert len(municipalities) == 98
    assert {d.id for d in kb.of_type("PoliceDistrict")} == set(DISTRICTS)
    assert all(len(m.ref("partOf")) == 1 for m in municipalities)
    assert Counter(m.ref("partOf")[0] for m in municipalities) == {
        d: len(names.split()) for d, names in DISTRICTS.items()}


@pytest.mark.parametrize("district", sorted(DISTRICTS))
def test_each_district_has_its_municipalities(kb: KnowledgeBase, district: str) -> None:
    expected = {kb.resolve(name, "Municipality") for name in DISTRICTS[district].split()}
    assert set(municipalities_of(kb, district)) == expected
    for municipality in expected:
        assert district_of(kb, municipality) == [district]


def test_the_ids_the_sources_gave_still_resolve(kb: KnowledgeBase) -> None:
    for ident in OLD_IDS:
        assert kb.resolve(ident, "Area") == ident


def test_every_name_resolves_with_and_without_danish_letters(kb: KnowledgeBase) -> None:
    """Danish name, short name (an alt label), English name and id; each also as typed without æøå (Koge,
    Hillerod) and with the letters spelt out (Koege, Hilleroed); any case."""
    wrong = []
    for area in kb.of_type("Area"):
        names = {area.id, *area.labels.values()}
        names |= {alt for alts in area.alt_labels.values() for alt in alts}
        for name in list(names):
            names |= {_without_danish_letters(name), _ascii_spelling(name), name.upper(), name.lower()}
        for name in sorted(names):
            for kind in ("Area", None):
                try:
                    found = kb.resolve(name, kind)
                except UnknownConceptError:
                    found = None
                if found != area.id:
                    wrong.append((name, kind, found))
    assert wrong == []


@pytest.mark.parametrize(("name", "ident"), [
    ("Køge", "koege"), ("Koge", "koege"), ("Koege Kommune", "koege"), ("Ærø", "aeroe"), ("Aero", "aeroe"),
    ("Høje-Taastrup", "hoeje-taastrup"), ("Hoje Taastrup", "hoeje-taastrup"), ("Tårnby", "taarnby"),
    ("Tarnby", "taarnby"), ("Frederiksværk-Hundested", "halsnaes"), ("Bornholm", "bornholm"),
    ("Odense Municipality", "odense"), ("Funen Police", "fyns-politi"), ("Fyn", "fyns-politi"),
    ("Sydsjælland", "sydsjaellands-og-lolland-falsters-politi"), ("Østjylland", "oestjyllands-politi"),
])
def test_names_people_type_resolve(kb: KnowledgeBase, name: str, ident: str) -> None:
    assert kb.resolve(name, "Area") == ident


def test_places_the_sources_do_not_name_cite_the_public_record(kb: KnowledgeBase) -> None:
    records = {c.value("file"): c for c in kb.of_type("PublicRecord")}
    assert set(records) == {"public:kommunal-inddeling-2007", "public:politikredse-2007"}
    for area in kb.of_type("Area"):
        if not (area.is_a("Municipality") or area.is_a("PoliceDistrict")):
            # A local area (an estate, a district: ontology/concepts/local-areas.ttl) is
            # cited from the seed section that names it, not from the public record.
            assert area.sources and not any(s.public for s in area.sources), area.id
            continue
        public = [s for s in area.sources if s.public]
        seeds = [s for s in area.sources if not s.public]
        assert public, area.id  # the district every municipality lies in is public record
        assert all(s.file in records for s in public)
        # A place no source names cites no source; one a source names keeps its citation.
        assert bool(seeds) == (area.id in SEED_PLACES), area.id
    odense = describe(kb, kb.get("odense"), "da")
    assert odense["part_of"] == [{"id": "fyns-politi", "label": "Fyns Politi"}]
    assert all(s["public_record"] is True for s in odense["sources"])
    assert {s["title"] for s in odense["sources"]} == {
        "Kommunalreformen 2007 (offentlig oplysning)", "Politireformen 2007 (offentlig oplysning)"}
    assert kb.get("odense").sources[1].citation("da") == \
        "Politireformen 2007 (offentlig oplysning), afsnit 'Fyns Politi'"
    # A citation of a seed says nothing of public records.
    assert "public_record" not in describe(kb, kb.get("esbjerg"), "da")["sources"][0]


def test_a_district_covers_its_municipalities_and_a_municipality_has_its_district(kb: KnowledgeBase) -> None:
    assert area_scope(kb, "aalborg") == {"aalborg", "nordjyllands-politi"}
    assert area_scope(kb, "nordjyllands-politi") == {"nordjyllands-politi", *_district_ids(kb, "nordjyllands-politi")}
    assert area_scope(kb, "aalborg", whole_district=True) == area_scope(kb, "nordjyllands-politi")
    assert places_of(kb, kb.get("odense")) == {"odense", "fyns-politi"}


def _district_ids(kb: KnowledgeBase, district: str) -> set[str]:
    return {kb.resolve(n, "Municipality") for n in DISTRICTS[district].split()}


def test_the_fora_of_north_jutland_are_those_its_sources_and_measures_name(kb: KnowledgeBase) -> None:
    fora = {i["id"] for i in list_concepts(kb, "fora", district=["Nordjylland"])}
    north = "004_82e8bad0a830fa3a.txt"
    named = {f.id for f in kb.of_type("Forum") if any(s.file == north for s in f.sources)}
    named |= {f for m in kb.interventions(district=["nordjyllands-politi"]) for f in m.ref("forum")}
    assert fora == named
    assert {"ssp", "kredsraad", "ssp-plus"} <= fora
    # A municipality of the district has the district's fora; Copenhagen's own are not there.
    assert {i["id"] for i in list_concepts(kb, "fora", municipality=["Hjørring"])} == fora
    assert "sikker-by-steering-group" not in fora


def test_measures_filter_by_place(kb: KnowledgeBase) -> None:
    aalborg = {m.id for m in kb.interventions(municipality=["Aalborg"])}
    district = {m.id for m in kb.interventions(district=["Nordjyllands Politi"])}
    assert aalborg and aalborg <= district
    for ident in aalborg:  # each runs in Aalborg, or district-wide
        here = places_of(kb, kb.get(ident))
        assert here & {"aalborg", "nordjyllands-politi"}, ident
    esbjerg = {m.id for m in kb.interventions(municipality=["esbjerg"])}
    assert esbjerg and not esbjerg & district
    # No source is from Funen: no measure there, and nothing filtered wrongly into it.
    assert kb.interventions(district=["Fyn"]) == []
    # Filters combine with AND; values of one filter with OR.
    both = {m.id for m in kb.interventions(municipality=["Aalborg", "Esbjerg"])}
    assert both == aalborg | esbjerg
    individual = {m.id for m in kb.interventions(municipality=["Aalborg"], tier=["individual"])}
    assert individual and individual < aalborg


def test_the_programme_filter_keeps_a_programmes_own(kb: KnowledgeBase) -> None:
    principles = {i["id"] for i in list_concepts(kb, "principles", programme=["Sikker By"])}
    assert principles and all(kb.get(p).ref("ofProgramme") for p in principles)
    measures = {i["id"] for i in list_concepts(kb, "interventions", programme=["sikker-by-2018"])}
    assert measures == {m.id for m in kb.interventions(programme=["sikker-by-2018"])}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_list_with_a_place_from_the_command_line(kb: KnowledgeBase) -> None:
    code, out = _run("list", "fora", "--district", "Nordjylland", "--format", "json")
    assert code == 0
    assert [i["id"] for i in json.loads(out)] == [i["id"] for i in list_concepts(kb, "fora", district=["nordjylland"])]
    code, out = _run("list", "municipalities", "--district", "Fyns Politi")
    assert code == 0
    assert "Odense Kommune" in out and "Ærø Kommune" in out and "Aalborg" not in out
    code, out = _run("interventions", "--municipality", "Hjorring", "--format", "json")
    assert code == 0
    assert {i["id"] for i in json.loads(out)} == {m.id for m in kb.interventions(municipality=["hjoerring"])}


def test_an_empty_listing_says_why(kb: KnowledgeBase) -> None:
    code, out = _run("list", "fora", "--municipality", "Odense", "--lang", "da")
    assert code == 0
    assert out.startswith("Ingen i Odense Kommune: kildedokumenterne handler om ")
    assert "Nordjyllands Politi" in out


def test_an_unknown_place_is_a_clear_error() -> None:
    code, out = _run("list", "fora", "--district", "Nordjyland", "--lang", "da")
    assert code == 2
    assert "ukendt kommune eller politikreds: 'Nordjyland'; mente du:" in out
    assert "nordjyllands-politi" in out and "Traceback" not in out
