"""One case parser for every path: the command line (`recommend -` with the case's text),
a batch line, Python's `recommend` and HTTP (`POST /v1/recommend` and its batch) accept and
refuse the same case text alike, with the same error code and message, and answer it
byte for byte alike. Also the case's YAML read as written and messages that never repeat a
case's value."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():  # starlette's notice about the name of httpx's successor
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import kundskab
from kundskab.edges.batch import answer_line
from kundskab.edges.cli import main
from kundskab.edges.service import Service, create_app
from kundskab.errors import CaseError, KundskabError
from kundskab.knowledge.base import load
from kundskab.reasoning.cases import CASE_KEYS, MAX_AGE, looks_like_cpr, parse_case, parse_case_text

KB = load()
FACTORS = sorted(c.id for c in KB.of_type("Factor"))
CRIMES = sorted(c.id for c in KB.of_type("CrimeType"))
AREAS = ["esbjerg", "koebenhavn", "odense"]

Outcome = tuple[str, str]  # ("ok", the answer's JSON text) or (error code, message)


@pytest.fixture(scope="module")
def http() -> Iterator[TestClient]:
    with TestClient(create_app(Service())) as client:
        yield client


def _python(text: str) -> Outcome | None:
    """Python's `kundskab.recommend` on what json.loads makes of the text; None when no
    Python mapping can stand for it (a key twice, a number Python will not convert)."""
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in items}) != len(items):
            raise KeyError("twice")
        return dict(items)

    def no_constant(name: str) -> Any:
        raise ValueError(name)  # NaN, Infinity: not JSON

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=no_constant)
    except (KeyError, ValueError):
        return None
    try:
        return "ok", kundskab.recommend(data).to_json()
    except KundskabError as exc:
        return exc.code, exc.translated("da")


def _batch(recommender: Any, text: str) -> Outcome:
    ok, line = answer_line(recommender, 1, text.encode("utf-8", "surrogatepass"), "da")
    if ok:
        return "ok", line
    error = json.loads(line)["error"]
    return error["code"], error["message"]


def _cli(text: str) -> Outcome:
    result = CliRunner().invoke(main, ["--lang", "da", "recommend", "-", "--format", "json"],
                                input=text.encode("utf-8", "surrogatepass"))
    out = json.loads(result.stdout)
    if result.exit_code == 0:
        return "ok", json.dumps(out, separators=(",", ":"))  # the CLI's JSON is indented: its content counts
    assert result.exit_code == 2, result.output
    return out["error"]["code"], out["error"]["message"]


def _http(client: TestClient, text: str) -> tuple[Outcome, Outcome]:
    body = text.encode("utf-8", "surrogatepass")
    response = client.post("/v1/recommend", content=body)
    if response.status_code == 200:
        one = ("ok", response.text)
    else:
        assert response.status_code in (400, 422), response.text
        one = (response.json()["error"]["code"], response.json()["error"]["message"])
    line = client.post("/v1/recommend/batch", content=body + b"\n")
    assert line.status_code == 200
    answer = json.loads(line.text)
    many = ("ok", line.text.rstrip("\n")) if "error" not in answer else (
        answer["error"]["code"], answer["error"]["message"])
    return one, many


def every_path(text: str, recommender: Any, client: TestClient, cli: bool = True) -> Outcome:
    """The one outcome every path gives for a case's JSON text (asserting they agree)."""
    batch = _batch(recommender, text)
    outcomes = {"batch": batch}
    python = _python(text)
    if python is not None:
        outcomes["python"] = python
    outcomes["http"], outcomes["http batch"] = _http(client, text)
    if cli:
        code, content = _cli(text)
        outcomes["cli"] = (code, content)
    for path, (code, content) in outcomes.items():
        if code == "ok" and batch[0] == "ok":
            if path == "cli":  # indented JSON with the same content
                assert json.loads(content) == json.loads(batch[1]), (path, text)
            else:
                assert content == batch[1], (path, text)  # byte for byte
        else:
            assert (code, content) == batch, (path, text, outcomes)
    return batch


