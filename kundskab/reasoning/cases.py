"""A case: an opaque reference, an age and factors that are true, false or unknown, and
optionally the crime types committed (`offences`), who the person is (`role`: at risk,
offender, victim, relative asking for help), the crime types the person has suffered
(`victim_of`), the municipality and the local area it belongs to, and, with the age
unknown, the age group the person is in (`age_group`). An unknown place is a warning, never
an error: the answer goes on without it.

Nothing in a case identifies a person. This module never writes a case anywhere; the
reference is only echoed back to the caller. A case that contradicts itself (a factor
true and a factor it implies false, e.g. wanting to leave a gang while not in one) is a
CaseError; messages name concepts, never a case's values.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from kundskab._memo import per_knowledge_base
from kundskab._names import fold
from kundskab.errors import CaseError, CaseJSONError, KundskabError, UnknownConceptError
from kundskab.i18n import N_, Text
from kundskab.knowledge.base import KnowledgeBase
from kundskab.reasoning.rules import Facts, implied_factors

__all__ = ["CASE_KEYS", "CPR_WARNING", "FIELDS", "MAX_AGE", "MAX_CASE_BYTES", "AgeBands", "Case", "age_from_text",
           "age_group_ages", "age_groups",
           "case_from_json", "case_warnings", "conditions", "factor_flags", "implied_factors", "load_case_json",
           "looks_like_cpr", "parse_answer", "parse_case", "parse_case_text", "unasked_factors"]

# The case's shape and limits: this module is their one home. Every path (the command
# line's file, stdin and options, batch lines, Python's `recommend`, HTTP bodies) reads a
# case through `parse_case` (a mapping) or `case_from_json` / `parse_case_text` (text), so
# all accept and refuse the same inputs with the same error. The HTTP model of a case
# (kundskab.edges.models.Case) is built from FIELDS and only describes it.
MAX_AGE = 120
MAX_REF_LENGTH = 200
MAX_CASE_BYTES = 64 * 1024
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
UNKNOWN_PLACE = N_("the municipality or area is not one the knowledge base knows; the answer does not use the place")
_UNKNOWN_AREA = "\0unknown-place"  # what a place reader gives for a name the knowledge base does not know

# The words a factor's answer may also be given as (besides true, false and null).
_TRUE = {"true", "ja", "j", "yes", "y", "sand"}
_FALSE = {"false", "nej", "n", "no", "falsk"}
_UNKNOWN = {"unknown", "ved ikke", "vedikke", "ukendt", "?", "", "null", "none", "dont know",
            "don't know", "vi"}

_ANSWERS: dict[str, bool | None] = {
    **{word: True for word in _TRUE}, **{word: False for word in _FALSE}, **{word: None for word in _UNKNOWN}}

CPR_WARNING = N_("the reference looks like a CPR number; a case must not identify a person: use an "
                 "opaque reference")


def parse_answer(value: Any) -> bool | None:
    """True, False or None (unknown) from true/false/null and the words of an answer
    (ja/nej/ved ikke, yes/no/unknown, any case); numbers are not answers."""
    if value is None or value is True or value is False:
        return value
    if type(value) is str:
        found = _ANSWERS.get(value, _ANSWERS)  # as written, without folding
        if found is not _ANSWERS:
            return found  # type: ignore[return-value]
        key = fold(value)
        if key in _ANSWERS:
            return _ANSWERS[key]
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
    # Factors the case did not answer that imply or presuppose a factor it gives as false:
    # not being in a gang answers whether the person wants to leave one (no), and an offence
    # denied answers whether it was serious. The rules and the questions take them as false.
    denied: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset({DEFAULT_ROLE})
    victim_of: frozenset[str] = frozenset()  # crime type ids the person has suffered
    area: str | None = None  # a local area id (an estate, a district), within the municipality
    unknown_place: bool = False  # a municipality or area named that the knowledge base does not know
    # With the age unknown, the age group the person is known to be in (an AgeGroup id: a
    # child in school, a young adult): it bounds the ages the case allows. Given with the
    # age, it only had to agree with it.
    age_group: str | None = None
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
        object.__setattr__(self, "facts", Facts(self.age, frozenset(true), frozenset(false),
                                                None if self.age is not None else self.age_group))

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


# ---------------------------------------------------------------------------- the CPR check

# A Danish CPR number: ddmmyy, then four digits; the date's parts may be separated (01.02.03,
# 01 02 03) and the four digits set off by a space or any kind of hyphen or dash.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_CPR = re.compile(
    "(?<![0-9])(?:0[1-9]|[12][0-9]|3[01])[./ ]?(?:0[1-9]|1[0-2])[./ ]?[0-9]{2}"
    f"(?:[ \u00a0\u202f]?[{_DASHES}]?[ \u00a0\u202f]?)[0-9]{{4}}(?![0-9])")


def _ascii_digits(text: str) -> str:
    """`text` with every decimal digit (full-width, Arabic-Indic, …) as its ASCII digit."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def looks_like_cpr(ref: str | None) -> bool:
    """Whether an opaque reference holds what looks like a Danish CPR number (worth a
    warning: a reference must not identify a person). The one check every path uses."""
    if ref is None:
        return False
    if not ref.isascii():
        ref = _ascii_digits(ref)
    return _CPR.search(ref) is not None


