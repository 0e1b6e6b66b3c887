"""The web page of `kundskab serve` (kundskab/edges/web.py), in process: what it answers equals the
API, it refuses what the API refuses, and it is safe by default (CSRF, CSP, no caching,
escaping, nothing of a case in a URL or the log, the API's size and time limits). The page
in a real browser is tests/test_web_browser.py."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("httpx")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from fastapi.testclient import TestClient  # noqa: E402

from kundskab.edges import models  # noqa: E402
from kundskab.edges.service import Limits, Service, create_app  # noqa: E402
from kundskab.edges.web import CSP, CaseForm, recommend_typed  # noqa: E402

BASE = "http://127.0.0.1:8000"
SECRET = "010203-1234"  # as tests/test_hostile.py: a value that must never come back
PAGES = ["/", "/case", "/validate", "/concepts", "/concepts?q=bande", "/concepts/ssp", "/interventions",
         "/interventions?forum=ssp&tier=specific", "/fora", "/fora?municipality=esbjerg&programme=sikker-by-2018",
         "/programme", "/programme?id=sikker-by-2018&sort=verdict&order=desc"]


@pytest.fixture(scope="module")
def service() -> Service:
    return Service()


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(service, Limits(max_body_bytes=256 * 1024)), base_url=BASE) as http:
        yield http


def token_of(client: TestClient, path: str = "/case") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def post_case(client: TestClient, fields: dict[str, Any], lang: str = "da") -> Any:
    return client.post(f"/case?lang={lang}", data={"csrf": token_of(client), **fields})


def api_answer(client: TestClient, case: dict[str, Any], lang: str = "da") -> Any:
    return client.post(f"/v1/recommend?lang={lang}", json=case)


def page_values(html: str) -> dict[str, Any]:
    """The typed values the answer page shows, read back from its markup."""
    tier = re.search(r'data-tier="([a-z-]+)"', html)
    fora_list = re.search(r'<ul class="inline" id="fora">(.*?)</ul>', html, re.S)
    measures = re.search(r'<ol class="measures" id="measures">(.*?)</ol>', html, re.S)
    question = re.search(r'class="question" data-factor="([a-z-]+)"', html)
    return {"tier": tier.group(1) if tier else None,
            "fora": re.findall(r'data-id="([a-z0-9-]+)"', fora_list.group(1)) if fora_list else [],
            "interventions": re.findall(r'<li data-id="([a-z0-9-]+)"', measures.group(1)) if measures else [],
            "question": question.group(1) if question else None}


# ---------------------------------------------------------------------------- the pages


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_with_the_safe_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    assert "default-src 'self'" in CSP and "script-src 'none'" in CSP and "'unsafe-inline'" not in CSP
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    html = response.text
    assert html.startswith("<!doctype html>") and '<html lang="da">' in html
    assert "<script" not in html and " style=" not in html  # nothing the policy would have to allow
    assert "<h1>" in html


def test_the_page_is_not_in_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert all(path.startswith(("/v1/", "/healthz", "/readyz")) for path in paths)


def test_danish_by_default_english_by_query_or_browser(client: TestClient) -> None:
    assert "Spørg om en sag" in client.get("/case").text
    english = client.get("/case?lang=en").text
    assert '<html lang="en">' in english and "Ask about a case" in english
    assert "Ask about a case" in client.get("/case", headers={"accept-language": "en-GB,en;q=0.9"}).text
    assert "Spørg om en sag" in client.get("/case?lang=da", headers={"accept-language": "en"}).text


def test_the_form_has_every_factor_by_domain_with_yes_no_dont_know(client: TestClient, kb: Any) -> None:
    html = client.get("/case").text
    for factor in kb.of_type("Factor"):
        for value in ("true", "false", "unknown"):
            assert f'id="f-{factor.id}-{value}" name="factor:{factor.id}" value="{value}"' in html
        assert f'<label for="f-{factor.id}-true">ja</label>' in html
    assert 'value="unknown" checked' in html and "ved ikke" in html
    for domain in kb.of_type("RiskDomain"):
        if kb.referrers(domain.id, "inDomain", "Factor"):
            assert f"<legend>{domain.label('da')}</legend>" in html
    for crime in kb.of_type("CrimeType"):
        assert f'name="offences" value="{crime.id}"' in html
    assert 'method="post"' in html and 'action="/case?lang=da"' in html


def test_every_field_has_a_label(client: TestClient) -> None:
    for path in ("/case", "/validate", "/concepts", "/interventions", "/fora", "/programme?id=sikker-by-2018"):
        html = client.get(path).text
        for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            ident = re.search(r'id="([^"]+)"', tag)
            assert ident, f"{path}: {tag}"
            assert f'<label for="{ident.group(1)}">' in html, f"{path}: {tag}"


# ---------------------------------------------------------------------------- the answer


CASES: list[dict[str, Any]] = [
    {"age": 15, "factors": {"truancy": True}},
    {"age": 16, "factors": {"offence-committed": True, "family-problems": False}},
    {"age": 17, "factors": {"wants-to-leave-gang": True}, "offences": ["violence-and-threats"]},
    {"age": 14, "factors": {"victim-of-crime": True}, "municipality": "esbjerg"},
    {"factors": {"street-group": True}},
]


def form_of(case: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"age": str(case.get("age", ""))}
    for name, value in case.get("factors", {}).items():
        fields[f"factor:{name}"] = "true" if value else "false"
    if case.get("offences"):
        fields["offences"] = case["offences"]
    if case.get("municipality"):
        fields["municipality"] = case["municipality"]
    return fields


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_page_answers_what_the_api_answers(client: TestClient, service: Service, case: dict[str, Any],
                                               lang: str) -> None:
    api = models.Recommendation.model_validate_json(api_answer(client, case, lang).content)
    form = CaseForm(str(case.get("age", "")),
                    {k: "true" if v else "false" for k, v in case.get("factors", {}).items()},
                    case.get("offences"), case.get("municipality", ""))
    assert form.case() == case
    # the typed answer the page renders is the API's, byte for byte, with the questions about
    # needs the page asks for (and the API's JSON does not)
    typed = recommend_typed(service, form.case(), lang)
    assert typed._replace(need_questions=()).to_json() == api_answer(client, case, lang).text
    response = post_case(client, form_of(case), lang)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    shown = page_values(response.text)
    assert shown["tier"] == api.tier and shown["fora"] == api.fora
    assert shown["interventions"] == [i.id for i in api.interventions]
    assert shown["question"] == (api.open_questions[0].factor if api.open_questions else None)
    for item in api.interventions:
        assert item.label in response.text.replace("&#39;", "'").replace("&amp;", "&")
    for entry in api.explanation:
        assert entry.because.replace("'", "&#39;") in response.text


def test_sources_are_cited_by_their_document_title(client: TestClient, kb: Any) -> None:
    html = post_case(client, form_of(CASES[0]))
    titles = set(kb.source_titles.values())
    cited = re.findall(r'<p class="source"><span class="label">Kilde:</span> ([^<]+)</p>', html.text)
    assert cited and all(any(c.startswith(t.replace("'", "&#39;")) for t in titles) for c in cited)
    assert ".txt" not in "".join(cited)


REFUSED: list[dict[str, Any]] = [
    {"age": "¹⁵"}, {"age": "9" * 5000}, {"age": "١٥"}, {"age": "-1"}, {"age": "fifteen"}, {"age": SECRET},
    {"factor:truancy": SECRET}, {f"factor:{SECRET}": "true"}, {"factor:truanccy": "true"},
    {"factor:wants-to-leave-gang": "true", "factor:gang-member": "false"},
    {"offences": "no-such-crime"}, {"offences": ["burglary"], "factor:offence-committed": "false"},
    {"ref": "x" * 201},  # (an unknown municipality is a warning, issue 20: see below)
]


@pytest.mark.parametrize("fields", REFUSED)
def test_the_page_refuses_what_the_api_refuses_without_echoing(client: TestClient, fields: dict[str, Any]) -> None:
    response = post_case(client, fields)
    assert response.status_code == 422, response.text[:300]
    assert '<div class="error" role="alert">' in response.text
    # The form's CSRF token is random hex and may hold "0102" by chance: it is left out of the look.
    shown = re.sub(r'name="csrf" value="[0-9a-f]+"', "", response.text).replace(f'value="{SECRET}"', "")
    assert "0102" not in shown  # only in the field it was typed in
    form = CaseForm.of(_MultiDict(fields))
    api = api_answer(client, form.case())
    assert api.status_code == 422
    message = api.json()["error"]["message"]
    assert message.replace("'", "&#39;") in response.text


class _MultiDict:
    """The posted form as Starlette gives it, for CaseForm.of."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.items = [(k, v) for k, values in fields.items()
                      for v in (values if isinstance(values, list) else [values])]

    def multi_items(self) -> list[tuple[str, Any]]:
        return self.items

    def getlist(self, key: str) -> list[Any]:
        return [v for k, v in self.items if k == key]

    def get(self, key: str) -> Any:
        found = self.getlist(key)
        return found[-1] if found else None


