"""Reading initiative documents into one neutral record, whatever their format.

A document is Markdown with YAML front matter (.md), plain YAML (.yaml, .yml), Turtle
(.ttl) or JSON-LD (.jsonld) in the knowledge base's vocabulary (CONTRACT.md, "An initiative
document"). Every format becomes a `Document`: its fields as written (names not yet
resolved) with the line of each field and of each item, and its free text. Checking the
fields is validation's job (kundskab.documents.validation).

Documents come from outside and are treated as hostile: at most 5 MB, UTF-8 text only,
YAML without anchors or aliases (no alias bombs), no RDF/XML (no entities), and JSON-LD
whose @context would have to be fetched is refused before rdflib sees it: reading a
document never touches the network.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
import stat
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from kundskab._names import printable
from kundskab._yaml import (
    MAX_EVENTS,
    NumberTooLongError,
    TooManyValuesError,
    UntrustedYAMLError,
    load_untrusted_with_nodes,
)
from kundskab.errors import DocumentError
from kundskab.i18n import N_, Messages
from kundskab.knowledge import vocab as _vocab

__all__ = [
    "FIELDS",
    "FORMATS",
    "MAX_BYTES",
    "Document",
    "DocumentSource",
    "Entry",
    "FieldSpec",
    "Opaque",
    "ReadError",
    "document_format",
    "find_documents",
    "iter_sources",
    "parse_document",
    "placeholders",
    "printable",
    "read_document",
]

MAX_BYTES = 5 * 1024 * 1024
# An RDF document describes one initiative in tens of triples; parsing stops beyond this
# many, which bounds the memory rdflib takes (about a kilobyte a triple) and its time.
MAX_TRIPLES = 10_000
FORMATS = {".md": "markdown", ".yaml": "yaml", ".yml": "yaml", ".ttl": "turtle",
           ".jsonld": "json-ld"}

DCT = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
KS = _vocab.KS


@dataclass(frozen=True)
class FieldSpec:
    """One field of an initiative document and the RDF property that carries it."""

    name: str
    prop: str
    kind: str | None  # the class a named concept must belong to; None for text
    many: bool
    claim: str | None = None  # "principle"/"subgoal": takes a mapping name -> justification


FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in (
    FieldSpec("title", DCT + "title", None, False),
    FieldSpec("programme", KS + "partOfProgramme", "Programme", False),
    FieldSpec("tier", KS + "tier", "Tier", False),
    FieldSpec("target_groups", KS + "targetGroup", "TargetGroup", True),
    FieldSpec("principles", KS + "supportsPrinciple", "Principle", True, "principle"),
    FieldSpec("subgoals", KS + "servesSubGoal", "SubGoal", True, "subgoal"),
    FieldSpec("evidence", KS + "evidence", "EvidenceBasis", False),
    FieldSpec("effect_follow_up", KS + "effectFollowUp", None, False),
    FieldSpec("goals", KS + "goalText", None, True),
    FieldSpec("indicators", KS + "indicatorText", None, True),
    FieldSpec("success_criteria", KS + "successCriterion", None, True),
    FieldSpec("fora", KS + "forum", "Forum", True),
    FieldSpec("actors", KS + "actor", "Actor", True),
    FieldSpec("crime_types", KS + "crimeType", "CrimeType", True),
    FieldSpec("risk_factors", KS + "addressesFactor", "Factor", True),
    FieldSpec("period", KS + "period", None, False),
    FieldSpec("place", KS + "place", None, False),
    FieldSpec("description", DCT + "description", None, False),
)}


class Opaque:
    """A value that is neither a text nor a name (an RDF blank node where a field wants one)."""

    def __repr__(self) -> str:
        return "Opaque()"


@dataclass(frozen=True)
class Entry:
    """One field as written: its value, its line and the line of each list item or key."""

    value: Any
    line: int | None = None
    item_lines: tuple[int | None, ...] = ()

    def item_line(self, index: int) -> int | None:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


@dataclass(frozen=True)
class Document:
    """An initiative document, read but not yet checked."""

    name: str
    format: str
    fields: Mapping[str, Entry]
    body: str = ""
    body_line: int | None = None  # the file line where the body starts
    first_line: int | None = None  # where a missing field is reported
    extra_text: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------- errors

READ_MESSAGES = Messages({
    "unsupported": N_("The format '{suffix}' is not supported; use .md, .yaml, .yml, .ttl or .jsonld."),
    "too-large": N_("The file is {size} bytes; the limit is {limit} bytes (5 MB)."),
    "not-regular": N_("Not a regular file."),
    "unreadable": N_("The file cannot be read: {detail}"),
    "binary": N_("The file is binary (contains NUL characters), not a text document."),
    "not-utf8": N_("The file is not UTF-8 text (a binary file?)."),
    "utf16-no-bom": N_("The file looks like UTF-16 text without a byte order mark; save it as UTF-8."),
    "not-unicode": N_("The file begins with a {encoding} byte order mark but is not {encoding} text."),
    "no-front-matter": N_("A Markdown file must begin with YAML front matter between two '---' lines."),
    "unclosed-front-matter": N_("The YAML front matter is not closed by a '---' line."),
    "yaml": N_("Invalid YAML: {detail}"),
    "yaml-alias": N_("YAML anchors and aliases (&name, *name) are not allowed in documents."),
    "front-not-mapping": N_("The YAML front matter must be a mapping of fields (title: …, programme: …)."),
    "not-mapping": N_("The document must be a mapping of fields (title: …, programme: …)."),
    "empty": N_("The document is empty."),
    "duplicate-key": N_("The field '{name}' is given twice (lines {first} and {second})."),
    "merge-key": N_("YAML merge keys ('<<') are not allowed."),
    "json": N_("Invalid JSON: {detail}"),
    "number-too-long": N_("A number in the document has more than {digits} digits."),
    "jsonld-not-object": N_("JSON-LD is an object (or a list of objects), not a single value."),
    "remote-context": N_("JSON-LD with an @context that would have to be fetched ('{context}') "
                          "is not supported: put the context into the document. Nothing is fetched."),
    "turtle": N_("Invalid Turtle: {detail}"),
    "rdf": N_("Invalid {fmt}: {detail}"),
    "no-initiative": N_("No initiative in the document: give it a node of type ks:InitiativeDocument."),
    "several-initiatives": N_("The document describes {count} initiatives; one initiative per file."),
    "too-deep": N_("The document is nested too deeply."),
    "too-many-values": N_("The document has more than {limit} YAML values; an initiative document has far fewer."),
    "too-many-triples": N_("The document has more than {limit} triples; an initiative document has far fewer."),
})


class ReadError(DocumentError):
    """A document that cannot be read; the message exists in Danish and English."""

    def __init__(self, key: str, code: str = "parse-error", line: int | None = None,
                 **params: Any) -> None:
        self.key = key
        super().__init__(READ_MESSAGES[key], code, line, **params)

    def message(self, lang: str = "da") -> str:
        return self.translated(lang)


# ---------------------------------------------------------------------------- files


def document_format(name: str) -> str | None:
    return FORMATS.get(Path(name).suffix.lower())


def find_documents(folder: Path) -> list[Path]:
    """The documents in a folder and its subfolders: supported extensions only, hidden
    files and folders skipped, symbolic links not followed (neither to folders nor to
    files: a link could lead out of the folder, to any file the user may read; one to a
    file inside it finds that file anyway), sorted."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in sorted(files)
                     if not f.startswith(".") and document_format(f) is not None
                     and not os.path.islink(os.path.join(root, f)))
    return found


