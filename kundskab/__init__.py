"""kundskab: knowledge base and rules engine for Danish crime-prevention work.

    >>> import kundskab
    >>> kb = kundskab.load()                      # the bundled knowledge base, cached
    >>> kb.get(kb.resolve("Ungesamråd")).id
    'youth-sanction-council'
    >>> kundskab.recommend({"age": 15, "factors": ["truancy"]}).tier
    'specific'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from kundskab.knowledge import Concept, KnowledgeBase, Source, load

if TYPE_CHECKING:
    from kundskab.integrity import check
    from kundskab.recommendation import Recommendation, Recommender, recommend
    from kundskab.rules import RuleSet

__version__ = "0.1.0"

__all__ = [
    "AmbiguousNameError",
    "CaseError",
    "Concept",
    "DocumentError",
    "EngineError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KundskabError",
    "Recommendation",
    "Recommender",
    "RuleError",
    "RuleSet",
    "Source",
    "UnknownConceptError",
    "__version__",
    "check",
    "load",
    "recommend",
]

# The rules engine, SHACL and YAML are imported on first use, so that browsing the
# knowledge base starts fast.
_LAZY = {
    "Recommendation": "kundskab.recommendation",
    "Recommender": "kundskab.recommendation",
    "recommend": "kundskab.recommendation",
    "RuleSet": "kundskab.rules",
    "check": "kundskab.integrity",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kundskab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