def test_text_is_escaped_everywhere(client: TestClient) -> None:
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    response = post_case(client, {"age": "15", "ref": attack})
    assert response.status_code == 200
    assert "<script>" not in response.text and "<img" not in response.text
    assert "&lt;script&gt;" in response.text
    refused = post_case(client, {"age": attack})
    assert refused.status_code == 422 and "<script>" not in refused.text
    for path in (f"/concepts?q={attack}", f"/concepts/{attack}", f"/fora?municipality={attack}",
                 f"/interventions?forum={attack}", f"/programme?id={attack}"):
        page = client.get(path)
        assert page.status_code in (200, 404, 400), path
        assert "<script>" not in page.text and "<img" not in page.text, path


def test_a_ref_like_a_cpr_number_is_warned_about_never_shown_in_the_answer(client: TestClient) -> None:
    response = post_case(client, {"age": "15", "ref": SECRET})
    assert response.status_code == 200 and "CPR" in response.text
    answer = response.text.split('<form id="case-form"')[0]
    assert SECRET not in answer.replace(f'value="{SECRET}"', "")


def test_nothing_of_a_case_in_a_url_or_the_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    assert client.get("/case?age=15&factor:truancy=true").text == client.get("/case").text  # GET takes no case
    with caplog.at_level(logging.DEBUG):
        response = post_case(client, {"age": "15", "ref": "opaque-ref-77", "factor:truancy": "true"})
    assert response.status_code == 200 and not response.history  # answered in place, no redirect
    assert "opaque-ref-77" not in caplog.text and "truancy" not in caplog.text
    assert any("POST /case 200" in r.getMessage() for r in caplog.records)
    for link in re.findall(r'(?:href|action)="([^"]*)"', response.text):
        assert "opaque" not in link and "truancy=" not in link and "age=" not in link, link
    assert "set-cookie" not in response.headers or "opaque" not in response.headers["set-cookie"]
    assert client.get("/case", params={"lang": "en"}).status_code == 200
    assert client.put("/case").status_code == 405


