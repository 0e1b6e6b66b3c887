"""Answers of seeded random cases through every path, to compare two checkouts byte for byte.

A restructuring that must not change answers is checked with it: run it in the checkout
before and in the one after, each with its own interpreter, and compare the two files.

    python benchmarks/same_answers.py --out FILE [--cases N] [--seed S] [--no-http] [--no-cli]

Run it with the interpreter of the checkout to measure (its `kundskab` command is taken from
the same bin folder). Prints nothing secret: the cases are synthetic. Sections:
python/da, python/en (recommend(...).to_json()), cli-text/da, cli-text/en, cli-json/da,
batch/1, batch/2 (--jobs 2), http (POST /v1/recommend, da), http-batch.
Compare: cmp before.txt after.txt (or diff to see which section moved). The cases are
synthetic, so the file holds no real case.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
KUNDSKAB = str(BIN / "kundskab")


def cases(count: int, seed: int) -> list[dict[str, Any]]:
    import kundskab

    kb = kundskab.load()
    factors = sorted(f.id for f in kb.of_type("Factor"))
    crimes = sorted(c.id for c in kb.of_type("CrimeType"))
    places = [*sorted(c.id for c in kb.of_type("Municipality"))[:40], "esbjerg", "koebenhavn", "aalborg",
              "aarhus", "Ishøj", "Hjørring", "nordjyllands-politi", "Atlantis"]
    areas = ["tingbjerg", "esbjerg-nord", "amager", "stengaard", "gellerup", "Vollsmose"]
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    while len(out) < count:
        chosen = rng.sample(factors, rng.randint(0, 6))
        case: dict[str, Any] = {"factors": {f: rng.random() < 0.7 for f in chosen}}
        age = rng.choice([None, None, *range(3, 70)])
        if age is not None:
            case["age"] = age
        if rng.random() < 0.25:
            case["victim_of"] = rng.sample(crimes, rng.randint(1, 2))
            case["role"] = ["victim"]
        elif rng.random() < 0.1:
            case["role"] = [rng.choice(["relative", "offender", "at-risk"])]
        if rng.random() < 0.3 and case["factors"].get("offence-committed") is not False:
            case["offences"] = rng.sample(crimes, rng.randint(1, 2))
        if rng.random() < 0.5:
            case["municipality"] = rng.choice(places)
        if rng.random() < 0.15:
            case["area"] = rng.choice(areas)
        if rng.random() < 0.1:
            case["ref"] = rng.choice(["sag-17", "010203-1234", "x"])
        out.append(case)
    return out


def run(args: list[str], stdin: str) -> str:
    proc = subprocess.run([KUNDSKAB, *args], input=stdin, capture_output=True, text=True,
                          env={**os.environ, "KUNDSKAB_LANG": "da"})
    return f"exit {proc.returncode}\n{proc.stdout}\n--stderr--\n{proc.stderr}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: bytes, ctype: str) -> str:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype, "Accept-Language": "da"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return f"{resp.status}\n{resp.read().decode()}"
    except urllib.error.HTTPError as err:
        return f"{err.code}\n{err.read().decode()}"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cases", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-http", action="store_true")
    p.add_argument("--no-cli", action="store_true")
    a = p.parse_args()
    import kundskab

    cs = cases(a.cases, a.seed)
    lines = [json.dumps(c, ensure_ascii=False) for c in cs]
    out: list[str] = []
    for lang in ("da", "en"):
        out.append(f"== python/{lang}")
        for c in cs:
            try:
                out.append(kundskab.recommend(c, lang=lang).to_json())
            except Exception as err:  # a refusal is an answer too
                out.append(f"{type(err).__name__}: {err}")
    if not a.no_cli:
        for lang, fmt, n in (("da", "text", len(cs)), ("en", "text", 12), ("da", "json", 12)):
            out.append(f"== cli-{fmt}/{lang}")
            for line in lines[:n]:
                out.append(run(["recommend", "-", "--format", fmt, "--lang", lang], line))
    batch = "\n".join(lines) + "\n"
    for jobs in ("1", "2"):
        out.append(f"== batch/{jobs}")
        out.append(run(["recommend", "--batch", "-", "--jobs", jobs], batch))
    if not a.no_http:
        port = free_port()
        server = subprocess.Popen([KUNDSKAB, "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.2)
            out.append("== http")
            for line in lines:
                out.append(post(base + "/v1/recommend", line.encode(), "application/json"))
            out.append("== http-batch")
            out.append(post(base + "/v1/recommend/batch", batch.encode(), "application/x-ndjson"))
        finally:
            server.terminate()
            server.wait(10)
    a.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{a.out}: {len(cs)} cases, {sum(len(x) for x in out)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
