"""Shared fixtures: the bundled knowledge base, rules and recommender, loaded once."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from kundskab import FileReport, KnowledgeBase, load, validate
from kundskab._paths import ontology_dir, rules_dir

if TYPE_CHECKING:
    import httpx

    from tests.servers import Server

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests never touch the user's cache directory.
    os.environ["KUNDSKAB_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load()


@pytest.fixture(scope="session")
def ruleset(kb: KnowledgeBase):  # type: ignore[no-untyped-def]
    from kundskab.reasoning.rules import RuleSet

    return RuleSet.load(kb)


@pytest.fixture(scope="session")
def recommender(kb: KnowledgeBase, ruleset):  # type: ignore[no-untyped-def]
    from kundskab.reasoning.recommendation import Recommender

    return Recommender(kb, ruleset)


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def ontology_copy(tmp_path: Path) -> Path:
    """A private copy of the ontology that a test may change."""
    target = tmp_path / "ontology"
    shutil.copytree(ontology_dir(), target)
    return target


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(rules_dir(), target)
    return target


def seeds_or_skip() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("the five source documents are not distributed with the repository; this test checks "
                    "the knowledge base against them: put their transcripts (000_….txt to 004_….txt) in "
                    "../shared/seeds beside the checkout to run it")
    return SEEDS


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """`kundskab serve` on a free loopback port, one per test module that asks for it."""
    from tests.servers import Server

    running = Server("--timeout", "5", "--max-body", str(1024 * 1024))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture()
def client(server: Server) -> Iterator[httpx.Client]:
    import httpx

    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http
def validate_one(content: str | bytes, filename: str, kb: KnowledgeBase | None = None, *,
                 lang: str = "da") -> FileReport:
    """One document given as content, validated (its entry of the report)."""
    return validate(documents=[(filename, content)], kb=kb, lang=lang).files[0]
