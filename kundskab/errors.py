"""Exceptions raised by kundskab.

The library raises these plain exception classes; the command line turns them into
messages and exit codes (2 for bad input) at its edge.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousNameError",
    "BatchError",
    "CaseError",
    "DocumentError",
    "EngineError",
    "KnowledgeBaseError",
    "KundskabError",
    "RequestError",
    "RuleError",
    "UnknownConceptError",
]


class KundskabError(Exception):
    """Base class of every error kundskab raises on purpose."""

    code = "error"


class KnowledgeBaseError(KundskabError):
    """The ontology could not be read or compiled."""

    code = "knowledge-base-error"


class UnknownConceptError(KundskabError, LookupError):
    """A name matched no concept id or label."""

    code = "unknown-concept"

    def __init__(self, name: str, kind: str | None, suggestions: list[str]) -> None:
        self.name = name
        self.kind = kind
        self.suggestions = suggestions
        what = f"{kind} " if kind else ""
        message = f"unknown {what}'{name}'"
        if suggestions:
            message += "; did you mean: " + ", ".join(suggestions) + "?"
        super().__init__(message)


class AmbiguousNameError(KundskabError, LookupError):
    """A label matched several concepts."""

    code = "ambiguous-name"

    def __init__(self, name: str, candidates: list[str]) -> None:
        self.name = name
        self.candidates = candidates
        super().__init__(f"'{name}' is ambiguous: it names " + ", ".join(candidates))


class CaseError(KundskabError, ValueError):
    """A case description is malformed."""

    code = "invalid-case"


class RequestError(KundskabError, ValueError):
    """An option of a request is out of range or of the wrong type (e.g. `limit`)."""

    code = "invalid-request"


class BatchError(KundskabError, RuntimeError):
    """A batch could not be finished (a worker process died)."""

    code = "batch-failed"


class RuleError(KundskabError):
    """A rule file is malformed or names an unknown concept."""

    code = "invalid-rule"

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        super().__init__(where + message)


class EngineError(KundskabError, RuntimeError):
    """The rules engine failed while reasoning over a case."""

    code = "engine-error"


class DocumentError(KundskabError, ValueError):
    """An initiative document could not be read."""

    code = "parse-error"

    def __init__(self, message: str, code: str = "parse-error", line: int | None = None) -> None:
        self.code = code
        self.line = line
        super().__init__(message)
