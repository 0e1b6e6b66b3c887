"""The JSON Schemas in docs/schemas/ are generated from kundskab.edges.models and hold for real
output of the library and the command line."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kundskab.edges.cli import main
from kundskab.reasoning.recommendation import Recommender

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "docs" / "schemas"


def schema(stem: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{stem}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def holds(stem: str, instance: Any) -> None:
    validator = jsonschema.Draft202012Validator(schema(stem))
    errors = sorted(validator.iter_errors(instance), key=str)
    assert not errors, f"{stem}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_schemas_are_generated_from_the_models() -> None:
    module = runpy.run_path(str(ROOT / "docs" / "generate_schemas.py"), run_name="docs")
    expected = module["render"]()
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(expected)
    for name, text in expected.items():
        assert (SCHEMAS / name).read_text(encoding="utf-8") == text, (
            f"docs/schemas/{name} is stale: run python docs/generate_schemas.py")
    for name in expected:
        jsonschema.Draft202012Validator.check_schema(json.loads(expected[name]))


CASES = [
    {"ref": "opaque-123", "age": 15, "factors": {"truancy": True, "family-problems": "unknown"}},
    {"age": 16, "factors": ["offence-committed", "charged-above-fine-level"]},
    {"ref": "7", "age": 22, "factors": {"released-from-custody": "ja", "substance-abuse": "nej"}},
    {"factors": []},
]


def test_cases_and_recommendations_hold(recommender: Recommender) -> None:
    for case in CASES:
        holds("case", case)
        for lang in ("da", "en"):
            holds("recommendation", recommender.recommend(case, lang=lang).as_dict())


def test_the_case_schema_refuses_what_the_library_refuses() -> None:
    validator = jsonschema.Draft202012Validator(schema("case"))
    for bad in ({"age": -1}, {"age": 121}, {"name": "x"}, {"factors": 3}, [], {"ref": 7}, {"age": True},
                {"age": "15"}, {"offences": "burglary"}, {"factors": {"truancy": 1}}):
        assert not validator.is_valid(bad), bad


def test_cli_answers_hold(tmp_path: Path) -> None:
    runner = CliRunner()
    lines = tmp_path / "cases.jsonl"
    lines.write_text(json.dumps(CASES[0]) + "\n{bad\n")
    out = runner.invoke(main, ["recommend", "--batch", str(lines)]).output.splitlines()
    holds("recommendation", json.loads(out[0]))
    holds("batch-error", json.loads(out[1]))
    items = json.loads(runner.invoke(main, ["interventions", "--format", "json"]).output)
    assert items
    for item in items:
        holds("intervention", item)
    for name in ("ssp", "sikker-by-2018", "truancy", "specific"):
        holds("concept", json.loads(runner.invoke(main, ["show", name, "--format", "json"]).output))
    document = tmp_path / "a.md"
    document.write_text("---\ntitle: x\nprogramme: sikker-by-2018\ntier: general\n"
                        "target_groups: [school-age-youth]\n---\n")
    validated = json.loads(runner.invoke(main, ["validate", str(document), "--format", "json"]).output)
    holds("validate-file", validated["files"][0])
    error = runner.invoke(main, ["show", "no-such-thing-at-all", "--format", "json"])
    holds("error", json.loads(error.stdout))  # the contract's error object on stdout; the message on stderr
