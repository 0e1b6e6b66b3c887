"""The README's Quick start and the generated CLI reference stay true."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

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
