"""Portfolio speed: 1,000 initiative documents analysed in at most 10 s on one core.

    python benchmarks/bench_portfolio.py [--documents 1000] [--rounds 3]

Writes a folder of Vestegn and Sikker By documents (Markdown and YAML, one in ten invalid)
to a temporary directory and runs `kundskab.portfolio(folder)` on it (reading, validating
with pySHACL, the analysis) in this one process, after one warm-up run on a small folder
(the knowledge base and rules loaded). Prints the best and median of the rounds and the
load average (the machine is shared: say how loaded it was).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kundskab import load, portfolio

GOAL_SECONDS = 10.0
GROUPS = ["school-age-youth", "young-adults", "gang-proximate-youth", "at-risk-youth",
          "residents-of-vulnerable-areas"]
FACTORS = ["gang-proximity", "truancy", "family-problems", "street-group", "substance-abuse"]


def document(n: int, rng: random.Random) -> tuple[str, str]:
    tier = rng.choice(["general", "specific", "individual"])
    # A group whose lowest tier is specific (gang-proximate, at-risk) never with general.
    groups = rng.sample(GROUPS[:2] + GROUPS[4:] if tier == "general" else GROUPS, 2)
    factors = rng.sample(FACTORS, rng.randint(0, 2))
    if n % 10 == 9:  # invalid: no title
        return f"d{n:04d}.md", f"---\nprogramme: vestegn-2013\ntier: {tier}\n---\n"
    if n % 2:
        return f"d{n:04d}.yaml", (
            f"title: Initiativ {n}\nprogramme: vestegn-2013\ntier: {tier}\n"
            f"target_groups: [{', '.join(groups)}]\nrisk_factors: [{', '.join(factors)}]\n"
            f"actors: [{rng.choice(['police', 'municipality'])}]\n"
            "goals: [Færre unge i bander]\nindicators: [Antal unge]\nsuccess_criteria: [20 unge]\n")
    return f"d{n:04d}.md", (
        f"---\ntitle: Indsats {n}\nprogramme: sikker-by-2018\ntier: {tier}\n"
        f"target_groups: [{', '.join(groups)}]\nrisk_factors: [{', '.join(factors)}]\n"
        "principles:\n  collaboration: Skole og SSP arbejder sammen.\n"
        "  youth-at-risk: De unge i risiko mødes.\n  local-areas: I de utrygge bydele.\n"
        "effect_follow_up: yearly\n---\nTekst.\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(22)
    kb = load()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for n in range(args.documents):
            name, text = document(n, rng)
            (folder / name).write_text(text, encoding="utf-8")
        warm = Path(tmp) / "warm"
        warm.mkdir()
        (warm / "a.md").write_text(document(0, rng)[1], encoding="utf-8")
        portfolio(warm, kb=kb)
        times, walls = [], []
        for _ in range(args.rounds):
            started, wall = time.process_time(), time.perf_counter()
            report = portfolio(folder, kb=kb)
            times.append(time.process_time() - started)
            walls.append(time.perf_counter() - wall)
    load1, load5, _ = os.getloadavg()
    best, median = min(times), statistics.median(times)
    print(f"{args.documents} documents ({len(report.initiatives)} analysed, {len(report.invalid)} invalid): "
          f"best {best:.2f} s, median {median:.2f} s of CPU time on one core (wall clock: best "
          f"{min(walls):.2f} s, median {statistics.median(walls):.2f} s); goal ≤ {GOAL_SECONDS:g} s; "
          f"load average {load1:.1f} / {load5:.1f}")
    return 0 if best <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
