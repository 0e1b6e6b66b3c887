"""`RuleSet`: the rules of the rule files that apply to cases or to initiatives, checked
against the knowledge base, with the intervention ranking; loaded from the cache when it
holds them, else parsed from YAML."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kundskab import _paths
from kundskab._paths import read_cache_json, write_cache_json
from kundskab.errors import RuleError
from kundskab.i18n import N_
from kundskab.knowledge.base import KnowledgeBase, tier_ranks
from kundskab.reasoning.rules.ages import age_group_rules
from kundskab.reasoning.rules.cache import (
    RULES_CACHE_FORMAT,
    cache_key,
    code_files,
    from_cache,
    to_cache,
)
from kundskab.reasoning.rules.evaluator import State, closure
from kundskab.reasoning.rules.loading import (
    APPLIES_TO,
    check_replaces,
    parse_files,
    read_rule_file,
)
from kundskab.reasoning.rules.records import Facts, Ranking, Rule


class RuleSet:
    """All rules, checked against the knowledge base, plus the intervention ranking."""

    def __init__(self, kb: KnowledgeBase, rules: list[Rule], ranking: Ranking | None = None,
                 *, applies_to: str = "cases") -> None:
        self.kb = kb
        self.rules = rules
        self._ranking = ranking
        self.applies_to = applies_to
        self.by_id = {r.id: r for r in rules}
        self.tier_ranks = tier_ranks(kb)
        self.tier_by_rank = {rank: ident for ident, rank in self.tier_ranks.items()}
        # The factors some rule reads: only their unknowns can be open questions.
        self.factors_read = sorted(
            {n[len("factor:"):] for r in rules for c in r.conditions for n in c.reads() if n.startswith("factor:")}
        )
        self.factors_read_false = {
            c.ids[0] for r in rules for c in r.conditions if c.kind == "factor_false"
        }
        self.consumed_kinds = {
            c.derived_kind or "tier"
            for r in rules for c in r.conditions if c.kind in ("derived", "tier_at_least")
        }

    @property
    def ranking(self) -> Ranking:
        """How interventions are scored; only the rules about cases have a ranking."""
        if self._ranking is None:
            raise RuleError(N_("the rules about {applies_to} have no 'ranking' section"), applies_to=self.applies_to)
        return self._ranking

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, kb: KnowledgeBase, directory: Path | str | None = None, *,
             applies_to: str = "cases", use_cache: bool = True) -> RuleSet:
        """The rules of every file in `directory` that applies to `applies_to`: "cases"
        (the default: files without `applies_to`) or "initiatives" (principle support).

        The checked rules are kept in the cache directory, keyed by the rule files, the
        knowledge base and the rules code (every module of this package), so that a start
        reads no YAML; without `use_cache` (and whenever the cache misses) the YAML is
        parsed and every problem is reported with its file and line."""
        if applies_to not in APPLIES_TO:
            raise RuleError(N_("rules apply to {items}, not '{applies_to}'"), items=" or ".join(APPLIES_TO),
                            applies_to=applies_to)
        directory = Path(directory) if directory else _paths.rules_dir()
        files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
        if not files:
            raise RuleError(N_("no rule files (*.yaml)"), str(directory))
        initiatives = applies_to == "initiatives"
        generated: list[Rule] = [] if initiatives else list(age_group_rules(kb))
        read: list[list[tuple[Path, bytes]]] = []  # the rule files' content, once read

        def sources() -> list[tuple[Path, bytes]]:
            if not read:
                read.append([(path, read_rule_file(path)) for path in files])
            return read[0]

        cache_path: Path | None = None
        if use_cache and kb.fingerprint:  # a knowledge base without one cannot key a cache
            # Unchanged rule files (and code) are known by their signature: no file is read.
            key = _paths.content_key(f"rules-{applies_to}", [*code_files(), *files],
                                     lambda: cache_key(kb, applies_to, sources()),
                                     extra=f"{RULES_CACHE_FORMAT}\0{kb.fingerprint}")
            cache_path = _paths.cache_dir() / f"rules-{key[:32]}.json"
            cached = from_cache(kb, read_cache_json(cache_path), applies_to, generated)
            if cached is not None:
                return cls(kb, [*generated, *cached[0]], cached[1], applies_to=applies_to)
        parsed, ranking = parse_files(kb, sources(), applies_to)
        rules = [*generated, *parsed]
        seen: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in seen:
                raise RuleError(N_("duplicate rule id '{id}' (first at {first_file}:{first_line})"),
                                rule.file, rule.line, id=rule.id, first_file=seen[rule.id].file,
                                first_line=seen[rule.id].line)
            seen[rule.id] = rule
        check_replaces(rules)
        if ranking is None and not initiatives:
            raise RuleError(N_("no 'ranking' section in any rule file"), str(directory))
        if initiatives and not rules:
            raise RuleError(N_("no rules with 'applies_to: initiatives'"), str(directory))
        if cache_path is not None:
            write_cache_json(cache_path, to_cache(applies_to, parsed, ranking))
        return cls(kb, rules, ranking, applies_to=applies_to)

    # ------------------------------------------------------------------ evaluation

    def closure(self, facts: Facts) -> tuple[State, list[tuple[Rule, list[str]]]]:
        """Fire rules until nothing new follows; the state and each firing's premises
        (the reference evaluator: kundskab.reasoning.rules.evaluator)."""
        return closure(self, facts)
