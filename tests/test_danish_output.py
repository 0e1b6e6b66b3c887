"""Every word Danish under `--lang da`: the text output of every command (and every message
in the catalogue) is scanned for English words, ids and code names aside.

English words are found without a dictionary: a word is English when the English side of
the project uses it (the catalogue's msgids, the English labels and definitions of the
knowledge base) and the Danish side never does (msgstrs, Danish labels, alt labels and
definitions). Ids, kebab-case codes, file names and words inside [brackets] are set aside."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from kundskab import KnowledgeBase, i18n
from kundskab.edges.cli import main
from kundskab.knowledge.browse import LIST_KINDS
from kundskab.reasoning.rules import RuleSet

WORD = re.compile(r"[A-Za-zÆØÅæøåéü]+(?:'[a-z]+)?")
SET_ASIDE = re.compile(r"\[[^\]]*\]|\([a-z0-9]+(?:-[a-z0-9]+)+\)|`[^`]*`|\S+\.(?:txt|md|json|yaml|ttl|csv)\b"
                       r"|--[a-z-]+|\b[a-z0-9]+(?:[-_][a-z0-9]+)+\b|\{[^}]*\}|https?://\S+")


# Lines that are code, not prose: a rule's conditions and conclusions as `rules list` shows
# them ("når age: {min: 26}", "så forum:ssp"), a document's field names ("tier: general"),
# and the concept's name in the other language, which `show` gives as such ("en: …").
CODE_LINES = re.compile(r"^\s*(?:en: .*|(?:når|så) .*|#?\s*[a-z_]+:(?=\s|$))", re.M)


def _words(text: str) -> list[str]:
    text = CODE_LINES.sub(" ", text)
    return [w.casefold() for w in WORD.findall(SET_ASIDE.sub(" ", text))]


@pytest.fixture(scope="module")
def english(kb: KnowledgeBase) -> frozenset[str]:
    with i18n.catalogue_path("da").open("rb") as handle:
        po = read_po(handle, locale="da")
    english_side: set[str] = set()
    danish_side: set[str] = set()
    for message in po:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            english_side.update(_words(text))
        for text in strings:
            danish_side.update(_words(text))
    for rule in RuleSet.load(kb=kb):
        english_side.update(_words(rule.because.get("en", "")))
        danish_side.update(_words(rule.because.get("da", "")))
    for concept in kb:
        english_side.update(_words(concept.labels.get("en", "")))
        english_side.update(_words(concept.definitions.get("en", "")))
        danish_side.update(_words(concept.labels.get("da", "")))
        danish_side.update(_words(concept.definitions.get("da", "")))
        for alts in concept.alt_labels.values():
            for alt in alts:
                danish_side.update(_words(alt))
    return frozenset(w for w in english_side - danish_side if len(w) > 2)


def english_per_thousand(text: str, english: frozenset[str]) -> tuple[float, list[str]]:
    words = _words(text)
    found = [w for w in words if w in english]
    return (1000 * len(found) / len(words) if words else 0.0), found


def _ids(kb: KnowledgeBase) -> frozenset[str]:
    """Code names a person types: single-word ids ('truancy', 'ssp'), the commands and the
    kinds `list` takes ('goals', 'sources')."""
    commands = set(main.commands) | {"main"}
    for command in main.commands.values():
        commands |= set(getattr(command, "commands", {}))
    kinds = {w for kind in LIST_KINDS for w in kind.split("-")}
    return frozenset({c.id for c in kb if "-" not in c.id} | commands | kinds)


DOCUMENT = """---
title: Tryghedsvandring i Gellerup
programme: tryg-i-aarhus-2017
tier: general
target_groups: [unge]
principles: [gangs]
---
Tekst.
"""

# What a consultant types in a day, every command at least once, errors included.
COMMANDS: list[tuple[list[str], str | None]] = [
    (["--help"], None), (["list"], None), (["list", "factors"], None),
    (["list", "fora", "--district", "Nordjylland"], None), (["list", "fora", "--municipality", "Odense"], None),
    (["show", "SSP+"], None), (["show", "truancy"], None), (["show", "sikker-by-2018"], None),
    (["show", "odense"], None), (["show", "family"], None),
    (["search", "pjækker fra skolen"], None), (["search", "bande", "--kind", "fora"], None),
    (["interventions", "--forum", "ssp-plus"], None),
    (["recommend", "--age", "15", "--factor", "truancy", "--municipality", "Aalborg"], None),
    (["recommend", "--factor", "truancy"], None),
    (["recommend", "-"], "{"), (["recommend", "-"], '{"age": "sixteen"}'),
    (["template", "tryg-i-aarhus-2017"], None), (["rules", "list"], None), (["rules", "lint"], None),
    (["show", "ungesamrd"], None), (["list", "bogus"], None), (["list", "fora", "--district", "Nordjyland"], None),
]


def _run(args: list[str], stdin: str | None) -> str:
    result = CliRunner().invoke(main, [*args, "--lang", "da"] if args != ["--help"] else ["--lang", "da", *args],
                                input=stdin)
    return result.stdout + result.stderr


@pytest.mark.parametrize(("args", "stdin"), COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_danish_output_has_no_english_words(kb: KnowledgeBase, english: frozenset[str], args: list[str],
                                            stdin: str | None) -> None:
    ids = _ids(kb)
    text = _run(args, stdin)
    words = [w for w in _words(text) if w not in ids]
    found = [w for w in words if w in english]
    assert words
    assert found == [], f"{1000 * len(found) / len(words):.1f} English words per 1,000: {sorted(set(found))}"


def test_a_validated_document_speaks_danish(kb: KnowledgeBase, english: frozenset[str], tmp_path: Path) -> None:
    path = tmp_path / "initiativ.md"
    path.write_text(DOCUMENT, encoding="utf-8")
    text = _run(["validate", str(path)], None).replace(str(path), "")
    found = [w for w in _words(text) if w in english and w not in _ids(kb)]
    assert found == []


def test_every_message_in_the_catalogue_is_danish(english: frozenset[str]) -> None:
    with i18n.catalogue_path("da").open("rb") as handle:
        po = read_po(handle, locale="da")
    offending = {}
    for message in po:
        if not message.id:  # the catalogue's header
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            found = [w for w in _words(text) if w in english]
            if found:
                offending[message.id if isinstance(message.id, str) else message.id[0]] = found
    assert offending == {}
