"""The engine against the reference evaluator, case by case, under threads and processes.

`RuleSet.closure` is the plain-Python statement of what the rules mean; the durable-rules
engine must conclude exactly the same for every case: the same tier, the same conclusions
of every kind, the same rules fired, and only premises that the case's facts make true.
The cases are random (seeded): unknown ages, ages beyond every bound, factors that are
true, false or unknown, factors that no rule reads. The checks run with very frequent
thread switches (`sys.setswitchinterval`), in several threads at once (one engine shared
by all, and one engine per thread), through the `Recommender` as well, and in several
processes. Used by tests/test_engine_differential.py (short) and
benchmarks/bench_engine_differential.py (long).
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kundskab.errors import CaseError
from kundskab.reasoning.cases import MAX_AGE, parse_case
from kundskab.reasoning.engine import RulesEngine
from kundskab.reasoning.rules import Facts, RuleSet

__all__ = ["Tally", "compare", "make_facts", "run_all"]


def make_facts(count: int, factors: list[str], seed: int) -> list[Facts]:
    """Random cases: about one in six without an age, some with ages beyond any rule's
    bounds, up to eight factors each true, false or unknown (unknown: not in the facts)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        roll = rng.random()
        age = None if roll < 0.16 else rng.randint(0, 120) if roll < 0.3 else rng.randint(0, 40)
        true, false = set(), set()
        for name in rng.sample(factors, rng.randint(0, 8)):
            answer = rng.choice((True, True, False, None))
            if answer is True:
                true.add(name)
            elif answer is False:
                false.add(name)
        out.append(Facts(age, frozenset(true), frozenset(false)))
    return out


def _premise_holds(premise: str, facts: Facts, tier_rank: int, ranks: dict[str, int],
                   concluded: dict[str, set[str]]) -> bool:
    kind, _, value = premise.partition(":")
    if kind == "case":
        return True
    if kind == "age":
        return facts.age is not None and value == str(facts.age)
    if kind == "factor":
        name, _, answer = value.partition("=")
        return name in (facts.true if answer == "true" else facts.false)
    if kind == "tier":
        return value in ranks and ranks[value] <= tier_rank
    return value in concluded.get(kind.replace("-", "_"), set())


def compare(engine: RulesEngine, rules: RuleSet, facts: Facts) -> str | None:
    """None if the engine and the reference evaluator agree on the case, else what differs
    (without the case's values: only rule ids and kinds of conclusion)."""
    derivation = engine.run(facts)
    state, fired = rules.closure(facts)
    if derivation.tier != state.tier or derivation.tier_rank != state.tier_rank:
        return "tier differs"
    ours = {k: v for k, v in derivation.conclusions.items() if v}
    theirs = {k: v for k, v in state.derived.items() if v}
    if ours != theirs:
        return "conclusions differ: " + ", ".join(sorted(set(ours) ^ set(theirs) | {
            k for k in set(ours) & set(theirs) if ours[k] != theirs[k]}))
    if derivation.fired != {rule.id for rule, _ in fired}:
        return "fired rules differ: " + ", ".join(sorted(derivation.fired ^ {rule.id for rule, _ in fired}))
    for firing in derivation.firings:
        if len(firing.premises) != len(firing.rule.conditions):
            return f"firing of {firing.rule.id} has {len(firing.premises)} premises"
        for premise in firing.premises:
            if not _premise_holds(premise, facts, state.tier_rank, rules.tier_ranks, state.derived):
                return f"firing of {firing.rule.id} has a premise the case does not make true"
    return None


