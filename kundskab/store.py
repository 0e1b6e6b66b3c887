"""One knowledge base for many replicas: the ontology in a SPARQL 1.1 server.

`publish` puts the ontology (the same Turtle files the embedded knowledge base is compiled
from) into one named graph of a SPARQL server with the Graph Store Protocol (an HTTP PUT),
together with its version: the fingerprint of those files, as `ks:fingerprint` of the
ontology. `StoreSource` reads it back (an HTTP GET of the graph as N-Triples), compiles it
exactly as the local Turtle is compiled, and keeps the compiled model in the cache
directory keyed by that version, so a replica that restarts does not parse it again. To see
whether a newer version was published it asks only for the fingerprint (one small SPARQL
SELECT), so polling is cheap.

The answers from a store are the answers of the embedded knowledge base it was loaded
from, `kb_version` included. Only the standard protocols are used, so any SPARQL 1.1
server does: Oxigraph, Apache Jena Fuseki, GraphDB, Virtuoso, ….
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kundskab import _paths, _vocab
from kundskab.errors import KnowledgeBaseError
from kundskab.i18n import N_
from kundskab.knowledge import KnowledgeBase

__all__ = ["DEFAULT_GRAPH", "Published", "StoreSource", "publish", "query_url"]

DEFAULT_GRAPH = "https://w3id.org/kundskab/kb"
FINGERPRINT = _vocab.KS + "fingerprint"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Published:
    url: str
    graph: str
    triples: int
    kb_version: str


def query_url(store_url: str) -> str:
    """The SPARQL query endpoint beside a Graph Store Protocol endpoint: the last path
    segment `store` (Oxigraph) or `data` (Fuseki) becomes `query`."""
    parts = urllib.parse.urlsplit(store_url)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    path = f"{head}/query" if last in ("store", "data") else f"{path}/query"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _graph_url(store_url: str, graph: str) -> str:
    separator = "&" if urllib.parse.urlsplit(store_url).query else "?"
    return f"{store_url}{separator}{urllib.parse.urlencode({'graph': graph})}"


def _request(url: str, *, method: str = "GET", data: bytes | None = None,
             headers: dict[str, str] | None = None, timeout: float = TIMEOUT) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise KnowledgeBaseError(N_("a store URL starts with http:// or https://"))
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        raise KnowledgeBaseError(N_("the store answered {status} to {method} {url}"), status=exc.code,
                                 method=method, url=url) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise KnowledgeBaseError(N_("cannot reach the store at {url}: {reason}"), url=url, reason=reason) from None


def _local_fingerprint(directory: Path) -> str:
    # The same fingerprint the embedded knowledge base is cached and versioned by.
    from kundskab.knowledge import _read_sources

    fingerprint, _ = _read_sources(_paths.ontology_files(directory), directory)
    return fingerprint


def publish(store_url: str, *, graph: str = DEFAULT_GRAPH, ontology_dir: Path | str | None = None) -> Published:
    """Replace `graph` in the store with the ontology (Graph Store Protocol PUT)."""
    import rdflib

    from kundskab._compile import load_graph

    directory = Path(ontology_dir) if ontology_dir else _paths.ontology_dir()
    files = _paths.ontology_files(directory)
    if not files:
        raise KnowledgeBaseError(N_("{directory}: no Turtle files"), directory=directory)
    data = load_graph(files)
    fingerprint = _local_fingerprint(directory)
    data.add((rdflib.URIRef(_vocab.ONTOLOGY), rdflib.URIRef(FINGERPRINT), rdflib.Literal(fingerprint)))
    body = data.serialize(format="nt", encoding="utf-8")
    _request(_graph_url(store_url, graph), method="PUT", data=body,
             headers={"Content-Type": "application/n-triples"}, timeout=120)
    model_version = KnowledgeBase({"classes": {}, "concepts": {}, "version": _schema_version(data)},
                                  fingerprint=fingerprint).version
    return Published(store_url, graph, len(data), model_version)


def _schema_version(graph: Any) -> str:
    import rdflib
    from rdflib.namespace import OWL

    return next((str(v) for v in graph.objects(rdflib.URIRef(_vocab.ONTOLOGY), OWL.versionInfo)), "0")


class StoreSource:
    """The knowledge base as published in a SPARQL server (see `publish`)."""

    def __init__(self, store_url: str, *, graph: str | None = None, query: str | None = None) -> None:
        self.store_url = store_url
        self.graph = graph or DEFAULT_GRAPH
        self.query_url = query or query_url(store_url)

    def fingerprint(self) -> str:
        """The published version's fingerprint (one small SPARQL query)."""
        sparql = (f"SELECT ?f WHERE {{ GRAPH <{self.graph}> {{ <{_vocab.ONTOLOGY}> <{FINGERPRINT}> ?f }} }}")
        answer = _request(self.query_url, method="POST", data=urllib.parse.urlencode({"query": sparql}).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded",
                                   "Accept": "application/sparql-results+json"})
        try:
            bindings = json.loads(answer)["results"]["bindings"]
            values = sorted(str(b["f"]["value"]) for b in bindings)
        except (ValueError, KeyError, TypeError):
            raise KnowledgeBaseError(N_("the store's answer to the version query is not SPARQL JSON")) from None
        if not values:
            raise KnowledgeBaseError(N_("no knowledge base in graph <{graph}>: publish it with "
                                        "`kundskab store load`"), graph=self.graph)
        if len(values) > 1:
            raise KnowledgeBaseError(N_("graph <{graph}> holds {count} versions: publish it again"),
                                     graph=self.graph, count=len(values))
        return values[0]

    def changed(self, kb_version: str | None) -> bool:
        """Whether the store holds another version than `kb_version`."""
        return kb_version is None or not kb_version.endswith("+" + self.fingerprint()[:12])

    def fetch_graph(self) -> Any:
        """The published graph, parsed (rdflib)."""
        import rdflib

        body = _request(_graph_url(self.store_url, self.graph), headers={"Accept": "application/n-triples"},
                        timeout=120)
        graph = rdflib.Graph()
        try:
            graph.parse(data=body.decode("utf-8"), format="nt")
        except Exception as exc:  # rdflib raises many unrelated types for bad input
            raise KnowledgeBaseError(N_("the store's graph is not N-Triples: {kind}"),
                                     kind=type(exc).__name__) from None
        return graph

    def load(self) -> KnowledgeBase:
        """The published knowledge base, compiled once per version (cached on disk by its
        fingerprint, as the embedded one is)."""
        from kundskab._paths import write_cache_json
        from kundskab.knowledge import _read_cache

        fingerprint = self.fingerprint()
        cache_path = _paths.cache_dir() / f"kb-store-{fingerprint[:32]}.json"
        model = _read_cache(cache_path)
        if model is None:
            import rdflib

            from kundskab._compile import compile_graph

            graph = self.fetch_graph()
            found = {str(o) for o in graph.objects(rdflib.URIRef(_vocab.ONTOLOGY), rdflib.URIRef(FINGERPRINT))}
            if found != {fingerprint}:
                raise KnowledgeBaseError(N_("the store's graph changed while it was read: try again"))
            model = compile_graph(graph)
            write_cache_json(cache_path, model)
        return KnowledgeBase(model, ontology_dir=None, fingerprint=fingerprint)

    def check(self, kb: KnowledgeBase, lang: str = "da") -> Any:
        """`check` over the published graph (SHACL with the package's shapes), its messages
        in `lang`."""
        from kundskab.integrity import check

        return check(kb, lang, graph=self.fetch_graph())
