"""The store is not trusted: a small hostile SPARQL server started here on loopback trickles,
redirects, sends too much, publishes an empty graph or a version that is no fingerprint,
asks for credentials or is down; each must end in a clear error within the deadline (or,
for `serve --store`, in one line and a retry), never a hang, a traceback, a write outside
the cache directory or a credential shown."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kundskab.edges import store as store_module
from kundskab.edges.cli import main
from kundskab.edges.store import FINGERPRINT, StoreSource, redact
from kundskab.errors import KnowledgeBaseError
from kundskab.knowledge.base import KnowledgeBase
from kundskab.knowledge.vocab import ONTOLOGY

GOOD = "ab" * 32  # a fingerprint of the right form


def sparql_json(*values: str) -> bytes:
    return json.dumps({"head": {"vars": ["f"]}, "results": {"bindings": [
        {"f": {"type": "literal", "value": v}} for v in values]}}).encode()


class Hostile:
    """A SPARQL endpoint on 127.0.0.1 whose answers a test chooses: `query` answers the
    version query (POST …/query), `graph` the graph (GET …/store); each is a function of the
    handler. Every request is recorded (method, path, headers)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.query: Callable[[BaseHTTPRequestHandler], None] = lambda h: self.send(h, 200, sparql_json(GOOD))
        self.graph: Callable[[BaseHTTPRequestHandler], None] = lambda h: self.send(h, 200, b"")
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                return None

            def _record(self) -> None:
                outer.requests.append((self.command, self.path, dict(self.headers)))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)

            def do_POST(self) -> None:  # the standard library's name
                self._record()
                outer.query(self)

            def do_GET(self) -> None:
                self._record()
                outer.graph(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/store"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            handler.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    try:
        yield server
    finally:
        server.close()


def trickle(handler: BaseHTTPRequestHandler, every: float = 0.5) -> None:
    """Headers at once, then one byte of the body every `every` seconds, for ever."""
    try:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(10_000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(every)
    except OSError:
        pass


def trickle_headers(handler: BaseHTTPRequestHandler) -> None:
    """A status line, then one header byte every half second: never a whole answer."""
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(10_000):
            handler.wfile.write(b"X")
            handler.wfile.flush()
            time.sleep(0.5)
    except OSError:
        pass


@pytest.mark.parametrize("kind", [trickle, trickle_headers])
def test_a_trickling_store_fails_within_the_whole_request_deadline(hostile: Hostile, kind: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The deadline is for the whole exchange: each read gets a byte well within any
    # per-read timeout, and still the request ends at the deadline.
    monkeypatch.setattr(store_module, "TIMEOUT", 2.0)
    hostile.query = kind
    started = time.monotonic()
    with pytest.raises(KnowledgeBaseError, match="did not answer within 2 s"):
        StoreSource(hostile.url).fingerprint()
    assert time.monotonic() - started < 4


def test_a_trickling_store_stops_the_cli_with_exit_2(hostile: Hostile) -> None:
    hostile.query = trickle
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", "import kundskab.edges.store as s, sys; s.TIMEOUT = 3.0; "
                           "from kundskab.edges.cli import main; sys.argv = ['kundskab'] + sys.argv[1:]; main()",
                           "recommend", "--store", hostile.url, "--age", "15", "--lang", "en"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "did not answer within 3 s" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and time.monotonic() - started < 30


def test_redirects_are_followed_only_on_the_same_origin(hostile: Hostile) -> None:
    other = Hostile()
    try:
        for location in (f"http://127.0.0.1:{other.port}/query", "ftp://127.0.0.1/query",
                         f"https://127.0.0.1:{hostile.port}/query", "file:///etc/passwd"):
            hostile.query = lambda h, to=location: Hostile.send(h, 302, b"", {"Location": to})
            with pytest.raises(KnowledgeBaseError, match="redirected elsewhere"):
                StoreSource(hostile.url).fingerprint()
        assert other.requests == []
        # On the same origin a redirect is followed (a proxy adding a slash, say), at most a few.
        calls = []

        def moved(handler: BaseHTTPRequestHandler) -> None:
            calls.append(handler.path)
            if handler.path == "/query":
                Hostile.send(handler, 307, b"", {"Location": "/query/"})
            else:
                Hostile.send(handler, 200, sparql_json(GOOD))

        hostile.query = moved
        assert StoreSource(hostile.url).fingerprint() == GOOD and calls == ["/query", "/query/"]
        hostile.query = lambda h: Hostile.send(h, 307, b"", {"Location": "/query"})
        with pytest.raises(KnowledgeBaseError, match="redirected too often"):
            StoreSource(hostile.url).fingerprint()
    finally:
        other.close()


def test_a_huge_answer_is_refused_while_it_is_read(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    def endless(handler: BaseHTTPRequestHandler) -> None:
        try:  # no Content-Length: chunk after chunk, for ever
            handler.send_response(200)
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            line = b"<urn:a> <urn:b> <urn:c> .\n" * 4000
            chunk = f"{len(line):x}\r\n".encode() + line + b"\r\n"
            while True:
                handler.wfile.write(chunk)
        except OSError:
            pass

    hostile.graph = endless
    monkeypatch.setattr(store_module, "MAX_GRAPH_BYTES", 4 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(KnowledgeBaseError, match="larger than 4194304 bytes"):
            StoreSource(hostile.url).load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 1024 * 1024  # read in pieces up to the limit, never the whole answer
    # A declared length over the limit is refused before a byte of the body is read.
    hostile.graph = lambda h: Hostile.send(h, 200, b"", {"Content-Length": str(10**12)})
    with pytest.raises(KnowledgeBaseError, match="larger than"):
        StoreSource(hostile.url).load()
    # Too many triples for the memory they take once parsed, though few bytes.
    monkeypatch.setattr(store_module, "MAX_GRAPH_TRIPLES", 1000)
    hostile.graph = lambda h: Hostile.send(h, 200, b"<urn:a> <urn:b> <urn:c> .\n" * 2000)
    with pytest.raises(KnowledgeBaseError, match="more than 1000 triples"):
        StoreSource(hostile.url).load()


def graph_with(fingerprint: str, extra: bytes = b"") -> bytes:
    return f'<{ONTOLOGY}> <{FINGERPRINT}> "{fingerprint}" .\n'.encode() + extra


@pytest.mark.parametrize("body", [b"", b"\xff\xfe not text", b"<a> <b> .\n"])
def test_a_graph_that_is_not_n_triples_is_a_clear_error(hostile: Hostile, body: bytes) -> None:
    hostile.graph = lambda h: Hostile.send(h, 200, body)
    with pytest.raises(KnowledgeBaseError):
        StoreSource(hostile.url).load()


def test_an_empty_graph_is_an_error_for_every_command(hostile: Hostile) -> None:
    # The version is there, the knowledge is not: no command may answer from the embedded
    # knowledge base instead (nor list nothing).
    hostile.graph = lambda h: Hostile.send(h, 200, graph_with(GOOD))
    with pytest.raises(KnowledgeBaseError, match="holds no concepts"):
        StoreSource(hostile.url).load()
    runner = CliRunner()
    for args in (["recommend", "--age", "15"], ["interventions"], ["show", "ssp"], ["check"]):
        result = runner.invoke(main, [*args, "--store", hostile.url, "--lang", "en"])
        assert result.exit_code == 2 and "holds no concepts" in result.output, (args, result.output)


def test_an_empty_knowledge_base_is_never_replaced_by_the_embedded_one() -> None:
    from kundskab.reasoning.recommendation import Recommender

    empty = KnowledgeBase({"classes": {}, "concepts": {}, "version": "0"}, fingerprint="0" * 16)
    assert len(empty) == 0 and bool(empty)  # there, though empty: `kb or load()` keeps it
    try:
        recommender = Recommender(empty)
    except KnowledgeBaseError:
        return  # refused: fine
    except Exception as exc:  # the rules cannot be read against no concepts: fine too
        assert type(exc).__module__.startswith("kundskab"), exc
        return
    assert recommender.kb is empty


@pytest.mark.parametrize("fingerprint", ["/../../../escaped", "ab\x00cd" * 8, "..", "AB" * 32, "a" * 8,
                                         "a" * 200, "ab/cd" * 8, "ab" * 32 + "\n"])
def test_a_version_that_is_not_a_fingerprint_is_refused(hostile: Hostile, fingerprint: str,
                                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "deep" / "cache"
    monkeypatch.setenv("KUNDSKAB_CACHE_DIR", str(cache))
    hostile.query = lambda h: Hostile.send(h, 200, sparql_json(fingerprint))
    hostile.graph = lambda h: Hostile.send(h, 200, graph_with(fingerprint))
    with pytest.raises(KnowledgeBaseError, match="not a fingerprint") as caught:
        StoreSource(hostile.url).load()
    assert "escaped" not in str(caught.value) and "\x00" not in str(caught.value)
    result = CliRunner().invoke(main, ["show", "ssp", "--store", hostile.url, "--lang", "en"])
    assert result.exit_code == 2 and "not a fingerprint" in result.output
    assert not list(tmp_path.rglob("*escaped*"))  # nothing written anywhere


def test_the_cache_is_written_only_inside_its_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kundskab._paths import in_cache_dir, write_cache_json

    cache = tmp_path / "cache"
    monkeypatch.setenv("KUNDSKAB_CACHE_DIR", str(cache))
    victim = tmp_path / "victim.json"
    victim.write_text("precious")
    for path in (cache / ".." / "victim.json", cache / "kb-store-x" / ".." / ".." / "victim.json",
                 victim, cache / "sub" / "a.json", cache / "a\x00.json", cache / "..json"):
        assert not in_cache_dir(path)
        write_cache_json(path, {"x": 1})
    assert victim.read_text() == "precious" and not (cache / "sub").exists()
    write_cache_json(cache / "kb-store-abcdef.json", {"x": 1})
    assert json.loads((cache / "kb-store-abcdef.json").read_text()) == {"x": 1}
    assert (cache.stat().st_mode & 0o777) == 0o700


def test_credentials_are_sent_as_basic_auth_and_never_shown(hostile: Hostile) -> None:
    url = f"http://kb-user:s3cr%40t-pw@127.0.0.1:{hostile.port}/store"
    assert StoreSource(url).fingerprint() == GOOD
    method, path, headers = hostile.requests[-1]
    assert method == "POST" and path == "/query"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"kb-user:s3cr@t-pw").decode()
    assert "s3cr" not in repr(StoreSource(url)) and "kb-user" not in StoreSource(url).shown
    # An error names the store without its credentials: the CLI's, and in JSON too.
    hostile.query = lambda h: Hostile.send(h, 401, b"")
    with pytest.raises(KnowledgeBaseError) as caught:
        StoreSource(url).fingerprint()
    assert "401" in str(caught.value) and "s3cr" not in str(caught.value) and "kb-user" not in str(caught.value)
    for args in (["show", "ssp"], ["show", "ssp", "--format", "json"]):
        result = CliRunner().invoke(main, [*args, "--store", url])
        assert result.exit_code == 2 and "s3cr" not in result.output and "kb-user" not in result.output
    down = f"http://kb-user:s3cr%40t-pw@127.0.0.1:{free_port()}/store?access_token=tok3n"
    result = CliRunner().invoke(main, ["show", "ssp", "--store", down, "--lang", "en"])
    assert "cannot reach the store" in result.output
    assert "s3cr" not in result.output and "tok3n" not in result.output and "kb-user" not in result.output


def test_redact() -> None:
    assert redact("https://u:p@host:1/store?graph=g") == "https://***@host:1/store?graph=g"
    assert redact("http://host/store?api_key=zz&graph=g") == "http://host/store?api_key=***&graph=g"
    assert redact("http://host/store") == "http://host/store"


def test_a_bad_graph_iri_is_refused_before_it_reaches_a_query(hostile: Hostile) -> None:
    with pytest.raises(KnowledgeBaseError, match="not an IRI"):
        StoreSource(hostile.url, graph="urn:x> } } DROP ALL #")
    assert hostile.requests == []


def free_port() -> int:
    from tests.servers import free_port as port

    return port()


# ---------------------------------------------------------------------------- serve --store


def start_serve(store_url: str, *extra: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    log = Path(os.environ.get("KUNDSKAB_CACHE_DIR", "/tmp")) / f"serve-down-{port}.log"
    process = subprocess.Popen([sys.executable, "-m", "kundskab", "serve", "--port", str(port), "--store",
                                store_url, "--poll", "0.5", *extra],
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return process, port, log


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def status_of(port: int, path: str) -> int:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code
    except httpx.TransportError:
        return 0


def test_a_replica_whose_store_is_down_says_so_retries_and_stops_on_sigterm() -> None:
    down = f"http://u:hidden-pw@127.0.0.1:{free_port()}/store"
    process, port, log = start_serve(down)
    try:
        assert wait_for(lambda: status_of(port, "/healthz") == 200, 120), log.read_text(errors="replace")
        assert status_of(port, "/readyz") == 503
        assert wait_for(lambda: log.read_text().count("trying again") >= 2, 30)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "hidden-pw" not in text
    lines = [line for line in text.splitlines() if "trying again" in line]
    assert "cannot reach the store at http://***@127.0.0.1" in lines[0] and "in 1 s" in lines[0]
    assert "in 2 s" in lines[1]  # back-off


def test_serve_honours_sigterm_while_its_store_trickles(hostile: Hostile) -> None:
    hostile.query = trickle
    process, port, log = start_serve(hostile.url)
    try:
        assert wait_for(lambda: status_of(port, "/healthz") == 200, 120), log.read_text(errors="replace")
        assert status_of(port, "/readyz") == 503 and status_of(port, "/v1/interventions") == 503
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(errors="replace")


def test_a_replica_becomes_ready_when_its_store_comes_up(kb: KnowledgeBase) -> None:
    from tests.test_store import oxigraph_binary

    binary = oxigraph_binary()
    store_port = free_port()
    url = f"http://127.0.0.1:{store_port}/store"
    process, port, log = start_serve(url)
    store = None
    try:
        assert wait_for(lambda: "trying again" in log.read_text(), 120), log.read_text(errors="replace")
        store = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{store_port}"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: status_of(store_port, "/") != 0, 60)
        from kundskab.edges.store import publish

        publish(url)
        assert wait_for(lambda: status_of(port, "/readyz") == 200, 120), log.read_text(errors="replace")
        import httpx

        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["kb_version"] == kb.version
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["kb_version"] == kb.version
    finally:
        for running in (process, store):
            if running is not None and running.poll() is None:
                running.terminate()
                try:
                    running.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    running.kill()
                    running.wait()
    assert "Traceback" not in log.read_text(errors="replace")
