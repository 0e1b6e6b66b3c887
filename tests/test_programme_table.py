"""`check --programme`: what counts as an initiative, the three counted kinds of support
(placed by the strategy, stated, derived from stated facts), verdicts that mean what they
say, and a table its reader can use (csv with BOM and ';', xlsx)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from kundskab import KnowledgeBase
from kundskab.documents.principle_support import (
    CANNOT_TELL,
    CLAIMED,
    COUNTED,
    DERIVED,
    FALLS_SHORT,
    MEETS,
    NOT_GRADED,
    PLACED,
    assess_programme,
    deriver,
    intervention_facts,
)
from kundskab.edges.cli import main
from kundskab.edges.rendering import TABLE_COLUMNS, table_headers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SIKKER_BY = "sikker-by-2018"
PAGES = {"collaboration": "5", "knowledge": "6", "youth-at-risk": "7", "gangs": "9", "local-areas": "11"}


def test_every_sikker_by_row_cites_its_chapter_with_page(kb: KnowledgeBase) -> None:
    rows = assess_programme(kb, SIKKER_BY, "en").initiatives
    assert len(rows) == 39
    for row in rows:
        concept = kb.get(row.id)
        chapters = [kb.get(a) for a in concept.ref("inFocusArea")]
        assert len(chapters) == 1, row.id
        chapter = chapters[0]
        assert chapter.value("pages") and row.chapter and chapter.value("pages") in row.chapter
        for principle in chapter.ref("underPrinciple"):
            placed = [s for s in row.principles if s.support == PLACED]
            assert [s.id for s in placed] == [principle], row.id
            assert placed[0].source and f"#s. {PAGES[principle]} " in placed[0].source


def test_placement_is_counted_and_is_the_strategys_own_statement(kb: KnowledgeBase) -> None:
    row = next(r for r in assess_programme(kb, SIKKER_BY, "en").initiatives if r.id == "knowledge-gathering-copenhagen")
    assert "knowledge" in row.counted()  # its text is principle 2's own wording (s. 6)
    assert {s.support for s in row.principles if s.id == "knowledge"} == {PLACED}


def test_no_graded_row_is_follow_up_measurement_or_core_police_work(kb: KnowledgeBase) -> None:
    for programme in (SIKKER_BY, "tryg-i-aarhus-2017", "vestegn-2013"):
        for row in assess_programme(kb, programme, "en").initiatives:
            concept = kb.get(row.id)
            apart = concept.ref("kind") == ("follow-up",) or concept.value("outsideRequirements") in (
                "measurement", "core-police-work", "other-strategy")
            if apart:
                assert row.verdict == NOT_GRADED and row.in_scope is False, row.id
    rows = {r.id: r for r in assess_programme(kb, SIKKER_BY, "en").initiatives}
    for ident in ("annual-effect-measurement-copenhagen", "annual-goal-reporting-sikker-by",
                  "safety-survey-copenhagen", "police-gang-investigation-copenhagen"):
        assert rows[ident].verdict == NOT_GRADED
    assert "follow-up the programme itself prescribes" in rows["annual-effect-measurement-copenhagen"].why
    assert "core police work" in rows["police-gang-investigation-copenhagen"].why


def test_a_falls_short_row_rests_on_complete_evidence(kb: KnowledgeBase) -> None:
    for programme in (SIKKER_BY, "tryg-i-aarhus-2017", "vestegn-2013"):
        for row in assess_programme(kb, programme, "en").initiatives:
            if row.verdict == FALLS_SHORT:
                assert kb.get(row.id).value("fullyDescribed") == "true", row.id


def test_derivations_from_inferred_premises_are_never_counted(kb: KnowledgeBase) -> None:
    derive = deriver(kb)
    checked = 0
    for concept in kb.of_type("Intervention"):
        facts = intervention_facts(kb, concept)
        for support in derive.derive(facts):
            if support.support == DERIVED:
                checked += 1
                assert not any(p.endswith("(inferred)") for p in support.because), concept.id
            else:
                assert support.support == CLAIMED and support.inferred
        # Every fact taken as inferred: nothing derived is counted any more.
        everything = replace(facts, inferred=facts.known)
        assert all(s.support == CLAIMED for s in derive.derive(everything)), concept.id
    assert checked > 50


def test_gang_exit_collaboration_from_an_inferred_forum_is_not_counted(kb: KnowledgeBase) -> None:
    row = next(r for r in assess_programme(kb, SIKKER_BY, "en").initiatives if r.id == "gang-exit-programme-copenhagen")
    collaboration = [s for s in row.principles if s.id == "collaboration"]
    assert collaboration and all(s.support == CLAIMED for s in collaboration)
    assert "collaboration" not in row.counted()


FIXTURE = """@prefix ks: <https://w3id.org/kundskab/schema#> .
@prefix kb: <https://w3id.org/kundskab/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
""" + "".join(f"""
kb:test-{name} a ks:Intervention ;
    skos:prefLabel "Test {name}"@da , "Test {name}"@en ;
    skos:definition "Test data."@en ;
    ks:tier kb:general ; ks:targetGroup kb:all-citizens ; ks:evidence kb:evidence-unknown ;
    ks:partOfProgramme kb:sikker-by-2018 ; ks:fundedBy kb:sikker-by-2018 ;
    ks:scope "person" ; ks:kind kb:{kind} ; ks:status "running" ; ks:situation "citizen" ;
    ks:supportsPrinciple {principles} ;{extra}
    dct:source "003_6b7c798122e4c5f5.txt#s. 6 Effektmåling" .