def compare_recommendation(recommender: Any, rules: RuleSet, facts: Facts) -> str | None:
    """The tier, fora and target groups of a whole recommendation against the reference."""
    case = {"age": facts.age, "factors": {**{f: True for f in facts.true}, **{f: False for f in facts.false}}}
    try:
        parsed = parse_case(case, rules.kb)
        answer = recommender.recommend(parsed)
    except CaseError:
        return None  # contradictory answers (e.g. a gang leaver who is not a gang member) are refused
    # The rules see the case's facts with what they imply either way (a denied offence
    # denies a release); the answer's fora then leave out what the knowledge base rules out
    # beside the rules: a forum another takes over (ks:takesOver) or whose own factor the case
    # denies (ks:notForCaseDenying), mediation where honour or
    # violence in the family is at stake or a gang is party, and (the case names no place) a
    # forum for the residents of its own estates.
    state, _ = rules.closure(parsed.facts)
    true = parsed.facts.true
    fora = set(state.derived.get("forum", ()))
    groups = state.derived.get("age_group", set()) | state.derived.get("target_group", set())
    takes_over = {f.id: set(f.ref("takesOver")) for f in rules.kb.of_type("Forum")}
    if facts.age is None:
        # The age unknown: what the rules give at every age the case's age group and true
        # factors allow (ks:minAge/ks:maxAge), tried age by age, is the answer's too.
        bounded = [*true, *([parsed.age_group] if parsed.age_group else [])]
        lows = [rules.kb.get(f).int_value("minAge") for f in bounded]
        highs = [rules.kb.get(f).int_value("maxAge") for f in bounded]
        youngest = max((v for v in lows if v is not None), default=0)
        oldest = min((v for v in highs if v is not None), default=MAX_AGE)
        if youngest > 0 or oldest < MAX_AGE:
            every_fora: set[str] | None = None
            every_groups: set[str] = set()
            for age in range(youngest, oldest + 1):
                at, _ = rules.closure(Facts(age, parsed.facts.true, parsed.facts.false))
                found = set(at.derived.get("forum", ()))
                found_groups = at.derived.get("age_group", set()) | at.derived.get("target_group", set())
                every_fora = found if every_fora is None else every_fora & found
                every_groups = set(found_groups) if age == youngest else every_groups & found_groups
            fora |= every_fora or set()
            groups = groups | every_groups
        # ... and not what a forum of every allowed age takes over there (PSP, where SSP has
        # the case at every age of a pupil).
        youngest = max((v for v in lows if v is not None), default=0)
        oldest = min((v for v in highs if v is not None), default=MAX_AGE)
        taken_everywhere: set[str] | None = None
        for age in range(youngest, oldest + 1):
            at, _ = rules.closure(Facts(age, parsed.facts.true, parsed.facts.false))
            taken = {o for f in at.derived.get("forum", ()) for o in takes_over.get(f, ())}
            taken_everywhere = taken if taken_everywhere is None else taken_everywhere & taken
            if not taken_everywhere:
                break
        fora -= taken_everywhere or set()
    fora -= {o for f in fora for o in takes_over.get(f, ())}
    # ... nor a forum whose own factor the case gives false (ks:notForCaseDenying).
    fora -= {f for f in fora if set(rules.kb.get(f).ref("notForCaseDenying")) & parsed.facts.false}
    fora -= {f for f in fora if rules.kb.get(f).ref("municipality")
             and "residents-of-vulnerable-areas" in rules.kb.get(f).ref("targetGroup")}
    if {"honour-related-conflict", "child-abuse-suspected", "gang-member"} & true:
        fora.discard("conflict-council")
    if answer.tier != (state.tier or "general"):
        return "recommendation: tier differs"
    if answer.fora != sorted(fora):
        return "recommendation: fora differ"
    if answer.target_groups != sorted(groups):
        return "recommendation: target groups differ"
    return None


@dataclass
class Tally:
    compared: int = 0
    mismatches: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.compared += other.compared
        self.mismatches += other.mismatches


@contextmanager
def frequent_switches(interval: float = 1e-6) -> Iterator[None]:
    """Threads switch every microsecond instead of every 5 ms: races show up at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _check(check: Callable[[Facts], str | None], cases: list[Facts]) -> Tally:
    tally = Tally()
    for facts in cases:
        try:
            problem = check(facts)
        except Exception as exc:  # an engine error is a mismatch too, not a crash of the run
            problem = f"{type(exc).__name__}: {exc}"
        tally.compared += 1
        if problem:
            tally.mismatches.append(problem)
    return tally


def run_threads(rules: RuleSet, recommender: Any, cases: list[Facts], threads: int) -> Tally:
    """Each thread checks every case: half the threads share one engine, the others have
    one each, and one thread goes through the shared recommender."""
    shared = RulesEngine(rules)
    results: list[Tally] = [Tally() for _ in range(threads + 1)]

    def work(index: int) -> None:
        if index == threads:
            results[index] = _check(lambda f: compare_recommendation(recommender, rules, f), cases)
            return
        engine = shared if index % 2 == 0 else RulesEngine(rules)
        results[index] = _check(lambda f: compare(engine, rules, f), cases)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads + 1)]
    with frequent_switches():
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    total = Tally()
    for result in results:
        total.add(result)
    return total


def _process(args: tuple[int, int, int, int]) -> Tally:
    """One process: its own knowledge base, rules and engines, several threads."""
    count, seed, threads, _ = args
    from kundskab import load
    from kundskab.reasoning.recommendation import Recommender

    kb = load()
    rules = RuleSet.load(kb)
    recommender = Recommender(kb, rules)
    factors = sorted(f.id for f in kb.of_type("Factor"))
    return run_threads(rules, recommender, make_facts(count, factors, seed), threads)


def run_all(rules: RuleSet, recommender: Any, *, cases: int, threads: int, processes: int,
            seed: int = 1) -> Tally:
    """Threads in this process and `processes` more processes (spawned), each on cases of
    its own; every engine answer compared with the reference evaluator."""
    factors = sorted(f.id for f in rules.kb.of_type("Factor"))
    total = Tally()
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) if processes else _NoPool() as pool:
        pending = [pool.apply_async(_process, ((cases, seed + 1 + p, threads, p),)) for p in range(processes)]
        total.add(run_threads(rules, recommender, make_facts(cases, factors, seed), threads))
        for job in pending:
            total.add(job.get())
    return total


class _NoPool:
    def __enter__(self) -> _NoPool:
        return self

    def __exit__(self, *_: object) -> None:
        return None
