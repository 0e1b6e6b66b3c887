"""The README's Quick start and the generated CLI reference stay true."""

from __future__ import annotations

import importlib.metadata
import re
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_quick_start_has_the_two_commands_first() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert "pip install ." in blocks[0] and "kundskab recommend" in blocks[0]
    assert "pip install -e '.[test]'" in blocks[1] and "pytest" in blocks[1]
    assert "Quick start" in (ROOT / ".ci" / "run").read_text()  # CI runs this very block


def test_cli_reference_is_generated_from_help() -> None:
    module = runpy.run_path(str(ROOT / "docs" / "generate_cli_reference.py"), run_name="docs")
    expected = module["render"]()
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == expected, (
        "docs/cli.md is stale: run python docs/generate_cli_reference.py")


def test_contract_in_docs_is_the_shared_contract() -> None:
    # The contract ships with the repository; ../shared/CONTRACT.md, where new additions
    # are agreed, must be copied here whenever it changes.
    shared = ROOT.parent / "shared" / "CONTRACT.md"
    if not shared.exists():
        pytest.skip("../shared/CONTRACT.md is not beside this checkout")
    assert (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8") == shared.read_text(encoding="utf-8"), (
        "docs/CONTRACT.md differs from ../shared/CONTRACT.md: copy it over")


def test_readme_links_only_files_in_the_repository() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target


def test_version_is_written_once() -> None:
    import kundskab

    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.M)
    assert importlib.metadata.version("kundskab") == kundskab.__version__
    assert f"## [{kundskab.__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_cli_reference_names_the_program() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "Usage: kundskab [OPTIONS] COMMAND" in text and "Usage: main" not in text
