"""The knowledge base: contract ids, label lookup and folding, catalogue, cache."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kundskab import AmbiguousNameError, KnowledgeBase, UnknownConceptError
from kundskab._names import fold

# CONTRACT.md, "Identifiers": these ids exist and keep their meaning.
CONTRACT_IDS = {
    "Tier": ["general", "specific", "individual"],
    "Programme": ["sikker-by-2018", "tryg-i-aarhus-2017", "vestegn-2013"],
    "Principle": ["collaboration", "knowledge", "youth-at-risk", "gangs", "local-areas"],
    "AgeGroup": ["preschool-children", "school-age-youth", "young-adults", "adults"],
    "Forum": ["early-effort", "ssp", "ssp-plus", "psp", "ksp", "youth-sanction-council",
              "youth-crime-board", "section-115-committee", "gang-council", "pre-exit", "exit",
              "infohouse", "conflict-council", "victim-support", "childrens-house"],
    "SubGoal": ["less-perceived-crime", "less-fear-of-crime", "fewer-reported-crimes"],
    "Factor": ["offence-committed", "charged-above-fine-level", "serious-offence",
               "repeat-offending", "concerning-behaviour", "truancy", "street-group",
               "no-leisure-activity", "family-problems", "substance-abuse", "psychiatric-illness",
               "gang-proximity", "gang-member", "wants-to-leave-gang", "released-from-custody",
               "radicalisation-signs", "honour-related-conflict", "victim-of-crime",
               "mediation-consent", "child-abuse-suspected", "not-in-education-or-work",
               "lives-in-vulnerable-area"],
}
AGE_BOUNDS = {"preschool-children": (0, 5), "school-age-youth": (6, 17),
              "young-adults": (18, 25), "adults": (26, None)}
SEED_OF = {"esbjerg-2011": "000_", "vestegn-2013": "001_", "tryg-i-aarhus-2017": "002_",
           "sikker-by-2018": "003_", "nordjylland-2020": "004_"}


@pytest.mark.parametrize(("kind", "ident"), [(k, i) for k, ids in CONTRACT_IDS.items() for i in ids])
def test_contract_id_exists_with_its_kind(kb: KnowledgeBase, kind: str, ident: str) -> None:
    concept = kb.get(ident)
    assert concept.is_a(kind)
    assert concept.labels.get("da") and concept.labels.get("en")
    assert concept.definition("en") and concept.sources


def test_principles_belong_to_sikker_by(kb: KnowledgeBase) -> None:
    for ident in CONTRACT_IDS["Principle"]:
        assert kb.get(ident).ref("ofProgramme") == ("sikker-by-2018",)
    numbers = sorted(kb.get(i).int_value("principleNumber") or 0 for i in CONTRACT_IDS["Principle"])
    assert numbers == [1, 2, 3, 4, 5]


def test_age_groups_have_the_contract_bounds(kb: KnowledgeBase) -> None:
    for ident, (low, high) in AGE_BOUNDS.items():
        group = kb.get(ident)
        assert (group.int_value("minAge"), group.int_value("maxAge")) == (low, high)


def test_tiers_are_ordered(kb: KnowledgeBase) -> None:
    ranks = [kb.get(t).int_value("rank") for t in CONTRACT_IDS["Tier"]]
    assert ranks == [1, 2, 3]


def test_every_factor_has_one_domain(kb: KnowledgeBase) -> None:
    for factor in kb.of_type("Factor"):
        (domain,) = factor.ref("inDomain")
        assert kb.get(domain).is_a("RiskDomain")


# ------------------------------------------------------------------ catalogue


def test_catalogue_counts_per_source(kb: KnowledgeBase) -> None:
    interventions = kb.of_type("Intervention")
    per_programme = Counter(i.ref("partOfProgramme")[0] for i in interventions if i.ref("partOfProgramme"))
    # Each source's catalogue holds every initiative it names; these floors guard
    # against a file silently dropping out of the build.
    assert per_programme["esbjerg-2011"] >= 50
    assert per_programme["vestegn-2013"] >= 15
    assert per_programme["tryg-i-aarhus-2017"] >= 15
    assert per_programme["sikker-by-2018"] >= 35
    assert per_programme["nordjylland-2020"] >= 30
    assert len(interventions) > 60


def test_interventions_cite_their_own_source(kb: KnowledgeBase) -> None:
    for item in kb.of_type("Intervention"):
        programmes = item.ref("partOfProgramme")
        if programmes:
            prefix = SEED_OF[programmes[0]]
            assert any(s.file.startswith(prefix) for s in item.sources), item.id


def test_most_evidence_is_unknown(kb: KnowledgeBase) -> None:
    evidence = Counter(i.ref("evidence")[0] for i in kb.of_type("Intervention"))
    assert set(evidence) <= {"documented", "developmental", "evidence-unknown"}
    assert evidence["evidence-unknown"] > len(kb.of_type("Intervention")) / 2


@pytest.mark.parametrize(
    ("filters", "prop", "wanted"),
    [
        ({"tier": ["individual"]}, "tier", {"individual"}),
        ({"forum": ["ssp"]}, "forum", {"ssp"}),
        ({"principle": ["gangs"]}, "supportsPrinciple", {"gangs"}),
        ({"target_group": ["school-age-youth", "young-adults"]}, "targetGroup",
         {"school-age-youth", "young-adults"}),
        ({"crime_type": ["burglary"]}, "crimeType", {"burglary"}),
    ],
)
def test_intervention_filters(kb: KnowledgeBase, filters: dict[str, list[str]], prop: str,
                              wanted: set[str]) -> None:
    found = kb.interventions(**filters)  # type: ignore[arg-type]
    assert found

    def links(i: Any) -> set[str]:
        # A principle is also the one the chapter an intervention is placed in opens with.
        return set(kb.principles_of(i) if prop == "supportsPrinciple" else i.ref(prop))

    assert all(wanted & links(i) for i in found)
    expected = {i.id for i in kb.of_type("Intervention") if wanted & links(i)}
    assert {i.id for i in found} == expected


def test_filters_combine_with_and(kb: KnowledgeBase) -> None:
    both = kb.interventions(tier=["specific"], forum=["ssp"])
    assert {i.id for i in both} == {i.id for i in kb.interventions(tier=["specific"])} & {
        i.id for i in kb.interventions(forum=["ssp"])}


# ------------------------------------------------------------------ names


def _unique_labels(kb: KnowledgeBase) -> list[tuple[str, str]]:
    counts = Counter(fold(label) for c in kb for label in c.labels.values())
    ids = {fold(c.id) for c in kb}
    return [(c.id, label) for c in kb for label in c.labels.values()
            if counts[fold(label)] == 1 and fold(label) not in ids]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_labels_resolve_to_their_concept(kb: KnowledgeBase, data: st.DataObject) -> None:
    ident, label = data.draw(st.sampled_from(_unique_labels(kb)))
    variant = data.draw(st.sampled_from([label, label.upper(), label.lower(), fold(label),
                                         f"  {label} ", label.replace("ø", "oe").replace("å", "aa")]))
    assert kb.resolve(variant) == ident


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_ids_resolve_to_themselves(kb: KnowledgeBase, data: st.DataObject) -> None:
    concept = data.draw(st.sampled_from(list(kb)))
    assert kb.resolve(concept.id) == concept.id
    assert kb.resolve(concept.id.upper()) == concept.id
    assert kb.resolve(concept.id, concept.type) == concept.id


@given(st.text(min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_resolve_never_crashes(kb: KnowledgeBase, text: str) -> None:
    try:
        ident = kb.resolve(text)
    except (UnknownConceptError, AmbiguousNameError):
        return
    assert ident in kb


def test_fold_is_idempotent_and_danish_aware() -> None:
    assert fold("Børnehus") == fold("boernehus") == "boernehus"
    assert fold("Ungesamråd") == "ungesamraad"
    assert fold("ÆRESRELATERET") == "aeresrelateret"
    assert fold(fold("Kriminalpræventiv Byplanlægning")) == fold("Kriminalpræventiv Byplanlægning")


@pytest.mark.parametrize(("name", "ident"), [
    ("Ungesamråd", "youth-sanction-council"), ("ungesamraad", "youth-sanction-council"),
    ("Youth sanction council", "youth-sanction-council"), ("Børnehus", "childrens-house"),
    ("Specifik indsats", "specific"), ("Skolefravær", "truancy"), ("SSP+", "ssp-plus"),
])
def test_known_labels(kb: KnowledgeBase, name: str, ident: str) -> None:
    assert kb.resolve(name) == ident


def test_unknown_name_suggests_nearest(kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownConceptError) as info:
        kb.resolve("ungesamrd", "Forum")
    assert "youth-sanction-council" in info.value.suggestions
    # Typed without å, it is no misspelling: å as a finds it (and ø as o).
    assert kb.resolve("ungesamrad", "Forum") == "youth-sanction-council"
    assert kb.resolve("Bornehus") == "childrens-house"
    with pytest.raises(UnknownConceptError) as info:
        kb.resolve("truansy", "Factor")
    assert info.value.suggestions[0] == "truancy"


def test_kind_restricts_resolution(kb: KnowledgeBase) -> None:
    # "exit" is the exit unit among fora, and no factor is called that.
    assert kb.resolve("exit", "Forum") == "exit"
    with pytest.raises(UnknownConceptError):
        kb.resolve("ssp", "Factor")


# ------------------------------------------------------------------ cache


def test_cache_rebuilds_when_the_ontology_changes(ontology_copy: Path) -> None:
    first = KnowledgeBase.load(ontology_copy)
    assert "test-extra-forum" not in first
    (ontology_copy / "concepts" / "extra.ttl").write_text(
        '@prefix ks: <https://w3id.org/kundskab/schema#> .\n'
        '@prefix kb: <https://w3id.org/kundskab/id/> .\n'
        '@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n'
        'kb:test-extra-forum a ks:Forum ; skos:prefLabel "Testforum"@da , "Test forum"@en .\n',
        encoding="utf-8")
    second = KnowledgeBase.load(ontology_copy)
    assert "test-extra-forum" in second
    assert second.fingerprint != first.fingerprint
    assert second.resolve("Testforum") == "test-extra-forum"


def test_warm_start_does_not_import_rdflib(tmp_path: Path) -> None:
    code = ("import sys, kundskab; kb = kundskab.KnowledgeBase.load(); "
            "print(len(kb), 'rdflib' in sys.modules)")
    env = {"KUNDSKAB_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert cold.stdout.split()[1] == "True"  # compiled from Turtle
    assert warm.stdout.split() == [cold.stdout.split()[0], "False"]  # served from the cache


def test_corrupt_cache_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUNDSKAB_CACHE_DIR", str(tmp_path))
    good = KnowledgeBase.load()
    for path in tmp_path.glob("kb-*.json"):
        path.write_text("{not json", encoding="utf-8")
    again = KnowledgeBase.load()
    assert len(again) == len(good)
