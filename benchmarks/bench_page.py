"""The web page under load: 8 people ask about a case at the same time.

    python benchmarks/bench_page.py [--users 8] [--seconds 15] [--workers 2]

Starts `kundskab serve --workers N` on a free 127.0.0.1 port. Each user (a thread of this
process, on the standard library's http.client) does what a browser does: opens the case
form (GET /case: the page, its CSRF cookie and token), fills it in and sends it (POST /case,
a form body: age and a few factors as ja / nej / ved ikke), and reads the answer page;
then starts again with a new case, until the time is up. The figure is the time from
sending the form to the whole answer page received: the first answer a person waits for.
Goal: p95 <= 150 ms with 8 users. Also printed: the form's own time, errors, answers per
second, and the load average at the start and the end (the users and the server share the
machine's cores, and other work on the machine weighs on every figure).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import FACTORS, start_server, stop, together

TOKEN = re.compile(rb'name="csrf" value="([0-9a-f]+)"')
COOKIE = re.compile(r"kundskab_csrf=([0-9a-f]+)")
ANSWERS = ("true", "false", "unknown")


class User:
    """One browser: a keep-alive connection and the CSRF cookie the page set."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        sent = dict(headers or {})
        if self.cookie:
            sent["Cookie"] = f"kundskab_csrf={self.cookie}"
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            return 0, b""
        found = COOKIE.search(response.getheader("set-cookie") or "")
        if found:
            self.cookie = found.group(1)
        return response.status, data

    def form(self) -> tuple[int, str]:
        status, page = self.request("GET", "/case?lang=da")
        token = TOKEN.search(page)
        return status, token.group(1).decode() if token else ""

    def answer(self, token: str, rng: random.Random) -> int:
        fields = [("csrf", token), ("age", str(rng.randrange(8, 30)))]
        fields += [(f"factor:{f}", rng.choice(ANSWERS)) for f in rng.sample(FACTORS, rng.randrange(0, 5))]
        status, page = self.request("POST", "/case?lang=da", urlencode(fields).encode(),
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        # 422 for a random case the rules refuse as contradictory: a right answer (the form
        # again with the reason), not an error.
        return status if status in (200, 422) and b'id="case-form"' in page else -1


def load(url: str, users: int, seconds: float) -> dict[str, float]:
    answers: list[list[float]] = [[] for _ in range(users)]
    forms: list[list[float]] = [[] for _ in range(users)]
    errors = [0] * users

    @contextmanager
    def user(index: int) -> Iterator[Callable[[], None]]:
        rng = random.Random(index)
        person = User(url)
        person.answer(person.form()[1], rng)  # connection and cookie set up before the clock

        def once() -> None:
            started = time.perf_counter()
            status, token = person.form()
            forms[index].append(time.perf_counter() - started)
            started = time.perf_counter()
            answered = person.answer(token, rng)
            answers[index].append(time.perf_counter() - started)
            errors[index] += status != 200 or answered < 0

        yield once

    elapsed = together(users, seconds, user)
    flat = sorted(x for per in answers for x in per)
    form = sorted(x for per in forms for x in per)

    def pct(values: list[float], share: float) -> float:
        return 1000 * values[min(len(values) - 1, int(share * len(values)))] if values else float("nan")

    return {"answers": len(flat), "errors": sum(errors), "seconds": elapsed, "per_second": len(flat) / elapsed,
            "p50_ms": 1000 * statistics.median(flat) if flat else float("nan"), "p95_ms": pct(flat, 0.95),
            "p99_ms": pct(flat, 0.99), "form_p95_ms": pct(form, 0.95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores shared by the users and the server, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    process, url = start_server(["--workers", str(options.workers)])
    try:
        load(url, options.users, 2.0)  # warm-up: templates compiled, memos filled
        load_before = os.getloadavg()[0]
        figures = load(url, options.users, options.seconds)
    finally:
        stop(process)
    verdict = "met" if figures["p95_ms"] <= 150 else "NOT met"
    print(f"serve --workers {options.workers}, {options.users} users for {figures['seconds']:.1f} s: "
          f"{figures['answers']} answer pages, errors {figures['errors']}, {figures['per_second']:.0f} answers/s; "
          f"the answer (POST /case): p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms "
          f"(goal <= 150: {verdict}), p99 {figures['p99_ms']:.1f} ms; the form (GET /case): "
          f"p95 {figures['form_p95_ms']:.1f} ms; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