""" for name, kind, principles, extra in (
    ("meets", "help", "kb:collaboration , kb:knowledge , kb:gangs", ""),
    ("complete-short", "help", "kb:gangs", "\n    ks:fullyDescribed true ;"),
    ("thin", "help", "kb:gangs", ""),
    ("follow-up", "follow-up", "kb:knowledge", ""),
    ("inferred-three", "help", "kb:collaboration , kb:knowledge , kb:gangs",
     "\n    ks:inferred [ ks:property ks:supportsPrinciple ; ks:value kb:knowledge ; skos:note \"test\"@en ] ;"),
))


@pytest.fixture()
def fixture_rows(ontology_copy: Path) -> dict[str, object]:
    (ontology_copy / "catalogue" / "test-verdicts.ttl").write_text(FIXTURE, "utf-8")
    kb = KnowledgeBase.load(ontology_copy)
    return {r.id: r for r in assess_programme(kb, SIKKER_BY, "en").initiatives if r.id.startswith("test-")}


def test_a_verdict_per_kind_on_small_fixtures(fixture_rows: dict[str, object]) -> None:
    rows = fixture_rows
    assert rows["test-meets"].verdict == MEETS and not rows["test-meets"].failure  # type: ignore[attr-defined]
    # A fully described initiative that falls short still says so, and is a finding.
    short = rows["test-complete-short"]
    assert short.verdict == FALLS_SHORT and short.failure  # type: ignore[attr-defined]
    assert "describes the initiative fully" in short.why  # type: ignore[attr-defined]
    # The same, thinly described: fewer shown cannot be told from the source.
    thin = rows["test-thin"]
    assert thin.verdict == CANNOT_TELL and not thin.failure  # type: ignore[attr-defined]
    assert "1 of the required 3" in thin.why and "sectors:" not in thin.why  # type: ignore[attr-defined]
    follow = rows["test-follow-up"]
    assert follow.verdict == NOT_GRADED and follow.in_scope is False and not follow.failure  # type: ignore[attr-defined]
    # An inferred link is claimed, not counted: two of three.
    inferred = rows["test-inferred-three"]
    assert inferred.verdict == CANNOT_TELL and sorted(inferred.counted(COUNTED)) == ["collaboration", "gangs"]  # type: ignore[attr-defined]


def test_aarhus_and_vestegn_tables(kb: KnowledgeBase) -> None:
    aarhus = {r.id: r for r in assess_programme(kb, "tryg-i-aarhus-2017", "en").initiatives}
    for ident in ("anti-radicalisation-effort-aarhus", "housing-area-safety-efforts-aarhus",
                  "ssp-and-crime-action-plan-aarhus"):
        # Beside the strategy, not under it: not graded, if listed at all.
        assert ident not in aarhus or aarhus[ident].verdict == NOT_GRADED
        assert kb.get(ident).value("outsideRequirements") == "other-strategy"
    vestegn = {r.id: r for r in assess_programme(kb, "vestegn-2013", "en").initiatives}
    # 001 "4. Organisering": goals, indicators and success criteria are set for working groups
    # and development initiatives; the other measures are not what it is about.
    assert vestegn["new-prevention-methods-vestegn"].in_scope is True
    assert vestegn["working-groups-vestegn"].in_scope is True
    assert vestegn["partner-coordination-vestegn"].verdict == NOT_GRADED
    assert vestegn["partner-coordination-vestegn"].in_scope is False
    assert all(r.verdict != FALLS_SHORT for r in vestegn.values())


def _run(*args: str) -> CliRunner:
    return CliRunner().invoke(main, list(args))  # type: ignore[return-value]


@pytest.mark.parametrize("programme", [SIKKER_BY, "tryg-i-aarhus-2017", "vestegn-2013"])
def test_csv_and_xlsx_read_back_as_the_json(programme: str, tmp_path: Path, kb: KnowledgeBase) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    data = json.loads(_run("check", "--programme", programme, "--format", "json").stdout)  # type: ignore[attr-defined]
    result = _run("check", "--programme", programme, "--format", "csv")
    raw = result.stdout_bytes  # type: ignore[attr-defined]
    assert raw.startswith("\ufeff".encode())  # a BOM: Danish Excel reads UTF-8 (æøå)
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == table_headers("da") and table[0][1] == "Indsats"
    assert [r[0] for r in table[1:]] == [r["id"] for r in data["initiatives"]]
    verdicts = {"meets": "opfylder", "falls-short": "lever ikke op", "cannot-tell": "kan ikke påvises ud fra kilden",
                "not-graded": "ikke vurderet"}
    assert [r[4] for r in table[1:]] == [verdicts[r["verdict"]] for r in data["initiatives"]]
    for line, row in zip(table[1:], data["initiatives"], strict=True):
        assert line[1] == row["label"]
        assert not re.search(r"\b(effect-follow-up|evidence):", line[-1])  # reasons in words
    target = tmp_path / "table.xlsx"
    written = _run("check", "--programme", programme, "--format", "xlsx", "--output", str(target))
    assert written.exit_code == 0, written.output  # type: ignore[attr-defined]
    sheet = openpyxl.load_workbook(target).active
    cells = [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == table
    # Never overwritten; without a file, only to a stdout that is not a terminal.
    again = _run("check", "--programme", programme, "--format", "xlsx", "--output", str(target))
    assert again.exit_code == 2  # type: ignore[attr-defined]
    piped = _run("check", "--programme", programme, "--format", "xlsx")
    assert piped.exit_code == 0 and piped.stdout_bytes[:2] == b"PK"  # type: ignore[attr-defined]
    assert len(TABLE_COLUMNS) == len(table[0])


def test_json_lists_each_principle_once_with_its_evidence() -> None:
    data = json.loads(_run("check", "--programme", SIKKER_BY, "--format", "json").stdout)  # type: ignore[attr-defined]
    for row in data["initiatives"]:
        ids = [p["id"] for p in row["principles"]]
        assert len(ids) == len(set(ids))
        for p in row["principles"]:
            grounds = [(e["support"], e.get("rule")) for e in p["evidence"]]
            assert len(grounds) == len(set(grounds))


def test_the_summary_counts_in_the_readers_number() -> None:
    """One initiative is "1 indsats viser …", several "N indsatser …" (ngettext, not one form)."""
    one = CliRunner().invoke(main, ["check", "--programme", "sikker-by-2018", "--lang", "da"])
    assert one.exit_code == 0 and "- 1 indsats viser støtte til nok principper" in one.output
    assert "1 indsatser" not in one.output
    english = CliRunner().invoke(main, ["check", "--programme", "sikker-by-2018", "--lang", "en"])
    assert "- 1 initiative shows support for enough principles" in english.output
    assert "- 30 cannot be shown from the source: it says too little about them" in english.output
