"""The scenario files (tests/scenarios/cases and holdout) are well-formed: every id they use
exists in the knowledge base, every expectation cites a seed section, and every cited section
exists in the seed (where ../shared/seeds is present).

These tests check the files, not the recommender's scores: those are measured by
benchmarks/score_scenarios.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kundskab import KnowledgeBase
from kundskab.errors import KundskabError

from .conftest import seeds_or_skip
from .scenarios.load import (
    FOLDERS,
    Citation,
    Scenario,
    ScenarioFormatError,
    load_all,
    load_folder,
)

ALL = load_all()
SCENARIOS = [s for folder in FOLDERS for s in ALL[folder]]
IDS = [s.id for s in SCENARIOS]


def _resolves(kb: KnowledgeBase, ident: str, class_name: str) -> bool:
    try:
        return kb.get(kb.resolve(ident, class_name)).is_a(class_name)
    except KundskabError:
        return False


BLIND_FILE = "blind-2026.yaml"  # the independent set of issue 20, kept apart from the quarter held back


def test_enough_cases_and_a_quarter_held_back() -> None:
    own = [s for s in SCENARIOS if s.file != BLIND_FILE]
    assert len(own) >= 45
    share = len(ALL["holdout"]) / len(own)
    assert 0.2 <= share <= 0.3, share


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_every_id_exists_in_the_knowledge_base(kb: KnowledgeBase, scenario: Scenario) -> None:
    expect = scenario.expect
    wrong = [f"tier {expect.tier}" for _ in [0] if not _resolves(kb, expect.tier, "Tier")]
    wrong += [f"forum {f}" for f in sorted(expect.fora) if not _resolves(kb, f, "Forum")]
    wrong += [f"intervention {i}" for i in (*expect.top5, *expect.not_top10)
              if not _resolves(kb, i, "Intervention")]
    wrong += [f"factor {f}" for f in scenario.case.get("factors", {}) if not _resolves(kb, f, "Factor")]
    wrong += [f"crime type {c}" for c in scenario.case.get("offences", ())
              if not _resolves(kb, c, "CrimeType")]
    assert wrong == []


def test_every_municipality_is_an_area(kb: KnowledgeBase) -> None:
    if not kb.of_type("Area"):
        pytest.skip("this knowledge base has no areas yet")
    unknown = sorted({s.case["municipality"] for s in SCENARIOS if "municipality" in s.case
                      and not _resolves(kb, s.case["municipality"], "Area")})
    assert unknown == []


def test_fora_and_tiers_use_exact_ids(kb: KnowledgeBase) -> None:
    """Expectations are compared with the answer's ids, so labels are not enough here."""
    for s in SCENARIOS:
        assert kb.get(s.expect.tier).is_a("Tier"), s.id
        assert all(kb.get(f).is_a("Forum") for f in s.expect.fora), s.id


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _page_of_003(text: str, page: int) -> str:
    """The text of one page of 003: its pages open with the page number after a blank line."""
    body = text.split("Transkript", 1)[1]
    match = re.search(rf"\n\n{page} (.*?)(?=\n\n{page + 1} |\Z)", body, re.S)
    return match.group(1) if match else ""


def _section_found(texts: dict[str, str], cite: Citation) -> bool:
    text = texts[cite.file]
    if cite.file.startswith("003_"):
        # 003 is cited by page, "s. 8 Heading", as in the knowledge base.
        match = re.match(r"s\. (\d+) (.+)", cite.section)
        return bool(match) and _normal(match.group(2)) in _normal(_page_of_003(text, int(match.group(1))))
    return _normal(cite.section) in _normal(text)


def test_every_cited_section_exists_in_its_seed() -> None:
    seeds = seeds_or_skip()
    texts = {p.name: p.read_text(encoding="utf-8") for p in seeds.glob("0*.txt")}
    missing = [f"{s.id} {key}: {cite}" for s in SCENARIOS for key, cite in s.citations()
               if cite.file not in texts or not _section_found(texts, cite)]
    assert missing == []


def test_descriptions_identify_no_one() -> None:
    digits = re.compile(r"\d{4}|@")
    assert [s.id for s in SCENARIOS if digits.search(s.description)] == []


# ---------------------------------------------------------------- the format's own checks

def _write(tmp_path: Path, scenario: dict[str, object]) -> Path:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "x.yaml").write_text(yaml.safe_dump([scenario], allow_unicode=True),
                                               encoding="utf-8")
    return tmp_path


def _good() -> dict[str, object]:
    cite = "000_2d4d8aed5ea821e9.txt#SSP og SSP+"
    return {"id": "x", "description": "En sag.", "age": 15, "factors": {"truancy": True},
            "expect": {"tier": "specific", "fora": ["ssp"], "top5": ["a-b", "c-d"], "not_top10": ["e"]},
            "sources": {"tier": [cite], "fora": [cite], "top5": {"a-b": cite, "c-d": cite},
                        "not_top10": {"e": cite}}}


def test_a_good_scenario_loads(tmp_path: Path) -> None:
    [scenario] = load_folder("cases", _write(tmp_path, _good()))
    assert scenario.expect.top5 == ("a-b", "c-d")
    assert str(scenario.sources["top5:c-d"][0]).endswith("#SSP og SSP+")


@pytest.mark.parametrize("change", [
    lambda s: s["sources"]["top5"].pop("c-d"),  # an expectation without a source
    lambda s: s["sources"].pop("fora"),
    lambda s: s["sources"].__setitem__("tier", ["000_2d4d8aed5ea821e9.txt"]),  # no section
    lambda s: s["sources"].__setitem__("tier", ["notes.txt#x"]),  # not a seed
    lambda s: s["expect"].__setitem__("top5", ["a-b"]),  # fewer than 2, no reason given
    lambda s: s["expect"].__setitem__("not_top10", ["a-b"]),  # expected and excluded
    lambda s: s.__setitem__("factors", {"truancy": "maybe"}),
    lambda s: s.__setitem__("unknown", 1),
])
def test_a_malformed_scenario_is_refused(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    scenario = _good()
    change(scenario)
    with pytest.raises(ScenarioFormatError):
        load_folder("cases", _write(tmp_path, scenario))


def test_the_new_case_fields_and_not_asked_load(tmp_path: Path) -> None:
    scenario = _good()
    cite = "000_2d4d8aed5ea821e9.txt#Offerrådgivning"
    scenario.update(role=["victim"], victim_of=["violence-and-threats"], area="Tingbjerg")
    scenario["expect"]["not_asked"] = ["mediation-consent"]  # type: ignore[index]
    scenario["sources"]["not_asked"] = {"mediation-consent": cite}  # type: ignore[index]
    [loaded] = load_folder("cases", _write(tmp_path, scenario))
    assert loaded.case["role"] == ["victim"] and loaded.case["area"] == "Tingbjerg"
    assert loaded.expect.not_asked == ("mediation-consent",)
    assert str(loaded.sources["not_asked:mediation-consent"][0]) == cite


@pytest.mark.parametrize("change", [
    lambda s: s.__setitem__("role", ["bystander"]),
    lambda s: s.__setitem__("victim_of", "violence"),  # a list of ids
    lambda s: s.__setitem__("area", ""),
    lambda s: s["expect"].__setitem__("not_asked", "x"),
])
def test_bad_new_fields_are_refused(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    scenario = _good()
    change(scenario)
    with pytest.raises(ScenarioFormatError):
        load_folder("cases", _write(tmp_path, scenario))
