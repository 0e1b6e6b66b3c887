"""kundskab: knowledge base and rules engine for Danish crime-prevention work.

    >>> import kundskab
    >>> kb = kundskab.load()                      # the bundled knowledge base, cached
    >>> kb.get(kb.resolve("Ungesamråd")).id
    'youth-sanction-council'
    >>> kundskab.recommend({"age": 15, "factors": ["truancy"]}).tier
    'specific'

The library's front door: `recommend` (a case -> `Recommendation`), `validate` (documents,
as paths or as content -> `ValidationReport` of `FileReport`s with `Problem`s), `check`
(the knowledge base -> `CheckReport` of `Issue`s and `Finding`s), `portfolio` (initiatives
-> `PortfolioReport`: coverage, holes, overlaps, network), `load` (-> `KnowledgeBase` of
`Concept`s). Every error kundskab raises on purpose is a `KundskabError`; each kind a
caller may catch is exported here (the classes of kundskab.errors).
"""

from __future__ import annotations

import typing as _typing
from importlib import import_module as _import_module

from kundskab import _aliases

if _typing.TYPE_CHECKING:  # what type checkers see; tests/test_api.py holds it to _HOMES
    from kundskab.documents.portfolios import PortfolioReport as PortfolioReport
    from kundskab.documents.portfolios import portfolio as portfolio
    from kundskab.documents.validation import FileReport as FileReport
    from kundskab.documents.validation import Problem as Problem
    from kundskab.documents.validation import ValidationReport as ValidationReport
    from kundskab.documents.validation import validate as validate
    from kundskab.errors import AmbiguousNameError as AmbiguousNameError
    from kundskab.errors import BatchError as BatchError
    from kundskab.errors import CaseError as CaseError
    from kundskab.errors import CaseJSONError as CaseJSONError
    from kundskab.errors import DocumentError as DocumentError
    from kundskab.errors import EngineError as EngineError
    from kundskab.errors import KnowledgeBaseError as KnowledgeBaseError
    from kundskab.errors import KundskabError as KundskabError
    from kundskab.errors import RequestError as RequestError
    from kundskab.errors import RuleError as RuleError
    from kundskab.errors import TooManyDocumentsError as TooManyDocumentsError
    from kundskab.errors import UnknownConceptError as UnknownConceptError
    from kundskab.errors import UnknownKindError as UnknownKindError
    from kundskab.knowledge.base import Concept as Concept
    from kundskab.knowledge.base import KnowledgeBase as KnowledgeBase
    from kundskab.knowledge.base import Source as Source
    from kundskab.knowledge.base import load as load
    from kundskab.knowledge.check import CheckReport as CheckReport
    from kundskab.knowledge.check import Finding as Finding
    from kundskab.knowledge.check import Issue as Issue
    from kundskab.knowledge.check import check as check
    from kundskab.reasoning.cases import Case as Case
    from kundskab.reasoning.recommendation import Recommendation as Recommendation
    from kundskab.reasoning.recommendation import Recommender as Recommender
    from kundskab.reasoning.recommendation import recommend as recommend
    from kundskab.reasoning.rules import RuleSet as RuleSet

__version__ = "0.1.0"  # the one place the version is written (pyproject.toml reads it)

# The modules' paths from before the sub-packages keep importing (kundskab/_aliases.py).
_aliases.install()

# The public names, each with the module it lives in: the one list (`__all__` and
# `dir(kundskab)` are made from it). The errors and the knowledge base are imported with
# the package; the rest (the rules engine, SHACL, YAML) on first use, so that browsing the
# knowledge base starts fast.
_HOMES: dict[str, str] = {
    # errors: everything a caller may catch
    "KundskabError": "kundskab.errors",
    "AmbiguousNameError": "kundskab.errors",
    "BatchError": "kundskab.errors",
    "CaseError": "kundskab.errors",
    "CaseJSONError": "kundskab.errors",
    "DocumentError": "kundskab.errors",
    "EngineError": "kundskab.errors",
    "KnowledgeBaseError": "kundskab.errors",
    "RequestError": "kundskab.errors",
    "RuleError": "kundskab.errors",
    "TooManyDocumentsError": "kundskab.errors",
    "UnknownConceptError": "kundskab.errors",
    "UnknownKindError": "kundskab.errors",
    # the knowledge base
    "Concept": "kundskab.knowledge.base",
    "KnowledgeBase": "kundskab.knowledge.base",
    "Source": "kundskab.knowledge.base",
    "load": "kundskab.knowledge.base",
    "check": "kundskab.knowledge.check",
    "CheckReport": "kundskab.knowledge.check",
    "Finding": "kundskab.knowledge.check",
    "Issue": "kundskab.knowledge.check",
    # a case and its answer
    "Case": "kundskab.reasoning.cases",
    "recommend": "kundskab.reasoning.recommendation",
    "Recommendation": "kundskab.reasoning.recommendation",
    "Recommender": "kundskab.reasoning.recommendation",
    "RuleSet": "kundskab.reasoning.rules",
    # documents
    "validate": "kundskab.documents.validation",
    "ValidationReport": "kundskab.documents.validation",
    "FileReport": "kundskab.documents.validation",
    "Problem": "kundskab.documents.validation",
    "portfolio": "kundskab.documents.portfolios",
    "PortfolioReport": "kundskab.documents.portfolios",
}
_EAGER = ("kundskab.errors", "kundskab.knowledge.base")

__all__ = sorted(["__version__", *_HOMES])

for _name, _home in _HOMES.items():
    if _home in _EAGER:
        globals()[_name] = getattr(_import_module(_home), _name)
del _name, _home


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        missing = f"module 'kundskab' has no attribute {name!r}"  # Python's own wording
        raise AttributeError(missing)
    value = getattr(_import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
