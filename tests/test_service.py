"""The HTTP API (`kundskab serve`) over real HTTP on loopback: a uvicorn server started for
the module, talked to with httpx, including hostile bodies."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")

from click.testing import CliRunner  # noqa: E402

from kundskab import KnowledgeBase  # noqa: E402
from kundskab.edges.cli import main  # noqa: E402
from kundskab.reasoning.recommendation import Recommender  # noqa: E402
from tests.servers import Server, assert_error, get_when_ready  # noqa: E402

CASE = {"ref": "opaque-7", "age": 16, "factors": {"offence-committed": True, "family-problems": "unknown"}}


def test_interventions_filter_by_kind_as_the_library(client: httpx.Client, kb: KnowledgeBase) -> None:
    response = client.get("/v1/interventions", params=[("kind", "control"), ("kind", "follow-up")])
    assert response.status_code == 200
    assert [i["id"] for i in response.json()] == [c.id for c in kb.interventions(kind=["control", "follow-up"])]
    assert {i["kind"] for i in response.json()} == {"control", "follow-up"}
    assert_error(client.get("/v1/interventions", params={"kind": "nonsense-kind"}), 404, "unknown-concept")


def test_recommend_equals_the_library(client: httpx.Client, recommender: Recommender) -> None:
    for lang in ("da", "en"):
        response = client.post("/v1/recommend", params={"lang": lang}, json=CASE)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == recommender.recommend(CASE, lang=lang).as_dict()
    limited = client.post("/v1/recommend", params={"limit": 2}, json=CASE).json()
    assert len(limited["interventions"]) == 2
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "two"}, {"lang": "fr"}):
        error = assert_error(client.post("/v1/recommend", params=params, json=CASE), 422, "invalid-request")
        assert error["message"].startswith(f"query.{next(iter(params))}: ")


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


def test_interventions_filter_by_place_as_the_library_does(client: httpx.Client, kb) -> None:  # type: ignore[no-untyped-def]
    for params, filters in [({"district": "Nordjylland"}, {"district": ["Nordjylland"]}),
                            ({"municipality": ["Hjørring", "esbjerg"]}, {"municipality": ["Hjørring", "esbjerg"]}),
                            ({"municipality": "Odense"}, {"municipality": ["Odense"]})]:
        response = client.get("/v1/interventions", params=params)
        assert response.status_code == 200
        assert [i["id"] for i in response.json()] == [c.id for c in kb.interventions(**filters)]
    assert client.get("/v1/interventions", params={"district": "Nordjylland"}).json()
    error = assert_error(client.get("/v1/interventions", params={"district": "Nordjyland"}), 404, "unknown-concept")
    assert "nordjyllands-politi" in error["message"]


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
    assert set(schemas["Case"]["properties"]) == {"ref", "age", "factors", "offences", "municipality", "role",
                                                  "victim_of", "area", "age_group"}
    assert "warnings" in schemas["Recommendation"]["properties"]
    check_answer = spec["paths"]["/v1/check"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"#/components/schemas/CheckAnswer", "#/components/schemas/ProgrammeCheckAnswer"} <= {
        option["$ref"] for option in check_answer["anyOf"]}
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
    from kundskab.knowledge.check import check

    response = get_when_ready(client, "/v1/check")
    assert response.status_code == 200
    assert response.json() == check().as_dict()
    english = get_when_ready(client, "/v1/check", lang="en")
    assert english.json() == check(lang="en").as_dict()
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


def test_check_of_a_programme_is_the_cli_table(client: httpx.Client, kb) -> None:  # type: ignore[no-untyped-def]
    from kundskab.documents.principle_support import assess_programme

    for name, lang in (("sikker-by-2018", "en"), ("Tryg i Aarhus", "da")):
        response = client.get("/v1/check", params={"programme": name, "lang": lang})
        assert response.status_code == 200, response.text
        expected = assess_programme(kb, name, lang).as_dict(lang)
        assert response.json() == expected and expected["initiatives"]
    cli = CliRunner().invoke(main, ["check", "--programme", "vestegn-2013", "--format", "json"])
    answer = client.get("/v1/check", params={"programme": "vestegn-2013"}).json()
    assert answer == {k: v for k, v in json.loads(cli.output).items() if k != "strict"}
    error = assert_error(client.get("/v1/check", params={"programme": "sikker-by-2019"}), 404, "unknown-concept")
    assert "sikker-by-2018" in error["message"]  # the nearest known id is suggested
    assert_error(client.get("/v1/check", params={"programme": "ssp"}), 404, "unknown-concept")  # a forum
    assert_error(client.get("/v1/check", params={"programme": ""}), 422, "invalid-request")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parent.parent / "docs" / "schemas" / "check-programme.json")
                        .read_text())
    jsonschema.validate(answer, schema)


def test_a_case_with_offences_and_municipality(client: httpx.Client, recommender: Recommender) -> None:
    # Regression: the HTTP case model refused the contract's optional `offences` and `municipality`.
    case = {"ref": "m1", "age": 16, "factors": ["truancy"], "offences": ["burglary"], "municipality": "esbjerg"}
    response = client.post("/v1/recommend", json=case)
    assert response.status_code == 200, response.text
    assert response.json() == recommender.recommend(case).as_dict()


CPR_LIKE = "ref 010190-1234"


def test_a_ref_that_looks_like_a_cpr_number_is_warned_about(client: httpx.Client, recommender: Recommender) -> None:
    case = {"ref": CPR_LIKE, "age": 15, "factors": ["truancy"]}
    answer = client.post("/v1/recommend", json=case, params={"lang": "en"}).json()
    warnings = answer["warnings"]
    assert [w["code"] for w in warnings] == ["ref-looks-like-cpr"]
    assert "CPR" in warnings[0]["message"] and "010190" not in warnings[0]["message"]
    assert answer == recommender.recommend(case, lang="en").as_dict()  # the library warns alike
    danish = client.post("/v1/recommend", json=case).json()["warnings"][0]["message"]
    assert "ligner et CPR-nummer" in danish
    assert "warnings" not in client.post("/v1/recommend", json=CASE).json()
    lines = [json.dumps(c) for c in (CASE, case, {**case, "ref": "opaque-9"})]
    out = [json.loads(line) for line in
           client.post("/v1/recommend/batch", content="\n".join(lines)).text.splitlines()]
    assert ["warnings" in o for o in out] == [False, True, False]
    assert out[1]["warnings"][0]["code"] == "ref-looks-like-cpr" and out[1]["ref"] == CPR_LIKE


def test_messages_follow_lang_then_accept_language(client: httpx.Client) -> None:
    def message(**kwargs: object) -> str:
        response = client.get("/v1/concepts/zzzz-nothing", **kwargs)  # type: ignore[arg-type]
        return assert_error(response, 404, "unknown-concept")["message"]

    assert message().startswith("ukendt")  # Danish by default, as the CLI
    assert message(headers={"accept-language": "en-GB,en;q=0.9"}).startswith("unknown")
    assert message(headers={"accept-language": "fr, da;q=0.4, en;q=0.8"}).startswith("unknown")
    assert message(headers={"accept-language": "en"}, params={"lang": "da"}).startswith("ukendt")
    assert message(params={"lang": "en"}).startswith("unknown")
    invalid = client.post("/v1/recommend", json={"age": "x"}, headers={"accept-language": "da"})
    # as the CLI says
    assert assert_error(invalid, 422, "invalid-case")["message"] == "alderen ('age') er et helt antal år"
    invalid = client.post("/v1/recommend", json={"age": "x"}, params={"lang": "en"})
    assert assert_error(invalid, 422)["message"] == "'age' is a whole number of years"
    too_large = client.post("/v1/recommend", content=b" " * (2 * 1024 * 1024), params={"lang": "da"})
    assert "højst" in assert_error(too_large, 413, "body-too-large")["message"]
    nowhere = assert_error(client.get("/nowhere", params={"lang": "en"}), 404)
    assert nowhere["message"] == "there is nothing at this path"


@pytest.fixture(scope="module")
def hurried(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose time limit is half a second: less than a check of the knowledge base takes
    when its SHACL issues are not in the cache yet (a cache directory of its own)."""
    running = Server("--timeout", "0.5", env={"KUNDSKAB_CACHE_DIR": str(tmp_path_factory.mktemp("hurried"))})
    try:
        yield running
    finally:
        running.stop()


