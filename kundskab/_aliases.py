"""Old module paths, kept for compatibility: before the layout of issue 19 every module sat
in one flat folder (`kundskab.ranking`, `kundskab.integrity`, ...). Code outside kundskab
may still import them, so each old path imports the very module object of its new home
(`import kundskab.ranking`, `from kundskab.ranking import Ranker` and
`mock.patch("kundskab.ranking.Ranker")` all reach `kundskab.reasoning.ranking`). Code in
this repository uses the new paths only. `kundskab.knowledge` and `kundskab.documents` are
packages now; they re-export what the old modules offered.
"""

from __future__ import annotations

import sys
from importlib import import_module
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.abc import Loader  # a protocol only: importlib.abc costs 25 ms to import

# old module path -> new module path; the one home of the map (tests/test_layout.py checks
# every entry, and the maintainers' rewrite of imports reads it).
ALIASES: dict[str, str] = {
    # the knowledge base
    "kundskab.knowledge": "kundskab.knowledge.base",
    "kundskab._compile": "kundskab.knowledge.compile",
    "kundskab._vocab": "kundskab.knowledge.vocab",
    "kundskab.programmes": "kundskab.knowledge.programmes",
    "kundskab.places": "kundskab.knowledge.places",
    "kundskab.browse": "kundskab.knowledge.browse",
    "kundskab.integrity": "kundskab.knowledge.check",
    # the reasoning
    "kundskab.cases": "kundskab.reasoning.cases",
    "kundskab.rules": "kundskab.reasoning.rules",
    "kundskab.engine": "kundskab.reasoning.engine",
    "kundskab.ranking": "kundskab.reasoning.ranking",
    "kundskab.whatif": "kundskab.reasoning.whatif",
    "kundskab.recommendation": "kundskab.reasoning.recommendation",
    "kundskab.analysis": "kundskab.reasoning.lint",
    # documents
    "kundskab.documents": "kundskab.documents.reading",
    "kundskab._matching": "kundskab.documents.matching",
    "kundskab.validation": "kundskab.documents.validation",
    "kundskab.support": "kundskab.documents.principle_support",
    "kundskab.templates": "kundskab.documents.templates",
    "kundskab.portfolios": "kundskab.documents.portfolios",
    # the edges
    "kundskab.cli": "kundskab.edges.cli",
    "kundskab._click": "kundskab.edges.click_language",
    "kundskab.service": "kundskab.edges.service",
    "kundskab.web": "kundskab.edges.web",
    "kundskab.connections": "kundskab.edges.connections",
    "kundskab.sandbox": "kundskab.edges.sandbox",
    "kundskab.models": "kundskab.edges.models",
    "kundskab.batch": "kundskab.edges.batch",
    "kundskab.store": "kundskab.edges.store",
    "kundskab.portfolio_output": "kundskab.edges.portfolio_output",
}


class _Alias:
    """Finder and loader of the old paths: the 'loaded' module is the new one itself."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name not in ALIASES or name in _PACKAGES:
            return None
        return ModuleSpec(name, cast("Loader", self))

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = import_module(ALIASES[spec.name])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias's spec on the module; its own comes back, so
        # that the module keeps its one name (reloading and tracebacks use it).
        alias = module.__spec__
        if alias is not None and isinstance(alias.loader, _Alias):
            module.__spec__ = alias.loader_state


# Old modules that are packages now (imported the ordinary way; they re-export what the old
# modules offered).
_PACKAGES = frozenset({"kundskab.knowledge", "kundskab.documents"})


def install() -> None:
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Alias())
