"""A case: an opaque reference, an age and factors that are true, false or unknown, and
optionally the crime types committed (`offences`) and the municipality it belongs to.

Nothing in a case identifies a person. This module never writes a case anywhere; the
reference is only echoed back to the caller. A case that contradicts itself (a factor
true and a factor it implies false, e.g. wanting to leave a gang while not in one) is a
CaseError; messages name concepts, never a case's values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kundskab._names import fold
from kundskab.errors import CaseError, KundskabError
from kundskab.knowledge import KnowledgeBase
from kundskab.rules import Facts

__all__ = ["Case", "implied_factors", "parse_answer", "parse_case", "parse_case_text"]

MAX_AGE = 120
MAX_REF_LENGTH = 200
MAX_CASE_BYTES = 64 * 1024
CASE_KEYS = {"ref", "age", "factors", "offences", "municipality"}
MAX_OFFENCES = 50
OFFENCE_FACTOR = "offence-committed"  # what a case that names offences says by that alone

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
    raise CaseError("a factor is true, false or unknown (ja, nej, ved ikke)")


@dataclass(frozen=True)
class Case:
    """A case as the rules see it. `ref` is opaque and only echoed back. `offences` are
    crime type ids, `municipality` an area id (both optional context)."""

    ref: str | None
    age: int | None
    factors: Mapping[str, bool | None]
    offences: frozenset[str] = frozenset()
    municipality: str | None = None
    facts: Facts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once here (functools.cached_property takes a lock on Python 3.11).
        true = [f for f, v in self.factors.items() if v is True]
        false = [f for f, v in self.factors.items() if v is False]
        if self.offences and OFFENCE_FACTOR not in self.factors:
            true.append(OFFENCE_FACTOR)  # naming what was committed says that something was
        object.__setattr__(self, "facts", Facts(self.age, frozenset(true), frozenset(false)))

    def __repr__(self) -> str:  # keep case content out of logs and tracebacks
        return f"Case(<{len(self.factors)} factors>)"


def parse_case(data: Any, kb: KnowledgeBase) -> Case:
    """Check and normalise a case given as a mapping (parsed JSON or YAML)."""
    if type(data) is not dict and not isinstance(data, Mapping):  # dict first: isinstance on an ABC is slow
        raise CaseError("a case is an object with 'ref', 'age' and 'factors'")
    if not CASE_KEYS.issuperset(data):
        unknown = sorted(str(k) for k in data if k not in CASE_KEYS)
        raise CaseError(f"unknown field(s) in case: {', '.join(unknown)} "
                        f"(a case has only {', '.join(sorted(CASE_KEYS))})")
    ref = data.get("ref")
    if ref is not None and type(ref) is not str:
        if isinstance(ref, bool) or not isinstance(ref, int):
            raise CaseError("'ref' is an opaque text or number")
        ref = str(ref)
    if ref is not None and len(ref) > MAX_REF_LENGTH:
        raise CaseError(f"'ref' is longer than {MAX_REF_LENGTH} characters")
    age = data.get("age")
    if age is not None:
        if type(age) is not int:  # bool is a subclass of int: this refuses it too
            if isinstance(age, str) and age.strip().isdigit():
                age = int(age.strip())
            elif isinstance(age, float) and age.is_integer():
                age = int(age)
            else:
                raise CaseError(f"'age' is a whole number of years, not {age!r}")
        if not 0 <= age <= MAX_AGE:
            raise CaseError(f"'age' must be between 0 and {MAX_AGE}")
    raw = data.get("factors", {})
    factors: dict[str, bool | None] = {}
    if raw is None:
        raw = {}
    if isinstance(raw, list):
        raw = {name: True for name in raw}
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise CaseError("'factors' is an object of factor: true/false/unknown, or a list of ids")
    resolve = kb.resolve
    for name, value in raw.items():
        if type(name) is not str and not isinstance(name, str):
            raise CaseError(f"a factor name is a text, not {name!r}")
        try:
            ident = resolve(name, "Factor")
        except KundskabError as exc:
            raise CaseError(str(exc)) from None
        answer = parse_answer(value)
        if ident in factors and factors[ident] is not None and factors[ident] != answer:
            raise CaseError(f"factor '{ident}' is given twice with different answers")
        factors[ident] = answer
    offences = _offences(data.get("offences"), kb)
    municipality = data.get("municipality")
    if municipality is not None:
        if not isinstance(municipality, str) or not municipality.strip():
            raise CaseError("'municipality' is the id or name of a municipality or police district")
        try:
            municipality = kb.resolve(municipality, "Area")
        except KundskabError as exc:
            raise CaseError(str(exc)) from None
    if offences and factors.get(OFFENCE_FACTOR) is False:
        raise CaseError(f"'offences' are given, but factor '{OFFENCE_FACTOR}' is false")
    _check_implications(factors, kb)
    return Case(ref, age, factors, offences, municipality)


def _offences(raw: Any, kb: KnowledgeBase) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise CaseError("'offences' is a list of crime type ids")
    if len(raw) > MAX_OFFENCES:
        raise CaseError(f"'offences' lists at most {MAX_OFFENCES} crime types")
    found = set()
    for name in raw:
        if not isinstance(name, str):
            raise CaseError("'offences' is a list of crime type ids")
        try:
            found.add(kb.resolve(name, "CrimeType"))
        except KundskabError as exc:
            raise CaseError(str(exc)) from None
    return frozenset(found)


def _check_implications(factors: Mapping[str, bool | None], kb: KnowledgeBase) -> None:
    """A factor that is true while one it implies is false is a contradiction."""
    false = [f for f, v in factors.items() if v is False]
    if not false:
        return
    implied = implied_factors(kb)
    for factor, value in factors.items():
        if value is True:
            for other in implied.get(factor, ()):
                if factors.get(other) is False:
                    raise CaseError(f"the case contradicts itself: factor '{factor}' is true, "
                                    f"so '{other}' cannot be false")


_IMPLIED: dict[str, dict[str, frozenset[str]]] = {}


def implied_factors(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """For each factor, every factor it implies (ks:implies, followed transitively)."""
    found = _IMPLIED.get(kb.version)
    if found is None:
        direct = {f.id: set(f.ref("implies")) for f in kb.of_type("Factor")}
        found = {}
        for factor in direct:
            seen: set[str] = set()
            stack = list(direct[factor])
            while stack:
                other = stack.pop()
                if other not in seen and other != factor:
                    seen.add(other)
                    stack.extend(direct.get(other, ()))
            found[factor] = frozenset(seen)
        _IMPLIED.clear()  # one knowledge base in use at a time
        _IMPLIED[kb.version] = found
    return found


def parse_case_text(text: str | bytes, kb: KnowledgeBase) -> Case:
    """A case from JSON or YAML text (safe YAML only; JSON is tried first)."""
    if len(text) > MAX_CASE_BYTES:
        raise CaseError(f"a case is at most {MAX_CASE_BYTES // 1024} KiB")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise CaseError("a case is UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError:
        from kundskab._yaml import UntrustedYAMLError, load_untrusted

        try:
            data = load_untrusted(text)
        except UntrustedYAMLError as exc:
            where = f" (line {exc.line})" if exc.line else ""
            raise CaseError(f"the case is neither JSON nor YAML{where}: {exc}") from None
    return parse_case(data, kb)
