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
import re
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kundskab import _paths
from kundskab.errors import KnowledgeBaseError, os_reason
from kundskab.i18n import N_
from kundskab.knowledge import vocab as _vocab
from kundskab.knowledge.base import KnowledgeBase, ontology_fingerprint, read_compiled

__all__ = ["DEFAULT_GRAPH", "Published", "StoreSource", "publish", "query_url", "redact"]

DEFAULT_GRAPH = "https://w3id.org/kundskab/kb"
FINGERPRINT = _vocab.KS + "fingerprint"
TIMEOUT = 30.0  # seconds for a whole exchange with the store (the version query, a PUT)
GRAPH_TIMEOUT = 120.0  # for reading the whole graph


@dataclass(frozen=True)
class Published:
    url: str  # credentials redacted
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


# ------------------------------------------------------------------ the store is not trusted
# Whatever answers at the store's address is treated as documents are: every request has
# one deadline for the whole exchange (not per read: a server that trickles a byte every few
# seconds is cut off at it), an answer is read in pieces up to a size limit, a redirect is
# followed only to the same scheme, host and port, the version must be a fingerprint before
# it names a cache file, and credentials in the URL are sent as HTTP basic authentication
# but never shown (`redact`).
MAX_GRAPH_BYTES = 32 * 1024 * 1024  # the ontology is some 1.5 MB of N-Triples
MAX_GRAPH_TRIPLES = 200_000  # about 9,500 today: rdflib holds each in memory
MAX_QUERY_BYTES = 64 * 1024  # the version query's answer is one binding
MAX_REDIRECTS = 3
_FINGERPRINT = re.compile(r"[0-9a-f]{16,128}")
_SECRET_KEYS = ("pass", "pwd", "secret", "token", "key", "auth", "credential", "signature", "sig")


