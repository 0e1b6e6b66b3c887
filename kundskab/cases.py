"""A case: an opaque reference, an age and factors that are true, false or unknown, and
optionally the crime types committed (`offences`), who the person is (`role`: at risk,
offender, victim, relative asking for help), the crime types the person has suffered
(`victim_of`), the municipality and the local area it belongs to. An unknown place is a
warning, never an error: the answer goes on without it.

Nothing in a case identifies a person. This module never writes a case anywhere; the
reference is only echoed back to the caller. A case that contradicts itself (a factor
true and a factor it implies false, e.g. wanting to leave a gang while not in one) is a
CaseError; messages name concepts, never a case's values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kundskab._memo import per_knowledge_base
from kundskab._names import fold
from kundskab.errors import CaseError, KundskabError, UnknownConceptError
from kundskab.i18n import N_
from kundskab.knowledge import KnowledgeBase
from kundskab.rules import Facts, implied_factors

__all__ = ["Case", "conditions", "factor_flags", "implied_factors", "load_case_json", "looks_like_cpr", "parse_answer",
           "parse_case", "parse_case_text", "unasked_factors"]

MAX_AGE = 120
MAX_REF_LENGTH = 200
MAX_CASE_BYTES = 64 * 1024
CASE_KEYS = {"ref", "age", "factors", "offences", "municipality", "role", "victim_of", "area"}
MAX_OFFENCES = 50
OFFENCE_FACTOR = "offence-committed"  # what a case that names offences says by that alone
VICTIM_FACTOR = "victim-of-crime"  # what a case that names the person a victim says by that alone
# Who the person in a case is: at risk (the default), an offender, a victim, or a relative
# (a parent) asking for help about the child the case's age and factors describe. Danish
# words are taken too.
ROLES = ("at-risk", "offender", "victim", "relative")
DEFAULT_ROLE = "at-risk"
_ROLE_WORDS = {"at-risk": "at-risk", "i risiko": "at-risk", "risiko": "at-risk", "udsat": "at-risk",
               "offender": "offender", "gerningsperson": "offender", "lovovertraeder": "offender",
               "victim": "victim", "offer": "victim", "forurettet": "victim",
               "relative": "relative", "paaroerende": "relative", "foraelder": "relative", "parent": "relative"}
# A warning about a case (the answer goes on): code and message.
UNKNOWN_PLACE = ("unknown-place", N_("the municipality or area is not one the knowledge base knows; the answer "
                                    "does not use the place"))

_TRUE = {"true", "ja", "j", "yes", "y", "1", "sand"}
_FALSE = {"false", "nej", "n", "no", "0", "falsk"}
_UNKNOWN = {"unknown", "ved ikke", "vedikke", "ukendt", "?", "", "null", "none", "dont know",
            "don't know", "vi"}


_AGE_TEXT = re.compile(r"\s*([0-9]{1,3})\s*")  # ASCII digits only: int() takes '١٥' and refuses '¹⁵'
# A Danish CPR number: ddmmyy, then four digits, with or without a hyphen or space.
_CPR = re.compile(r"(?<![0-9])(?:0[1-9]|[12][0-9]|3[01])(?:0[1-9]|1[0-2])[0-9]{2}[- ]?[0-9]{4}(?![0-9])")

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
    """A case as the rules see it. `ref` is opaque and only echoed back. `offences` are
    crime type ids, `municipality` an area id (both optional context)."""

    ref: str | None
    age: int | None
    factors: Mapping[str, bool | None]
    offences: frozenset[str] = frozenset()
    municipality: str | None = None
    # Factors the case did not answer that a factor it gives as true implies (ks:implies),
    # each with the given factor it follows from: wanting to leave a gang makes the person
    # a gang member for the rules too, and the answer's explanation says so.
    implied: Mapping[str, str] = field(default_factory=dict)
    # Factors the case did not answer that imply a factor it gives as false: not being in a
    # gang answers whether the person wants to leave one (no), and an offence denied answers
    # whether it was serious. The rules and the questions take them as false.
    denied: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset({DEFAULT_ROLE})
    victim_of: frozenset[str] = frozenset()  # crime type ids the person has suffered
    area: str | None = None  # a local area id (an estate, a district), within the municipality
    warnings: tuple[tuple[str, str], ...] = ()  # (code, message template): e.g. an unknown place
    facts: Facts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once here (functools.cached_property takes a lock on Python 3.11).
        true = [f for f, v in self.factors.items() if v is True]
        true += [f for f in self.implied if self.factors.get(f) is None]
        false = [f for f, v in self.factors.items() if v is False]
        false += [f for f in self.denied if self.factors.get(f) is None]
        # (An answer "unknown" is as if not given: the case's own words settle it.)
        if self.offences and self.factors.get(OFFENCE_FACTOR) is None:
            true.append(OFFENCE_FACTOR)  # naming what was committed says that something was
        if self.victim and self.factors.get(VICTIM_FACTOR) is None:
            true.append(VICTIM_FACTOR)  # naming the person a victim says that a crime was suffered
        object.__setattr__(self, "facts", Facts(self.age, frozenset(true), frozenset(false)))

    def __repr__(self) -> str:  # keep case content out of logs and tracebacks
        return f"Case(<{len(self.factors)} factors>)"

    @property
    def victim(self) -> bool:
        """The case names the person a victim (role or crimes suffered)."""
        return "victim" in self.roles or bool(self.victim_of)

    @property
    def place(self) -> str | None:
        """The narrowest place the case names: its area, else its municipality."""
        return self.area or self.municipality


def looks_like_cpr(ref: str | None) -> bool:
    """Whether an opaque reference holds what looks like a Danish CPR number (worth a
    warning: a reference must not identify a person)."""
    return ref is not None and _CPR.search(ref) is not None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise CaseError(N_("a key is given twice in the same object"))
    return out


# One decoder for every case: json.loads with a hook builds a new decoder per call.
_DECODE = json.JSONDecoder(object_pairs_hook=_unique_keys).decode


def load_case_json(text: str | bytes) -> Any:
    """Parse JSON from outside: a key given twice and nesting too deep are CaseErrors; other
    syntax errors are ValueError (json.JSONDecodeError), with the position only."""
    try:
        if not isinstance(text, str):  # as json.loads takes bytes: UTF-8, -16 or -32
            text = text.decode(json.detect_encoding(text), "surrogatepass")
        return _DECODE(text)
    except RecursionError:
        raise CaseError(N_("the case is nested too deeply")) from None


def factor_flags(true: Iterable[str], false: Iterable[str]) -> dict[str, bool]:
    """The factors of command-line flags (--factor, --not-factor) as a case's mapping; a
    name given both ways is a CaseError, as it is in a case's JSON."""
    flags = dict.fromkeys(true, True)
    for name in false:
        if flags.get(name) is True:
            raise CaseError(N_("a factor is given both as true and as false"))
        flags[name] = False
    return flags


