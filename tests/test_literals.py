"""Every text of the knowledge base that a person reads exists in Danish and in English, and
`--lang` picks it: `show`, `interventions`, `programmes`, `check --programme`, `validate` and
`recommend` print labels, definitions and these literals.

What needs no translation is listed here with the reason: figures and years, codes (which the
command line names through the message catalogue), proper names, the source documents' own
titles, and the editor's notes on inferred links (English only, ontology/README.md).
"""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from kundskab import KnowledgeBase
from kundskab.edges.cli import main

# Literal properties whose text a person reads (browse.VALUE_KEYS shows them in `show`).
SHOWN = {"place", "period", "area", "baseline", "baselineYear", "target", "targetYear", "dataSource",
         "meets", "trigger", "note"}
# Codes and machine values: the command line shows a code's name from the message catalogue
# (kundskab.edges.rendering.VALUE_NAMES) or the code itself, never the literal as text.
CODES = {"scope", "status", "situation", "field", "errorCode", "requiredValue", "allowedValue",
         "appliesTo", "effectFollowUp", "version", "file", "minAge", "maxAge", "rank", "minCount",
         "principleNumber", "inTryghedsindeks", "outsideRequirements", "developmentInitiative",
         "fullyDescribed", "pages", "victimless", "mediationOnRequest", "askedOnlyWhenRaised"}
# A source document as published: its own Danish title, short title, publishers, place and year.
DOCUMENT_NAMES = {"http://purl.org/dc/terms/title", "shortTitle", "http://purl.org/dc/terms/publisher",
                  "placeName", "year", "pagedSection"}  # pagedSection: its own headings, by page
# "unknown" is the knowledge base's word for a silent source; the CLI translates it.
UNKNOWN = "unknown"
# Years, periods of years and percentages: the same in both languages.
FIGURE = re.compile(r"^[\d\s%.,–-]+$")
# Proper names, shown as they are in both languages: municipalities, districts, police
# districts, neighbourhoods, organisations and a named index.
PROPER_NAMES = {
    "Aalborg", "Aarhus Kommune", "Esbjerg", "Esbjerg Kommune", "Esbjerg Nord", "Hjørring Kommune",
    "Københavns Kommune", "Københavns Politikreds", "Nordjylland", "Syd- og Sønderjylland",
    "Syd- og Sønderjyllands Politi", "Smedetoften, Bispebjerg", "Amager", "Folehaven", "Nordvest",
    "Nørrebro", "Valby", "Tingbjerg/Husum",
    "Danmarks Statistik", "Københavns Politi", "Rigspolitiet", "Politiets Tryghedsindeks",
}


def _untranslated(kb: KnowledgeBase) -> list[str]:
    found = []
    for concept in kb:
        for lang in ("da", "en"):
            if lang not in concept.labels:
                found.append(f"{concept.id}: no {lang} label")
            if concept.definitions and lang not in concept.definitions:
                found.append(f"{concept.id}: no {lang} definition")
        for prop, values in concept.values.items():
            if prop in CODES or prop in DOCUMENT_NAMES:
                continue
            if prop not in SHOWN:
                found.append(f"{concept.id}: {prop} is neither shown text nor a code here: classify it")
                continue
            langs = sorted(v["lang"] for v in values if isinstance(v, dict))
            plain = [v for v in values if isinstance(v, str)]
            if langs and (langs != ["da", "en"] or plain):
                found.append(f"{concept.id}: {prop} in {langs} and {len(plain)} plain")
            for text in plain:
                if text != UNKNOWN and not FIGURE.match(text) and text not in PROPER_NAMES:
                    found.append(f"{concept.id}: {prop} {text!r} has no language")
    return found


def test_every_shown_literal_exists_in_danish_and_english(kb: KnowledgeBase) -> None:
    assert _untranslated(kb) == []


def test_every_class_name_exists_in_danish_and_english(kb: KnowledgeBase) -> None:
    assert [c for c, entry in kb.classes.items() if not {"da", "en"} <= set(entry["labels"])] == []


def test_the_exemptions_are_in_use(kb: KnowledgeBase) -> None:
    # A name no longer in the knowledge base would let a new English text pass unnoticed.
    plain = {v for c in kb for vs in c.values.values() for v in vs if isinstance(v, str)}
    assert PROPER_NAMES - plain == set()


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), prog_name="kundskab")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_show_prints_an_indicators_texts_in_the_chosen_language() -> None:
    # Regression: baseline and target came out in English under --lang da.
    ident = "sikker-by-2018-indicator-registered-gang-members"
    danish = _invoke("--lang", "da", "show", ident)
    assert "290 registrerede rocker- og bandemedlemmer" in danish
    assert "gradvist færre registrerede medlemmer" in danish
    assert "290 registered" not in danish and "gradual fall" not in danish
    english = _invoke("--lang", "en", "show", ident)
    assert "290 registered biker and gang members" in english
    assert "290 registrerede" not in english


def test_a_programme_shows_its_indicators_in_danish() -> None:
    out = _invoke("--lang", "da", "show", "tryg-i-aarhus-2017")
    assert "Politiets Tryghedsindeks (årligt)" in out
    assert "på niveau med eller bedre end København" in out
    assert "(yearly)" not in out and "on a par with" not in out


def test_place_period_and_note_follow_the_language() -> None:
    ident = "night-life-staff-basic-course-aarhus"
    shown = json.loads(_invoke("--lang", "da", "show", ident, "--format", "json"))
    assert (shown["place"], shown["period"]) == ("Aarhus (nattelivet)", "marts 2017 (første kursus)")
    shown = json.loads(_invoke("--lang", "en", "show", ident, "--format", "json"))
    assert (shown["place"], shown["period"]) == ("Aarhus (night life)", "March 2017 (first course)")
    note = json.loads(_invoke("--lang", "da", "show", "anti-radicalisation-effort-aarhus", "--format", "json"))
    assert note["note"].startswith("Kører ved siden af Tryg i Aarhus")


def test_interventions_list_places_in_the_chosen_language() -> None:
    listed = json.loads(_invoke("--lang", "da", "interventions", "--format", "json"))
    places = {i["id"]: i["place"] for i in listed}
    assert places["night-life-staff-basic-course-aarhus"] == "Aarhus (nattelivet)"
    listed = json.loads(_invoke("--lang", "en", "interventions", "--format", "json"))
    assert {i["id"]: i["place"] for i in listed}["safety-partnership-valby"] == "Valby, Copenhagen"
