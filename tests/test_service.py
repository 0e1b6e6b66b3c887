"""The HTTP API (`kundskab serve`) over real HTTP on loopback: a uvicorn server started for
the module, talked to with httpx, including hostile bodies."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")

from kundskab.recommendation import Recommender  # noqa: E402

STARTUP_SECONDS = 120  # the shared machine can be very slow to import and warm up


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(os.environ.get("KUNDSKAB_CACHE_DIR", "/tmp")) / f"serve-{self.port}.log"
        self._handle = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kundskab", "serve", "--port", str(self.port), *args],
            stdout=self._handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("serve exited: " + self.log.read_text(errors="replace")[-2000:])
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("serve did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._handle.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server("--timeout", "5", "--max-body", str(1024 * 1024))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture()
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


CASE = {"ref": "opaque-7", "age": 16, "factors": {"offence-committed": True, "family-problems": "unknown"}}


def test_recommend_equals_the_library(client: httpx.Client, recommender: Recommender) -> None:
    for lang in ("da", "en"):
        response = client.post("/v1/recommend", params={"lang": lang}, json=CASE)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == recommender.recommend(CASE, lang=lang).as_dict()
    limited = client.post("/v1/recommend", params={"limit": 2}, json=CASE).json()
    assert len(limited["interventions"]) == 2


def test_recommend_accepts_json_sent_as_a_form(client: httpx.Client) -> None:
    # curl -d sends application/x-www-form-urlencoded: the body is JSON all the same.
    response = client.post("/v1/recommend", content=json.dumps(CASE),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and response.json()["ref"] == "opaque-7"


def test_batch_is_ndjson_in_order_with_bad_lines(client: httpx.Client, recommender: Recommender) -> None:
    lines = [json.dumps({"ref": f"r{n}", "age": 10 + n, "factors": ["truancy"]}) for n in range(5)]
    lines.insert(2, "{not json")
    lines.insert(4, '{"age": -3}')
    body = "\n".join(lines) + "\n"
    response = client.post("/v1/recommend/batch", content=body,
                           headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(line) for line in response.text.splitlines()]
    assert len(out) == 7
    assert out[2] == {"line": 3, "error": {"code": "invalid-json", "message": out[2]["error"]["message"]}}
    assert out[4]["line"] == 5 and out[4]["error"]["code"] == "invalid-case"
    good = [o for o in out if "error" not in o]
    assert [o["ref"] for o in good] == [f"r{n}" for n in range(5)]
    assert good[0] == recommender.recommend(json.loads(lines[0])).as_dict()


def test_validate_one_document(client: httpx.Client) -> None:
    document = ("---\ntitle: Klubber\nprogramme: sikker-by-2018\ntier: general\n"
                "target_groups: [school-age-youth]\nprinciples: [collaboration]\n---\nTekst\n")
    response = client.post("/v1/validate", json={"filename": "a.md", "content": document})
    assert response.status_code == 200
    entry = response.json()
    assert entry["file"] == "a.md" and entry["valid"] is False
    assert "too-few-principles" in {e["code"] for e in entry["errors"]}
    broken = client.post("/v1/validate", json={"filename": "b.md", "content": "---\n: [\n---\n"}).json()
    assert broken["valid"] is False and broken["errors"][0]["code"] == "parse-error"
    assert_error(client.post("/v1/validate", json={"filename": "a.md"}), 422, "invalid-request")


def test_interventions_take_the_cli_filters(client: httpx.Client, kb) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/v1/interventions", params={"tier": "specific", "forum": ["ssp", "psp"]})
    assert response.status_code == 200
    items = response.json()
    expected = kb.interventions(tier=["specific"], forum=["ssp", "psp"])
    assert [i["id"] for i in items] == [c.id for c in expected] and items
    assert all(i["tier"] == "specific" and {"ssp", "psp"} & set(i["fora"]) for i in items)
    grouped = client.get("/v1/interventions", params={"target-group": "school-age-youth"}).json()
    assert grouped and all("school-age-youth" in i["target_groups"] for i in grouped)
    error = assert_error(client.get("/v1/interventions", params={"forum": "no-such-forum"}), 404, "unknown-concept")
    assert "no-such-forum" in error["message"]  # a name from the query, not a case value


def test_concepts_and_programmes(client: httpx.Client) -> None:
    concept = client.get("/v1/concepts/Ungesamråd", params={"lang": "en"}).json()
    assert concept["id"] == "youth-sanction-council" and concept["sources"]
    programme = client.get("/v1/programmes/sikker-by-2018").json()
    assert {p["id"] for p in programme["principles"]} >= {"collaboration", "gangs"}
    assert_error(client.get("/v1/programmes/ssp"), 404, "unknown-concept")  # a forum, not a programme
    assert_error(client.get("/v1/concepts/zzzz-nothing"), 404, "unknown-concept")


def test_health_readiness_and_openapi(client: httpx.Client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["kb_version"]
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"Case", "Recommendation", "ErrorAnswer", "BatchError", "FileAnswer"} <= set(schemas)
    assert set(schemas["Case"]["properties"]) == {"ref", "age", "factors"}
    recommend = spec["paths"]["/v1/recommend"]["post"]
    assert recommend["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Case")
    assert recommend["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Recommendation")
    assert "/v1/recommend/batch" in spec["paths"] and "/v1/check" in spec["paths"]
    assert_error(client.get("/nowhere"), 404, "not-found")
    assert_error(client.delete("/v1/recommend"), 405, "method-not-allowed")


HOSTILE = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"{",
    b"[" * 200_000,
    b'{"factors": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    b'{"age": "fifteen"}',
    b'{"age": 15.5}',
    b'{"age": 1e400}',
    b'{"age": -1}',
    b'{"age": true}',
    b'{"ref": {"a": 1}}',
    b'{"factors": {"truancy": [1, 2]}}',
    b'{"factors": {"truancy": 5}}',
    b'{"factors": 12}',
    b'{"factors": ["no-such-factor"]}',
    b'{"extra": 1}',
    b'{"age": \xff\xfe}',
    b"\xef\xbb\xbf{}",
    b'{"ref": "\\ud800"}',
    b'{"factors": {"truancy": "maybe"}}',
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_case_bodies_answer_4xx(client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/recommend", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500 or response.status_code == 200, response.text
    if response.status_code != 200:
        assert_error(response, response.status_code)


def test_no_value_a_client_sends_comes_back_or_reaches_the_log(client: httpx.Client, server: Server) -> None:
    secret = "Zq9-secret-value"
    for body in ({"age": secret}, {"factors": {"truancy": secret}}, {"ref": secret, "age": 15}):
        response = client.post("/v1/recommend", json=body)
        if "ref" not in body:
            assert response.status_code == 422
            assert secret not in response.text
    client.post("/v1/recommend/batch", content=json.dumps({"age": secret}) + "\n")
    client.get("/v1/interventions", params={"tier": "general", "q": secret})
    time.sleep(0.5)
    log = server.log_text()
    assert "POST /v1/recommend 422" in log  # the access log is there ...
    assert secret not in log  # ... with no body and no query string


def test_body_size_limit(client: httpx.Client) -> None:
    huge = b'{"ref": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    assert_error(client.post("/v1/recommend", content=huge), 413, "body-too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        for _ in range(40):
            yield b" " * 65536

    assert_error(client.post("/v1/recommend/batch", content=chunks()), 413, "body-too-large")


def test_slow_body_times_out(server: Server) -> None:
    # Declare 100 bytes, send 10, then wait: the server gives up after --timeout (5 s).
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"age\": 1")
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer and time.monotonic() - started < 25:
            part = sock.recv(4096)
            if not part:
                break
            answer += part
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 4 <= time.monotonic() - started < 25


def test_batch_with_hostile_lines(client: httpx.Client) -> None:
    body = b"\n".join([
        b'{"age": 15}', b"\xff\xfe\xfd", b"[" * 60_000, b"x" * (70 * 1024), b"", b"null", b'{"age": 15}'])
    response = client.post("/v1/recommend/batch", content=body)
    assert response.status_code == 200
    out = [json.loads(line) for line in response.text.splitlines()]
    assert len(out) == 6  # the blank line 5 is skipped, as in the CLI's batch
    assert "error" not in out[0] and "error" not in out[5]
    assert [o["line"] for o in out[1:5]] == [2, 3, 4, 6]
    assert out[3]["error"]["code"] == "line-too-long"


def test_concurrent_requests_all_answer(client: httpx.Client, server: Server, recommender: Recommender) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cases = [{"ref": f"c{n}", "age": 8 + n % 15, "factors": ["truancy"] if n % 2 else ["offence-committed"]}
             for n in range(40)]

    def ask(case: dict[str, object]) -> dict[str, object]:
        with httpx.Client(base_url=server.url, timeout=60) as own:
            return own.post("/v1/recommend", json=case).json()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, cases))
    assert answers == [recommender.recommend(case).as_dict() for case in cases]


def test_check_matches_the_library(client: httpx.Client) -> None:
    from kundskab.integrity import check

    response = client.get("/v1/check", timeout=300)
    assert response.status_code == 200
    assert response.json() == check().as_dict()
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parent.parent / "docs" / "schemas" / "check.json").read_text())
    jsonschema.validate(response.json(), schema)


def test_two_workers(tmp_path: Path) -> None:
    running = Server("--workers", "2")
    try:
        with httpx.Client(base_url=running.url, timeout=60) as http:
            for _ in range(6):
                assert http.post("/v1/recommend", json=CASE).status_code == 200
    finally:
        running.stop()
    assert running.process.returncode is not None