def _ordinal(index: int) -> int:
    return index + 1


def parse_case(data: Any, kb: KnowledgeBase) -> Case:
    """Check and normalise a case given as a mapping (parsed JSON or YAML)."""
    if type(data) is not dict and not isinstance(data, Mapping):  # dict first: isinstance on an ABC is slow
        raise CaseError(N_("a case is an object with 'ref', 'age' and 'factors'"))
    if not CASE_KEYS.issuperset(data):
        unknown = sum(1 for k in data if k not in CASE_KEYS)
        raise CaseError(N_("the case has {count} unknown field(s) (a case has only {keys})"),
                        count=unknown, keys=", ".join(sorted(CASE_KEYS)))
    ref = data.get("ref")
    if ref is not None and type(ref) is not str:
        if isinstance(ref, bool) or not isinstance(ref, int) or not -10**MAX_REF_LENGTH < ref < 10**MAX_REF_LENGTH:
            raise CaseError(N_("'ref' is an opaque text or number"))
        ref = str(ref)
    if ref is not None and len(ref) > MAX_REF_LENGTH:
        raise CaseError(N_("'ref' is longer than {limit} characters"), limit=MAX_REF_LENGTH)
    age = data.get("age")
    if age is not None:
        if type(age) is not int:  # bool is a subclass of int: this refuses it too
            digits = _AGE_TEXT.fullmatch(age) if isinstance(age, str) else None
            if digits is not None:
                age = int(digits.group(1))
            elif isinstance(age, float) and age.is_integer():
                age = int(age)
            else:
                raise CaseError(N_("'age' is a whole number of years"))
        if not 0 <= age <= MAX_AGE:
            raise CaseError(N_("'age' must be between 0 and {max}"), max=MAX_AGE)
    raw = data.get("factors", {})
    factors: dict[str, bool | None] = {}
    if raw is None:
        raw = {}
    if isinstance(raw, list):
        if not all(type(name) is str for name in raw):
            raise CaseError(N_("'factors' as a list holds factor ids or labels (texts)"))
        raw = dict.fromkeys(raw, True)
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise CaseError(N_("'factors' is an object of factor: true/false/unknown, or a list of ids"))
    resolve = kb.resolve
    factor_ids = _factor_ids(kb)
    for index, (name, value) in enumerate(raw.items()):
        if type(name) is not str and not isinstance(name, str):
            raise CaseError(N_("'factors', entry {entry}: a factor name is a text"), entry=_ordinal(index))
        try:
            # A factor's id stands for itself: one set look-up instead of a resolve.
            ident = name if name in factor_ids else resolve(name, "Factor")
        except UnknownConceptError as exc:
            if exc.suggestions:
                raise CaseError(N_("'factors', entry {entry}: not a known factor id or label; "
                                   "did you mean: {suggestions}?"),
                                entry=_ordinal(index), suggestions=", ".join(exc.suggestions)) from None
            raise CaseError(N_("'factors', entry {entry}: not a known factor id or label"),
                            entry=_ordinal(index)) from None
        except KundskabError:
            raise CaseError(N_("'factors', entry {entry}: the name fits several factors; use the id"),
                            entry=_ordinal(index)) from None
        try:
            answer = value if value is True or value is False or value is None else parse_answer(value)
        except CaseError:
            raise CaseError(N_("'factors', {ident}: the answer is true, false or unknown (ja, nej, ved ikke)"),
                            ident=ident) from None
        if ident in factors and factors[ident] is not None and factors[ident] != answer:
            raise CaseError(N_("'factors', {ident}: given twice with different answers"), ident=ident)
        factors[ident] = answer
    offences = _offences(data.get("offences"), kb)
    victim_of = _offences(data.get("victim_of"), kb, "victim_of")
    roles = _roles(data.get("role"))
    if victim_of:
        roles = roles - {DEFAULT_ROLE} | {"victim"} if data.get("role") is None else roles | {"victim"}
    warnings = []
    municipality, unknown_municipality = _place(data.get("municipality"), "municipality", kb)
    area, unknown_area = _place(data.get("area"), "area", kb)
    if unknown_municipality or unknown_area:
        warnings.append(UNKNOWN_PLACE)
    if offences and factors.get(OFFENCE_FACTOR) is False:
        raise CaseError(N_("'offences' are given, but factor '{factor}' is false"), factor=OFFENCE_FACTOR)
    if "victim" in roles and factors.get(VICTIM_FACTOR) is False:
        raise CaseError(N_("the person is named a victim, but factor '{factor}' is false"), factor=VICTIM_FACTOR)
    return Case(ref, age, factors, offences, municipality, _implications(factors, kb), _denials(factors, kb),
                roles=roles, victim_of=victim_of, area=area, warnings=tuple(warnings))


