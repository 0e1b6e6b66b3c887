"""Start-up of whole commands, as a new user runs them, against the bare imports.

    python benchmarks/bench_startup.py [--runs 9]

The baseline is `python -c "import durable.lang, click"`. Timed as new processes,
interleaved with the baseline so that both see the same machine (medians; each ratio is
the median of the ratios of back-to-back pairs):
- `kundskab recommend --age 15 --factor truancy --format json` (the installed command, the
  cache in its default place) with kundskab's bytecode
  cached (warm) and with none (cold: kundskab's modules compiled on every run, as on the
  first run after installing from a checkout); goal: at most 2x the baseline;
- `kundskab show ssp` (browsing);
- `kundskab check` (the SHACL issues of unchanged files from the cache) and `kundskab
  check --no-cache` (the shapes run again), and `kundskab validate` of one document; the
  last two also against the imports pySHACL needs (`import durable.lang, click, rdflib,
  pyshacl`), to show kundskab's own part;
- the first run after an ontology change (the knowledge base compiled from Turtle).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "tests" / "documents" / "sikker-by-2018" / "missing-effect-follow-up.md"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="kundskab-bench-")
    cold = tempfile.mkdtemp(prefix="kundskab-cold-")
    try:
        # A copy of the package without bytecode, beside the same ontology/ and rules/, run
        # with bytecode writing off: kundskab's modules are compiled on every run.
        shutil.copytree(ROOT / "kundskab", Path(cold) / "kundskab",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in ("ontology", "rules"):
            os.symlink(ROOT / name, Path(cold) / name)
        # Warm runs may write bytecode even where the environment forbids it (some shells set
        # PYTHONDONTWRITEBYTECODE), or "warm" would quietly measure a cold start.
        # As a new user: no KUNDSKAB_CACHE_DIR (the cache is found the default way, under
        # XDG_CACHE_HOME, pointed at a fresh directory here), and the `kundskab` command the
        # installation made when there is one (not `python -m`, which imports runpy too).
        base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "KUNDSKAB_CACHE_DIR")}
        env = {**base, "XDG_CACHE_HOME": cache, "PYTHONPATH": str(ROOT)}
        cold_env = {**env, "PYTHONPATH": cold, "PYTHONDONTWRITEBYTECODE": "1"}
        script = shutil.which("kundskab", path=str(Path(sys.executable).parent))
        kundskab = [script] if script else [sys.executable, "-m", "kundskab"]
        recommend = [*kundskab, "recommend", "--age", "15", "--factor", "truancy", "--format", "json"]
        commands = {
            "recommend (warm bytecode)": (recommend, env),
            "recommend (cold bytecode)": (recommend, cold_env),
            "show ssp": ([*kundskab, "show", "ssp"], env),
            "check": ([*kundskab, "check"], env),
            "check --no-cache": ([*kundskab, "check", "--no-cache"], env),
            "validate one document": ([*kundskab, "validate", str(DOCUMENT)], env),
        }
        baseline = [sys.executable, "-c", "import durable.lang, click"]
        shacl_baseline = [sys.executable, "-c", "import durable.lang, click, rdflib, pyshacl"]
        miss = timed(recommend, env)  # the first run compiles the knowledge base cache
        for cmd, run_env in commands.values():
            timed(cmd, run_env)  # warm up: bytecode written, files in the page cache
        base: list[float] = []
        shacl_base: list[float] = []
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved, so all see the same machine
            base.append(timed(baseline, env))
            shacl_base.append(timed(shacl_baseline, env))
            for name, (cmd, run_env) in commands.items():
                times[name].append(timed(cmd, run_env))
        b = statistics.median(base)
        print(f"{'import durable.lang, click':32s} median {b:7.1f} ms  (min {min(base):.1f}, max {max(base):.1f})")
        print(f"{'  the same + rdflib, pyshacl':32s} median {statistics.median(shacl_base):7.1f} ms")
        for name, values in times.items():
            m = statistics.median(values)
            # The ratio is the median of the ratios of runs made back to back: a drift in the
            # machine's speed then moves both sides of each pair alike.
            ratio = statistics.median(v / w for v, w in zip(values, base, strict=True))
            goal = "  (goal <= 2.0)" if name.startswith("recommend") else ""
            if name in ("check --no-cache", "validate one document"):
                own = statistics.median(v - w for v, w in zip(values, shacl_base, strict=True))
                goal = f"  (pySHACL's imports + {own:.0f} ms)"
            print(f"{name:32s} median {m:7.1f} ms  (min {min(values):.1f}, max {max(values):.1f})"
                  f"  ratio {ratio:5.2f}{goal}")
        print(f"{'first run after an ontology change':32s}        {miss:7.1f} ms  (compiles the Turtle once)")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(cold, ignore_errors=True)


if __name__ == "__main__":
    main()
