"""Kinds of measure (ks:kind): what a catalogue intervention does, each with its provenance,
shown by `show`, filtered by `interventions --kind` (CLI, Python, HTTP) and carried by the
recommendation's items."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kundskab import KnowledgeBase
from kundskab.edges.cli import main
from kundskab.knowledge.browse import describe, intervention_summary

KINDS = {"help", "control", "situational", "awareness", "organisation", "follow-up"}

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_kinds_are_concepts_with_danish_and_english_names(kb: KnowledgeBase) -> None:
    kinds = {c.id: c for c in kb.of_type("InterventionKind")}
    assert set(kinds) == KINDS
    for kind in kinds.values():
        assert kind.labels.get("da") and kind.labels.get("en")
        assert kind.definitions.get("da") and kind.definitions.get("en")
        assert kind.sources


def test_every_intervention_has_exactly_one_kind(kb: KnowledgeBase) -> None:
    interventions = kb.of_type("Intervention")
    assert len(interventions) >= 178
    for c in interventions:
        assert len(c.ref("kind")) == 1 and c.ref("kind")[0] in KINDS, c.id


def test_an_inferred_kind_says_why_in_danish_and_english(kb: KnowledgeBase) -> None:
    inferred = [(c, link) for c in kb.of_type("Intervention") for link in c.inferred
                if link["property"] == "kind"]
    assert len(inferred) >= 20  # the editor's readings are marked, not passed off as stated
    for concept, link in inferred:
        assert link["value"] == concept.ref("kind")[0]
        assert link["note"] and link.get("note_da"), concept.id


@pytest.mark.parametrize(("ident", "kind"), [
    ("annual-effect-measurement-copenhagen", "follow-up"),  # the follow-up s. 6 prescribes
    ("annual-goal-reporting-sikker-by", "follow-up"),
    ("safety-survey-copenhagen", "organisation"),  # a measuring tool
    ("police-gang-investigation-copenhagen", "control"),
    ("violence-unit-esbjerg", "control"),
    ("municipal-assembly-ban-copenhagen", "control"),
    ("gang-exit-programme-copenhagen", "help"),
    ("street-lighting-esbjerg", "situational"),
    ("safety-campaigns-aarhus", "awareness"),
    ("working-groups-vestegn", "organisation"),
    ("burglar-release-coordination-esbjerg", "organisation"),  # 000 "Indbrud.": the lokalråd is to discuss it
])
def test_kinds_the_sources_give(kb: KnowledgeBase, ident: str, kind: str) -> None:
    assert kb.get(ident).ref("kind") == (kind,)


def test_the_python_filter(kb: KnowledgeBase) -> None:
    control = kb.interventions(kind=["control"])
    assert control and all(c.ref("kind") == ("control",) for c in control)
    both = kb.interventions(kind=["control", "Hjælp og støtte"])  # ids or labels, OR within a filter
    assert {c.id for c in both} == {c.id for c in kb.of_type("Intervention")
                                    if c.ref("kind")[0] in ("control", "help")}
    narrowed = kb.interventions(kind=["follow-up"], programme=["sikker-by-2018"])
    assert {c.id for c in narrowed} == {"annual-effect-measurement-copenhagen", "annual-goal-reporting-sikker-by"}


def test_the_cli_filter_and_json(kb: KnowledgeBase) -> None:
    result = CliRunner().invoke(main, ["interventions", "--kind", "situational", "--format", "json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert items and {i["kind"] for i in items} == {"situational"}
    assert [i["id"] for i in items] == [c.id for c in kb.interventions(kind=["situational"])]
    every = json.loads(CliRunner().invoke(main, ["interventions", "--format", "json"]).stdout)
    assert all(i["kind"] in KINDS for i in every)


def test_an_unknown_kind_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["interventions", "--kind", "nonsense-kind"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "nonsense-kind" in result.stderr


def test_show_names_the_kind_in_the_users_language(kb: KnowledgeBase) -> None:
    data = describe(kb, kb.get("gang-exit-programme-copenhagen"), "da")
    assert data["kind"] == {"id": "help", "label": "Hjælp og støtte"}
    text = CliRunner().invoke(main, ["show", "gang-exit-programme-copenhagen", "--lang", "en"]).stdout
    assert "Kind of measure: Help and support (help)" in text
    kind = describe(kb, kb.get("follow-up"), "en")
    assert {i["id"] for i in kind["interventions"]} == {"annual-effect-measurement-copenhagen",
                                                        "annual-goal-reporting-sikker-by"}


def test_danish_notes_are_shown_to_a_danish_reader() -> None:
    text = CliRunner().invoke(main, ["show", "hotspot-vestegn", "--lang", "da"]).stdout
    assert "Indsatsens art = situational: redaktørens læsning" in text


def test_recommended_items_carry_the_catalogue_kind(kb: KnowledgeBase, recommender) -> None:  # type: ignore[no-untyped-def]
    answer = recommender.recommend({"age": 16, "factors": {"gang-member": True, "wants-to-leave-gang": True},
                                    "municipality": "københavn"})
    items = answer["interventions"] if isinstance(answer, dict) else answer.as_dict()["interventions"]
    assert items
    for item in items:
        assert item["kind"] == kb.get(item["id"]).ref("kind")[0]
        assert item["kind"] == intervention_summary(kb, kb.get(item["id"]))["kind"]