def _roles(raw: Any) -> frozenset[str]:
    """The roles a case gives (a word or a list of them), the default when none."""
    if raw is None:
        return frozenset({DEFAULT_ROLE})
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or len(items) > len(ROLES) * 2:
        raise CaseError(N_("'role' is one or more of: {roles}"), roles=", ".join(ROLES))
    found = set()
    for item in items:
        role = _ROLE_WORDS.get(fold(item)) if isinstance(item, str) else None
        if role is None:
            raise CaseError(N_("'role' is one or more of: {roles}"), roles=", ".join(ROLES))
        found.add(role)
    return frozenset(found)


def _place(raw: Any, key: str, kb: KnowledgeBase) -> tuple[str | None, bool]:
    """The area id of a place name, and whether the name is one the knowledge base does not
    know (a warning, not an error)."""
    if raw is None:
        return None, False
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_REF_LENGTH:
        raise CaseError(N_("'{key}' is the id or name of a place"), key=key)
    try:
        return kb.resolve(raw, "Area", suggest=False), False
    except KundskabError:
        return None, True


@per_knowledge_base
def _factor_ids(kb: KnowledgeBase) -> frozenset[str]:
    """The ids of the knowledge base's factors: the names `resolve(name, "Factor")` gives
    back unchanged."""
    return frozenset(c.id for c in kb if c.is_a("Factor"))