def redact(url: str) -> str:
    """`url` fit to show: user and password replaced by `***`, and the value of a query
    parameter whose name suggests a secret (token, key, password, …) as well."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "***"
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if any(any(word in key.lower() for word in _SECRET_KEYS) for key, _ in pairs):
            query = "&".join(
                f"{urllib.parse.quote(key)}=***" if any(word in key.lower() for word in _SECRET_KEYS)
                else urllib.parse.urlencode({key: value}) for key, value in pairs)
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query
    authorization: str | None

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host.lower(), self.port)


def _target(url: str) -> _Target:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise KnowledgeBaseError(N_("the store URL is not a valid URL")) from None
    if parts.scheme not in ("http", "https"):
        raise KnowledgeBaseError(N_("a store URL starts with http:// or https://"))
    if not host:
        raise KnowledgeBaseError(N_("the store URL has no host"))
    authorization = None
    if parts.username is not None:
        import base64

        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        authorization = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path, authorization)


def _request(url: str, *, method: str = "GET", data: bytes | None = None,
             headers: dict[str, str] | None = None, timeout: float = TIMEOUT,
             max_bytes: int = MAX_GRAPH_BYTES) -> bytes:
    """The body of the store's 2xx answer to one request, within `timeout` seconds for the
    whole exchange (redirects included) and at most `max_bytes` long."""
    shown = redact(url)
    target = _target(url)
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = _exchange(target, method, data, headers or {}, deadline, max_bytes,
                                           shown, timeout)
        if status in (301, 302, 303, 307, 308):
            following = None
            if location:
                try:
                    following = _target(urllib.parse.urljoin(url, location))
                except KnowledgeBaseError:
                    pass  # another scheme, no host: elsewhere
            if following is None or following.origin != target.origin:
                raise KnowledgeBaseError(N_("the store at {url} redirected elsewhere; a redirect is followed "
                                            "only to the same scheme, host and port"), url=shown)
            # The same credentials for the same origin; 303 (and 301/302 after a POST, as
            # clients do) becomes a GET without a body.
            target = _Target(following.scheme, following.host, following.port, following.path,
                             target.authorization)
            url = urllib.parse.urljoin(url, location)
            if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
                method, data = "GET", None
            continue
        if not 200 <= status < 300:
            raise KnowledgeBaseError(N_("the store answered {status} to {method} {url}"), status=status,
                                     method=method, url=shown)
        return body
    raise KnowledgeBaseError(N_("the store at {url} redirected too often"), url=shown)


def _exchange(target: _Target, method: str, data: bytes | None, headers: dict[str, str], deadline: float,
              max_bytes: int, shown: str, timeout: float) -> tuple[int, str | None, bytes]:
    import http.client
    import socket
    import threading

    remaining = deadline - time.monotonic()
    late = KnowledgeBaseError(N_("the store at {url} did not answer within {seconds} s"), url=shown,
                              seconds=f"{timeout:g}")
    if remaining <= 0:
        raise late
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = kind(target.host, target.port, timeout=remaining)
    cut = threading.Event()

    def cut_off() -> None:
        # At the deadline the socket is shut down, which wakes a read blocked in another
        # thread (the socket's own timeout is per read, so it cannot bound a trickle).
        cut.set()
        sock = connection.sock
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(remaining, cut_off)
    watchdog.daemon = True
    watchdog.start()
    try:
        sent = dict(headers)
        if target.authorization:
            sent["Authorization"] = target.authorization
        connection.request(method, target.path, body=data, headers=sent)
        response = connection.getresponse()
        status = response.status
        location = response.getheader("Location")
        if not 200 <= status < 300:
            return status, location, b""
        declared = response.getheader("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
            raise KnowledgeBaseError(N_("the store's answer is larger than {limit} bytes"), limit=max_bytes)
        pieces: list[bytes] = []
        size = 0
        while True:
            piece = response.read1(64 * 1024)
            if cut.is_set():
                raise late
            if not piece:
                break
            size += len(piece)
            if size > max_bytes:
                raise KnowledgeBaseError(N_("the store's answer is larger than {limit} bytes"), limit=max_bytes)
            pieces.append(piece)
        return status, location, b"".join(pieces)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if cut.is_set():
            raise late from None
        # In words a person reads, in their language ("[Errno 111] Connection refused" is neither).
        reason = os_reason(exc)
        raise KnowledgeBaseError(N_("cannot reach the store at {url}: {reason}"), url=shown, reason=reason) from None
    finally:
        watchdog.cancel()
        connection.close()


def publish(store_url: str, *, graph: str = DEFAULT_GRAPH, ontology_dir: Path | str | None = None) -> Published:
    """Replace `graph` in the store with the ontology (Graph Store Protocol PUT)."""
    import rdflib

    from kundskab.knowledge.compile import load_graph

    _target(store_url)
    graph = _checked_graph(graph)
    directory = Path(ontology_dir) if ontology_dir else _paths.ontology_dir()
    files = _paths.ontology_files(directory)
    if not files:
        raise KnowledgeBaseError(N_("{directory}: no Turtle files"), directory=directory)
    data = load_graph(files)
    fingerprint = ontology_fingerprint(directory)
    data.add((rdflib.URIRef(_vocab.ONTOLOGY), rdflib.URIRef(FINGERPRINT), rdflib.Literal(fingerprint)))
    body = data.serialize(format="nt", encoding="utf-8")
    _request(_graph_url(store_url, graph), method="PUT", data=body,
             headers={"Content-Type": "application/n-triples"}, timeout=GRAPH_TIMEOUT, max_bytes=MAX_QUERY_BYTES)
    model_version = KnowledgeBase({"classes": {}, "concepts": {}, "version": _schema_version(data)},
                                  fingerprint=fingerprint).version
    return Published(redact(store_url), graph, len(data), model_version)


def _schema_version(graph: Any) -> str:
    import rdflib
    from rdflib.namespace import OWL

    return next((str(v) for v in graph.objects(rdflib.URIRef(_vocab.ONTOLOGY), OWL.versionInfo)), "0")


def _checked_graph(graph: str) -> str:
    """A graph IRI as it may stand between <> in a SPARQL query (RFC 3987 leaves these out)."""
    if not graph or len(graph) > 2000 or any(c in '<>"{}|^`\\' or ord(c) <= 0x20 for c in graph):
        raise KnowledgeBaseError(N_("the graph is not an IRI: {graph}"), graph=graph[:200].encode(
            "ascii", "backslashreplace").decode("ascii"))
    return graph


class StoreSource:
    """The knowledge base as published in a SPARQL server (see `publish`)."""

    def __init__(self, store_url: str, *, graph: str | None = None, query: str | None = None) -> None:
        _target(store_url)  # a clear error now for a URL that can never work
        self.store_url = store_url
        self.graph = _checked_graph(graph or DEFAULT_GRAPH)
        self.query_url = query or query_url(store_url)

    def __repr__(self) -> str:
        return f"StoreSource({redact(self.store_url)!r}, graph={self.graph!r})"

    @property
    def shown(self) -> str:
        """The store's URL fit for a message or a log (credentials redacted)."""
        return redact(self.store_url)

    def fingerprint(self) -> str:
        """The published version's fingerprint (one small SPARQL query), checked to be
        lower-case hex of sane length before anything uses it (it names a cache file)."""
        sparql = (f"SELECT ?f WHERE {{ GRAPH <{self.graph}> {{ <{_vocab.ONTOLOGY}> <{FINGERPRINT}> ?f }} }}")
        answer = _request(self.query_url, method="POST", data=urllib.parse.urlencode({"query": sparql}).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded",
                                   "Accept": "application/sparql-results+json"},
                          timeout=TIMEOUT, max_bytes=MAX_QUERY_BYTES)
        try:
            bindings = json.loads(answer)["results"]["bindings"]
            values = sorted({b["f"]["value"] for b in bindings})
        except (ValueError, KeyError, TypeError, RecursionError):
            raise KnowledgeBaseError(N_("the store's answer to the version query is not SPARQL JSON")) from None
        if not values:
            raise KnowledgeBaseError(N_("no knowledge base in graph <{graph}>: publish it with "
                                        "`kundskab store load`"), graph=self.graph)
        if len(values) > 1:
            raise KnowledgeBaseError(N_("graph <{graph}> holds {count} versions: publish it again"),
                                     graph=self.graph, count=len(values))
        value = values[0]
        # Never repeated in the message: it is whatever the store sent.
        if type(value) is not str or not _FINGERPRINT.fullmatch(value):
            raise KnowledgeBaseError(N_("the version in graph <{graph}> is not a fingerprint (16 to 128 "
                                        "hexadecimal digits): publish it again"), graph=self.graph)
        return value

    def changed(self, kb_version: str | None) -> bool:
        """Whether the store holds another version than `kb_version`."""
        return kb_version is None or not kb_version.endswith("+" + self.fingerprint()[:12])

    def fetch_graph(self) -> Any:
        """The published graph, parsed (rdflib); bounded in bytes and triples."""
        import rdflib

        body = _request(_graph_url(self.store_url, self.graph), headers={"Accept": "application/n-triples"},
                        timeout=GRAPH_TIMEOUT, max_bytes=MAX_GRAPH_BYTES)
        if body.count(b"\n") > MAX_GRAPH_TRIPLES:
            raise KnowledgeBaseError(N_("the store's graph has more than {limit} triples"), limit=MAX_GRAPH_TRIPLES)
        graph = rdflib.Graph()
        try:
            graph.parse(data=body.decode("utf-8"), format="nt")
        except Exception as exc:  # rdflib raises many unrelated types for bad input
            raise KnowledgeBaseError(N_("the store's graph is not N-Triples: {kind}"),
                                     kind=type(exc).__name__) from None
        return graph

    def load(self) -> KnowledgeBase:
        """The published knowledge base, compiled once per version (cached on disk by its
        fingerprint, as the embedded one is). A graph that holds no concepts is an error,
        never a silent empty knowledge base."""
        fingerprint = self.fingerprint()
        cache_path = _paths.cache_dir() / f"kb-store-{fingerprint[:32]}.json"
        model = read_compiled(cache_path)
        if model is None or not model["concepts"]:
            import rdflib

            from kundskab.knowledge.compile import compile_graph

            graph = self.fetch_graph()
            found = {str(o) for o in graph.objects(rdflib.URIRef(_vocab.ONTOLOGY), rdflib.URIRef(FINGERPRINT))}
            if found != {fingerprint}:
                raise KnowledgeBaseError(N_("the store's graph changed while it was read: try again"))
            model = compile_graph(graph)
            if not model["concepts"]:
                raise KnowledgeBaseError(N_("graph <{graph}> holds no concepts: publish the knowledge base "
                                            "with `kundskab store load`"), graph=self.graph)
            _paths.write_cache_json(cache_path, model)
        return KnowledgeBase(model, ontology_dir=None, fingerprint=fingerprint)

    def check(self, kb: KnowledgeBase, lang: str = "da") -> Any:
        """`check` over the published graph (SHACL with the package's shapes), its messages
        in `lang`."""
        from kundskab.knowledge.check import check

        return check(kb, lang, graph=self.fetch_graph())
