"""One knowledge base for many replicas: published to a real Oxigraph server (started here
on loopback), read back by the library, the CLI and `serve --store`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kundskab.edges.cli import main
from kundskab.knowledge.base import KnowledgeBase
from kundskab.reasoning.recommendation import Recommender
from tests.servers import Server, free_port, oxigraph_store
from tests.servers import oxigraph_binary as installed_oxigraph

httpx = pytest.importorskip("httpx")


def oxigraph_binary() -> str:
    found = installed_oxigraph()
    if found is None:
        pytest.skip("the oxigraph server (PyPI package oxigraph) is not installed")
    return found


@pytest.fixture(scope="module")
def store_url() -> Iterator[str]:
    from kundskab.edges.store import publish

    with oxigraph_store(oxigraph_binary()) as url:
        publish(url)
        yield url


CASES = [
    {"ref": "a", "age": 15, "factors": ["truancy", "street-group"]},
    {"ref": "b", "age": 16, "factors": {"offence-committed": True, "family-problems": "unknown"}},
    {"ref": "c", "age": 21, "factors": {"released-from-custody": True}},
    {"ref": "d", "factors": {"gang-proximity": True, "truancy": False}},
]


def test_the_store_gives_the_answers_of_the_embedded_knowledge_base(store_url: str, kb: KnowledgeBase,
                                                                   recommender: Recommender) -> None:
    from kundskab.edges.store import StoreSource

    remote = StoreSource(store_url).load()
    assert remote.version == kb.version
    assert len(remote) == len(kb)
    from_store = Recommender(remote)
    for case in CASES:
        for lang in ("da", "en"):
            assert from_store.recommend(case, lang=lang).as_dict() == recommender.recommend(case, lang=lang).as_dict()
    assert [c.id for c in remote.interventions(forum=["ssp"])] == [c.id for c in kb.interventions(forum=["ssp"])]


def test_cli_reads_the_store(store_url: str, recommender: Recommender, monkeypatch: pytest.MonkeyPatch) -> None:
    from kundskab.edges.store import StoreSource

    loads = []
    load = StoreSource.load
    monkeypatch.setattr(StoreSource, "load", lambda self: loads.append(self) or load(self))
    result = CliRunner().invoke(main, ["recommend", "--store", store_url, "--age", "15", "--factor", "truancy",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == recommender.recommend({"age": 15, "factors": ["truancy"]}).as_dict()
    assert len(loads) == 1  # once per invocation, however often the command asks for the knowledge base
    # The store is not remembered by the next invocation in the same process (the state is
    # click's context object, never a module's global).
    for args in (["show", "ssp"], ["list", "fora"], ["rules", "lint"]):
        assert CliRunner().invoke(main, args).exit_code == 0
    assert len(loads) == 1


def test_an_unreachable_store_is_a_clear_error() -> None:
    port = free_port()  # nothing listens there
    for lang, expected in (("da", "kan ikke nå lageret"), ("en", "cannot reach the store")):
        done = subprocess.run([sys.executable, "-m", "kundskab", "show", "ssp", "--lang", lang, "--store",
                               f"http://127.0.0.1:{port}/store"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2
        assert expected in done.stderr and "Traceback" not in done.stderr


def test_an_empty_graph_says_how_to_publish(store_url: str) -> None:
    from kundskab.edges.store import StoreSource
    from kundskab.errors import KnowledgeBaseError

    with pytest.raises(KnowledgeBaseError, match="kundskab store load"):
        StoreSource(store_url, graph="https://example.org/empty").load()


def test_serve_picks_up_a_newer_version_without_a_restart(store_url: str, ontology_copy: Path,
                                                         kb: KnowledgeBase) -> None:
    from kundskab.edges.store import publish

    graph = "https://example.org/kundskab-replica-test"
    publish(store_url, graph=graph)
    server = Server("--store", store_url, "--graph", graph, "--poll", "0.5")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            first = http.post("/v1/recommend", json=CASES[0]).json()
            assert first["kb_version"] == kb.version
            # A newer knowledge base: one label changed in a copy of the ontology.
            tiers = ontology_copy / "concepts" / "tiers-levels.ttl"
            tiers.write_text(tiers.read_text(encoding="utf-8").replace(
                '"Generel indsats"@da', '"Generel forebyggende indsats"@da'), encoding="utf-8")
            published = publish(store_url, graph=graph, ontology_dir=ontology_copy)
            assert published.kb_version != kb.version
            deadline = time.monotonic() + 120
            answer = first
            while time.monotonic() < deadline and answer["kb_version"] != published.kb_version:
                time.sleep(0.5)
                answer = http.post("/v1/recommend", json=CASES[0]).json()
            assert answer["kb_version"] == published.kb_version
            assert http.get("/v1/concepts/general").json()["label"] == "Generel forebyggende indsats"
            assert http.get("/readyz").json()["kb_version"] == published.kb_version
    finally:
        server.stop()


def test_check_from_the_store_equals_the_embedded_check(store_url: str) -> None:
    runner = CliRunner()
    for args in (["check", "--format", "json"], ["check", "--format", "json", "--lang", "en"],
                 ["check", "--programme", "sikker-by-2018", "--format", "json"],
                 ["check", "--programme", "tryg-i-aarhus-2017", "--format", "csv", "--lang", "en"]):
        embedded = runner.invoke(main, args)
        remote = runner.invoke(main, [*args, "--store", store_url])
        assert embedded.exit_code == remote.exit_code == 0, remote.output
        assert remote.output == embedded.output and remote.output


def test_serve_from_the_store_checks_as_the_embedded_library(store_url: str, kb: KnowledgeBase) -> None:
    from kundskab.documents.principle_support import assess_programme
    from kundskab.knowledge.check import check
    from tests.servers import get_when_ready

    server = Server("--store", store_url)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            response = get_when_ready(http, "/v1/check", lang="en")
            assert response.status_code == 200 and response.json() == check(kb, "en").as_dict()
            table = http.get("/v1/check", params={"programme": "vestegn-2013"})
            assert table.json() == assess_programme(kb, "vestegn-2013").as_dict()
            assert http.get("/v1/check", params={"programme": "nowhere-2020"}).status_code == 404
    finally:
        server.stop()
