"""The public Python API: what the package exports is a promise."""

from __future__ import annotations

import kundskab


def test_public_names_are_pinned() -> None:
    assert sorted(kundskab.__all__) == sorted([
        "AmbiguousNameError", "CaseError", "Concept", "DocumentError", "EngineError",
        "KnowledgeBase", "KnowledgeBaseError", "KundskabError", "Recommendation", "Recommender",
        "RuleError", "RuleSet", "Source", "UnknownConceptError", "__version__", "check", "load",
        "recommend",
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
