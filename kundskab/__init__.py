"""kundskab: knowledge base and rules engine for Danish crime-prevention work."""

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
    "RuleError",
    "Source",
    "UnknownConceptError",
    "__version__",
    "load",
]