# ---------------------------------------------------------------------------- the interview


def grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as httpx takes them: a name given several times, a list."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def test_the_interview_walks_to_its_end(client: TestClient) -> None:
    token = token_of(client)
    fields: list[tuple[str, str]] = [("csrf", token), ("age", "15"), ("factor:truancy", "true")]
    asked: list[str] = []
    page = client.post("/case", data=dict(fields)).text
    for _ in range(40):
        html = page
        question = re.search(r'class="question" data-factor="([a-z-]+)"', html)
        if question is None:
            assert 'id="interview-done"' in html
            break
        factor = question.group(1)
        assert factor not in asked
        asked.append(factor)
        # The question's form carries the case so far (hidden) and its button's answer.
        form = html.split('id="interview-form"')[1].split("</form>")[0]
        hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
        answer = "false" if len(asked) % 2 else "unknown"
        assert f'name="answer" value="{factor}:{answer}"' in form
        page = client.post("/case", data=grouped([*hidden, ("answer", f"{factor}:{answer}")])).text
        assert page_values(page)["tier"]
    else:
        pytest.fail("the interview did not end")
    assert len(asked) >= 3
    # Every question answered "no" is in the form as "no"; "don't know" stays unknown.
    for index, factor in enumerate(asked):
        value = "false" if (index + 1) % 2 else "unknown"
        assert f'id="f-{factor}-{value}" name="factor:{factor}" value="{value}" checked' in page