# ------------------------------------------------------------------ the issue's examples

REFUSED = [
    '{"age": true}', '{"age": false}', '{"age": "15"}', '{"age": 15.0}', '{"age": 1e400}',
    '{"age": 15, "age": 16}', '{"factors": {"truancy": true}, "factors": {}}',
    '{"factors": {"truancy": 1}}', '{"factors": {"truancy": 0}}', '{"factors": {"truancy": 1.0}}',
    '{"factors": {"truancy": 0.0}}', '{"factors": {"truancy": "1"}}', '{"ref": false}', '{"ref": 7}',
    '{"ref": ["x"]}', '{"offences": "burglary"}', '{"offences": [1]}', '{"municipality": 3}',
    '{"age": ' + "9" * 5000 + "}", '{"ref": "\\udcf8"}', '{"SECRETMARK": 1}', "[]", "null", '"text"',
    '{"age": -1}', f'{{"age": {MAX_AGE + 1}}}', '{"factors": {"truancy": [true]}}',
    '{"age_group": "SECRETMARK"}', '{"age_group": 6}', '{"age_group": ["adults"]}', '{"age_group": ""}',
    '{"age": 30, "age_group": "school-age-youth"}', '{"age": 5, "age_group": "skolebørn"}',
]
ACCEPTED = [
    '{"factors": null}', '{"age": null, "ref": null, "offences": null, "municipality": null}',
    '{"age": 15, "factors": {"truancy": "unknown", "street-group": "ja", "family-problems": null}}',
    '{"ref": "opaque-1", "age": 0}', f'{{"age": {MAX_AGE}, "factors": ["truancy"]}}',
    '{"age": 17, "offences": ["burglary"], "municipality": "esbjerg"}',
    '{"ref": "sag 01.02.03-1234", "age": 15}', '\ufeff{"age": 15}',
    '{"age_group": "school-age-youth", "factors": ["street-group"]}', '{"age_group": "Unge voksne 18-25 år"}',
    '{"age": 15, "age_group": "skolebørn"}', '{"age_group": null}', '{"age_group": "voksne", "factors": ["truancy"]}',
]


@pytest.mark.parametrize("text", REFUSED)
def test_every_path_refuses_alike(text: str, recommender: Any, http: TestClient) -> None:
    code, message = every_path(text, recommender, http)
    assert code in ("invalid-case", "invalid-json"), (code, message)
    assert "SECRETMARK" not in message and "9999" not in message


def test_nan_is_not_json_on_any_path_that_reads_only_json(recommender: Any, http: TestClient) -> None:
    # (The command line reads a case file as YAML when it is not JSON: there it is a text.)
    assert every_path('{"age": NaN}', recommender, http, cli=False)[0] == "invalid-json"


@pytest.mark.parametrize("text", ACCEPTED)
def test_every_path_accepts_alike(text: str, recommender: Any, http: TestClient) -> None:
    code, answer = every_path(text, recommender, http)
    assert code == "ok", answer


def test_a_refused_case_is_refused_in_danish_without_its_value(recommender: Any, http: TestClient) -> None:
    assert every_path('{"age": "15"}', recommender, http) == ("invalid-case", "alderen ('age') er et helt antal år")
    assert every_path('{"age": 15, "age": 16}', recommender, http)[1] == "en nøgle er angivet to gange i samme objekt"
    code, message = every_path('{"age": 1' + "0" * 5000 + "}", recommender, http)
    assert code == "invalid-case" and message.startswith("et tal i sagen har mere end")  # not Python's words
    code, message = _batch(recommender, '{"age": ')  # JSON's own error: said by position, in Danish
    assert (code, message) == ("invalid-json", "ikke en JSON-sag (linje 1, kolonne 9)")
    assert _http(http, '{"age": ')[0] == (code, message)


