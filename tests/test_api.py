"""The public Python API: what the package exports is a promise."""

from __future__ import annotations

import kundskab


def test_public_names_are_pinned() -> None:
    assert sorted(kundskab.__all__) == sorted([
        "AmbiguousNameError", "Case", "CaseError", "CheckReport", "Concept", "DocumentError",
        "EngineError", "FileReport", "Finding", "Issue", "KnowledgeBase", "KnowledgeBaseError",
        "KundskabError", "PortfolioReport", "Problem", "Recommendation", "Recommender", "RuleError", "RuleSet",
        "Source", "UnknownConceptError", "ValidationReport", "__version__", "check", "load",
        "portfolio", "recommend", "validate",
    ])
    for name in kundskab.__all__:
        assert hasattr(kundskab, name)


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
