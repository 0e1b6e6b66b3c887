"""YAML for untrusted input: safe constructors only, and no anchors or aliases at all.

Aliases are what "billion laughs" bombs are made of; initiative documents and cases have
no use for them, so they are refused before anything is constructed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

__all__ = ["MAX_EVENTS", "NumberTooLongError", "Plain", "TooManyValuesError", "UntrustedYAMLError", "load_as_written",
           "load_untrusted", "load_untrusted_with_nodes"]

# Composing a YAML node tree costs about a kilobyte per value: a 5 MB flow list of one-letter
# items would take over a gigabyte. An initiative document has a few hundred values; the
# parser's events are counted (streamed, in constant memory) before anything is composed.
MAX_EVENTS = 20_000


class UntrustedYAMLError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class TooManyValuesError(UntrustedYAMLError):
    """More YAML values than any document needs (MAX_EVENTS parser events)."""


class NumberTooLongError(UntrustedYAMLError):
    """An integer with more digits than Python converts (sys.get_int_max_str_digits())."""


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


class _UniqueKeyLoader(_NoAliasLoader):
    """For cases: a key given twice in one mapping is an error, not "the last one wins"."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise UntrustedYAMLError("a key is given twice in the same mapping",
                                                 key_node.start_mark.line + 1)
                    seen.add(key)
        return super().construct_mapping(node, deep)


class Plain(str):
    """A plain (unquoted) YAML scalar, as written: whoever reads it decides its type."""

    __slots__ = ()


class _AsWrittenLoader(_UniqueKeyLoader):
    """Every scalar kept as written, a text: YAML 1.1's implicit types would make
    `ref: 0102031234` the octal number 17314460 and `12:30:45` the sexagesimal 45045.
    Plain scalars come out as `Plain`, quoted ones as `str`."""


def _construct_as_written(loader: Any, node: Any) -> str:
    value = loader.construct_scalar(node)
    return Plain(value) if node.style is None else str(value)


_AsWrittenLoader.yaml_implicit_resolvers = {}  # no implicit types: untagged plain scalars stay texts
_AsWrittenLoader.add_constructor("tag:yaml.org,2002:str", _construct_as_written)


@contextmanager
def _as_untrusted_errors() -> Iterator[None]:
    """Every way PyYAML can fail on bad input becomes one UntrustedYAMLError."""
    try:
        yield
    except UntrustedYAMLError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise UntrustedYAMLError(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except RecursionError:
        raise UntrustedYAMLError("YAML nested too deeply") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # Python's guard against slow conversions
            raise NumberTooLongError("a number with too many digits") from None
        # Tagged or timestamp-like scalars that do not convert (`2020-13-45`, `!!int x`).
        raise UntrustedYAMLError(f"invalid YAML value: {exc}") from None
    except (TypeError, OverflowError) as exc:
        raise UntrustedYAMLError(f"invalid YAML value: {exc}") from None


def load_untrusted(text: str, *, unique_keys: bool = False) -> Any:
    """Parse YAML text that came from outside; errors carry a 1-based line number. With
    `unique_keys`, a key given twice in a mapping is an error."""
    with _as_untrusted_errors():
        return yaml.load(text, Loader=_UniqueKeyLoader if unique_keys else _NoAliasLoader)


def load_as_written(text: str) -> Any:
    """Parse YAML text that came from outside with every scalar a text (see Plain), keys
    given twice refused; errors carry a 1-based line number."""
    with _as_untrusted_errors():
        return yaml.load(text, Loader=_AsWrittenLoader)


# libyaml, where PyYAML was built with it: documents up to 5 MB compose several times faster.
_CLoader: Any = getattr(yaml, "CSafeLoader", None)


def _refuse_anchors(text: str) -> None:
    """One pass over the parser's events, which stops early: any anchor or alias is
    refused, with its line, and so is a text with more than MAX_EVENTS events."""
    for count, event in enumerate(yaml.parse(text, Loader=_CLoader or yaml.SafeLoader)):
        if count >= MAX_EVENTS:
            raise TooManyValuesError(f"more than {MAX_EVENTS} YAML values")
        mark: Any = event.start_mark
        line = mark.line + 1 if mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            raise UntrustedYAMLError("YAML aliases (*name) are not allowed", line)
        if getattr(event, "anchor", None) is not None:
            raise UntrustedYAMLError("YAML anchors (&name) are not allowed", line)


def load_untrusted_with_nodes(text: str) -> tuple[Any, yaml.Node | None]:
    """Like load_untrusted, and also the composed node tree, whose marks give each value's
    line (0-based `start_mark.line`); for initiative documents, which report lines per field."""
    loader: Any = None
    try:
        with _as_untrusted_errors():
            _refuse_anchors(text)  # before composing: libyaml would resolve aliases itself
            # Without libyaml, the pure-Python loader (its reader refuses control characters).
            loader = _CLoader(text) if _CLoader is not None else _NoAliasLoader(text)
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
            return data, node
    finally:
        if loader is not None:
            loader.dispose()
