"""The engine against the reference evaluator, at length: cases compared and mismatches.

    python benchmarks/bench_engine_differential.py [--cases 20000] [--threads 4] [--processes 2]

Every process (this one and `--processes` more) checks its own random cases in
`--threads` threads sharing one engine or having one each, plus one thread through the
recommender, with a thread switch every microsecond; each answer is compared with
`RuleSet.closure` (tests/differential.py says what is compared). The goal: 0 mismatches.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kundskab import load
from kundskab.reasoning.recommendation import Recommender
from kundskab.reasoning.rules import RuleSet
from tests.differential import run_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20000, help="cases per process")
    parser.add_argument("--threads", type=int, default=4, help="engine threads per process")
    parser.add_argument("--processes", type=int, default=2, help="processes besides this one")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    kb = load()
    rules = RuleSet.load(kb)
    start = time.perf_counter()
    tally = run_all(rules, Recommender(kb, rules), cases=args.cases, threads=args.threads,
                    processes=args.processes, seed=args.seed)
    seconds = time.perf_counter() - start
    print(f"processes, threads each     {args.processes + 1}, {args.threads} engine + 1 recommender")
    print(f"cases compared              {tally.compared}  ({seconds:.1f} s, switch interval 1 µs)")
    print(f"mismatches (goal 0)         {len(tally.mismatches)}")
    for problem, count in Counter(tally.mismatches).most_common(10):
        print(f"  {count:6d}  {problem}")
    sys.exit(1 if tally.mismatches else 0)


if __name__ == "__main__":
    main()
