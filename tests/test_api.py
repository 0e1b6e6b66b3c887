"""The public Python API: what the package exports is a promise."""

from __future__ import annotations

import importlib
import json

import pytest

import kundskab


def test_public_names_are_pinned() -> None:
    assert sorted(kundskab.__all__) == sorted([
        "AmbiguousNameError", "BatchError", "Case", "CaseError", "CaseJSONError", "CheckReport", "Concept",
        "DocumentError", "EngineError", "FileReport", "Finding", "Issue", "KnowledgeBase", "KnowledgeBaseError",
        "KundskabError", "PortfolioReport", "Problem", "Recommendation", "Recommender", "RequestError", "RuleError",
        "RuleSet", "Source", "TooManyDocumentsError", "UnknownConceptError", "UnknownKindError", "ValidationReport",
        "__version__", "check", "load", "portfolio", "recommend", "validate",
    ])
    for name in kundskab.__all__:
        assert hasattr(kundskab, name)


def test_every_error_a_caller_may_catch_is_exported() -> None:
    from kundskab import errors

    assert set(errors.__all__) <= set(kundskab.__all__)
    for name in errors.__all__:
        assert getattr(kundskab, name) is getattr(errors, name)
    # e.g. RequestError, which the public recommend raises for a bad limit
    with pytest.raises(kundskab.RequestError):
        kundskab.recommend({"age": 15}, limit=0)


def test_dir_shows_the_public_names_and_only_them() -> None:
    import subprocess
    import sys

    # in a fresh interpreter, before anything was loaded lazily: recommend is there already
    code = "import json, kundskab; print(json.dumps(dir(kundskab)))"
    shown = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      check=True, timeout=120).stdout)
    assert shown == sorted(kundskab.__all__) == dir(kundskab)
    assert "recommend" in shown and not {"Any", "TYPE_CHECKING", "annotations"} & set(shown)


def test_what_type_checkers_see_is_the_public_list() -> None:
    # The TYPE_CHECKING imports are for type checkers only; they must name what __all__ names,
    # from the module each name lives in.
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(kundskab))
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and "TYPE_CHECKING" in ast.unparse(node.test))
    seen = {alias.asname or alias.name: node.module for node in block.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}
    assert set(seen) == set(kundskab.__all__) - {"__version__"}
    for name, module in seen.items():
        assert getattr(kundskab, name) is getattr(importlib.import_module(str(module)), name), name


def test_validate_takes_paths_and_content_alike(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = ("---\ntitle: x\nprogramme: sikker-by-2018\ntier: general\n"
            "target_groups: [school-age-youth]\nprinciples: [collaboration]\n---\n")
    (tmp_path / "a.md").write_text(text, encoding="utf-8")
    from_path = kundskab.validate(tmp_path / "a.md", lang="en").as_dict()
    from_content = kundskab.validate(documents=[(str(tmp_path / "a.md"), text)], lang="en").as_dict()
    assert from_content == from_path and from_path["files"][0]["errors"]
    both = kundskab.validate([tmp_path], documents=[("b.yaml", "title: b\n"), ("c.txt", "x")])
    assert [f.file for f in both.files] == [str(tmp_path / "a.md"), "b.yaml", "c.txt"]  # paths first, in order
    assert both.files[2].errors[0].code == "unsupported-format"  # the name's extension gives the format
    with pytest.raises(kundskab.DocumentError):
        kundskab.validate(tmp_path / "nope.md")


def test_the_old_validate_entry_points_still_work_and_say_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kundskab.documents import validation

    (tmp_path / "a.yaml").write_text("title: a\n", encoding="utf-8")
    expected = kundskab.validate(tmp_path / "a.yaml").as_dict()
    with pytest.warns(DeprecationWarning, match="kundskab.validate"):
        assert validation.validate_paths([tmp_path / "a.yaml"]).as_dict() == expected
    with pytest.warns(DeprecationWarning, match="kundskab.validate"):
        assert validation.validate_path(tmp_path / "a.yaml").as_dict() == expected
    with pytest.warns(DeprecationWarning, match="kundskab.validate"):
        entry = validation.validate_document("title: a\n", str(tmp_path / "a.yaml"))
    assert entry.as_dict() == expected["files"][0]


def test_errors_share_a_base_class() -> None:
    for name in ("AmbiguousNameError", "CaseError", "DocumentError", "EngineError",
                 "KnowledgeBaseError", "RuleError", "UnknownConceptError"):
        assert issubclass(getattr(kundskab, name), kundskab.KundskabError)


def test_the_api_answers_like_the_cli() -> None:
    result = kundskab.recommend({"ref": "a", "age": 15, "factors": ["truancy"]}, lang="en")
    assert result.tier == "specific" and result.fora == ["ssp"]
    assert kundskab.check().ok


def test_the_front_door_returns_the_exported_types(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rec = kundskab.recommend({"age": 16, "factors": ["offence-committed"]})
    assert isinstance(rec, kundskab.Recommendation) and rec.tier == "individual"
    document = tmp_path / "a.md"
    document.write_text("---\ntitle: x\nprogramme: sikker-by-2018\ntier: general\n"
                        "target_groups: [school-age-youth]\nprinciples: [collaboration]\n---\n")
    report = kundskab.validate(document)
    assert isinstance(report, kundskab.ValidationReport)
    assert isinstance(report.files[0], kundskab.FileReport) and not report.ok
    assert all(isinstance(p, kundskab.Problem) for p in report.files[0].errors)
    assert kundskab.validate([document, document]).invalid == 2


def test_readme_python_examples_run(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has Python examples"
    monkeypatch.chdir(tmp_path)  # examples may write files: keep them here
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