def test_an_answer_past_the_time_limit_is_a_503_and_the_worker_goes_on(hurried: Server) -> None:
    with httpx.Client(base_url=hurried.url, timeout=60) as http:
        started = time.monotonic()
        response = http.get("/v1/check", params={"lang": "en"})
        error = assert_error(response, 503, "time-limit")
        assert time.monotonic() - started < 5 and "0.5 s" in error["message"]
        assert int(response.headers["retry-after"]) >= 1
        # The worker answers others meanwhile, even with more checks waiting ...
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(6) as pool:
            waiting = [pool.submit(http.get, "/v1/check", params={"lang": "en"}) for _ in range(6)]
            time.sleep(0.2)
            answers = [http.post("/v1/recommend", json=CASE).status_code for _ in range(5)]
            assert all(w.result().status_code in (200, 503) for w in waiting)
        assert 200 in answers and set(answers) <= {200, 503}
        assert http.get("/readyz").json()["status"] == "ready"
        # ... and the check, finished in the background, is kept for the next request.
        deadline = time.monotonic() + 120
        while response.status_code == 503 and time.monotonic() < deadline:
            time.sleep(1)
            response = http.get("/v1/check", params={"lang": "en"})
        assert response.status_code == 200 and response.json()["kb_version"]


def test_a_batch_past_the_time_limit_answers_every_line(hurried: Server) -> None:
    # Varied cases (few answers come from the memos): ~0.3 ms each here, 5000 of them well
    # past half a second.
    import random

    rng = random.Random(5)
    factors = ["truancy", "street-group", "family-problems", "offence-committed", "substance-abuse",
               "gang-proximity", "no-leisure-activity", "victim-of-crime", "psychiatric-illness",
               "not-in-education-or-work", "lives-in-vulnerable-area", "concerning-behaviour"]
    lines = [json.dumps({"ref": f"t{n}", "age": rng.randrange(0, 60), "factors": {
        f: rng.choice([True, False, "unknown"]) for f in rng.sample(factors, rng.randrange(0, 8))}})
        for n in range(5000)]
    with httpx.Client(base_url=hurried.url, timeout=120) as http:
        response = http.post("/v1/recommend/batch", content="\n".join(lines), params={"limit": 1})
        assert response.status_code == 200
        out = [json.loads(line) for line in response.text.splitlines()]
        assert len(out) == len(lines)
        late = [o for o in out if o.get("error", {}).get("code") == "time-limit"]
        assert late and [o["line"] for o in late] == list(range(late[0]["line"], len(lines) + 1))
        assert out[0]["ref"] == "t0" and "error" not in out[0]
        assert http.post("/v1/recommend", json=CASE).status_code == 200