def read_document(path: Path, name: str | None = None, *, follow_links: bool = True) -> Document:
    """Read and parse one file (raises ReadError for anything that is not a document).
    Without `follow_links`, a symbolic link is refused when it is opened (no window
    between a check and the open for a link to be swapped in)."""
    display = name if name is not None else str(path)
    if document_format(path.name) is None:
        raise ReadError("unsupported", "unsupported-format", suffix=printable(path.suffix or path.name))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not hang the run
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReadError("unreadable", detail=printable(exc.strerror or exc)) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ReadError("not-regular")
        if info.st_size > MAX_BYTES:
            raise ReadError("too-large", "file-too-large", size=info.st_size, limit=MAX_BYTES)
        data = handle.read(MAX_BYTES + 1)
    return parse_document(data, display)


def parse_document(data: bytes | str, filename: str) -> Document:
    """Parse a document's content; `filename` gives the format by its extension."""
    fmt = document_format(filename)
    if fmt is None:
        raise ReadError("unsupported", "unsupported-format",
                        suffix=printable(Path(filename).suffix or filename))
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise ReadError("too-large", "file-too-large", size=len(raw), limit=MAX_BYTES)
    text = _decode(raw)
    if fmt == "markdown":
        return _parse_markdown(text, filename)
    if fmt == "yaml":
        return _parse_yaml(text, filename)
    return _parse_rdf(text, fmt, filename)