def case_warnings(case: Case) -> list[tuple[str, Text]]:
    """(code, message) of what looks wrong in a case, said without repeating its values:
    part of every answer, whichever path asked."""
    found = [("ref-looks-like-cpr", CPR_WARNING)] if looks_like_cpr(case.ref) else []
    if case.unknown_place:
        found.append(("unknown-place", UNKNOWN_PLACE))
    return found


class AgeBands:
    """Ages (whole years) cut where age conditions change, so that every age in one band
    passes the same conditions: the one way from an age to its band and back. `edges` are
    the first ages at which a condition starts or stops holding (a minimum age, a maximum
    age + 1); band 0 holds the ages before the first edge, band n those from edge n - 1
    on, band -1 an unknown age."""

    __slots__ = ("edges",)

    def __init__(self, edges: Iterable[int]) -> None:
        self.edges = sorted(set(edges))

    def __len__(self) -> int:
        return len(self.edges) + 1

    def band(self, age: int | None) -> int:
        return -1 if age is None else bisect_right(self.edges, age)

    def first_age(self, band: int) -> int | None:
        """The youngest age of a band (None for an unknown age): all of the band's ages
        pass what it passes."""
        if band < 0:
            return None
        return self.edges[band - 1] if band else 0


# ---------------------------------------------------------------------------- JSON text


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise CaseError(N_("a key is given twice in the same object"))
    return out


def _whole_number(text: str) -> int:
    """A whole number written in a case's JSON or YAML. Python refuses to convert more
    digits than sys.get_int_max_str_digits() (a guard against slow conversions); that is
    the case's limit too, said in the catalogue's words, so that a case refused here is one
    a Python caller could not have built from the same text either."""
    try:
        return int(text)
    except ValueError:
        raise CaseError(N_("a number in the case has more than {digits} digits"),
                        digits=sys.get_int_max_str_digits()) from None


def _not_json(name: str) -> Any:
    # NaN and Infinity: Python's own extension of JSON, which no other reader takes.
    raise CaseJSONError(N_("not a JSON case (NaN and Infinity are not JSON)"))


# One decoder for every case: json.loads with a hook builds a new decoder per call.
_DECODE = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_int=_whole_number,
                           parse_constant=_not_json).decode


