"""Write docs/cli.md from the commands' own --help, so the reference never drifts.

    python docs/generate_cli_reference.py          # rewrite docs/cli.md
    python docs/generate_cli_reference.py --check  # exit 1 if docs/cli.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kundskab.edges.cli import main

TARGET = Path(__file__).resolve().parent / "cli.md"


def commands(group: click.Group, prefix: list[str]) -> list[list[str]]:
    found = [prefix]
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            found += commands(command, [*prefix, name])
        else:
            found.append([*prefix, name])
    return found


def render() -> str:
    runner = CliRunner()
    parts = ["# Command-line reference", "",
             "Generated from `--help` by `docs/generate_cli_reference.py`; do not edit by hand.", ""]
    for path in commands(main, []):
        # The reference is English, like the rest of docs/; `--lang da --help` shows Danish.
        result = runner.invoke(main, [*path, "--help"], prog_name="kundskab", terminal_width=100,
                               env={"KUNDSKAB_LANG": "en"})
        title = " ".join(["kundskab", *path])
        parts += [f"## {title}", "", "```", result.output.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if TARGET.exists() and TARGET.read_text(encoding="utf-8") == text else 1)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