# Byte order marks of the Unicode encodings a text editor may save in besides UTF-8 (the
# UTF-32 ones first: UTF-32-LE's begins with UTF-16-LE's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(raw: bytes) -> str:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise ReadError("not-unicode", encoding=encoding.upper()) from None
            if "\x00" in text:
                raise ReadError("binary")
            return text
    if b"\x00" in raw:
        head = raw[:512]
        # ASCII text in UTF-16 has every other byte NUL: say so, rather than "binary".
        if len(head) >= 4 and (head[1::2].count(0) > 0.9 * len(head[1::2]) or
                               head[0::2].count(0) > 0.9 * len(head[0::2])):
            raise ReadError("utf16-no-bom")
        raise ReadError("binary")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError("not-utf8", line=raw[: exc.start].count(b"\n") + 1) from None


# ---------------------------------------------------------------------------- YAML


def _parse_markdown(text: str, name: str) -> Document:
    # Kept rather than python-frontmatter: it would load the YAML with its own loader and
    # drop line numbers, and every problem here must name its line and go through the
    # hardened loader (no aliases, duplicate keys reported); the split itself is 6 lines.
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise ReadError("no-front-matter", line=1)
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise ReadError("unclosed-front-matter", line=1)
    body = "\n".join(lines[end + 1:])
    fields = _yaml_fields("\n".join(lines[1:end]) + "\n", offset=1, where="front-matter")
    return Document(name=name, format="markdown", fields=fields, body=body,
                    body_line=end + 2, first_line=1)


def _parse_yaml(text: str, name: str) -> Document:
    fields = _yaml_fields(text, offset=0, where="document")
    return Document(name=name, format="yaml", fields=fields, first_line=1)