# ------------------------------------------------------------------ random cases, every path

def _raw(text: str) -> Any:
    return type("Raw", (), {"text": text})()


def render(value: Any) -> str:
    """JSON text of a value; a list of pairs marked as such renders as an object (so keys
    may repeat), a Raw is written as it is (numbers json.dumps will not write)."""
    if hasattr(value, "text"):
        return str(value.text)
    if isinstance(value, tuple):  # pairs
        return "{" + ",".join(f"{json.dumps(k)}:{render(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value)


junk = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 200) | st.sampled_from([0.0, 1.0, 15.0, 2.5, 1e30])
    | st.text(max_size=8) | st.sampled_from(["15", "true", "ja", "unknown", "1", "0", "", "truancy", "burglary"])
    | st.sampled_from([_raw("1" + "0" * 30), _raw("1" + "0" * 5000), _raw("-0"), _raw("1E2")]),
    lambda inner: st.lists(inner, max_size=3) | st.lists(st.tuples(st.text(max_size=5), inner), max_size=3).map(tuple),
    max_leaves=6)
answers = st.sampled_from([True, False, None, "unknown", "ja", "nej", "ved ikke", "Yes", 1, 0, 1.0, "maybe"])
names = st.sampled_from(FACTORS) | st.sampled_from(["Skolefravær", "pjækker", "truanccy", "no-such"])
factors = (st.lists(st.tuples(names, answers), max_size=5).map(tuple) | st.lists(names, max_size=4)
           | st.none())
refs = (st.none() | st.text(max_size=20) | st.sampled_from(["010203-1234", "sag ０１０２０３‐１２３４", "007"])
        | st.integers(0, 10**12))
fields = {
    "ref": refs,
    "age": st.none() | st.integers(-2, MAX_AGE + 2) | st.sampled_from([True, False, "15", 15.0]),
    "factors": factors,
    "offences": st.none() | st.lists(st.sampled_from([*CRIMES[:6], "no-such-crime"]), max_size=3)
    | st.sampled_from(["burglary"]),
    "municipality": st.none() | st.sampled_from([*AREAS, "nowhere-ville", ""]),
    "age_group": st.none() | st.sampled_from(["preschool-children", "school-age-youth", "young-adults", "adults",
                                              "skolebørn", "no-such-group", ""]),
}


@st.composite
def case_texts(draw: st.DrawFn) -> str:
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=5))
    pairs = [(name, draw(fields[name])) for name in chosen]
    mutation = draw(st.sampled_from(["none"] * 4 + ["junk", "twice", "unknown-key", "not-object"]))
    if mutation == "junk" and pairs:
        index = draw(st.integers(0, len(pairs) - 1))
        pairs[index] = (pairs[index][0], draw(junk))
    elif mutation == "twice" and pairs:
        pairs.append(pairs[0])
    elif mutation == "unknown-key":
        pairs.append((draw(st.text(max_size=6).filter(lambda k: k not in CASE_KEYS)), draw(junk)))
    elif mutation == "not-object":
        return render(draw(junk))
    return render(tuple(pairs))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=case_texts(), through_cli=st.integers(0, 2))
@example(text='{"age": true}', through_cli=0)
@example(text='{"factors": {"truancy": 1.0}}', through_cli=0)
def test_any_case_text_is_answered_or_refused_alike_on_every_path(
        text: str, through_cli: int, recommender: Any, http: TestClient) -> None:
    # The command line costs most: one example in three goes through it too.
    every_path(text, recommender, http, cli=through_cli == 0)


# ------------------------------------------------------------------ YAML read as written


@pytest.mark.parametrize(("text", "ref"), [
    ("ref: 0102031234\nage: 15\n", "0102031234"),
    ("ref: 12:30:45\nage: 15\n", "12:30:45"),
    ("ref: 007\nage: 15\n", "007"),
    ("ref: 1e3\n", "1e3"),
    ("ref: yes\n", "yes"),
    ("ref: '0102031234'\n", "0102031234"),
    ("ref: ~\n", None),
])
def test_a_yaml_case_keeps_its_scalars_as_written(text: str, ref: str | None) -> None:
    assert parse_case_text(text, KB).ref == ref


