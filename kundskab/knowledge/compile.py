"""Compile the Turtle ontology into a plain JSON model (the cache behind KnowledgeBase).

Only this module (and integrity checking) imports rdflib, so that commands served from
the cache start without paying for rdflib's import and Turtle parsing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kundskab._paths import ontology_files
from kundskab.errors import KnowledgeBaseError
from kundskab.i18n import N_
from kundskab.knowledge import vocab as _vocab

KB = rdflib.Namespace(_vocab.KB)
KS = rdflib.Namespace(_vocab.KS)


def load_graph(files: Iterable[Path]) -> rdflib.Graph:
    return graph_of_sources((path, path.read_bytes()) for path in files)


def graph_of_sources(sources: Iterable[tuple[Path, bytes]]) -> rdflib.Graph:
    """One graph of Turtle already read into memory (each file's content with its path)."""
    graph = rdflib.Graph()
    for path, data in sources:
        try:
            # The file's own IRI as base, as parsing the path would give.
            graph.parse(data=data, format="turtle", publicID=path.resolve().as_uri())
        except Exception as exc:  # rdflib raises many unrelated types for bad Turtle
            raise KnowledgeBaseError(N_("{path}: cannot parse Turtle: {detail}"), path=str(path),
                                     detail=str(exc)) from exc
    return graph


def _local(iri: rdflib.term.Node, base: str) -> str | None:
    text = str(iri)
    return text[len(base) :] if text.startswith(base) else None


def _inferred(graph: rdflib.Graph, node: rdflib.BNode) -> dict[str, str]:
    """One ks:inferred node as {property, value, note}: a link the editor inferred.

    The node is blank, so without this its random name would leak into the model as a ref.
    """
    def one(pred: rdflib.URIRef) -> rdflib.term.Node | None:
        return next(iter(graph.objects(node, pred)), None)

    prop, value = one(KS.property), one(KS.value)
    notes = {
        lit.language: " ".join(str(lit).split())
        for lit in graph.objects(node, SKOS.note)
        if isinstance(lit, rdflib.Literal)
    }
    out = {
        "property": (_local(prop, _vocab.KS) or str(prop)) if prop is not None else "",
        "value": (" ".join(str(value).split()) if isinstance(value, rdflib.Literal)
                  else _local(value, _vocab.KB) or str(value)) if value is not None else "",
        "note": notes.get("en") or notes.get(None) or next(iter(notes.values()), ""),
    }
    if notes.get("da"):
        out["note_da"] = notes["da"]  # the Danish note, where the editor wrote one
    return out


def compile_graph(graph: rdflib.Graph) -> dict[str, Any]:
    """Turn the RDF graph into {classes, concepts, version}."""
    classes: dict[str, dict[str, Any]] = {}
    for cls in set(graph.subjects(RDF.type, OWL.Class)):
        name = _local(cls, _vocab.KS)
        if name is None:
            continue
        parents = sorted(
            p for p in (_local(o, _vocab.KS) for o in graph.objects(cls, RDFS.subClassOf)) if p
        )
        labels = {
            lit.language: str(lit)
            for lit in graph.objects(cls, RDFS.label)
            if isinstance(lit, rdflib.Literal) and lit.language
        }
        classes[name] = {"parents": parents, "labels": labels}

    def ancestors(name: str) -> list[str]:
        seen: list[str] = []
        stack = [name]
        while stack:
            current = stack.pop(0)
            if current in seen:
                continue
            seen.append(current)
            stack.extend(classes.get(current, {}).get("parents", []))
        return seen

    concepts: dict[str, dict[str, Any]] = {}
    for subject in set(graph.subjects()):
        ident = _local(subject, _vocab.KB)
        if ident is None:
            continue
        types = [t for t in (_local(o, _vocab.KS) for o in graph.objects(subject, RDF.type)) if t]
        all_types: list[str] = []
        for t in sorted(types, key=lambda t: -len(ancestors(t))):
            for a in ancestors(t):
                if a not in all_types:
                    all_types.append(a)
        entry: dict[str, Any] = {
            "types": all_types,
            "labels": {},
            "alt_labels": {},
            "definition": {},
            "sources": [],
            "refs": {},
            "values": {},
        }
        for predicate, obj in graph.predicate_objects(subject):
            if predicate == RDF.type:
                continue
            if predicate == SKOS.prefLabel and isinstance(obj, rdflib.Literal):
                entry["labels"][obj.language or "und"] = str(obj)
            elif predicate == SKOS.altLabel and isinstance(obj, rdflib.Literal):
                entry["alt_labels"].setdefault(obj.language or "und", []).append(str(obj))
            elif predicate == SKOS.definition and isinstance(obj, rdflib.Literal):
                entry["definition"][obj.language or "und"] = " ".join(str(obj).split())
            elif predicate == DCTERMS.source:
                entry["sources"].append(str(obj))
            elif predicate == KS.inferred and isinstance(obj, rdflib.BNode):
                entry.setdefault("inferred", []).append(_inferred(graph, obj))
            else:
                name = _local(predicate, _vocab.KS) or _local(predicate, str(SKOS)) or str(predicate)
                if isinstance(obj, rdflib.Literal):
                    text = " ".join(str(obj).split())
                    value: str | dict[str, str] = {"value": text, "lang": obj.language} if obj.language else text
                    entry["values"].setdefault(name, []).append(value)
                else:
                    ref = _local(obj, _vocab.KB) or _local(obj, _vocab.KS) or str(obj)
                    entry["refs"].setdefault(name, []).append(ref)
        for key in ("sources",):
            entry[key].sort()
        if "inferred" in entry:
            entry["inferred"].sort(key=lambda i: (i["property"], i["value"]))
        for refs in entry["refs"].values():
            refs.sort()
        for values in entry["values"].values():
            values.sort(key=str)
        for alts in entry["alt_labels"].values():
            alts.sort()
        concepts[ident] = entry

    version = next(
        (str(v) for v in graph.objects(rdflib.URIRef(_vocab.ONTOLOGY), OWL.versionInfo)), "0"
    )
    return {"format": _vocab.CACHE_FORMAT, "version": version, "classes": classes,
            "concepts": concepts}


def compile_sources(sources: Iterable[tuple[Path, bytes]]) -> dict[str, Any]:
    """Compile Turtle already read into memory: the caller keys the cache by these very
    bytes, so a file edited meanwhile cannot put old content under a new key."""
    return compile_graph(graph_of_sources(sources))


def compile_directory(directory: Path) -> dict[str, Any]:
    files = ontology_files(directory)
    if not files:
        raise KnowledgeBaseError(N_("{directory}: no Turtle files"), directory=str(directory))
    return compile_graph(load_graph(files))
