"""Cold start of a browsing command against the goal in issue 2.

    python benchmarks/bench_startup.py [--runs 15]

Times `kundskab show ssp` as a whole new process (the knowledge base served from its
compiled cache) against `python -c "import durable.lang, click"`; the goal is at most 2x.
Also times the first run after a change of the ontology (cache miss, Turtle parsed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="kundskab-bench-")
    env = {**os.environ, "KUNDSKAB_CACHE_DIR": cache}
    show = [sys.executable, "-m", "kundskab", "show", "ssp"]
    exe = shutil.which("kundskab")
    if exe:
        show = [exe, "show", "ssp"]
    baseline = [sys.executable, "-c", "import durable.lang, click"]
    miss = timed(show, env, 1)  # first run compiles the cache
    subprocess.run(show, env=env, check=True, stdout=subprocess.DEVNULL)
    base, ours = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine
        base += timed(baseline, env, 1)
        ours += timed(show, env, 1)
    b, o = statistics.median(base), statistics.median(ours)
    print(f"import durable.lang, click      median {b:7.1f} ms  (min {min(base):.1f}, max {max(base):.1f})")
    print(f"kundskab show ssp (warm cache)  median {o:7.1f} ms  (min {min(ours):.1f}, max {max(ours):.1f})")
    print(f"ratio (goal <= 2.0)             {o / b:7.2f}")
    print(f"kundskab show ssp (cache miss)  {miss[0]:7.1f} ms  (compiles the Turtle once)")
    shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