def test_a_yaml_case_types_only_age_and_answers_strictly() -> None:
    case = parse_case_text("age: 015\nfactors: {truancy: true, street-group: no, family-problems: null,"
                           " gang-proximity: ved ikke}\n", KB)
    assert case.age == 15
    assert dict(case.factors) == {"truancy": True, "street-group": False, "family-problems": None,
                                  "gang-proximity": None}
    for text in ("age: '15'\n", "age: 15.0\n", "age: true\n", "factors: {truancy: 1}\n", "ref: [a]\n",
                 "age: 0x0f\n", "offences: burglary\n"):
        with pytest.raises(CaseError):
            parse_case_text(text, KB)
    # The same as the case's JSON: a YAML case and its JSON give the same answer.
    yaml_case = parse_case_text("ref: r\nage: 15\nfactors: [truancy]\noffences: [burglary]\n", KB)
    json_case = parse_case_text('{"ref": "r", "age": 15, "factors": ["truancy"], "offences": ["burglary"]}', KB)
    assert kundskab.recommend(yaml_case).to_json() == kundskab.recommend(json_case).to_json()


def test_a_yaml_ref_like_a_cpr_number_is_warned_about(tmp_path: Any) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("ref: 0102031234\nage: 15\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--lang", "en", "recommend", str(path), "--format", "json"])
    assert result.exit_code == 0 and "CPR" in result.stderr and "0102031234" not in result.stderr
    answer = json.loads(result.stdout)
    assert answer["ref"] == "0102031234" and answer["warnings"][0]["code"] == "ref-looks-like-cpr"


# ------------------------------------------------------------------ no case value echoed

SECRET = "SECRETMARK"


@pytest.mark.parametrize("case", [
    {"victim_of": [SECRET]}, {"role": [SECRET]}, {"offences": [SECRET]},
    {"offences": ["burglary", "burglry" + SECRET]}, {"factors": [SECRET]}, {SECRET: 1}, {"age": SECRET},
])
def test_no_message_about_a_case_repeats_its_value(case: dict[str, Any], recommender: Any,
                                                   http: TestClient) -> None:
    with pytest.raises(CaseError) as caught:
        parse_case(case, KB)
    for lang in ("da", "en"):
        assert SECRET not in caught.value.translated(lang)
    code, message = every_path(json.dumps(case), recommender, http)
    assert code == "invalid-case" and SECRET not in message


def test_an_unknown_place_is_a_warning_that_does_not_repeat_it(recommender: Any) -> None:
    """Issue 20: an unknown municipality or area is a warning, the answer goes on."""
    for case in ({"municipality": SECRET + "ville"}, {"municipality": "esbjerg" + SECRET}, {"area": SECRET}):
        answer = recommender.recommend(parse_case(case, KB), lang="da").as_dict()
        assert [w["code"] for w in answer["warnings"]] == ["unknown-place"]
        assert SECRET not in json.dumps(answer)


def test_an_unknown_field_of_any_http_request_is_not_named(http: TestClient) -> None:
    response = http.post("/v1/validate", json={"filename": "a.md", "content": "x", SECRET: 1})
    assert response.status_code == 422 and SECRET not in response.text


# ------------------------------------------------------------------ the CPR check


@pytest.mark.parametrize("ref", [
    "010203-1234", "0102031234", "010203 1234", "010203\u20101234", "010203\u20111234", "010203\u20131234",
    "010203\u22121234", "\uff10\uff11\uff10\uff12\uff10\uff13\uff0d\uff11\uff12\uff13\uff14", "01.02.03-1234",
    "sag 01 02 03-1234", "x\u0660\u0661\u0660\u0662\u0660\u0663-1234",
])
def test_the_cpr_check_sees_through_other_hyphens_and_digits(ref: str) -> None:
    assert looks_like_cpr(ref)


