"""YAML for untrusted input: safe constructors only, and no anchors or aliases at all.

Aliases are what "billion laughs" bombs are made of; initiative documents and cases have
no use for them, so they are refused before anything is constructed.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["UntrustedYAMLError", "load_untrusted"]


class UntrustedYAMLError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise UntrustedYAMLError("YAML aliases (*name) are not allowed",
                                     event.start_mark.line + 1)
        event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise UntrustedYAMLError("YAML anchors (&name) are not allowed",
                                     event.start_mark.line + 1)
        return super().compose_node(parent, index)


def load_untrusted(text: str) -> Any:
    """Parse YAML text that came from outside; errors carry a 1-based line number."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except UntrustedYAMLError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise UntrustedYAMLError(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except RecursionError:
        raise UntrustedYAMLError("YAML nested too deeply") from None
