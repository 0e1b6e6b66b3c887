"""The knowledge base: the ontology's concepts, compiled once and looked up by id or label.

- `base`: `KnowledgeBase`, `Concept`, `Source`, `load` and `tier_ranks` (re-exported here, as
  the old module of this name offered them)
- `compile`: the Turtle ontology compiled into the JSON model behind the cache (rdflib)
- `vocab`: the namespaces and fixed names shared by the modules
- `programmes`: a programme's parts and requirements
- `places`: municipalities, police districts and the places of measures
- `browse`: `show`, `list` and `search` as JSON-ready dicts
- `check`: `kundskab check`, the knowledge base's integrity (SHACL) and programme findings
"""

from kundskab.knowledge.base import (
    GENERAL_TIER,
    KIND_NAMES,
    PAGE_WORD,
    PUBLIC_RECORD_PREFIX,
    SECTION_WORD,
    Concept,
    KnowledgeBase,
    Source,
    load,
    ontology_fingerprint,
    read_compiled,
    tier_ranks,
)

__all__ = ["GENERAL_TIER", "KIND_NAMES", "PAGE_WORD", "PUBLIC_RECORD_PREFIX", "SECTION_WORD", "Concept",
           "KnowledgeBase", "Source", "load", "ontology_fingerprint", "read_compiled", "tier_ranks"]
