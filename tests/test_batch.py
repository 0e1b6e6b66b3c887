"""`recommend --batch` as a whole process: the options of a single recommendation (--questions,
--limit) on every path (one process, a stream answered line by line, forked workers), and a
worker that dies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kundskab.reasoning.recommendation import Recommender

# Few answers given: each case has more than two open questions by default.
CASES = [{"ref": f"r{n}", "age": 12 + n % 6, "factors": {"truancy": True} if n % 2 else {}} for n in range(300)]


def test_batch_passes_questions_and_limit_to_each_answer(tmp_path: Path, recommender: Recommender) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    expected = [recommender.recommend(c, questions=2, limit=3).as_dict() for c in CASES]
    assert all(len(recommender.recommend(c).open_questions) > 2 for c in CASES[:2])  # the option matters
    command = [sys.executable, "-m", "kundskab", "recommend", "--questions", "2", "--limit", "3", "--batch"]
    runs = {
        "file": subprocess.run([*command, str(path)], capture_output=True, timeout=300),
        "two jobs": subprocess.run([*command, str(path), "--jobs", "2"], capture_output=True, timeout=300),
        "pipe": subprocess.run([*command, "-"], input=path.read_bytes(), capture_output=True, timeout=300),
    }
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stderr)
        assert [json.loads(line) for line in done.stdout.splitlines()] == expected, name
    none = subprocess.run([*command[:-5], "--questions", "0", "--batch", str(path)], capture_output=True,
                          timeout=300)
    assert all(json.loads(line)["open_questions"] == [] for line in none.stdout.splitlines())


def test_a_killed_forked_worker_ends_the_batch_with_exit_2(tmp_path: Path) -> None:
    # Forked workers write the output themselves, taking turns; when one dies the others
    # must not wait for its turn for ever.
    import os
    import signal

    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CASES) * 200, encoding="utf-8")  # 60,000 lines
    command = [sys.executable, "-m", "kundskab", "recommend", "--batch", str(path), "--jobs", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline()  # the workers are at work
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert children
        os.kill(int(children[0]), signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # it hangs: the bug this test is for
            for child in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
                os.kill(int(child), signal.SIGKILL)
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2
    assert b"Traceback" not in err and b"arbejdsproces stoppede" in err  # said in Danish, by default
    assert len(out.splitlines()) < len(CASES) * 200 - 1


def test_spawned_workers_answer_with_the_callers_rules(kb, rules_copy: Path) -> None:  # type: ignore[no-untyped-def]
    # The spawn path (recommend_lines, recommend_blocks) once built a bare Recommender in
    # each worker: a caller's own rules held only for the chunks the main process answered.
    from kundskab.edges.batch import recommend_lines
    from kundskab.reasoning.rules import RuleSet

    with (rules_copy / "fora.yaml").open("a", encoding="utf-8") as extra:
        extra.write("""
  - id: forum-infohouse-for-every-specific-case
    when:
      tier_at_least: specific
    then:
      forum: infohouse
    because:
      da: En regel kun til denne test.
      en: A rule for this test only.
    source: 000_2d4d8aed5ea821e9.txt#SSP og SSP+
""")
    custom = Recommender(kb, RuleSet.load(kb, rules_copy, use_cache=False))
    lines = [(n, json.dumps({"ref": f"r{n}", "age": 14, "factors": {"truancy": True}}).encode())
             for n in range(1, 1001)]  # several chunks: the workers answer some
    one = list(recommend_lines(lines, recommender=custom, jobs=1))
    two = list(recommend_lines(lines, recommender=custom, jobs=2))
    assert all(ok for ok, _ in one)
    assert all("infohouse" in json.loads(text)["fora"] for _, text in one)  # the extra rule shows
    assert two == one


def test_ctrl_c_on_forked_workers_ends_the_batch_at_once_and_whole(tmp_path: Path) -> None:
    # The workers once waited for an end of input that never came (each held a copy of the
    # others' links), so the main process waited 5 s per worker before killing them.
    import os
    import signal
    import threading
    import time

    # The input is a pipe this test keeps open, so the batch is surely still running when
    # Ctrl-C comes, however fast it answers the cases it has.
    text = "".join(json.dumps(c) + "\n" for c in CASES) * 200  # 60,000 lines
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "kundskab", "recommend", "--batch", "-", "--jobs", "2"]
    with out.open("wb") as sink:
        # Ctrl-C as a terminal gives it: a process started with SIGINT ignored (by a shell that
        # runs this suite in the background, as CI does) keeps ignoring it, as it should.
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.PIPE,
                                start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        assert proc.stdin is not None
        feeding = proc.stdin

        def feed() -> None:
            try:
                feeding.write(text[: len(text) // 2].encode())  # half: the rest never comes
                feeding.flush()
            except (BrokenPipeError, ValueError):
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            deadline = time.monotonic() + 120
            while out.stat().st_size < 100_000 and time.monotonic() < deadline:  # the workers are at work
                time.sleep(0.05)
            assert proc.poll() is None  # still waiting for the rest of its input
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
            started = time.monotonic()
            proc.wait(timeout=60)
            took = time.monotonic() - started
            err = proc.stderr.read() if proc.stderr else b""
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            feeder.join(timeout=5)
            for stream in (proc.stdin, proc.stderr):
                if stream is not None:
                    try:
                        stream.close()
                    except BrokenPipeError:
                        pass
    assert proc.returncode == 130
    assert took < 2.0, took
    assert b"Traceback" not in err and err.strip() == b""
    data = out.read_bytes()
    assert data.endswith(b"\n")
    lines = data.splitlines()
    assert 0 < len(lines) < 60_000
    assert [json.loads(line)["ref"] for line in lines] == [f"r{n % 300}" for n in range(len(lines))]