# ---------------------------------------------------------------------------- CSRF


def test_a_form_without_a_valid_token_is_refused(client: TestClient) -> None:
    token = token_of(client)
    assert client.post("/case", data={"age": "15"}).status_code == 403
    assert client.post("/case", data={"csrf": "0" * 64, "age": "15"}).status_code == 403
    assert client.post("/case", data={"csrf": token, "age": "15"},
                       headers={"origin": "https://evil.example"}).status_code == 403
    fresh = TestClient(client.app, base_url=BASE)  # another browser: no cookie of ours
    assert fresh.post("/case", data={"csrf": token, "age": "15"}).status_code == 403
    assert fresh.post("/validate", data={"csrf": token, "content": "title: x\n"}).status_code == 403
    assert client.post("/case", data={"csrf": token, "age": "15"}).status_code == 200
    cookie = client.cookies.get("kundskab_csrf")
    assert cookie and token != cookie and len(token) == 64
    set_cookie = fresh.get("/case").headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie


# ---------------------------------------------------------------------------- limits


def test_the_api_body_limit_holds_for_the_page(client: TestClient) -> None:
    big = "x" * (300 * 1024)
    response = client.post("/validate", data={"csrf": token_of(client, "/validate"), "content": big})
    assert response.status_code == 413 and response.headers["content-type"].startswith("text/html")
    assert "262144" in response.text and response.headers["content-security-policy"] == CSP
    api = client.post("/v1/validate", content=big.encode())
    assert api.status_code == 413 and api.json()["error"]["code"] == "body-too-large"


def test_a_document_over_the_apis_limit_is_refused_as_the_api_refuses_it(client: TestClient) -> None:
    large = GOOD + "Tekst om klubber.\n" * 4000  # some 72 KB: over the API's 64 KiB for a document
    api = client.post("/v1/validate", json={"filename": "large.md", "content": large})
    assert api.status_code == 413
    page = client.post("/validate", data={"csrf": token_of(client, "/validate")},
                       files=[("files", ("large.md", large.encode(), "text/markdown")),
                              ("files", ("good.md", GOOD.encode(), "text/markdown"))])
    assert page.status_code == 200
    assert '<li class="error" data-code="file-too-large">' in page.text
    assert api.json()["error"]["message"] in page.text
    assert 'data-valid="true"' in page.text  # the other document is validated all the same


def test_the_api_time_limit_holds_for_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = Service()

    def dawdle(case: Any, lang: str, limit: Any, need_questions: int = 0) -> Any:
        time.sleep(1.0)
        raise AssertionError("not reached in time")

    with TestClient(create_app(slow, Limits(seconds=0.2)), base_url=BASE) as http:
        monkeypatch.setattr(slow, "recommendation", dawdle)
        response = http.post("/case", data={"csrf": token_of(http), "age": "15"})
        assert response.status_code == 503 and response.headers["content-type"].startswith("text/html")
        assert "0.2" in response.text


def test_a_form_with_too_many_fields_is_refused(client: TestClient) -> None:
    fields = {"csrf": token_of(client), **{f"factor:x{n}": "true" for n in range(1000)}}
    assert client.post("/case", data=fields).status_code == 400


# ---------------------------------------------------------------------------- documents


GOOD = ("---\ntitle: Klubber\nprogramme: sikker-by-2018\ntier: general\ntarget_groups: [school-age-youth]\n"
        "principles:\n  collaboration: Klubberne og SSP aftaler fælles indsats.\n"
        "  youth-at-risk: Alle unge får et alternativ til gaden.\n  local-areas: De mest utrygge bydele først.\n"
        "effect_follow_up: yearly\n---\nTekst\n")
