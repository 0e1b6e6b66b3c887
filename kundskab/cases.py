"""A case: an opaque reference, an age and factors that are true, false or unknown.

Nothing in a case identifies a person. This module never writes a case anywhere; the
reference is only echoed back to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundskab._names import fold
from kundskab.errors import CaseError, KundskabError
from kundskab.i18n import N_
from kundskab.knowledge import KnowledgeBase
from kundskab.rules import Facts

__all__ = ["Case", "parse_answer", "parse_case", "parse_case_text"]

MAX_AGE = 120
MAX_REF_LENGTH = 200
MAX_CASE_BYTES = 64 * 1024
CASE_KEYS = {"ref", "age", "factors"}

_TRUE = {"true", "ja", "j", "yes", "y", "1", "sand"}
_FALSE = {"false", "nej", "n", "no", "0", "falsk"}
_UNKNOWN = {"unknown", "ved ikke", "vedikke", "ukendt", "?", "", "null", "none", "dont know",
            "don't know", "vi"}


_ANSWERS: dict[str, bool | None] = {
    **{word: True for word in _TRUE}, **{word: False for word in _FALSE}, **{word: None for word in _UNKNOWN}}


def parse_answer(value: Any) -> bool | None:
    """True, False or None (unknown) from JSON/YAML values and ja/nej/ved ikke answers."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        if value in _ANSWERS:  # as written, without folding
            return _ANSWERS[value]
        key = fold(value)
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        if key in _UNKNOWN:
            return None
    raise CaseError(N_("a factor is true, false or unknown (ja, nej, ved ikke)"))


@dataclass(frozen=True)
class Case:
    """A case as the rules see it. `ref` is opaque and only echoed back."""

    ref: str | None
    age: int | None
    factors: Mapping[str, bool | None]
    facts: Facts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once here (functools.cached_property takes a lock on Python 3.11).
        true = [f for f, v in self.factors.items() if v is True]
        false = [f for f, v in self.factors.items() if v is False]
        object.__setattr__(self, "facts", Facts(self.age, frozenset(true), frozenset(false)))

    def __repr__(self) -> str:  # keep case content out of logs and tracebacks
        return f"Case(<{len(self.factors)} factors>)"


def parse_case(data: Any, kb: KnowledgeBase) -> Case:
    """Check and normalise a case given as a mapping (parsed JSON or YAML)."""
    if type(data) is not dict and not isinstance(data, Mapping):  # dict first: isinstance on an ABC is slow
        raise CaseError(N_("a case is an object with 'ref', 'age' and 'factors'"))
    if not CASE_KEYS.issuperset(data):
        unknown = sorted(str(k) for k in data if k not in CASE_KEYS)
        raise CaseError(N_("unknown field(s) in case: {fields} (a case has only {keys})"),
                        fields=", ".join(unknown), keys=", ".join(sorted(CASE_KEYS)))
    ref = data.get("ref")
    if ref is not None and type(ref) is not str:
        if isinstance(ref, bool) or not isinstance(ref, int):
            raise CaseError(N_("'ref' is an opaque text or number"))
        ref = str(ref)
    if ref is not None and len(ref) > MAX_REF_LENGTH:
        raise CaseError(N_("'ref' is longer than {limit} characters"), limit=MAX_REF_LENGTH)
    age = data.get("age")
    if age is not None:
        if type(age) is not int:  # bool is a subclass of int: this refuses it too
            if isinstance(age, str) and age.strip().isdigit():
                age = int(age.strip())
            elif isinstance(age, float) and age.is_integer():
                age = int(age)
            else:
                raise CaseError(N_("'age' is a whole number of years, not {age!r}"), age=age)
        if not 0 <= age <= MAX_AGE:
            raise CaseError(N_("'age' must be between 0 and {max}"), max=MAX_AGE)
    raw = data.get("factors", {})
    factors: dict[str, bool | None] = {}
    if raw is None:
        raw = {}
    if isinstance(raw, list):
        raw = {name: True for name in raw}
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise CaseError(N_("'factors' is an object of factor: true/false/unknown, or a list of ids"))
    resolve = kb.resolve
    for name, value in raw.items():
        if type(name) is not str and not isinstance(name, str):
            raise CaseError(N_("a factor name is a text, not {name!r}"), name=name)
        try:
            ident = resolve(name, "Factor")
        except KundskabError as exc:
            raise CaseError(exc.template, **exc.params) from None
        answer = parse_answer(value)
        if ident in factors and factors[ident] is not None and factors[ident] != answer:
            raise CaseError(N_("factor '{ident}' is given twice with different answers"), ident=ident)
        factors[ident] = answer
    return Case(ref, age, factors)


def parse_case_text(text: str | bytes, kb: KnowledgeBase) -> Case:
    """A case from JSON or YAML text (safe YAML only; JSON is tried first)."""
    if len(text) > MAX_CASE_BYTES:
        raise CaseError(N_("a case is at most {size} KiB"), size=MAX_CASE_BYTES // 1024)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise CaseError(N_("a case is UTF-8 text")) from None
    try:
        data = json.loads(text)
    except ValueError:
        from kundskab._yaml import UntrustedYAMLError, load_untrusted

        try:
            data = load_untrusted(text)
        except UntrustedYAMLError as exc:
            if exc.line:
                raise CaseError(N_("the case is neither JSON nor YAML (line {line}): {detail}"),
                                line=exc.line, detail=exc) from None
            raise CaseError(N_("the case is neither JSON nor YAML: {detail}"), detail=exc) from None
    return parse_case(data, kb)
