"""What-if questions: would a case's answer change if an unknown factor were known?

The rules (kundskab.reasoning.rules) are compiled here into bit masks, one bit per factor and per
conclusion, so that asking what an answer would change costs a few integer operations per
rule instead of a run of the engine. The rules are monotone: a new true (or false) factor
can only add conclusions, so only the rules that read the factor can start a change, and a
rule that has already fired for the case adds nothing new. The recommender
(kundskab.reasoning.recommendation) builds one `WhatIf` per rule set and asks it for the open
questions; `RuleSet.closure` stays the reference semantics, and tests check that the two
agree.

Results that many cases share (what the chaining rules add, what a multi-condition rule's
missing factor would add) are kept in bounded memos whose keys hold bit masks, ranks and
age bands, never a case's reference.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from itertools import repeat
from typing import Any, NamedTuple, TypeVar

from kundskab._memo import BoundedMemo
from kundskab.reasoning.cases import AgeBands
from kundskab.reasoning.rules import Facts, RuleSet, State

__all__ = ["CompiledRule", "WhatIf", "single_bits"]

V = TypeVar("V")


class CompiledRule(NamedTuple):
    """A rule as bit masks, for the what-if questions: it holds when the age is within
    [lo, hi], every one of `any_masks` meets a true factor, every bit of `false_mask` is a
    false factor, every one of `derived_masks` meets a conclusion and the tier rank is at
    least `min_rank`; it then concludes `out_bits` and tier rank `out_rank`."""

    id: str
    lo: int | None
    hi: int | None
    any_masks: tuple[int, ...]
    false_mask: int
    derived_masks: tuple[int, ...]
    min_rank: int
    out_bits: int
    out_rank: int

    @property
    def simple(self) -> bool:
        """One factor condition and nothing else that a what-if must check."""
        return len(self.any_masks) == 1 and not self.false_mask and not self.derived_masks and not self.min_rank


class WhatIf:
    """The rules of a `RuleSet` as bit masks, answering what-if questions about a case.

    `factor_bit` and `derived_bit` give each factor and each conclusion (kind, id) its bit;
    `read_bits` and `read_false_bits` are the factors some rule reads (true, or false)."""

    def __init__(self, rules: RuleSet) -> None:
        # Case factors, plus the initiative facts that rules about initiatives read.
        factors = sorted({f.id for f in rules.kb.of_type("Factor")}
                         | {i for r in rules for c in r.conditions
                            if c.kind in ("factor", "any_factor", "factor_false") for i in c.ids})
        self.factor_bit = {f: 1 << i for i, f in enumerate(factors)}
        self.factor_by_bit = {b: f for f, b in self.factor_bit.items()}
        derived = sorted({c for r in rules for c in r.conclusions})
        self.derived_bit = {d: 1 << i for i, d in enumerate(derived)}
        compiled = []
        for rule in rules:
            lo = hi = None
            any_masks: list[int] = []
            false_mask = 0
            derived_masks: list[int] = []
            min_rank = 0
            for c in rule.conditions:
                if c.kind == "age":
                    lo, hi = c.min_age, c.max_age
                    if lo is None:
                        lo = 0
                    if hi is None:
                        hi = 1 << 30
                elif c.kind in ("factor", "any_factor"):
                    any_masks.append(sum(self.factor_bit[i] for i in c.ids))
                elif c.kind == "factor_false":
                    false_mask |= self.factor_bit[c.ids[0]]
                elif c.kind == "derived":
                    derived_masks.append(sum(self.derived_bit.get((c.derived_kind or "", i), 0)
                                             for i in c.ids))
                elif c.kind == "tier_at_least":
                    min_rank = c.rank or 0
            out_bits = sum(self.derived_bit[c] for c in rule.conclusions)
            out_rank = max((rules.tier_ranks[i] for k, i in rule.conclusions if k == "tier"), default=0)
            compiled.append(CompiledRule(rule.id, lo, hi, tuple(any_masks), false_mask, tuple(derived_masks),
                                         min_rank, out_bits, out_rank))
        self._compiled = compiled
        self.out_bits = {entry.id: entry.out_bits for entry in compiled}  # what each rule concludes
        # Rules whose age condition can hold, per age band: a case only looks at its band.
        self._bands = AgeBands({e.lo for e in compiled if e.lo is not None}
                               | {e.hi + 1 for e in compiled if e.hi is not None})
        self.age_bands = self._bands  # read by the answer for an unknown age (fora by age)
        self._compiled_by_band = [
            [e for e in compiled if e.lo is None or (e.lo <= age <= e.hi)]  # type: ignore[operator]
            for age in map(self._bands.first_age, range(len(self._bands)))
        ]
        self._compiled_no_age = [e for e in compiled if e.lo is None]

        def split(entries: list[CompiledRule]) -> tuple[list[CompiledRule], list[CompiledRule]]:
            simple = [e for e in entries if e.simple]
            return simple, [e for e in entries if e not in simple]

        self._simple_by_band = [split(band) for band in self._compiled_by_band]
        self._simple_no_age = split(self._compiled_no_age)

        def effects(simple: list[CompiledRule]) -> list[tuple[int, int, int]]:
            # (bit, derived bits, tier rank): what a factor adds through the simple rules
            # of a band. A simple rule that has already fired adds nothing new, so no case
            # needs to exclude it.
            table: dict[int, tuple[int, int]] = {}
            for entry in simple:
                for bit in single_bits(entry.any_masks[0]):
                    out_bits, out_rank = table.get(bit, (0, 0))
                    table[bit] = (out_bits | entry.out_bits, max(out_rank, entry.out_rank))
            return [(bit, *table[bit]) for bit in sorted(table)]

        self._simple_effects_by_band = [effects(simple) for simple, _ in self._simple_by_band]
        self._simple_effects_no_age = effects(self._simple_no_age[0])
        self._chain_rules = [e for e in compiled if e.derived_masks or e.min_rank]
        # What the chaining rules can see; anything else cannot change their outcome.
        self._chain_read_mask = 0
        self._chain_factor_mask = 0
        self._chain_false_mask = 0
        for e in self._chain_rules:
            for mask in e.derived_masks:
                self._chain_read_mask |= mask
            for mask in e.any_masks:
                self._chain_factor_mask |= mask
            self._chain_false_mask |= e.false_mask
        self._chain_memo = BoundedMemo("whatif.chain")  # chaining outcomes by what chaining rules see
        # What the rules with more than one condition read: all their what-ifs depend on.
        multi = [e for e in compiled if not e.simple]
        self._multi_ids = frozenset(e.id for e in multi)
        self._multi_factor_mask = 0
        self._multi_false_mask = 0
        for e in multi:
            for mask in e.any_masks:
                self._multi_factor_mask |= mask
            self._multi_false_mask |= e.false_mask
        self._trigger_memo = BoundedMemo("whatif.triggers")  # trigger effects by all they depend on
        self._per_simple_effects = BoundedMemo("whatif.simple_effects")  # what callers make of the simple effects
        self._chain_ids = frozenset(e.id for e in self._chain_rules)
        self._compiled_reading_bit: dict[int, list[CompiledRule]] = {}
        for entry in compiled:
            rule = rules.by_id[entry.id]
            for condition in rule.conditions:
                for name in condition.reads():
                    if name.startswith("factor:"):
                        bucket = self._compiled_reading_bit.setdefault(self.factor_bit[name[7:]], [])
                        if entry not in bucket:
                            bucket.append(entry)
        # The factors rules read (true or false), as bits.
        self.read_bits = sum(self.factor_bit[f] for f in rules.factors_read)
        self.read_false_bits = sum(self.factor_bit[f] for f in rules.factors_read_false)

    @staticmethod
    def _holds(entry: CompiledRule, age: int | None, true_bits: int, false_bits: int,
               derived_bits: int, rank: int) -> bool:
        _, lo, hi, any_masks, false_mask, derived_masks, min_rank, _, _ = entry
        if lo is not None and (age is None or age < lo or age > hi):  # type: ignore[operator]  # hi set with lo
            return False
        if rank < min_rank or false_mask & ~false_bits:
            return False
        for mask in any_masks:
            if not mask & true_bits:
                return False
        for mask in derived_masks:
            if not mask & derived_bits:
                return False
        return True

    def _chain(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int, rank: int,
               fired: frozenset[str]) -> tuple[int, int]:
        """Fire the rules that read conclusions until nothing changes. What they can see is
        small (age, a few bits, the tier), so results are kept by that view."""
        key = (age, true_bits & self._chain_factor_mask, false_bits & self._chain_false_mask,
               derived_bits & self._chain_read_mask, rank, fired)
        found = self._chain_memo.get(key)
        if found is None:
            new_rank, new_bits = rank, derived_bits & self._chain_read_mask
            done = set(fired)
            changed = True
            while changed:
                changed = False
                for entry in self._chain_rules:
                    if entry.id in done or not self._holds(entry, age, true_bits, false_bits, new_bits, new_rank):
                        continue
                    done.add(entry.id)
                    if entry.out_bits & ~new_bits or entry.out_rank > new_rank:
                        new_bits |= entry.out_bits
                        new_rank = max(new_rank, entry.out_rank)
                        changed = True
            found = (new_rank, new_bits & ~(derived_bits & self._chain_read_mask))
            self._chain_memo.keep(key, found)
        return found[0], derived_bits | found[1]

    def bits_of(self, state: State) -> tuple[int, int, int]:
        return self.bits(state.facts, state.derived)

    def bits(self, facts: Facts, derived: Mapping[str, Iterable[str]]) -> tuple[int, int, int]:
        """(true factor bits, false factor bits, derived bits) of facts and conclusions."""
        derived_bit = self.derived_bit
        derived_bits = sum(derived_bit.get((k, i), 0) for k, ids in derived.items() for i in ids)
        return (*self.factor_bits(facts), derived_bits)

    def factor_bits(self, facts: Facts) -> tuple[int, int]:
        """(true factor bits, false factor bits) of a case's facts."""
        get = self.factor_bit.get  # summed in C (map over the dict's get), once per case
        return sum(map(get, facts.true, repeat(0))), sum(map(get, facts.false, repeat(0)))

    def concluded_bits(self, fired: Iterable[str]) -> int:
        """The derived bits of what the rules `fired` concluded (all of a case's conclusions
        when they are all the rules that fired for it)."""
        bits = 0
        for rule_id in fired:
            bits |= self.out_bits[rule_id]
        return bits

    def what_if(self, state: State, factor: str, value: bool,
                fired: Collection[str] = frozenset(),
                bits: tuple[int, int, int] | None = None) -> tuple[int, int]:
        """(tier rank, derived bits) if an unknown `factor` were known. Rules are monotone,
        so only rules reading the factor can start a change, and a rule in `fired` (already
        fired for the case) can add nothing new."""
        true_bits, false_bits, derived_bits = bits or self.bits_of(state)
        return self.what_if_bit(state.facts.age, true_bits, false_bits, derived_bits, state.tier_rank,
                                self.factor_bit[factor], value, fired)

    def what_if_bit(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int, rank: int,
                    bit: int, value: bool, fired: Collection[str]) -> tuple[int, int]:
        """`what_if` over bit masks: the factor is given by its bit."""
        if value:
            true_bits |= bit
        else:
            false_bits |= bit
        holds = self._holds
        changed = False
        for entry in self._compiled_reading_bit.get(bit, ()):
            if (entry.id not in fired and holds(entry, age, true_bits, false_bits, derived_bits, rank)
                    and (entry.out_bits & ~derived_bits or entry.out_rank > rank)):
                derived_bits |= entry.out_bits
                rank = max(rank, entry.out_rank)
                changed = True
        if changed:  # only rules that read conclusions can follow from new conclusions
            rank, derived_bits = self._chain(age, true_bits, false_bits, derived_bits, rank,
                                             self._chain_ids.intersection(fired))
        return rank, derived_bits

    def effects_of_unknowns(self, state: State, unknown: Iterable[str],
                            fired: Collection[str] = frozenset(),
                            bits: tuple[int, int, int] | None = None) -> dict[str, tuple[int, int]]:
        """For each unknown factor that would change something if it were true: the tier
        rank and derived bits that would follow. Equivalent to `what_if(..., True)` for
        every factor, in one pass over the rules instead of one per factor."""
        true_bits, false_bits, derived_bits = bits or self.bits_of(state)
        unknown_bits = 0
        for factor in unknown:
            unknown_bits |= self.factor_bit.get(factor, 0)
        found = self.effects_of_unknown_bits(state.facts.age, true_bits, false_bits, derived_bits,
                                             state.tier_rank, unknown_bits, fired)
        return {self.factor_by_bit[bit]: effect for bit, effect in found.items()}

    def effects_of_unknown_bits(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int,
                                rank: int, unknown_bits: int, fired: Collection[str]) -> dict[int, tuple[int, int]]:
        """`effects_of_unknowns` over bit masks, keyed by the factor's bit."""
        result = dict(self.trigger_effects(age, true_bits, false_bits, derived_bits, rank, unknown_bits, fired))
        for bit, effect in self.simple_effects(age, true_bits, false_bits, derived_bits, rank, fired):
            if bit & unknown_bits and bit not in result:
                result[bit] = effect
        return result

    def per_simple_effects(self, extra: Any, age: int | None, true_bits: int, false_bits: int, derived_bits: int,
                           rank: int, fired: Collection[str], build: Callable[..., V], *args: Any) -> V:
        """`build(simple_effects(...), *args)`, kept per all the simple effects depend on and
        `extra` (what else `build` reads, such as a language): cases alike in it share one
        value. `build` must depend on nothing else (`args` being fixed by the key)."""
        # All that `simple_effects` depends on: cases alike in it get the same effects.
        key = (extra, self._bands.band(age), derived_bits, rank,
               true_bits & self._chain_factor_mask, false_bits & self._chain_false_mask,
               self._chain_ids.intersection(fired))
        found = self._per_simple_effects.get(key)
        if found is None:
            found = self._per_simple_effects.make(
                key, _built, build, self.simple_effects(age, true_bits, false_bits, derived_bits, rank, fired), args)
        return found  # type: ignore[no-any-return]

    def simple_effects(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int,
                       rank: int, fired: Collection[str]) -> list[tuple[int, tuple[int, int]]]:
        """(factor bit, (tier rank, derived bits)) for each factor that, set true, would
        change something through the rules with one factor condition (and any rules that
        chain on from them), whether or not the case knows the factor."""
        table = self._simple_effects_no_age if age is None else self._simple_effects_by_band[self._bands.band(age)]
        result: list[tuple[int, tuple[int, int]]] = []
        chain_read, chain_factors = self._chain_read_mask, self._chain_factor_mask
        chain_fired = self._chain_ids.intersection(fired)
        chained: dict[tuple[int, int, int], tuple[int, int]] = {}  # many answers chain alike
        for bit, out_bits, out_rank in table:
            new_bits = derived_bits | out_bits
            new_rank = out_rank if out_rank > rank else rank
            if new_rank != rank or (new_bits ^ derived_bits) & chain_read:
                key = (bit & chain_factors, new_bits, new_rank)
                found = chained.get(key)
                if found is None:
                    found = chained[key] = self._chain(age, true_bits | bit, false_bits, new_bits, new_rank,
                                                       chain_fired)
                result.append((bit, found))
            elif new_bits != derived_bits:
                result.append((bit, (new_rank, new_bits)))
        return result

    def trigger_effects(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int,
                        rank: int, unknown_bits: int, fired: Collection[str]) -> dict[int, tuple[int, int]]:
        """Effects of the unknown factors that would fire a rule with more than one
        condition (every other condition holding already), with the simple rules' effect of
        the same factor included. Do not change the result: it may be shared."""
        band = self._bands.band(age)
        multi = self._multi_factor_mask
        # Everything the result depends on; the chaining it may do reads less than this.
        key = (band, derived_bits, rank, true_bits & (multi | self._chain_factor_mask),
               false_bits & (self._multi_false_mask | self._chain_false_mask), unknown_bits & multi,
               self._multi_ids.intersection(fired))
        found = self._trigger_memo.get(key)
        if found is None:
            found = self._trigger_effects(age, true_bits, false_bits, derived_bits, rank, unknown_bits, fired)
            self._trigger_memo.keep(key, found)
        return found

    def _trigger_effects(self, age: int | None, true_bits: int, false_bits: int, derived_bits: int,
                         rank: int, unknown_bits: int, fired: Collection[str]) -> dict[int, tuple[int, int]]:
        if age is None:
            table, other = self._simple_effects_no_age, self._simple_no_age[1]
        else:
            band = self._bands.band(age)
            table, other = self._simple_effects_by_band[band], self._simple_by_band[band][1]
        triggers: dict[int, list[CompiledRule]] = {}
        for entry in other:
            _, _, _, any_masks, false_mask, derived_masks, min_rank, out_bits, out_rank = entry
            if entry.id in fired or not (out_bits & ~derived_bits or out_rank > rank):
                continue
            if rank < min_rank or false_mask & ~false_bits:
                continue
            if any(not m & derived_bits for m in derived_masks):
                continue
            missing = 0
            count = 0
            for m in any_masks:
                if not m & true_bits:
                    missing = m
                    count += 1
            if count != 1:
                continue  # holds already, or needs two new facts: one answer cannot fire it
            for bit in single_bits(missing & unknown_bits):
                triggers.setdefault(bit, []).append(entry)
        result: dict[int, tuple[int, int]] = {}
        if not triggers:
            return result
        chain_ids = self._chain_ids
        chain_fired = chain_ids.intersection(fired)
        simple_effects = {bit: (out_bits, out_rank) for bit, out_bits, out_rank in table}
        for bit, entries in triggers.items():
            new_bits, new_rank = simple_effects.get(bit, (0, 0))
            new_bits |= derived_bits
            new_rank = max(new_rank, rank)
            for entry in entries:
                new_bits |= entry.out_bits
                new_rank = max(new_rank, entry.out_rank)
            if new_rank != rank or (new_bits ^ derived_bits) & self._chain_read_mask:
                also = chain_fired.union(e.id for e in entries if e.id in chain_ids)
                new_rank, new_bits = self._chain(age, true_bits | bit, false_bits, new_bits, new_rank, also)
            if new_bits != derived_bits or new_rank != rank:
                result[bit] = (new_rank, new_bits)
        return result


def _built(build: Callable[..., V], effects: list[tuple[int, tuple[int, int]]], args: tuple[Any, ...]) -> V:
    return build(effects, *args)


def single_bits(mask: int) -> Iterator[int]:
    """The single bits of a mask, lowest first."""
    while mask:
        bit = mask & -mask
        yield bit
        mask ^= bit
