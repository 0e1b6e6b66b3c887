"""The JSON text of an answer: the one module that writes it (`Recommendation.to_json`, the
batch lines, the HTTP answers all come from here).

One encoder for every value (json.dumps with options builds a new encoder per call). ASCII
only: an answer is one line for any line reader (U+2028 and the like escaped), and
pure-ASCII text is joined and written as plain bytes, without widening or re-encoding.

Most of an answer is shared: the recommender keeps its items, explanation entries,
questions and labels in bounded memos, and many cases get the very same objects. Their text
is written once per object and kept here, by the object's identity: an answer's text is then
mostly joined, not encoded. A kept entry holds its object, so no other object can have that
identity while the entry is kept (the lookup needs no check that the object is the same).
A value made for one case only (the warnings, the reference) is encoded each time and never
kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from kundskab._memo import BoundedMemo
from kundskab.reasoning.answer import Fact, Recommendation

__all__ = ["batch_error_json", "dumps", "plain", "recommendation_dict", "recommendation_json"]

dumps: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":")).encode
_string: Callable[[str], str] = json.encoder.encode_basestring_ascii  # what `dumps` does with a text

# The text of each shared value, by identity: id -> (value, text).
_TEXTS = BoundedMemo("answer_json.texts")
# The inside of a JSON array of a shared tuple of shared values, by identity.
_LISTS = BoundedMemo("answer_json.lists")
# `"id":"label"` per concept and label: a new set of labels is joined from these (few
# concepts, many sets of them).
_LABELS = BoundedMemo("answer_json.labels")
# The text of a list of concept ids, by content (few distinct lists exist).
_ID_LISTS = BoundedMemo("answer_json.id_lists")


def plain(value: Any) -> Any:
    """A typed value as the plain JSON object it is written as: a fact as its notation, a
    named tuple as an object of its fields, a tuple of them as a list, a mapping of texts (the
    labels) as an object; texts, numbers, None and tuples of texts as they are (the encoder
    writes a tuple as an array). Checked by exact type first: it runs for every new value."""
    kind = type(value)
    if kind is Fact:
        return str(value)
    if kind is MappingProxyType or kind is dict:
        return dict(value)
    if isinstance(value, tuple):
        fields = getattr(kind, "_fields", None)
        if fields is not None:
            found = dict(zip(fields, value, strict=True))
            for name, field in found.items():
                if isinstance(field, tuple):
                    found[name] = plain(field)
            return found
        return [plain(v) for v in value] if value and isinstance(value[0], tuple) else value
    return value


def _labels(labels: Mapping[str, str]) -> str:
    """The text of the answer's labels (a shared mapping, kept by identity like the rest)."""
    found = _TEXTS.get(id(labels))
    if found is not None:
        return found[1]  # type: ignore[no-any-return]
    pairs = _LABELS
    text = "{" + ",".join([pairs.get(pair) or _pair(pair) for pair in labels.items()]) + "}"
    _TEXTS.keep(id(labels), (labels, text))
    return text


def _pair(pair: tuple[str, str]) -> str:
    text = f"{dumps(pair[0])}:{dumps(pair[1])}"
    _LABELS.keep(pair, text)
    return text


def _text(value: Any) -> str:
    """The text of a shared value, written the first time it is asked for."""
    found = _TEXTS.get(id(value))
    if found is not None:
        return found[1]  # type: ignore[no-any-return]
    text = dumps(plain(value))
    _TEXTS.keep(id(value), (value, text))
    return text


def _joined(values: Iterable[Any]) -> str:
    """The texts of shared values, comma-separated (the inside of a JSON array)."""
    texts = _TEXTS
    try:
        return ",".join([texts[id(v)][1] for v in values])
    except KeyError:  # one is not kept yet
        return ",".join([_text(v) for v in values])


def _ids(ids: list[str]) -> str:
    key = tuple(ids)
    found = _ID_LISTS.get(key)
    return found if found is not None else _ID_LISTS.make(key, dumps, ids)  # type: ignore[no-any-return]


def recommendation_json(rec: Recommendation) -> str:
    """The answer as compact, ASCII-only JSON text: the contract's object, its keys in the
    contract's order; `fora_elsewhere`, `fora_by_age`, `fora_ruled_out`, `control`, `need_questions` and
    `warnings` only when not empty (the age is the case's own, not part of the answer's JSON)."""
    texts = _TEXTS
    try:  # the usual answer: every part kept, looked up without a call per part
        items = _LISTS[id(rec.interventions)][1]
        questions = ",".join([texts[id(q)][1] for q in rec.open_questions])
        explanation = ",".join([texts[id(e)][1] for e in rec.explanation])
        labels = texts[id(rec.labels)][1]
    except KeyError:
        items, questions = _list(rec.interventions), _joined(rec.open_questions)
        explanation, labels = _joined(rec.explanation), _labels(rec.labels)
    ref = rec.ref
    return "".join((
        '{"ref":', "null" if ref is None else _string(ref),
        ',"tier":', _string(rec.tier),
        ',"target_groups":', _ids(rec.target_groups),
        ',"fora":', _ids(rec.fora),
        *((',"fora_elsewhere":[', _joined(rec.fora_elsewhere), "]") if rec.fora_elsewhere else ()),
        *((',"fora_by_age":[', _joined(rec.fora_by_age), "]") if rec.fora_by_age else ()),
        *((',"fora_ruled_out":[', _joined(rec.fora_ruled_out), "]") if rec.fora_ruled_out else ()),
        ',"interventions":[', items,
        *(('],"control":[', _list(rec.control)) if rec.control else ()),
        '],"open_questions":[', questions,
        *(('],"need_questions":[', _joined(rec.need_questions)) if rec.need_questions else ()),
        '],"explanation":[', explanation,
        '],"labels":', labels,
        ',"kb_version":', _string(rec.kb_version),
        ',"warnings":' + dumps(plain(rec.warnings)) + "}" if rec.warnings else "}",
    ))


def _list(values: tuple[Any, ...]) -> str:
    """The inside of a JSON array of a shared tuple of shared values (a ranking's items are
    one tuple for every case ranked alike), kept as one text."""
    found = _LISTS.get(id(values))
    if found is not None:
        return found[1]  # type: ignore[no-any-return]
    text = _joined(values)
    _LISTS.keep(id(values), (values, text))
    return text


def recommendation_dict(rec: Recommendation) -> dict[str, Any]:
    """The answer's JSON object, read back from its text: a fresh object the caller may
    change freely."""
    return json.loads(recommendation_json(rec))  # type: ignore[no-any-return]


def batch_error_json(line: int, code: str, message: str) -> str:
    """A bad line of a batch: `{"line": N, "error": {"code", "message"}}` (ASCII only, like
    the answers: one output line is one line for any line reader)."""
    return dumps({"line": line, "error": {"code": code, "message": message}})
