"""The command line, driven with click's CliRunner: output, JSON shapes, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import kundskab
from kundskab.edges.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run(runner: CliRunner, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(main, list(args), input=input)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------ show / interventions / check


def test_show_json_has_the_contract_keys(runner: CliRunner) -> None:
    code, out, _ = run(runner, "show", "ssp", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert {"id", "type", "labels", "definition", "sources"} <= set(data)
    assert data["id"] == "ssp" and data["type"] == "Forum"
    assert data["labels"]["da"] == "SSP"
    assert all({"file", "section"} <= set(s) for s in data["sources"])


def test_show_accepts_labels_and_folding(runner: CliRunner) -> None:
    for name in ("Ungesamråd", "ungesamraad", "Youth sanction council"):
        code, out, _ = run(runner, "show", name, "--format", "json")
        assert code == 0 and json.loads(out)["id"] == "youth-sanction-council"


def test_show_unknown_is_exit_2_with_suggestions(runner: CliRunner) -> None:
    code, out, err = run(runner, "show", "ungesamrd")
    assert code == 2 and out == ""
    assert "youth-sanction-council" in err


def test_show_programme_has_principles_requirements_and_goals(runner: CliRunner) -> None:
    _, out, _ = run(runner, "show", "sikker-by-2018", "--format", "json", "--lang", "en")
    data = json.loads(out)
    principles = ["collaboration", "knowledge", "youth-at-risk", "gangs", "local-areas"]
    assert [p["id"] for p in data["principles"]] == principles
    assert {r["error_code"] for r in data["requirements"]} == {"too-few-principles", "missing-effect-follow-up"}
    indicators = [i for g in data["goals"] for i in g["indicators"]]
    keys = {"baseline", "baseline_year", "target", "target_year", "data_source"}
    assert indicators and all(keys <= set(i) for i in indicators)
    assert any(i["target_year"] == "2021" for i in indicators)


def test_show_text_in_danish_and_english(runner: CliRunner) -> None:
    _, da, _ = run(runner, "show", "youth-sanction-council")
    _, en, _ = run(runner, "show", "youth-sanction-council", "--lang", "en")
    assert da.startswith("Ungesamråd") and "Kilder" in da
    assert en.startswith("Youth sanction council") and "Sources" in en


def test_interventions_json_and_filters(runner: CliRunner) -> None:
    code, out, _ = run(runner, "interventions", "--tier", "individual", "--forum", "Exit-enhed", "--format", "json")
    assert code == 0
    items = json.loads(out)
    assert items
    for item in items:
        assert {"id", "label", "tier", "target_groups", "fora", "principles", "sources"} <= set(item)
        assert item["tier"] == "individual" and "exit" in item["fora"]


def test_interventions_crime_type_and_unknown_filter(runner: CliRunner) -> None:
    code, out, _ = run(runner, "interventions", "--crime-type", "indbrud", "--format", "json")
    assert code == 0 and all("burglary" in i["crime_types"] for i in json.loads(out))
    code, _, err = run(runner, "interventions", "--principle", "colaboration")
    assert code == 2 and "collaboration" in err


def test_check_passes_and_reports_verdicts_per_programme(runner: CliRunner) -> None:
    code, out, _ = run(runner, "check", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["valid"] and data["errors"] == []
    verdicts = data["summary"]["verdicts_by_programme"]["sikker-by-2018"]
    from kundskab import load

    assert sum(verdicts.values()) == len(load().interventions(programme=["sikker-by-2018"]))
    assert sum(data["summary"]["scope_by_programme"]["sikker-by-2018"].values()) == sum(verdicts.values())
    # The text says, per programme, how many the requirement applies to, so a verdict on an
    # initiative outside it does not read as a breach.
    code, text, _ = run(runner, "check")
    assert code == 0 and "kundskab check --programme sikker-by-2018" in text and "kan være fund" in text
    # A finding is an initiative in a requirement's scope that falls short; --strict fails
    # exactly when there is one (tests/test_principles.py makes one with ks:fundedBy).
    code, _, _ = run(runner, "check", "--strict")
    assert code == (1 if data["findings"] else 0)


# ------------------------------------------------------------------ recommend


def test_recommend_flags_json(runner: CliRunner) -> None:
    code, out, _ = run(runner, "recommend", "--age", "15", "--factor", "truancy", "--ref", "r-1",
                       "--format", "json")
    data = json.loads(out)
    assert code == 0
    keys = {"ref", "tier", "target_groups", "fora", "interventions", "open_questions", "explanation", "kb_version"}
    assert keys <= set(data)
    assert data["ref"] == "r-1" and data["tier"] == "specific" and data["fora"] == ["ssp"]


def test_recommend_case_file_yaml_and_stdin(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("ref: x\nage: 16\nfactors:\n  offence-committed: ja\n  family-problems: ved ikke\n",
                    encoding="utf-8")
    code, out, _ = run(runner, "recommend", str(path), "--format", "json")
    assert code == 0 and json.loads(out)["tier"] == "individual"
    code, out, _ = run(runner, "recommend", "-", "--format", "json", input='{"age": 16, "factors": ["truancy"]}')
    assert code == 0 and json.loads(out)["tier"] == "specific"


def test_recommend_text_is_danish_by_default(runner: CliRunner) -> None:
    code, out, _ = run(runner, "recommend", "--age", "15", "--factor", "truancy")
    assert code == 0
    assert "Indsatsniveau: Specifik indsats" in out and "Spørgsmål at afklare" in out and "regel" in out


@pytest.mark.parametrize("args", [
    ["recommend"],
    ["recommend", "--age", "15", "--batch", "-"],
    ["recommend", "--age", "-3"],
    ["recommend", "--age", "15", "--factor", "nonsense"],
    ["recommend", "/no/such/file.json"],
])
def test_recommend_bad_usage_is_exit_2(runner: CliRunner, args: list[str]) -> None:
    code, out, err = run(runner, *args)
    assert code == 2 and out == "" and err


def test_recommend_bad_case_file_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    for content in ("{not json: [", '{"age": 15, "name": "Jens"}', "\x00\x01binary"):
        path = tmp_path / "bad.json"
        path.write_bytes(content.encode())
        code, out, err = run(runner, "recommend", str(path))
        assert code == 2 and out == "" and err.startswith("kundskab:")


def test_batch_equals_one_by_one(runner: CliRunner) -> None:
    cases = [{"ref": f"r{i}", "age": age, "factors": factors} for i, (age, factors) in enumerate([
        (15, ["truancy"]), (16, {"offence-committed": True, "family-problems": "unknown"}),
        (30, ["released-from-custody"]), (4, ["family-problems"]), (None, [])])]
    code, out, _ = run(runner, "recommend", "--batch", "-", input="\n".join(json.dumps(c) for c in cases) + "\n")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == len(cases)
    for case, line in zip(cases, lines, strict=True):
        _, single, _ = run(runner, "recommend", "-", "--format", "json", input=json.dumps(case))
        assert line == json.loads(single)


def test_batch_bad_lines_are_reported_and_the_rest_goes_on(runner: CliRunner) -> None:
    text = '{"age": 15, "factors": ["truancy"]}\nnot json\n{"age": "x"}\n\n{"age": 30}\n'
    code, out, err = run(runner, "recommend", "--batch", "-", "--lang", "en", input=text)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and "2 of 4 lines" in err  # the blank line 4 is skipped, not an error
    _, _, danish = run(runner, "recommend", "--batch", "-", input=text)
    assert "2 af 4 linjer havde fejl" in danish
    assert [line.get("line") for line in lines] == [None, 2, 3, None]
    assert lines[0]["tier"] == "specific" and lines[3]["tier"] == "general"
    assert all({"code", "message"} <= set(line["error"]) for line in lines if "line" in line)


def test_batch_is_json_whatever_the_format(runner: CliRunner) -> None:
    code, out, _ = run(runner, "recommend", "--batch", "-", "--format", "text", input='{"age": 15}\n')
    assert code == 0 and json.loads(out)["tier"] == "general"


def test_rules_lint_graph_list(runner: CliRunner) -> None:
    code, out, _ = run(runner, "rules", "lint", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == []
    code, out, _ = run(runner, "rules", "graph")
    assert code == 0 and out.startswith("digraph")
    code, out, _ = run(runner, "rules", "graph", "--format", "json")
    graph = json.loads(out)
    assert code == 0 and {"from": "tier", "to": "rule:forum-ssp"} in graph["edges"]
    code, out, _ = run(runner, "rules", "list", "--format", "json")
    rules = json.loads(out)
    assert code == 0 and all(r["source"] and r["because"] for r in rules)


def test_version(runner: CliRunner) -> None:
    code, out, _ = run(runner, "--version")
    assert code == 0 and kundskab.__version__ in out


def test_batch_with_two_jobs_keeps_order_and_answers(runner: CliRunner) -> None:
    lines = [json.dumps({"ref": f"r{i}", "age": 10 + i % 20, "factors": ["truancy"] if i % 3 else []})
             for i in range(300)]
    text = "\n".join([*lines[:150], "not json", *lines[150:]]) + "\n"
    _, single, _ = run(runner, "recommend", "--batch", "-", input=text)
    code, parallel, _ = run(runner, "recommend", "--batch", "-", "--jobs", "2", input=text)
    assert code == 2 and parallel == single
    assert json.loads(parallel.splitlines()[150])["line"] == 151


def test_batch_workers_write_the_output_themselves_in_input_order(tmp_path: Path) -> None:
    # A real process with a real pipe: forked workers write their chunks to stdout in turn.
    import subprocess
    import sys

    lines = [json.dumps({"ref": f"r{i}", "age": i % 50, "factors": {"truancy": i % 3 == 0, "gang-member": i % 7 == 0}})
             for i in range(700)]
    text = "\n".join([*lines[:300], "{bad", *lines[300:]]) + "\n"
    command = [sys.executable, "-m", "kundskab", "--lang", "en", "recommend", "--batch", "-"]
    single = subprocess.run(command, input=text.encode(), capture_output=True, timeout=300)
    parallel = subprocess.run([*command, "--jobs", "3"], input=text.encode(), capture_output=True, timeout=300)
    assert single.returncode == parallel.returncode == 2
    assert parallel.stdout == single.stdout and len(single.stdout.splitlines()) == 701
    assert b"Traceback" not in parallel.stderr
    # A reader that goes away early (`| head -1`) ends the batch with the output error
    # (exit 2, one line on stderr), never a traceback: the rest of the answers are lost.
    path = tmp_path / "cases.jsonl"
    path.write_text(text * 4, encoding="utf-8")
    with path.open("rb") as cases, subprocess.Popen([*command, "--jobs", "2"], stdin=cases, stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        assert proc.wait(timeout=300) == 2
        err = proc.stderr.read()
        assert b"Traceback" not in err and b"cannot write output" in err


def test_batch_over_long_line_is_reported(runner: CliRunner) -> None:
    long_line = json.dumps({"age": 15, "ref": "x" * 70000})
    code, out, _ = run(runner, "recommend", "--batch", "-", input=long_line + '\n{"age": 15}\n')
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 2 and first["error"]["code"] == "line-too-long" and second["tier"] == "general"


def test_batch_shows_progress_only_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps({"age": 15}) + "\n" for _ in range(300)), encoding="utf-8")
    command = [sys.executable, "-m", "kundskab", "recommend", "--batch", str(path)]
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower) as proc:
        os.close(follower)
        out, _ = proc.communicate(timeout=120)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    os.close(leader)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert len(out.decode().splitlines()) == 300  # results on stdout, untouched
    assert "300" in terminal and "✓" in terminal  # progress on the terminal
    piped = subprocess.run(command, capture_output=True, timeout=120, check=True)
    assert piped.stderr == b""  # and none when stderr is not a terminal


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(raw=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_input_to_recommend_is_an_answer_or_exit_2(raw: bytes) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["recommend", "-", "--format", "json"], input=raw)
    assert result.exit_code in (0, 2)
    assert "Traceback" not in result.output + result.stderr
    if result.exit_code == 0:
        assert "tier" in json.loads(result.stdout)
    else:  # the contract's error object on stdout, the message on stderr
        assert set(json.loads(result.stdout)["error"]) == {"code", "message"}
        assert result.stderr.startswith("kundskab:")


@FUZZ
@given(lines=st.lists(st.binary(max_size=120) | st.text(max_size=120).map(str.encode), max_size=8))
def test_any_batch_gives_one_json_line_per_input_line(lines: list[bytes]) -> None:
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    runner = CliRunner()
    result = runner.invoke(main, ["recommend", "--batch", "-"], input=b"".join(line + b"\n" for line in lines))
    assert result.exit_code in (0, 2)
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    numbers = [n for n, line in enumerate(lines, 1) if line.strip(b" \t\n\r\x0b\x0c")]  # blank lines are skipped
    assert len(outputs) == len(numbers)
    for number, output in zip(numbers, outputs, strict=True):
        assert "tier" in output or output["line"] == number


def test_batch_lines_stay_lines_whatever_the_ref(runner: CliRunner) -> None:
    """Regression: a ref holding U+2028 came out raw and split the answer for line readers."""
    case = {"ref": "a\u2028b\u2029c\x85d", "age": 15}
    code, out, _ = run(runner, "recommend", "--batch", "-", input=json.dumps(case, ensure_ascii=False) + "\n")
    assert code == 0 and len(out.splitlines()) == 1
    assert out.isascii()  # every non-ASCII character escaped: U+2028 cannot break a line
    assert json.loads(out)["ref"] == case["ref"]


def test_no_module_imports_another_modules_private_name() -> None:
    # One home per concept, with a public name: a module that needs another's helper uses
    # its public name (e.g. kundskab.edges.click_language.requested_language, once cli's private import).
    import ast

    package = Path(__file__).resolve().parent.parent / "kundskab"
    found = []
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kundskab"):
                for alias in node.names:
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    if private and node.module != "kundskab":
                        found.append(f"{name}:{node.lineno}: from {node.module} import {alias.name}")
    assert not found, "\n".join(found)


def test_need_questions_in_text_and_on_request_in_json(runner: CliRunner) -> None:
    """The consultant's text lists the questions about needs; JSON only with --need-questions;
    not with --batch."""
    args = ("recommend", "--age", "16", "--factor", "truancy", "--municipality", "Aalborg")
    code, out, _ = run(runner, *args)
    assert code == 0 and "(giver: " in out
    assert "Spørgsmål om behov (et ja bringer andre indsatser blandt de første fem):" in out
    code, out, _ = run(runner, *args, "--format", "json")
    assert code == 0 and "need_questions" not in json.loads(out)
    code, out, _ = run(runner, *args, "--format", "json", "--need-questions", "2")
    needs = json.loads(out)["need_questions"]
    assert code == 0 and 0 < len(needs) <= 2 and needs[0]["would_bring"][0]["label"]
    code, out, _ = run(runner, *args, "--need-questions", "0")
    assert code == 0 and "Spørgsmål om behov" not in out
    code, _, err = run(runner, "recommend", "--batch", "-", "--need-questions", "1", input='{"age": 15}\n')
    assert code == 2 and "--need-questions" in err
