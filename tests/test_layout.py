"""The layout of issue 19: sub-packages for the knowledge base, the reasoning, documents and
the edges. Every module path from before the move keeps importing, as the very same module
object (kundskab/_aliases.py), so code outside kundskab that imported `kundskab.ranking` or
patched `kundskab.rules.X` goes on working."""

from __future__ import annotations

import ast
import importlib
import pickle
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

import kundskab
from kundskab._aliases import ALIASES

PACKAGE = Path(kundskab.__file__).parent


@pytest.mark.parametrize("old", sorted(ALIASES))
def test_an_old_path_is_the_new_module(old: str) -> None:
    new = ALIASES[old]
    module = importlib.import_module(new)
    if old in ("kundskab.knowledge", "kundskab.documents"):
        # Packages now: the package re-exports every public name of the old module.
        package = importlib.import_module(old)
        public = _defined_names(Path(module.__file__ or ""))
        assert public, new
        assert all(getattr(package, name) is getattr(module, name) for name in public)
        assert public <= set(package.__all__)
        return
    assert importlib.import_module(old) is module
    assert sys.modules[old] is module
    assert getattr(kundskab, old.rpartition(".")[2]) is module
    assert module.__name__ == new and module.__spec__ is not None and module.__spec__.name == new
    assert not (PACKAGE / (old.rpartition(".")[2] + ".py")).exists(), "the old file is gone"


def _defined_names(path: Path) -> set[str]:
    """The public names a module defines itself (not those it imports)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def test_old_paths_imported_first_in_a_fresh_process() -> None:
    # Imported by the old path before anything imported the new one: still one module, with
    # its own name and spec (so pickles and reloads name the new home).
    code = (
        "import importlib, sys\n"
        "from kundskab._aliases import ALIASES\n"
        "for old, new in sorted(ALIASES.items()):\n"
        "    if old in ('kundskab.knowledge', 'kundskab.documents'): continue\n"
        "    first = importlib.import_module(old)\n"
        "    assert first is importlib.import_module(new), old\n"
        "    assert first.__spec__.name == new and first.__name__ == new, old\n"
        "from kundskab.ranking import Ranker\n"
        "import kundskab.reasoning.ranking as ranking\n"
        "assert Ranker is ranking.Ranker\n"
        "import kundskab.rules as rules\n"
        "importlib.reload(rules)\n"
        "assert sys.modules['kundskab.reasoning.rules'] is rules\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_from_import_and_patching_by_an_old_path() -> None:
    from kundskab.ranking import Ranker

    from kundskab.reasoning import ranking

    assert Ranker is ranking.Ranker
    with mock.patch("kundskab.ranking.Ranker") as patched:
        assert ranking.Ranker is patched
    assert ranking.Ranker is Ranker
    with mock.patch("kundskab.integrity.check") as patched:
        from kundskab.knowledge import check

        assert check.check is patched


def test_a_package_costs_nothing_to_import() -> None:
    # `check` imports documents/principle_support.py: the package around it reads no YAML
    # and no RDF until a module that needs them is imported.
    code = ("import sys, kundskab.knowledge, kundskab.reasoning, kundskab.documents, kundskab.edges\n"
            "heavy = ('yaml', 'rdflib', 'pyshacl', 'durable', 'networkx', 'click')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    from kundskab import documents
    from kundskab.documents import reading

    assert documents.parse_document is reading.parse_document
    with pytest.raises(AttributeError):
        documents.no_such_name  # noqa: B018


def test_a_value_pickles_by_its_new_home() -> None:
    from kundskab.reasoning.rules import Facts

    facts = Facts(15, frozenset({"truancy"}))
    data = pickle.dumps(facts)
    assert b"kundskab.reasoning.rules" in data and b"kundskab.rules\x94" not in data
    assert pickle.loads(data) == facts


def test_an_unknown_module_is_still_missing() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("kundskab.no_such_module")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("kundskab.reasoning.ranking.no_such_module")


def test_the_rules_cache_key_covers_every_file_of_the_rules_code() -> None:
    from kundskab.reasoning.rules import cache

    files = cache.code_files()
    assert files == [*sorted((PACKAGE / "reasoning" / "rules").glob("*.py")), PACKAGE / "knowledge" / "factors.py"]
    assert {"__init__.py", "records.py", "loading.py", "cache.py", "evaluator.py", "ages.py", "ruleset.py"} <= {
        path.name for path in files}


# The imports against the flow: `check`'s programme findings grade the catalogue with the
# principle support that documents are graded with; and principle_support's old names of the
# programme table's renderers (table_csv, write_xlsx, report_lines ...), which moved to
# edges.rendering, resolve there on first use (compatibility only: no code here uses them).
BACKWARD = {("kundskab/knowledge/check.py", "kundskab.documents.principle_support"),
            ("kundskab/documents/principle_support.py", "kundskab.edges")}


def test_imports_follow_the_flow() -> None:
    # knowledge -> reasoning -> documents -> edges: a module imports from its own package and
    # those before it (lazy imports inside functions count too).
    order = {"knowledge": 1, "reasoning": 2, "documents": 3, "edges": 4}
    backward = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2 or parts[0] not in order:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                package = name.split(".")[1] if name.startswith("kundskab.") else ""
                if order.get(package, 0) > order[parts[0]]:
                    backward.add((f"kundskab/{path.relative_to(PACKAGE).as_posix()}", name))
    assert backward == BACKWARD


def test_no_code_here_uses_an_old_path() -> None:
    # The old paths are kept for code outside kundskab; the package, its tests, benchmarks
    # and docs use the new ones, so that a reader finds a module where README says it lives.
    # A line that names an old path on purpose says so ("old path", "before the layout").
    old = [name for name in ALIASES if name not in ("kundskab.knowledge", "kundskab.documents")]
    dotted = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, old)) + r")(?![\w])")
    modules = {name.rpartition(".")[2] for name in old}
    found = []
    for top in ("kundskab", "tests", "benchmarks", "docs"):
        for path in sorted((PACKAGE.parent / top).rglob("*.py")):
            if path.name in ("_aliases.py", "test_layout.py") or ".venv" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if "old path" in line or "before the layout" in line:
                    continue
                imported = re.match(r"\s*from kundskab import ([\w, ]+)", line)
                names = {n.strip().split(" as ")[0] for n in imported.group(1).split(",")} if imported else set()
                if dotted.search(line) or names & modules:
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not found, "old module paths (README, Where things live, gives the new):\n" + "\n".join(found)


def test_every_module_is_on_the_map() -> None:
    # README's "Where things live" names every module, so that the map stays true.
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Where things live"):]
    section = section[:section.index("\n#")]
    missing = [path.relative_to(PACKAGE).as_posix() for path in sorted(PACKAGE.rglob("*.py"))
               if path.name not in ("__init__.py", "__main__.py")
               and f"`{path.relative_to(PACKAGE).as_posix()}`" not in section and f"`{path.name}`" not in section]
    assert not missing, "add to README, Where things live: " + ", ".join(missing)