def _yaml_fields(text: str, offset: int, where: str) -> dict[str, Entry]:
    try:
        data, node = load_untrusted_with_nodes(text)
    except TooManyValuesError:
        raise ReadError("too-many-values", limit=MAX_EVENTS) from None
    except NumberTooLongError:
        raise ReadError("number-too-long", digits=sys.get_int_max_str_digits()) from None
    except UntrustedYAMLError as exc:
        line = exc.line + offset if exc.line is not None else None
        if "anchors" in str(exc) or "aliases" in str(exc):
            raise ReadError("yaml-alias", line=line) from None
        raise ReadError("yaml", line=line, detail=printable(str(exc).removeprefix("invalid YAML: "),
                                                         200)) from None
    not_mapping = "front-not-mapping" if where == "front-matter" else "not-mapping"
    if data is None or node is None:
        raise ReadError("empty" if where == "document" else not_mapping, line=1 + offset)
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise ReadError(not_mapping, line=node.start_mark.line + 1 + offset)

    def line_of(n: yaml.Node) -> int:
        return int(n.start_mark.line) + 1 + offset

    seen: dict[str, int] = {}
    lines: dict[str, tuple[int, tuple[int | None, ...]]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise ReadError("merge-key", line=line_of(key_node))
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = str(key_node.value)
        if key in seen:
            raise ReadError("duplicate-key", line=line_of(key_node), name=printable(key),
                            first=seen[key], second=line_of(key_node))
        seen[key] = line_of(key_node)
        items: tuple[int | None, ...] = ()
        if isinstance(value_node, yaml.SequenceNode):
            items = tuple(line_of(item) for item in value_node.value)
        elif isinstance(value_node, yaml.MappingNode):
            items = tuple(line_of(k) for k, _ in value_node.value)
        lines[key] = (line_of(key_node), items)
    fields: dict[str, Entry] = {}
    for key, value in data.items():
        name = str(key)
        at, items = lines.get(name, (None, ()))
        fields[name] = Entry(value=value, line=at, item_lines=items)
    return fields


# ---------------------------------------------------------------------------- RDF


def _refuse_remote_contexts(data: Any) -> None:
    """Refuse every @context that names a document to fetch (a string, also in a list, at
    any depth) and every @import: rdflib would fetch them. Iterative: input may be deep."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "@import":
                    raise ReadError("remote-context", context=printable(value))
                if key == "@context":
                    for context in value if isinstance(value, list) else [value]:
                        if isinstance(context, str):
                            raise ReadError("remote-context", context=printable(context))
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


class _TooManyTriples(Exception):
    pass


def _bounded_graph() -> Any:
    """An rdflib graph that refuses its MAX_TRIPLES + 1st triple (while parsing)."""
    import rdflib
    from rdflib.plugins.stores.memory import Memory

    class BoundedMemory(Memory):
        count = 0

        def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
            self.count += 1
            if self.count > MAX_TRIPLES:
                raise _TooManyTriples
            super().add(triple, context, quoted)

    return rdflib.Graph(store=BoundedMemory())


def _parse_rdf(text: str, fmt: str, name: str) -> Document:
    from rdflib.plugins.parsers.notation3 import BadSyntax

    graph = _bounded_graph()
    if fmt == "json-ld":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReadError("json", line=exc.lineno, detail=printable(exc.msg)) from None
        except RecursionError:
            raise ReadError("too-deep") from None
        except ValueError:  # an integer past Python's limit of digits (sys.get_int_max_str_digits)
            raise ReadError("number-too-long", digits=sys.get_int_max_str_digits()) from None
        if not isinstance(data, dict | list):
            raise ReadError("jsonld-not-object")  # rdflib fails on it with an error of its own code
        _refuse_remote_contexts(data)
    # rdflib warns (warnings, and logging with the offending text) about odd IRIs and
    # ill-typed literals; a document's problems are reported, not logged.
    log = logging.getLogger("rdflib")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Relative IRIs resolve against a reserved name (RFC 6761 .invalid); rdflib
            # never dereferences a base.
            graph.parse(data=text, format=fmt, publicID="https://document.invalid/")
    except BadSyntax as exc:
        detail = printable(getattr(exc, "_why", None) or "syntax error", 200)
        raise ReadError("turtle", line=int(exc.lines) + 1, detail=detail) from None
    except RecursionError:
        raise ReadError("too-deep") from None
    except _TooManyTriples:
        raise ReadError("too-many-triples", limit=MAX_TRIPLES) from None
    except Exception as exc:  # rdflib raises many unrelated types for bad input
        raise ReadError("rdf", fmt="Turtle" if fmt == "turtle" else "JSON-LD",
                        detail=printable(exc, 200)) from None
    finally:
        log.setLevel(level)
    return _rdf_document(graph, fmt, name)


def _rdf_document(graph: Any, fmt: str, name: str) -> Document:
    import rdflib

    rdf_type = rdflib.URIRef(RDF + "type")
    roots: list[Any] = []
    for cls in ("InitiativeDocument", "Intervention"):
        roots = sorted(set(graph.subjects(rdf_type, rdflib.URIRef(KS + cls))), key=str)
        if roots:
            break
    if not roots:
        raise ReadError("no-initiative")
    if len(roots) > 1:
        raise ReadError("several-initiatives", count=len(roots))
    root = roots[0]

    def plain(node: Any) -> Any:
        if isinstance(node, rdflib.URIRef):
            text = str(node)
            return text[len(_vocab.KB):] if text.startswith(_vocab.KB) else text
        if isinstance(node, rdflib.Literal):
            return str(node)
        return Opaque()

    justifications: dict[str, Any] = {}
    for node in graph.objects(root, rdflib.URIRef(KS + "justification")):
        about = graph.value(node, rdflib.URIRef(KS + "about"))
        text = graph.value(node, rdflib.URIRef(RDF + "value"))
        if about is not None and not isinstance(about, rdflib.BNode):
            justifications[plain(about)] = plain(text) if text is not None else None
    used: set[str] = set()
    fields: dict[str, Entry] = {}
    for spec in FIELDS.values():
        objects = sorted(graph.objects(root, rdflib.URIRef(spec.prop)),
                         key=lambda n: (type(n).__name__, str(n)))
        if not objects:
            continue
        values = [plain(o) for o in objects]
        value: Any
        if spec.claim and all(isinstance(v, str) for v in values) and \
                any(v in justifications for v in values):
            value = {v: justifications.get(v) for v in values}
            used.update(v for v in values if v in justifications)
        elif spec.many or len(values) > 1:
            value = values
        else:
            value = values[0]
        fields[spec.name] = Entry(value=value)
    extra = tuple(str(t) for k, t in justifications.items() if k not in used and isinstance(t, str))
    return Document(name=name, format=fmt, fields=fields, extra_text=extra)


class DocumentSource(NamedTuple):
    """A file to validate, as found from the paths given."""

    path: Path
    name: str  # as displayed
    named: bool  # given by name (its links are followed), not found in a folder


def iter_sources(paths: Iterable[Path]) -> list[DocumentSource]:
    """Expand paths (files and folders) into the files to read, in the given order."""
    out: list[DocumentSource] = []
    for path in paths:
        if path.is_dir():
            out.extend(DocumentSource(found, str(found), False) for found in find_documents(path))
        else:
            out.append(DocumentSource(path, str(path), True))
    return out


_PLACEHOLDER = re.compile(r"\[udfyld[^\]\n]{0,300}\]", re.IGNORECASE)


def placeholders(text: str) -> list[str]:
    """Template placeholders (`[udfyld: …]`) left in a text."""
    return _PLACEHOLDER.findall(text)
