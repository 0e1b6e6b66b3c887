"""`recommend --batch -` as a co-process: one line written, its answer read, then the next."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

from kundskab.reasoning.recommendation import Recommender


def read_line(stream: object, fd: int, seconds: float) -> bytes:
    """One line from the child's stdout, or b"" if none came within `seconds`."""
    ready, _, _ = select.select([fd], [], [], seconds)
    return stream.readline() if ready else b""  # type: ignore[attr-defined, no-any-return]


def test_each_line_is_answered_while_the_pipe_stays_open(recommender: Recommender) -> None:
    child = subprocess.Popen([sys.executable, "-m", "kundskab", "recommend", "--batch", "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=os.environ.copy())
    assert child.stdin is not None and child.stdout is not None
    try:
        cases = [{"ref": f"r{n}", "age": 9 + n, "factors": ["truancy"]} for n in range(4)]
        for number, case in enumerate(cases, 1):
            child.stdin.write(json.dumps(case).encode() + b"\n")
            child.stdin.flush()
            line = read_line(child.stdout, child.stdout.fileno(), 120)
            assert line, f"no answer to line {number} while the input stays open"
            assert json.loads(line) == recommender.recommend(case).as_dict()
        child.stdin.write(b"{bad\n")
        child.stdin.flush()
        error = json.loads(read_line(child.stdout, child.stdout.fileno(), 60))
        assert error["line"] == 5 and error["error"]["code"] == "invalid-json"
        child.stdin.close()
        assert child.wait(timeout=60) == 2  # a bad line: exit 2 once the input ends
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)


def test_a_file_on_stdin_keeps_the_chunked_path(tmp_path: object, recommender: Recommender) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "cases.jsonl"
    cases = [{"ref": f"r{n}", "age": n % 30, "factors": ["street-group"]} for n in range(300)]
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    started = time.monotonic()
    with path.open("rb") as handle:
        done = subprocess.run([sys.executable, "-m", "kundskab", "recommend", "--batch", "-"],
                              stdin=handle, capture_output=True, timeout=300, check=True)
    assert time.monotonic() - started < 300
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["ref"] for o in out] == [c["ref"] for c in cases]
