"""Exceptions raised by kundskab.

The library raises these plain exception classes; the command line turns them into
messages and exit codes (2 for bad input) at its edge.
"""

from __future__ import annotations

import errno
from typing import Any

from kundskab.i18n import N_, SOURCE_LANGUAGE, Messages, Text, gettext

__all__ = [
    "AmbiguousNameError",
    "BatchError",
    "CaseError",
    "CaseJSONError",
    "DocumentError",
    "EngineError",
    "KnowledgeBaseError",
    "KundskabError",
    "RequestError",
    "RuleError",
    "TooManyDocumentsError",
    "UnknownConceptError",
    "UnknownKindError",
]


class KundskabError(Exception):
    """Base class of every error kundskab raises on purpose.

    The message is an English template from the catalogue (marked with `N_`) and its
    parameters: `str(error)` is English, `error.translated(lang)` the same in `lang`.
    """

    code = "error"

    def __init__(self, message: str = "", /, **params: Any) -> None:
        self.template = message
        self.params = params
        super().__init__(self._render(message, SOURCE_LANGUAGE))

    def _render(self, template: str, lang: str | None = None) -> str:
        if not self.params:
            return template
        params = {k: gettext(v, lang) if isinstance(v, Text) else v for k, v in self.params.items()}
        return template.format(**params)

    def translated(self, lang: str | None = None) -> str:
        """The message in `lang` (by default the current language)."""
        return self._render(gettext(self.template, lang), lang)


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
        if suggestions:
            message = (N_("unknown {kind} '{name}'; did you mean: {suggestions}?") if kind
                       else N_("unknown '{name}'; did you mean: {suggestions}?"))
        else:
            message = N_("unknown {kind} '{name}'") if kind else N_("unknown '{name}'")
        super().__init__(message, name=name, kind=kind_word(kind), suggestions=", ".join(suggestions))


class UnknownKindError(KundskabError, LookupError):
    """A name matched no kind of concept (for `list` and `search --kind`)."""

    code = "unknown-kind"

    def __init__(self, name: str, kinds: list[str]) -> None:
        self.name = name
        self.kinds = kinds
        super().__init__(N_("unknown kind '{name}'; the kinds are: {kinds}"), name=name, kinds=", ".join(kinds))


class AmbiguousNameError(KundskabError, LookupError):
    """A label matched several concepts."""

    code = "ambiguous-name"

    def __init__(self, name: str, candidates: list[str]) -> None:
        self.name = name
        self.candidates = candidates
        super().__init__(N_("'{name}' is ambiguous: it names {candidates}"), name=name,
                         candidates=", ".join(candidates))


class CaseError(KundskabError, ValueError):
    """A case description is malformed."""

    code = "invalid-case"


class CaseJSONError(CaseError):
    """A case's text is not JSON (where only JSON is read: a batch line, an HTTP body)."""

    code = "invalid-json"


class RequestError(KundskabError, ValueError):
    """An option of a request is out of range or of the wrong type (e.g. `limit`)."""

    code = "invalid-request"


class BatchError(KundskabError, RuntimeError):
    """A batch could not be finished (a worker process died)."""

    code = "batch-failed"


class RuleError(KundskabError):
    """A rule file is malformed or names an unknown concept."""

    code = "invalid-rule"

    def __init__(self, message: str, file: str | None = None, line: int | None = None, **params: Any) -> None:
        self.file = file
        self.line = line
        super().__init__(message, **params)

    def _render(self, template: str, lang: str | None = None) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return where + super()._render(template, lang)

    def translated(self, lang: str | None = None) -> str:
        return self._render(gettext(self.template, lang), lang)


class EngineError(KundskabError, RuntimeError):
    """The rules engine failed while reasoning over a case."""

    code = "engine-error"


class DocumentError(KundskabError, ValueError):
    """An initiative document could not be read."""

    code = "parse-error"

    def __init__(self, message: str, code: str = "parse-error", line: int | None = None, **params: Any) -> None:
        self.code = code
        self.line = line
        super().__init__(message, **params)


class TooManyDocumentsError(DocumentError):
    """More documents than one run takes (`kundskab portfolio`: kundskab.documents.portfolios.MAX_DOCUMENTS)."""

    code = "too-many-documents"

    def __init__(self, limit: int) -> None:
        super().__init__(N_("more than {limit} documents; at most {limit} are analysed in one portfolio"),
                         self.code, limit=limit)


# Kinds of concept as messages name them ("unknown factor 'x'"), by class.
KIND_WORDS = Messages({
    "Tier": N_("tier"), "Programme": N_("programme"), "Principle": N_("principle"),
    "SubGoal": N_("sub-goal"), "Goal": N_("goal"), "Indicator": N_("indicator"),
    "TargetGroup": N_("target group"), "AgeGroup": N_("age group"), "RiskDomain": N_("risk domain"),
    "Factor": N_("factor"), "Forum": N_("forum"), "Actor": N_("actor"), "CrimeType": N_("crime type"),
    "Intervention": N_("intervention"), "EvidenceBasis": N_("evidence basis"),
    "Requirement": N_("requirement"), "FocusArea": N_("focus area"),
    "OrganisationalLevel": N_("organisational level"), "Municipality": N_("municipality"),
    "PoliceDistrict": N_("police district"), "Area": N_("municipality or police district"),
    "SituationGroup": N_("situation group"), "SourceDocument": N_("source document"),
    "PublicRecord": N_("public record"),
})


def kind_word(kind: str | None) -> str | None:
    """The word for a kind of concept (a class or a kind name such as "forum")."""
    if kind is None:
        return None
    from_kind_name = kind.replace("-", "").replace(" ", "").casefold()
    for class_name, text in KIND_WORDS.items():
        if class_name.casefold() == from_kind_name:
            return text
    return kind


# The operating system's reasons a user meets most, in the catalogue: strerror is English
# whatever the language, and str() of an OSError reads "[Errno 111] Connection refused".
OS_REASONS = Messages({
    errno.EPIPE: N_("the program reading the output has stopped"),
    errno.ENOSPC: N_("no space left on the device"),
    errno.EDQUOT: N_("disk quota exceeded"),
    errno.EFBIG: N_("the file is too large"),
    errno.ENOENT: N_("no such file or directory"),
    errno.EACCES: N_("permission denied"),
    errno.EISDIR: N_("is a directory"),
    errno.ENOTDIR: N_("not a directory"),
    errno.ECONNREFUSED: N_("the connection was refused: nothing answers at that address"),
    errno.ECONNRESET: N_("the other end broke off the connection"),
    errno.ETIMEDOUT: N_("no answer in time"),
    errno.EHOSTUNREACH: N_("the host cannot be reached"),
    errno.ENETUNREACH: N_("the network cannot be reached"),
})


def os_reason(exc: BaseException) -> Text | str:
    """Why an operating-system or network error happened, as a catalogue message where the
    reason is one people meet (translate it with gettext); else the system's own words."""
    import socket

    errno_value = getattr(exc, "errno", None)
    if isinstance(errno_value, int) and errno_value in OS_REASONS:
        return OS_REASONS[errno_value]
    if isinstance(exc, socket.gaierror):
        return N_("the host name is not known")
    if isinstance(exc, TimeoutError):
        return N_("no answer in time")
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
