"""Rules as data: the YAML files in rules/, checked against the knowledge base, cached,
and evaluated by a reference evaluator.

A rule has an id, conditions over case facts and ontology concepts (`when`), conclusions
(`then`), a rationale in Danish and English (`because`) and a source. Conditions name
concepts by id or label; `domain:` uses the class hierarchy, so a rule about a family risk
factor matches every factor in that domain. Loading checks every name against the
knowledge base and reports problems with file and line.

- `records`: `Facts`, `Condition`, `Rule`, `Ranking`
- `evaluator`: `State` and `closure`, the reference semantics (`RuleSet.closure`)
- `loading`: the rule files' language, read from YAML and checked
- `cache`: the checked rules as JSON in the cache directory
- `ages`: the rules made from the ontology's age groups
- `ruleset`: `RuleSet`, which puts them together
"""

from kundskab.knowledge.base import tier_ranks
from kundskab.knowledge.factors import implied_factors, implying_factors
from kundskab.reasoning.rules.cache import RULES_CACHE_FORMAT
from kundskab.reasoning.rules.evaluator import State
from kundskab.reasoning.rules.loading import (
    APPLIES_TO,
    CONCLUSION_KINDS,
    CONDITION_KEYS,
    FILE_KEYS,
    INITIATIVE_CONCLUSION_KINDS,
    INITIATIVE_CONDITION_KEYS,
    INITIATIVE_FACT_WORDS,
    INITIATIVE_FACTS,
    MAX_RULE_FILE_BYTES,
    PLURAL_CONCLUSIONS,
    RANKING_WEIGHTS,
    RULE_KEYS,
    SOURCE_PATTERN,
    initiative_fact,
)
from kundskab.reasoning.rules.records import Condition, Facts, Ranking, Rule
from kundskab.reasoning.rules.ruleset import RuleSet

__all__ = [
    "APPLIES_TO",
    "CONCLUSION_KINDS",
    "CONDITION_KEYS",
    "FILE_KEYS",
    "INITIATIVE_CONCLUSION_KINDS",
    "INITIATIVE_CONDITION_KEYS",
    "INITIATIVE_FACTS",
    "INITIATIVE_FACT_WORDS",
    "MAX_RULE_FILE_BYTES",
    "PLURAL_CONCLUSIONS",
    "RANKING_WEIGHTS",
    "RULES_CACHE_FORMAT",
    "RULE_KEYS",
    "SOURCE_PATTERN",
    "Condition",
    "Facts",
    "Ranking",
    "Rule",
    "RuleSet",
    "State",
    "implied_factors",
    "implying_factors",
    "initiative_fact",
    "tier_ranks",
]