BAD = "---\ntitle: x\nprogramme: sikker-by-2018\ntier: general\ntarget_groups: [nobody-here]\n---\n"


def test_validate_pasted_and_uploaded_documents_with_line_numbers(client: TestClient) -> None:
    token = token_of(client, "/validate")
    response = client.post("/validate", data={"csrf": token, "content": BAD, "format": "md"},
                           files=[("files", ("good.md", GOOD.encode(), "text/markdown")),
                                  ("files", ('<b>bad</b>.yaml', b"title: [\n", "application/yaml"))])
    assert response.status_code == 200
    html = response.text
    assert html.count('<article class="file') == 3
    assert 'data-valid="true"' in html and html.count('data-valid="false"') == 2
    assert '<li class="error" data-code="unknown-concept"><span class="line">linje 5</span>' in html
    assert "&lt;b&gt;bad&lt;/b&gt;.yaml" in html and "<b>bad" not in html
    api = client.post("/v1/validate", json={"filename": "dokument.md", "content": BAD}).json()
    for error in api["errors"]:
        assert f'data-code="{error["code"]}"' in html
    nothing = client.post("/validate", data={"csrf": token, "content": "  "})
    assert nothing.status_code == 422


def test_template_download_is_the_cli_template(client: TestClient, kb: Any) -> None:
    from kundskab.documents.templates import document_template

    response = client.get("/template?programme=Sikker By")
    assert response.status_code in (200, 404)
    response = client.get("/template?programme=sikker-by-2018")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="sikker-by-2018.md"'
    assert response.text == document_template(kb, "sikker-by-2018")
    assert client.get("/template?programme=ssp").status_code == 404


# ---------------------------------------------------------------------------- look up


def test_search_concept_and_catalogue(client: TestClient, kb: Any) -> None:
    found = client.get("/concepts?q=ungesamråd").text
    assert 'href="/concepts/youth-sanction-council?lang=da"' in found
    concept = client.get("/concepts/Ungesamråd").text
    assert "<h1>Ungesamråd</h1>" in concept and "afsnit" in concept
    title = kb.source_titles[kb.get("youth-sanction-council").sources[0].file]
    assert title.replace("'", "&#39;") in concept
    assert client.get("/concepts/zzzz-nothing").status_code == 404
    listing = client.get("/interventions", params=[("forum", "ssp"), ("forum", "psp"), ("tier", "specific")]).text
    shown = re.findall(r'<li data-id="([a-z0-9-]+)">', listing)
    assert shown == [c.id for c in kb.interventions(tier=["specific"], forum=["ssp", "psp"])] and shown
    assert 'value="ssp" checked' in listing and 'value="psp" checked' in listing
    helping = re.findall(r'<li data-id="([a-z0-9-]+)">', client.get("/interventions?kind=help&forum=ssp").text)
    assert helping == [c.id for c in kb.interventions(kind=["help"], forum=["ssp"])] and helping
    local = re.findall(r'<li data-id="([a-z0-9-]+)">', client.get("/interventions?municipality=odense").text)
    assert local == [c.id for c in kb.interventions(municipality=["odense"])]
    district = re.findall(r'<li data-id="([a-z0-9-]+)">',
                          client.get("/interventions?district=nordjyllands-politi").text)
    assert district == [c.id for c in kb.interventions(district=["nordjyllands-politi"])] and district


def test_fora_by_place_and_programme(client: TestClient, kb: Any) -> None:
    from kundskab.knowledge.browse import list_concepts

    esbjerg = re.findall(r'<li data-id="([a-z0-9-]+)">', client.get("/fora?municipality=Esbjerg").text)
    expected = {f["id"] for f in list_concepts(kb, "fora", municipality=["esbjerg"])}
    assert set(esbjerg) == expected and esbjerg
    both = re.findall(r'<li data-id="([a-z0-9-]+)">',
                      client.get("/fora?municipality=koebenhavn&programme=sikker-by-2018").text)
    assert set(both) == {f["id"] for f in list_concepts(kb, "fora", municipality=["koebenhavn"],
                                                       programme=["sikker-by-2018"])}
    assert client.get("/fora?municipality=atlantis").status_code == 404
    every = re.findall(r'<li data-id="([a-z0-9-]+)">', client.get("/fora").text)
    assert set(every) == {f.id for f in kb.of_type("Forum")}


