"""Provenance: every citation points at a real section of a seed file, definitions are in
our own words, and no personal contact details entered the project.

The checks against the sources skip where ../shared/seeds is absent (a user's clone)."""

from __future__ import annotations

import re
from pathlib import Path

from kundskab import KnowledgeBase
from kundskab._paths import ontology_dir, rules_dir
from kundskab.rules import RuleSet

from .conftest import seeds_or_skip


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _section_text(source_file: str, section: str) -> str:
    # 003 is cited by page: "s. 7 Heading".
    if source_file.startswith("003_"):
        match = re.match(r"s\. (\d+) (.+)", section)
        assert match, f"003 citations name a page: {section!r}"
        return match.group(2)
    return section


def test_every_concept_citation_names_a_real_section(kb: KnowledgeBase) -> None:
    seeds = seeds_or_skip()
    texts = {p.name: _normal(p.read_text(encoding="utf-8")) for p in seeds.glob("0*.txt")}
    missing = []
    for concept in kb:
        for source in concept.sources:
            if source.public:  # a public record, not a seed: tests/test_areas_and_sources.py
                continue
            assert source.file in texts, (concept.id, source.file)
            assert source.section, (concept.id, "a citation names a section")
            if _normal(_section_text(source.file, source.section)) not in texts[source.file]:
                missing.append((concept.id, str(source)))
    assert missing == []


def test_every_rule_citation_names_a_real_section(ruleset: RuleSet) -> None:
    seeds = seeds_or_skip()
    texts = {p.name: _normal(p.read_text(encoding="utf-8")) for p in seeds.glob("0*.txt")}
    for rule in [*ruleset, ruleset.ranking]:
        file, _, section = rule.source.partition("#")
        assert _normal(_section_text(file, section)) in texts[file], rule.id


def test_definitions_are_in_our_own_words(kb: KnowledgeBase) -> None:
    """No definition or free-text value repeats eight words in a row from a source."""
    seeds = seeds_or_skip()

    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    shingles = set()
    for path in seeds.glob("0*.txt"):
        w = words(path.read_text(encoding="utf-8"))
        shingles.update(tuple(w[i:i + 8]) for i in range(len(w) - 7))
    copied = []
    for concept in kb:
        texts = list(concept.definitions.values())
        texts += [v for vals in concept.values.values() for v in vals if isinstance(v, str)]
        for text in texts:
            w = words(text)
            if any(tuple(w[i:i + 8]) in shingles for i in range(len(w) - 7)):
                copied.append(concept.id)
    assert copied == []


def test_no_personal_contact_details_in_the_project() -> None:
    email = re.compile(r"[\w.+-]+@[\w-]+\.(dk|com|org|net)\b", re.I)
    phone = re.compile(r"\b\d{4} \d{4}\b|\b\d{2} \d{2} \d{2} \d{2}\b")
    offenders = []
    for folder in (ontology_dir(), rules_dir()):
        for path in Path(folder).rglob("*"):
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                if email.search(text) or phone.search(text):
                    offenders.append(path.name)
    assert offenders == []


def test_no_person_named_in_the_sources_appears_in_the_project() -> None:
    """The member tables of 000 list people; none of those names may appear here."""
    seeds = seeds_or_skip()
    text = (seeds / "000_2d4d8aed5ea821e9.txt").read_text(encoding="utf-8")
    # Rows of the member tables: a name followed by an e-mail address.
    names = set()
    for line in text.splitlines():
        if "@" in line:
            for part in re.split(r"\t+", line):
                part = part.strip()
                if re.fullmatch(r"[A-ZÆØÅ][a-zæøå]+(?: [A-ZÆØÅ]\.?)?(?: [A-ZÆØÅ][a-zæøå]+)+", part):
                    names.add(part)
    assert len(names) > 5  # the pattern does find the people listed
    project = "\n".join(p.read_text(encoding="utf-8") for folder in (ontology_dir(), rules_dir())
                        for p in Path(folder).rglob("*") if p.is_file())
    assert [n for n in names if n in project] == []
