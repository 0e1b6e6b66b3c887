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


def _extension_breaks(shared: str, ours: str) -> list[str]:
    """Passages of the shared contract that ours changes or drops (additions are allowed)."""
    import difflib

    theirs, mine = shared.split(), ours.split()
    matcher = difflib.SequenceMatcher(None, theirs, mine, autojunk=False)
    return [" ".join(theirs[i1:i2]) for tag, i1, i2, _, _ in matcher.get_opcodes()
            if tag in ("replace", "delete")]


def test_contract_extension_detector() -> None:
    base = "A case is JSON. Exit 2 on bad input."
    assert _extension_breaks(base, "A case is JSON, always. Exit 2 on bad input. More.") == ["JSON."]
    assert _extension_breaks(base, "A case is JSON. New text. Exit 2 on bad input.") == []
    assert _extension_breaks(base, "A case is JSON. Exit 3 on bad input.") == ["2"]


def test_contract_in_docs_keeps_the_shared_contract() -> None:
    # The contract ships with the repository as docs/CONTRACT.md. The shared one must be kept
    # exactly and may be extended: every word of it stays, in order; ours only adds. The
    # comparison is by words so that an extension may continue a shared paragraph.
    shared = ROOT.parent / "shared" / "CONTRACT.md"
    if not shared.exists():
        pytest.skip("the shared contract is not distributed with the repository (docs/CONTRACT.md extends "
                    "it): put it at ../shared/CONTRACT.md beside the checkout to check that it is kept")
    breaks = _extension_breaks(shared.read_text(encoding="utf-8"),
                               (ROOT / "docs" / "CONTRACT.md").read_text(encoding="utf-8"))
    assert breaks == [], f"docs/CONTRACT.md changes the shared contract at: {breaks[:5]}"


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


def _console_blocks() -> list[list[tuple[str, list[str]]]]:
    """The README's console samples: each a list of (command, lines shown after it)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        runs: list[tuple[str, list[str]]] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                runs.append((line[2:], []))
            elif runs:
                runs[-1][1].append(line)
        blocks.append(runs)
    return blocks


def test_readme_console_samples_are_real_output() -> None:
    """Every `$ kundskab …` line of a console sample is run; the lines shown after it are in
    its output, in that order ("..." stands for lines left out, anywhere)."""
    import shlex

    from click.testing import CliRunner

    from kundskab.edges.cli import main

    runs = [run for block in _console_blocks() for run in block]
    assert runs, "the README shows what the commands print"
    for command, shown in runs:
        argv = shlex.split(command)
        assert argv[0] == "kundskab"
        result = CliRunner().invoke(main, [*argv[1:], "--lang", "da"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.output)
        output = result.stdout.splitlines()
        position, adjacent = 0, True
        for line in shown:
            if line == "...":
                adjacent = False
                continue
            where = output.index(line, position) if line in output[position:] else -1
            assert where >= 0, f"README shows a line `{command}` does not print: {line!r}"
            assert not adjacent or where == position, f"`{command}` prints more before {line!r}"
            position, adjacent = where + 1, True


def test_readme_python_sample_prints_what_its_comments_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The "From Python" block runs, and a `print(…)  # X` line prints X."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code
    monkeypatch.chdir(tmp_path)
    expected = [m.group(1).strip() for m in re.finditer(r"^print\(.*\)\s+# (.+)$", code.group(1), re.M)]
    assert expected, "the sample says what it prints"
    exec(compile(code.group(1), "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    for line in expected:
        assert line in printed, (line, printed)