# ---------------------------------------------------------------------------- a programme's table


def test_the_programme_table_sorts_by_links_and_downloads_csv(client: TestClient, kb: Any) -> None:
    from kundskab.documents.principle_support import assess_programme
    from kundskab.edges.rendering import table_csv

    html = client.get("/programme?id=sikker-by-2018&sort=verdict&order=desc").text
    verdicts = re.findall(r'data-verdict="([a-z-]+)"', html)
    assessment = assess_programme(kb, "sikker-by-2018", "da")
    assert len(verdicts) == len(assessment.initiatives) and verdicts == sorted(verdicts, reverse=True)
    assert 'aria-sort="descending"' in html
    assert 'href="/programme?id=sikker-by-2018&amp;sort=verdict&amp;order=asc&amp;lang=da"' in html
    ids = re.findall(r'<tr data-id="([a-z0-9-]+)"', client.get("/programme?id=sikker-by-2018&sort=id").text)
    assert ids == sorted(ids)
    download = client.get("/programme/sikker-by-2018.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.content.decode("utf-8") == table_csv(kb, assessment, "da")  # BOM, ';', Danish
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows[1:]] == [r.id for r in assessment.initiatives]
    workbook = client.get("/programme/sikker-by-2018.xlsx")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    assert client.get("/programme/ssp.csv").status_code == 404


def test_hostile_query_values_are_bounded(client: TestClient) -> None:
    for path in ("/concepts?q=" + "bande " * 5000, "/interventions?" + "&".join(["forum=ssp"] * 500),
                 "/programme?id=sikker-by-2018&sort=__class__&order=x", "/concepts/" + "a" * 5000):
        response = client.get(path)
        assert response.status_code in (200, 404), path