@pytest.mark.parametrize("ref", ["opaque-123", "990203-1234", "12345678901", "2024-01-05", "013203-1234"])
def test_the_cpr_check_leaves_other_refs_alone(ref: str) -> None:
    assert not looks_like_cpr(ref)


def test_the_cpr_warning_is_part_of_every_answer(recommender: Any, http: TestClient) -> None:
    text = json.dumps({"ref": "sag 01.02.03\u20111234", "age": 15})
    code, answer = every_path(text, recommender, http)
    assert code == "ok"
    warnings = json.loads(answer)["warnings"]
    assert warnings == [{"code": "ref-looks-like-cpr", "message": kundskab.recommend(json.loads(text)).warnings[0]
                        .message}]
    assert "CPR" in warnings[0]["message"] and "1234" not in warnings[0]["message"]
    assert "warnings" not in kundskab.recommend({"ref": "opaque", "age": 15}).as_dict()


# ------------------------------------------------------------------ bytes that are not UTF-8


def test_a_ref_of_bytes_that_are_not_utf8_is_refused_on_the_command_line() -> None:
    ref = b"sag-\xf8".decode("utf-8", "surrogateescape")  # as Python hands over such an argument
    result = CliRunner().invoke(main, ["recommend", "--age", "15", "--ref", ref, "--format", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "invalid-case"
    result.stdout_bytes.decode("utf-8")  # the output is UTF-8 whatever came in


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of bytes that are not UTF-8 needs a Linux file system")
def test_a_file_name_of_bytes_that_are_not_utf8_is_escaped_in_json(tmp_path: Any) -> None:
    import os

    directory = os.fsencode(tmp_path)
    name = os.path.join(directory, b"caf\xe9.md")
    with open(name, "wb") as handle:
        handle.write(b"# x\n")
    result = CliRunner().invoke(main, ["validate", os.fsdecode(name), "--format", "json"])
    out = result.stdout_bytes.decode("utf-8")  # would fail on a raw 0xE9
    assert "\\udce9" in out and json.loads(out)


# ------------------------------------------------------------------ the cache folder


def test_a_cache_folder_others_can_write_is_not_used(tmp_path: Any) -> None:
    import os
    import subprocess

    cache = tmp_path / "cache"
    env = {**os.environ, "KUNDSKAB_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "kundskab", "--lang", "en", "show", "truancy"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and first.stdout.startswith("Truancy")
    # Someone plants a knowledge base of their own where the real one is kept ...
    (kb_file,) = cache.glob("kb-*.json")
    kb_file.write_text(kb_file.read_text(encoding="utf-8").replace('"Truancy"', '"PLANTED"'), encoding="utf-8")
    planted = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert planted.stdout.startswith("PLANTED")  # (the user's own folder is trusted)
    # ... in a folder anyone can write to: it is not used, and the user is told in one line.
    cache.chmod(0o777)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("Truancy"), result.stdout
    assert result.stderr.count("\n") == 1 and "cache folder" in result.stderr and str(cache) in result.stderr
    assert "PLANTED" in kb_file.read_text(encoding="utf-8")  # nothing written there either
    cache.chmod(0o700)


def test_the_case_fields_are_in_the_order_of_cases_attributes() -> None:
    # parse_case hands the values to Case by position.
    import dataclasses

    from kundskab.reasoning.cases import FIELDS, Case

    # The first five by position; who the person is (role -> roles), what they suffered and
    # the area come after what the parser works out (kundskab.reasoning.cases.parse_case names them).
    names = [f.name for f in dataclasses.fields(Case)]
    assert list(FIELDS)[:5] == names[:5]
    assert {"roles" if f == "role" else f for f in FIELDS} <= set(names)