def _offences(raw: Any, kb: KnowledgeBase, key: str = "offences") -> frozenset[str]:
    """Crime type ids (of `offences` or `victim_of`)."""
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise CaseError(N_("'{key}' is a list of crime type ids"), key=key)
    if len(raw) > MAX_OFFENCES:
        raise CaseError(N_("'{key}' lists at most {max} crime types"), key=key, max=MAX_OFFENCES)
    found = set()
    for name in raw:
        if not isinstance(name, str):
            raise CaseError(N_("'{key}' is a list of crime type ids"), key=key)
        try:
            found.add(kb.resolve(name, "CrimeType"))
        except KundskabError as exc:
            raise CaseError(exc.template, **exc.params) from None
    return frozenset(found)


def _implications(factors: Mapping[str, bool | None], kb: KnowledgeBase) -> dict[str, str]:
    """The factors the true ones imply and the case leaves unanswered, each with the true
    factor it follows from (the first in id order). A factor true while one it implies is
    false is a contradiction."""
    implied = implied_factors(kb)
    true = sorted(f for f, v in factors.items() if v is True and implied.get(f))  # those that imply any
    if not true:
        return {}
    found: dict[str, str] = {}
    for factor in true:
        for other in sorted(implied.get(factor, ())):
            answer = factors.get(other)
            if answer is False:
                raise CaseError(N_("the case contradicts itself: factor '{factor}' is true, "
                                   "so '{other}' cannot be false"),
                                factor=factor, other=other)
            if answer is None:
                found.setdefault(other, factor)
    return found


def _denials(factors: Mapping[str, bool | None], kb: KnowledgeBase) -> frozenset[str]:
    """The factors the case leaves unanswered that imply or presuppose a factor it gives as
    false (what cannot hold when what it rests on does not)."""
    false = [f for f, v in factors.items() if v is False]
    if not false:
        return frozenset()
    resting = resting_factors(kb)
    return frozenset(f for other in false for f in resting.get(other, ()) if factors.get(f) is None)


@per_knowledge_base
def conditions(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """For each factor, the factors it rests on: those it implies (ks:implies, transitively)
    and those it presupposes (ks:presupposes). It is asked only once they hold."""
    implied = implied_factors(kb)
    found = {}
    for factor in kb.of_type("Factor"):
        rests = set(implied.get(factor.id, ())) | set(factor.ref("presupposes"))
        if rests:
            found[factor.id] = frozenset(rests)
    return found


@per_knowledge_base
def resting_factors(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """For each factor, the factors that rest on it (the inverse of `conditions`)."""
    found: dict[str, set[str]] = {}
    for factor, rests in conditions(kb).items():
        for other in rests:
            found.setdefault(other, set()).add(factor)
    return {k: frozenset(v) for k, v in found.items()}


def unasked_factors(kb: KnowledgeBase) -> dict[str, frozenset[str]]:
    """For each factor, the factors never asked about once it is true: those it implies, and
    those it makes moot (ks:makesMoot), with what these imply."""
    implied = implied_factors(kb)
    found = {}
    for factor in kb.of_type("Factor"):
        holds = {factor.id, *implied.get(factor.id, ())}  # what it makes moot, and what those do
        moot = {m for h in holds for direct in kb.get(h).ref("makesMoot") for m in (direct, *implied.get(direct, ()))}
        if moot or implied.get(factor.id):
            found[factor.id] = implied.get(factor.id, frozenset()) | frozenset(moot)
    return found


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
        data = load_case_json(text)
    except CaseError:
        raise
    except ValueError:
        from kundskab._yaml import UntrustedYAMLError, load_untrusted

        try:
            data = load_untrusted(text, unique_keys=True)
        except UntrustedYAMLError as exc:
            # The parser's own words may quote the text: only the line is given.
            twice = "given twice" in str(exc)
            if exc.line:
                raise CaseError(N_("a key is given twice in the same mapping (line {line})") if twice
                                else N_("the case is neither JSON nor YAML (line {line})"), line=exc.line) from None
            raise CaseError(N_("a key is given twice in the same mapping") if twice
                            else N_("the case is neither JSON nor YAML")) from None
    return parse_case(data, kb)