def load_case_json(text: str | bytes) -> Any:
    """Parse a case's JSON text (UTF-8, at most MAX_CASE_BYTES): every problem is a
    CaseError whose message gives no value; a syntax error is a CaseJSONError (code
    invalid-json) with the line and column only."""
    if len(text) > MAX_CASE_BYTES:
        raise CaseError(N_("a case is at most {size} KiB"), size=MAX_CASE_BYTES // 1024)
    if not isinstance(text, str):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise CaseError(N_("a case is UTF-8 text")) from None
    if text[:1] == "\ufeff":  # a byte order mark, as some editors write
        text = text[1:]
    try:
        return _DECODE(text)
    except CaseError:  # from the hooks: a key given twice, a number too long, NaN
        raise
    except RecursionError:
        raise CaseError(N_("the case is nested too deeply")) from None
    except json.JSONDecodeError as exc:
        raise CaseJSONError(N_("not a JSON case (line {line}, column {column})"),
                            line=exc.lineno, column=exc.colno) from None


def case_from_json(text: str | bytes, kb: KnowledgeBase) -> Case:
    """A case from its JSON text: what a batch line and an HTTP body are read with."""
    return parse_case(load_case_json(text), kb)


def factor_flags(true: Iterable[str], false: Iterable[str]) -> dict[str, bool]:
    """The factors of command-line flags (--factor, --not-factor) as a case's mapping; a
    name given both ways is a CaseError, as it is in a case's JSON."""
    flags = dict.fromkeys(true, True)
    for name in false:
        if flags.get(name) is True:
            raise CaseError(N_("a factor is given both as true and as false"))
        flags[name] = False
    return flags


# ASCII digits only (int() takes '١٥' and refuses '¹⁵'), with the word a person may add.
_AGE_TEXT = re.compile(r"\s*([0-9]{1,3})\s*(?:år|aar|years?|yrs?)?\s*\.?\s*", re.IGNORECASE)


def age_from_text(text: str | None) -> int | None:
    """An age typed as text, the one reading of it for `--age`, the interview and the web
    form: "14", "14 år", "14 years". The case itself (JSON, YAML) takes only a whole number;
    the range is the case's check (MAX_AGE)."""
    if text is None:
        return None
    digits = _AGE_TEXT.fullmatch(text)
    if digits is None:
        raise CaseError(N_("'age' is a whole number of years"))
    return int(digits.group(1))


# ---------------------------------------------------------------------------- the fields


def _ordinal(index: int) -> int:
    return index + 1


def _ref(value: Any, kb: KnowledgeBase) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise CaseError(N_("'ref' is an opaque text"))
    if len(value) > MAX_REF_LENGTH:
        raise CaseError(N_("'ref' is longer than {limit} characters"), limit=MAX_REF_LENGTH)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: from "\\udcf8" or bytes that were not UTF-8
            raise CaseError(N_("'ref' is not valid text (not UTF-8)")) from None
    return value


def _age(value: Any, kb: KnowledgeBase) -> int | None:
    if value is None:
        return None
    if type(value) is not int:  # not a bool (a subclass of int), a float or a text
        raise CaseError(N_("'age' is a whole number of years"))
    if not 0 <= value <= MAX_AGE:
        raise CaseError(N_("'age' must be between 0 and {max}"), max=MAX_AGE)
    return value


def _factors(raw: Any, kb: KnowledgeBase) -> dict[str, bool | None]:
    factors: dict[str, bool | None] = {}
    if raw is None:
        return factors
    if type(raw) is list:
        if not all(type(name) is str for name in raw):
            raise CaseError(N_("'factors' as a list holds factor ids or labels (texts)"))
        raw = dict.fromkeys(raw, True)
    elif type(raw) is not dict and not isinstance(raw, Mapping):  # dict first: isinstance on an ABC is slow
        raise CaseError(N_("'factors' is an object of factor: true/false/unknown, or a list of ids"))
    resolve = kb.resolve
    factor_ids = _factor_ids(kb)
    for index, (name, value) in enumerate(raw.items()):
        if type(name) is not str:
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
    return factors


def _age_group(value: Any, kb: KnowledgeBase) -> str:
    if type(value) is not str or not value.strip() or len(value) > MAX_REF_LENGTH:
        raise CaseError(N_("'age_group' is the id or name of an age group ({groups})"),
                        groups=", ".join(age_groups(kb)))
    return _concept(value, kb, "AgeGroup", "age_group")


@per_knowledge_base
def _age_groups(kb: KnowledgeBase) -> dict[str, tuple[int, int]]:
    """Each age group's ages (ks:minAge/ks:maxAge; MAX_AGE where it has no upper bound)."""
    return {g.id: (g.int_value("minAge") or 0, MAX_AGE if (high := g.int_value("maxAge")) is None else high)
            for g in kb.of_type("AgeGroup")}


def age_group_ages(kb: KnowledgeBase, group: str) -> tuple[int, int]:
    """The youngest and oldest age of an age group."""
    return _age_groups(kb)[group]


def age_groups(kb: KnowledgeBase) -> list[str]:
    """The age groups' ids, youngest first (as the interview and the page offer them)."""
    ages = _age_groups(kb)
    return sorted(ages, key=ages.__getitem__)


def _offences(raw: Any, kb: KnowledgeBase) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if type(raw) is not list or not all(type(name) is str for name in raw):
        raise CaseError(N_("'offences' is a list of crime type ids"))
    if len(raw) > MAX_OFFENCES:
        raise CaseError(N_("'offences' lists at most {max} crime types"), max=MAX_OFFENCES)
    return frozenset(_concept(name, kb, "CrimeType", "offences", index) for index, name in enumerate(raw))


def _municipality(value: Any, kb: KnowledgeBase) -> str | None:
    if value is None:
        return None
    if type(value) is not str or not value.strip():
        raise CaseError(N_("'municipality' is the id or name of a municipality or police district"))
    return _known_place(value, kb)


def _area(value: Any, kb: KnowledgeBase) -> str | None:
    if type(value) is not str or not value.strip() or len(value) > MAX_REF_LENGTH:
        raise CaseError(N_("'area' is the id or name of a local area"))
    return _known_place(value, kb)


def _known_place(name: str, kb: KnowledgeBase) -> str:
    """The area id of a place name, or _UNKNOWN_AREA for one the knowledge base does not
    know (a warning, not an error: the answer goes on without the place)."""
    try:
        return kb.resolve(name, "Area", suggest=False)
    except KundskabError:
        return _UNKNOWN_AREA


def _victim_of(raw: Any, kb: KnowledgeBase) -> frozenset[str]:
    if type(raw) is not list or not all(type(name) is str for name in raw):
        raise CaseError(N_("'victim_of' is a list of crime type ids"))
    if len(raw) > MAX_OFFENCES:
        raise CaseError(N_("'victim_of' lists at most {max} crime types"), max=MAX_OFFENCES)
    return frozenset(_concept(name, kb, "CrimeType", "victim_of", index) for index, name in enumerate(raw))


def _roles(raw: Any, kb: KnowledgeBase) -> frozenset[str]:
    """The roles a case gives (a word or a list of them)."""
    items = [raw] if type(raw) is str else raw
    if type(items) is not list or not items or len(items) > len(ROLES) * 2:
        raise CaseError(N_("'role' is one or more of: {roles}"), roles=", ".join(ROLES))
    found = set()
    for item in items:
        role = _ROLE_WORDS.get(fold(item)) if type(item) is str else None
        if role is None:
            raise CaseError(N_("'role' is one or more of: {roles}"), roles=", ".join(ROLES))
        found.add(role)
    return frozenset(found)


def _concept(name: str, kb: KnowledgeBase, kind: str, where: str, index: int | None = None) -> str:
    """The id of a concept a case names; an unknown or ambiguous name is a CaseError that
    says which field (and entry) is wrong, never the name given: it is a case's value.
    The suggestions are ids of the knowledge base."""
    try:
        return kb.resolve(name, kind)
    except UnknownConceptError as exc:
        if exc.suggestions:
            raise CaseError(N_("'{field}': not a known id or name; did you mean: {suggestions}?") if index is None
                            else N_("'{field}', entry {entry}: not a known id or name; did you mean: {suggestions}?"),
                            field=where, entry=_ordinal(index or 0), suggestions=", ".join(exc.suggestions)) from None
        raise CaseError(N_("'{field}': not a known id or name") if index is None
                        else N_("'{field}', entry {entry}: not a known id or name"),
                        field=where, entry=_ordinal(index or 0)) from None
    except KundskabError:
        raise CaseError(N_("'{field}': the name fits several; use the id") if index is None
                        else N_("'{field}', entry {entry}: the name fits several; use the id"),
                        field=where, entry=_ordinal(index or 0)) from None


class CaseField(NamedTuple):
    """One field of a case: how it is read, and what the HTTP model says of it."""

    read: Callable[[Any, KnowledgeBase], Any]  # the JSON value (never None) -> the Case's attribute
    absent: Any  # the attribute when the field is absent or null
    yaml: str  # how a plain YAML scalar in it is typed: "text", "age" or "answers" (see _typed)
    schema: Any  # the type the HTTP model and the JSON Schema describe
    description: str


# The case's fields. A new field of a case is a row here and an attribute of Case; parse_case
# hands them to Case (the first five by position, in the order of its attributes).
FIELDS: dict[str, CaseField] = {
    "ref": CaseField(_ref, None, "text", str | None, "An opaque reference, echoed back (never stored or logged)."),
    "age": CaseField(_age, None, "age", int | None, f"Age in whole years, 0 to {MAX_AGE}; absent or null = unknown."),
    "factors": CaseField(
        _factors, MappingProxyType({}), "answers", dict[str, bool | str | None] | list[str] | None,
        "Factor id or label -> true, false or \"unknown\" (also null, and ja/nej/ved ikke); or a list of ids, "
        "each meaning true. A factor not mentioned is unknown."),
    "offences": CaseField(_offences, frozenset(), "text", list[str] | None,
                          "Crime type ids or labels: what the person has committed or is charged with."),
    "municipality": CaseField(_municipality, None, "text", str | None,
                              "The municipality or police district the case belongs to (id or label), so that "
                              "local measures come first; an unknown one is a warning (`unknown-place`)."),
    "role": CaseField(_roles, None, "text", str | list[str] | None,
                      "Who the person is: `at-risk` (the default), `offender`, `victim`, `relative` (a parent or "
                      "close relative asking for help; `age` and `factors` then describe the child)."),
    "victim_of": CaseField(_victim_of, frozenset(), "text", list[str] | None,
                           "Crime type ids or labels the person has suffered (implies role `victim` and "
                           "`victim-of-crime`)."),
    "area": CaseField(_area, None, "text", str | None,
                      "A local area of the case (an estate, a district); an unknown one is a warning."),
    "age_group": CaseField(_age_group, None, "text", str | None,
                           "With the age unknown, the age group the person is in (id or label: "
                           "`preschool-children` 0-5, `school-age-youth` 6-17, `young-adults` 18-25, `adults` 26+): "
                           "the answer fits those ages. Given with `age`, the two must agree."),
}
CASE_KEYS = frozenset(FIELDS)
_READERS = [(name, field.read, field.absent) for name, field in FIELDS.items()]
_FACTORS, _OFFENCES = list(FIELDS).index("factors"), list(FIELDS).index("offences")


def parse_case(data: Any, kb: KnowledgeBase) -> Case:
    """Check and normalise a case given as a mapping (parsed JSON or YAML, or a Python
    dict): the one parser of every path. null is the same as an absent field."""
    if type(data) is not dict and not isinstance(data, Mapping):  # dict first: isinstance on an ABC is slow
        raise CaseError(N_("a case is an object with 'ref', 'age' and 'factors'"))
    if not CASE_KEYS.issuperset(data):
        unknown = sum(1 for k in data if k not in CASE_KEYS)
        raise CaseError(N_("the case has {count} unknown field(s) (a case has only {keys})"),
                        count=unknown, keys=", ".join(sorted(CASE_KEYS)))
    get = data.get
    # An absent field costs no call (most cases give only some), and the values go to
    # Case by position (FIELDS is in the order of its attributes): this is every case's path.
    values = [absent if (value := get(name)) is None else read(value, kb) for name, read, absent in _READERS]
    ref, age, factors, offences, municipality, roles, victim_of, area, age_group = values
    if age is not None and age_group is not None:
        low, high = age_group_ages(kb, age_group)
        if not low <= age <= high:
            raise CaseError(N_("'age' and 'age_group' disagree: the age is outside the group's ages"))
    if offences and factors.get(OFFENCE_FACTOR) is False:
        raise CaseError(N_("'offences' are given, but factor '{factor}' is false"), factor=OFFENCE_FACTOR)
    if roles is None:  # the default, unless the case says what the person has suffered
        roles = frozenset({"victim"}) if victim_of else frozenset({DEFAULT_ROLE})
    elif victim_of:
        roles |= {"victim"}
    if "victim" in roles and factors.get(VICTIM_FACTOR) is False:
        raise CaseError(N_("the person is named a victim, but factor '{factor}' is false"), factor=VICTIM_FACTOR)
    unknown_place = municipality == _UNKNOWN_AREA or area == _UNKNOWN_AREA
    return Case(ref, age, factors, offences, None if municipality == _UNKNOWN_AREA else municipality,
                _implications(factors, kb), _denials(factors, kb), roles, victim_of,
                None if area == _UNKNOWN_AREA else area, unknown_place, age_group)


@per_knowledge_base
def _factor_ids(kb: KnowledgeBase) -> frozenset[str]:
    """The ids of the knowledge base's factors: the names `resolve(name, "Factor")` gives
    back unchanged."""
    return frozenset(c.id for c in kb if c.is_a("Factor"))


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
    """A case from JSON or YAML text (JSON is tried first; safe YAML with every scalar
    kept as written, only `age` and the factors' answers typed, as JSON types them)."""
    try:
        data = load_case_json(text)
    except CaseJSONError:
        from kundskab._yaml import UntrustedYAMLError, load_as_written

        if not isinstance(text, str):
            text = text.decode("utf-8")  # load_case_json has checked it is UTF-8
        try:
            data = _typed(load_as_written(text.removeprefix("\ufeff")), "")
        except RecursionError:
            raise CaseError(N_("the case is nested too deeply")) from None
        except UntrustedYAMLError as exc:
            # The parser's own words may quote the text: only the line is given.
            twice = "given twice" in str(exc)
            if exc.line:
                raise CaseError(N_("a key is given twice in the same mapping (line {line})") if twice
                                else N_("the case is neither JSON nor YAML (line {line})"), line=exc.line) from None
            raise CaseError(N_("a key is given twice in the same mapping") if twice
                            else N_("the case is neither JSON nor YAML")) from None
    return parse_case(data, kb)


_YAML_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_YAML_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_YAML_WHOLE = re.compile("[0-9]+")


def _typed(value: Any, kind: str) -> Any:
    """YAML read as written (kundskab._yaml.Plain for unquoted scalars) with the types JSON
    would have given: an unquoted null is null everywhere; an unquoted whole number is a
    number only as `age`, and true/false booleans only as a factor's answer (YAML 1.2's
    core forms); everything else stays the text it was written as."""
    from kundskab._yaml import Plain

    if type(value) is Plain:
        if value in _YAML_NULL:
            return None
        if kind == "age" and _YAML_WHOLE.fullmatch(value):
            return _whole_number(value)
        if kind == "answer" and value in _YAML_BOOL:
            return _YAML_BOOL[value]
        return str(value)
    if type(value) is dict:
        if kind == "":  # the case itself: each field typed as FIELDS says
            return {_typed(k, "text"): _typed(v, FIELDS[k].yaml if k in FIELDS else "text") for k, v in value.items()}
        inner = "answer" if kind == "answers" else "text"
        return {_typed(k, "text"): _typed(v, inner) for k, v in value.items()}
    if type(value) is list:
        return [_typed(v, "text") for v in value]
    return value
