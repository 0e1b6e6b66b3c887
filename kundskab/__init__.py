"""kundskab: knowledge base and rules engine for Danish crime-prevention work.

    >>> import kundskab
    >>> kb = kundskab.load()                      # the bundled knowledge base, cached
    >>> kb.get(kb.resolve("Ungesamråd")).id
    'youth-sanction-council'
    >>> kundskab.recommend({"age": 15, "factors": ["truancy"]}).tier
    'specific'

The library's front door: `recommend` (a case -> `Recommendation`), `validate` (documents ->
`ValidationReport` of `FileReport`s with `Problem`s), `check` (the knowledge base ->
`CheckReport` of `Issue`s and `Finding`s), `portfolio` (initiatives -> `PortfolioReport`:
coverage, holes, overlaps, network), `load` (-> `KnowledgeBase` of `Concept`s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kundskab import _aliases
from kundskab.errors import (
    AmbiguousNameError,
    CaseError,
    DocumentError,
    EngineError,
    KnowledgeBaseError,
    KundskabError,
    RuleError,
    UnknownConceptError,
)
from kundskab.knowledge.base import Concept, KnowledgeBase, Source, load

if TYPE_CHECKING:
    from kundskab.documents.portfolios import PortfolioReport, portfolio
    from kundskab.documents.validation import FileReport, Problem, ValidationReport, validate
    from kundskab.knowledge.check import CheckReport, Finding, Issue, check
    from kundskab.reasoning.cases import Case
    from kundskab.reasoning.recommendation import Recommendation, Recommender, recommend
    from kundskab.reasoning.rules import RuleSet

__version__ = "0.1.0"

# The modules' paths from before the sub-packages keep importing (kundskab/_aliases.py).
_aliases.install()

__all__ = [
    "AmbiguousNameError",
    "Case",
    "CaseError",
    "CheckReport",
    "Concept",
    "DocumentError",
    "EngineError",
    "FileReport",
    "Finding",
    "Issue",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KundskabError",
    "PortfolioReport",
    "Problem",
    "Recommendation",
    "Recommender",
    "RuleError",
    "RuleSet",
    "Source",
    "UnknownConceptError",
    "ValidationReport",
    "__version__",
    "check",
    "load",
    "portfolio",
    "recommend",
    "validate",
]

# The rules engine, SHACL and YAML are imported on first use, so that browsing the
# knowledge base starts fast.
_LAZY = {
    "Case": "kundskab.reasoning.cases",
    "CheckReport": "kundskab.knowledge.check",
    "Finding": "kundskab.knowledge.check",
    "Issue": "kundskab.knowledge.check",
    "FileReport": "kundskab.documents.validation",
    "Problem": "kundskab.documents.validation",
    "ValidationReport": "kundskab.documents.validation",
    "validate": "kundskab.documents.validation",
    "Recommendation": "kundskab.reasoning.recommendation",
    "Recommender": "kundskab.reasoning.recommendation",
    "recommend": "kundskab.reasoning.recommendation",
    "RuleSet": "kundskab.reasoning.rules",
    "check": "kundskab.knowledge.check",
    "PortfolioReport": "kundskab.documents.portfolios",
    "portfolio": "kundskab.documents.portfolios",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kundskab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