def test_the_answer_page_is_quick(client: TestClient) -> None:
    token = token_of(client)
    client.post("/case", data={"csrf": token, "age": "15", "factor:truancy": "true"})
    times = []
    for age in range(10, 20):
        started = time.perf_counter()
        client.post("/case", data={"csrf": token, "age": str(age), "factor:street-group": "true"})
        times.append(time.perf_counter() - started)
    assert sorted(times)[len(times) // 2] < 0.15  # the benchmark (bench_page.py) measures it under load


def test_json_of_a_form_case_is_the_api_body() -> None:
    form = CaseForm(" 15 ".strip(), {"truancy": "true", "family-problems": "unknown", "street-group": "false"},
                    ["burglary"], "Esbjerg", "r1")
    assert json.loads(json.dumps(form.case())) == {
        "ref": "r1", "age": 15, "factors": {"truancy": True, "street-group": False},
        "offences": ["burglary"], "municipality": "Esbjerg"}


HOSTILE_DOCUMENTS = [
    ("long.md", "---\ntitle: x\nprogramme: sikker-by-2018\ntier: general\ntarget_groups: [school-age-youth]\n---\n"
     + "bandekriminalitet" + "x" * 50_000),
    ("keys.md", "---\ntitle: x\n" + "".join(f"k{i}: 1\n" for i in range(3000)) + "---\n"),
    ("list.yaml", "title: x\nprogramme: sikker-by-2018\ntarget_groups: ["
     + ", ".join(f"group{i}" for i in range(5000)) + "]\n"),
    ("x\n✓ forged.md: gyldig\x1b]0;owned\x07\u202e.md", "---\ntitle: <script>alert(1)</script>\n---\n"),
    ("alias.yaml", "a: &a [1]\nb: *a\n"),
]


@pytest.mark.parametrize(("name", "content"), HOSTILE_DOCUMENTS)
def test_hostile_documents_through_the_page_as_through_the_api(client: TestClient, name: str, content: str) -> None:
    api = client.post("/v1/validate", json={"filename": name, "content": content})
    page = client.post("/validate", data={"csrf": token_of(client, "/validate")},
                       files=[("files", (name, content.encode(), "text/plain"))])
    assert page.status_code == 200 and api.status_code == 200
    report = api.json()
    html = page.text
    for kind in ("error", "warning"):
        shown = re.findall(rf'<li class="{kind}" data-code="([a-z-]+)"', html)
        assert shown == [p["code"] for p in report[f"{kind}s"]]
    assert "<script>" not in html and "\x1b" not in html and "\x07" not in html


def test_serve_listens_on_loopback_unless_told() -> None:
    from kundskab.edges.cli import main

    serve = main.commands["serve"]
    host = next(p for p in serve.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_role_crimes_suffered_and_area_as_the_api_takes_them(client: TestClient, service: Service) -> None:
    if "role" not in models.Case.model_fields:
        pytest.skip("the case's role, victim_of and area are not in this version's case model yet")
    html = client.get("/case").text
    for role in ("at-risk", "offender", "victim", "relative"):
        assert f'name="role" value="{role}"' in html
    assert 'id="area"' in html and 'name="victim_of" value="violence-and-threats"' in html
    case = {"age": 14, "role": ["victim"], "victim_of": ["violence-and-threats"], "municipality": "koebenhavn",
            "area": "tingbjerg"}
    fields = {"age": "14", "role": "victim", "victim_of": "violence-and-threats", "municipality": "koebenhavn",
              "area": "tingbjerg"}
    form = CaseForm.of(_MultiDict(fields))
    assert form.case() == case
    api = models.Recommendation.model_validate_json(api_answer(client, case).content)
    assert recommend_typed(service, form.case(), "da").to_json() == api_answer(client, case).text
    page = post_case(client, fields)
    assert page.status_code == 200
    assert page_values(page.text)["interventions"] == [i.id for i in api.interventions]
    assert 'id="r-victim" name="role" value="victim" aria-describedby="role-hint" checked' in page.text
    unknown_place = post_case(client, {**fields, "area": "atlantis-estate"})
    assert unknown_place.status_code == 200 and '<p class="warning"' in unknown_place.text


def test_the_age_group_as_the_api_takes_it(client: TestClient, service: Service) -> None:
    """Beside the age, the form offers the age groups; the page answers a pupil of unknown
    age as the API does, and keeps the group through the questions' buttons."""
    html = client.get("/case").text
    assert '<select id="age_group" name="age_group"' in html and '<option value="school-age-youth">' in html
    fields = {"age_group": "school-age-youth", "factor:street-group": "true", "municipality": "odense"}
    case = CaseForm.of(_MultiDict(fields)).case()
    assert case == {"age_group": "school-age-youth", "factors": {"street-group": True}, "municipality": "odense"}
    page = post_case(client, fields)
    assert page.status_code == 200
    assert page_values(page.text)["fora"] == ["ssp"]
    api = api_answer(client, case).json()
    assert page_values(page.text)["interventions"] == [i["id"] for i in api["interventions"]]
    assert '<input type="hidden" name="age_group" value="school-age-youth">' in page.text
    assert '<option value="school-age-youth" selected>' in page.text
    refused = post_case(client, {**fields, "age": "40"})
    assert refused.status_code == 422 and "er uenige: alderen ligger uden for aldersgruppens aldre" in refused.text


def test_a_municipalitys_portfolio(client: TestClient, kb: Any) -> None:
    from kundskab.documents.portfolios import portfolio
    from kundskab.edges.portfolio_output import html_fragment

    empty = client.get("/portfolio")
    assert empty.status_code == 200 and 'name="municipality"' in empty.text
    page = client.get("/portfolio?municipality=esbjerg")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    assert "<style" not in page.text and " style=" not in page.text  # the style is /static/portfolio.css
    assert '<link rel="stylesheet" href="/static/portfolio.css">' in page.text
    expected = html_fragment(portfolio(municipality="esbjerg", kb=kb, lang="da"), inline_style=False)
    assert expected in page.text
    css = client.get("/static/portfolio.css")
    assert css.status_code == 200 and ".ks-portfolio" in css.text
    workbook = client.get("/portfolio.xlsx?municipality=esbjerg")
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    assert client.get("/portfolio?municipality=atlantis").status_code == 404


@pytest.mark.parametrize("case", [
    {"age": 24, "factors": {"gang-member": True, "wants-to-leave-gang": False}, "municipality": "koebenhavn"},
    {"age": 14, "factors": {"gang-proximity": True, "street-group": True}, "municipality": "aarhus"},
    {"age": 51, "factors": {"psychiatric-illness": True, "falls-between-services": False}, "municipality": "herning"},
])
def test_the_page_shows_control_and_fora_elsewhere_apart_as_the_api_gives_them(client: TestClient,
                                                                              case: dict[str, Any]) -> None:
    api = models.Recommendation.model_validate_json(api_answer(client, case).content)
    assert api.control or api.fora_elsewhere or api.fora_ruled_out  # each case has one of the sections
    text = post_case(client, form_of(case)).text

    def ids_in(section: str) -> list[str]:
        found = re.search(rf'id="{section}">(.*?)</[ou]l>', text, re.S)
        return re.findall(r'<li data-id="([^"]+)"', found.group(1)) if found else []

    assert ids_in("control") == [m.id for m in api.control]
    assert ids_in("fora-elsewhere") == [f.id for f in api.fora_elsewhere]
    assert ids_in("fora-ruled-out") == [f.id for f in api.fora_ruled_out]
    assert not set(ids_in("fora-ruled-out")) & set(ids_in("fora"))  # a forum ruled out is not the case's
    assert not set(ids_in("control")) & set(ids_in("measures"))  # control is never listed as help


@pytest.mark.parametrize("typed", ["14", " 14 ", "14 år", "14 ÅR", "14 aar", "14 years", "14 år."])
def test_an_age_typed_as_text_is_read_alike_by_the_form_the_cli_and_the_interview(typed: str) -> None:
    from click.testing import CliRunner

    from kundskab.edges.cli import main

    assert CaseForm(typed, {}, None, "").case() == {"age": 14}
    runner = CliRunner()
    as_number = runner.invoke(main, ["recommend", "--age", "14", "--format", "json"])
    as_typed = runner.invoke(main, ["recommend", "--age", typed, "--format", "json"])
    interview = runner.invoke(main, ["recommend", "--interview", "--format", "json"], input=typed + "\n" + "\n" * 60)
    assert as_number.exit_code == as_typed.exit_code == interview.exit_code == 0
    assert as_typed.stdout == as_number.stdout == interview.stdout


@pytest.mark.parametrize("typed", ["fjorten", "14 måneder", "1 4", "14,5", "１４"])
def test_an_age_not_a_whole_number_of_years_is_refused_alike(typed: str, client: TestClient) -> None:
    from click.testing import CliRunner

    from kundskab.edges.cli import main

    assert post_case(client, {"age": typed}).status_code == 422
    result = CliRunner().invoke(main, ["recommend", "--age", typed, "--format", "json"])
    assert result.exit_code == 2 and "Traceback" not in result.output and typed not in result.output


def test_the_page_shows_the_fora_by_age_of_an_unknown_age_as_the_api_gives_them(client: TestClient) -> None:
    case = {"factors": {"street-group": True}, "municipality": "odense"}
    api = models.Recommendation.model_validate_json(api_answer(client, case).content)
    assert [f.id for f in api.fora_by_age] == ["ssp", "ssp-plus"]
    text = post_case(client, form_of(case)).text
    found = re.search(r'id="fora-by-age">(.*?)</ul>', text, re.S)
    assert found is not None
    assert re.findall(r'<li data-id="([^"]+)"', found.group(1)) == ["ssp", "ssp-plus"]
    assert "(6–17 år)" in found.group(1) and "(18–25 år)" in found.group(1)
    assert "Fora efter alder" in text and "de afhænger af alderen" in text
    known = post_case(client, form_of({**case, "age": 15})).text
    assert 'id="fora-by-age"' not in known
