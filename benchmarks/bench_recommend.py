"""Recommendation speed: batch throughput against durable-rules' own floor, latency, memory.

    python benchmarks/bench_recommend.py [--cases 20000] [--rounds 7] [--memory-cases 100000]

The floor is bare durable-rules in the same process: the same compiled rules with actions
that do nothing, the same input facts per case asserted into a state of their own, the
state deleted afterwards. kundskab's batch path (parse the JSON line, reason, rank, ask
what-if questions, explain, serialise) should reach at least half the floor's throughput.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from durable.engine import Host, MessageNotHandledException

from kundskab import load
from kundskab.cases import parse_case
from kundskab.engine import _pattern
from kundskab.recommendation import Recommender


def make_cases(n: int, factors: list[str], seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        chosen = rng.sample(factors, rng.randint(0, 5))
        answers: dict[str, object] = {}
        for f in chosen:
            answers[f] = rng.choice([True, True, False, "unknown"])
        cases.append({"ref": f"c{i}", "age": rng.randint(0, 40), "factors": answers})
    return cases


def floor_per_second(recommender: Recommender, lines: list[str]) -> float:
    """Bare durable-rules: same rules, no-op actions, the same facts per case that
    kundskab's engine asserts (the case's own and the conclusions it chains), a state
    per case, deleted afterwards."""
    kb = recommender.kb
    definition = {
        rule.id: {"all": [{f"c{i}": _pattern(c)} for i, c in enumerate(rule.conditions)],
                  "run": lambda c: None}
        for rule in recommender.rules
    }
    host = Host()
    host.set_rulesets({"floor": definition})
    consumed = recommender.rules.consumed_kinds
    per_case = []  # not timed: the facts, as kundskab's engine asserts them
    for line in lines:
        case = parse_case(json.loads(line), kb).facts
        first: dict[str, object] = {"t": "case"}
        if case.age is not None:
            first["age"] = case.age
        facts = [first]
        facts += [{"t": "f", "id": f, "v": "true"} for f in sorted(case.true)]
        facts += [{"t": "f", "id": f, "v": "false"} for f in sorted(case.false)]
        derivation = recommender.engine.run(case)
        facts += [{"t": "d", "k": k, "id": i} for k, ids in derivation.conclusions.items()
                  if k in consumed and k != "tier" for i in sorted(ids)]
        if "tier" in consumed and derivation.tier:
            facts.append({"t": "d", "k": "tier", "id": derivation.tier, "r": derivation.tier_rank})
        per_case.append(facts)
    sids = itertools.count(1)
    start = time.perf_counter()
    for facts in per_case:
        sid = str(next(sids))
        for fact in facts:
            fact = {**fact, "sid": sid}
            try:
                host.assert_fact("floor", fact)
            except MessageNotHandledException:
                pass
        host.delete_state("floor", sid)
    return len(per_case) / (time.perf_counter() - start)


def kundskab_per_second(recommender: Recommender, lines: list[str]) -> float:
    """The code behind `recommend --batch` (one process), on lines held in memory."""
    import io

    from kundskab.batch import read_lines, recommend_blocks

    data = ("\n".join(lines) + "\n").encode()
    start = time.perf_counter()
    count = sum(block.lines for block in recommend_blocks(read_lines(io.BytesIO(data)), recommender=recommender))
    return count / (time.perf_counter() - start)


def batch_per_second(lines: list[str], jobs: int) -> float:
    """`recommend --batch --jobs N` without the terminal: worker start-up included."""
    import io

    from kundskab.batch import read_lines, recommend_blocks

    data = ("\n".join(lines) + "\n").encode()
    start = time.perf_counter()
    count = sum(block.lines for block in recommend_blocks(read_lines(io.BytesIO(data)), jobs=jobs))
    return count / (time.perf_counter() - start)


def latencies(recommender: Recommender, cases: list[dict[str, object]]) -> list[float]:
    out = []
    for case in cases:
        start = time.perf_counter()
        recommender.recommend(case)
        out.append((time.perf_counter() - start) * 1000)
    return out


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7, help="floor and batch runs, in pairs")
    parser.add_argument("--memory-cases", type=int, default=100000)
    args = parser.parse_args()

    kb = load()
    recommender = Recommender(kb)
    factors = sorted(f.id for f in kb.of_type("Factor") if f.id in recommender.rules.factors_read)
    # Every round reasons over cases of its own (the floor and kundskab in a pair share
    # them), so what kundskab's memos keep from one round cannot flatter the next.
    rounds = [[json.dumps(c) for c in make_cases(args.cases, factors, seed=100 + r)] for r in range(args.rounds)]
    kundskab_per_second(recommender, [json.dumps(c) for c in make_cases(500, factors, seed=99)])  # warm up
    floors, ours = [], []
    for lines in rounds:  # pairs back to back, so both see the same machine
        floors.append(floor_per_second(recommender, lines))
        ours.append(kundskab_per_second(recommender, lines))
    in_order = [o / f for o, f in zip(ours, floors, strict=True)]
    ratios = sorted(in_order)
    floor, mine = statistics.median(floors), statistics.median(ours)
    print(f"cases per run, rounds         {args.cases}, {args.rounds}")
    print(f"floor (bare durable-rules)    {floor:10.0f} cases/s  (median)")
    print(f"kundskab batch path           {mine:10.0f} cases/s  (median)")
    print(f"ratio (goal >= 0.5)           {statistics.median(ratios):10.2f}  "
          f"(median of the rounds; lowest {ratios[0]:.2f}, highest {ratios[-1]:.2f})")
    print(f"ratio per round, in order     {' '.join(f'{r:.2f}' for r in in_order)}")
    cases = make_cases(args.cases, factors, seed=7)
    parallel = batch_per_second([json.dumps(c) for c in cases], 2)
    print(f"kundskab batch, --jobs 2      {parallel:10.0f} cases/s  (ratio {parallel / floor:.2f}; "
          f"the floor is one process)")

    lat = sorted(latencies(recommender, cases[:5000]))
    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
    print(f"latency p50 / p99 / max       {pct(50):.3f} / {pct(99):.3f} / {lat[-1]:.3f} ms (goal p99 <= 5)")

    gc.collect()
    memory_cases = make_cases(args.memory_cases, factors, seed=11)
    samples = []
    for i, case in enumerate(memory_cases, 1):
        recommender.recommend(case)
        if i % (args.memory_cases // 10) == 0:
            samples.append(rss_mib())
    print(f"RSS over {args.memory_cases} cases (MiB)   "
          + " ".join(f"{s:.1f}" for s in samples))
    print(f"RSS growth first->last tenth  {samples[-1] - samples[0]:+.1f} MiB")


if __name__ == "__main__":  # the guard also keeps spawned batch workers from re-running it
    main()
