"""Whatever a document contains, validation answers with a report, never a traceback:
generated front matter (random fields and values) and raw bytes, through the library and
through the CLI."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundskab import KnowledgeBase, load
from kundskab.documents.reading import FIELDS
from kundskab.documents.validation import FileReport
from kundskab.edges.cli import main
from tests.conftest import validate_one

KNOWN_CODES = {"parse-error", "unsupported-format", "file-too-large", "missing-field",
               "unknown-concept", "too-few-principles", "missing-effect-follow-up",
               "missing-subgoal", "missing-evidence-basis", "inconsistent-tier", "invalid-field",
               "ambiguous-name"}
WARNING_CODES = {"unknown-field", "unjustified-principle", "suggested-principle",
                 "unjustified-subgoal", "suggested-subgoal", "unfilled-placeholder"}
NAMES = ["sikker-by-2018", "tryg-i-aarhus-2017", "vestegn-2013", "general", "Specifik indsats",
         "collaboration", "Viden", "gangs", "mobility", "less-fear-of-crime", "documented",
         "school-age-youth", "young-offenders", "all-citizens", "yearly", "ssp", "boernehus", ""]
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
           | st.sampled_from(NAMES) | st.text(max_size=40) | st.dates())
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=10), inner, max_size=4),
                      max_leaves=12)
keys = st.sampled_from(sorted(FIELDS)) | st.text(max_size=15)
front_matter = st.dictionaries(keys, values, max_size=10)

_KB: KnowledgeBase | None = None


def kb() -> KnowledgeBase:
    global _KB
    if _KB is None:
        _KB = load()
    return _KB


def check_report(report: FileReport) -> None:
    data = report.as_dict()
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # serialisable, no lone surrogates
    assert data["valid"] is (not data["errors"])
    assert {e["code"] for e in data["errors"]} <= KNOWN_CODES
    assert {w["code"] for w in data["warnings"]} <= WARNING_CODES
    for problem in data["errors"] + data["warnings"]:
        assert problem["message"] and (problem["line"] is None or problem["line"] >= 1)


@FUZZ
@given(fields=front_matter, body=st.text(max_size=200))
def test_generated_front_matter_gives_a_report(fields: dict[str, Any], body: str) -> None:
    text = "---\n" + yaml.safe_dump(fields, allow_unicode=True) + "---\n" + body
    check_report(validate_one(text, "fuzz.md", kb()))
    check_report(validate_one(yaml.safe_dump(fields, allow_unicode=True), "fuzz.yaml", kb()))


@FUZZ
@given(fields=front_matter)
def test_generated_rdf_gives_a_report(fields: dict[str, Any]) -> None:
    # The same fields as JSON-LD properties (compact IRIs of the schema): odd values of
    # every kind in the positions rdflib will read.
    node: dict[str, Any] = {"@context": {"ks": "https://w3id.org/kundskab/schema#"},
                            "@type": "ks:InitiativeDocument"}
    for key, value in json.loads(json.dumps(fields, default=str)).items():
        local = "".join(ch for ch in key if ch.isalnum()) or "x"
        node["ks:" + local] = value
    check_report(validate_one(json.dumps(node), "fuzz.jsonld", kb()))


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".md", ".yaml", ".yml", ".ttl", ".jsonld"]))
def test_raw_bytes_give_a_report(data: bytes, suffix: str) -> None:
    check_report(validate_one(data, "raw" + suffix, kb()))
    check_report(validate_one(b"---\n" + data, "raw" + suffix, kb()))


@FUZZ
@given(text=st.text(max_size=300), suffix=st.sampled_from([".md", ".yaml", ".ttl", ".jsonld"]))
def test_raw_text_gives_a_report(text: str, suffix: str) -> None:
    check_report(validate_one(text.encode("utf-8", "surrogatepass"), "text" + suffix, kb()))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=front_matter, data=st.binary(max_size=200),
       suffix=st.sampled_from([".md", ".yaml", ".ttl", ".jsonld", ".txt"]))
def test_cli_answers_every_input_with_json_and_0_or_1(fields: dict[str, Any], data: bytes,
                                                      suffix: str) -> None:
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "generated.md").write_text(
            "---\n" + yaml.safe_dump(fields, allow_unicode=True) + "---\n", "utf-8")
        (folder / f"raw{suffix}").write_bytes(data)
        for args in (["validate", tmp, "--format", "json"],
                     ["validate", str(folder / f"raw{suffix}"), "--lang", "en"]):
            result = runner.invoke(main, args)
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output
        report = json.loads(runner.invoke(main, ["validate", tmp, "--format", "json"]).stdout)
        expected_files = 2 if suffix != ".txt" else 1  # a folder skips unsupported files
        assert len(report["files"]) == expected_files
        assert report["summary"]["valid"] + report["summary"]["invalid"] == expected_files
