"""Provenance: every citation points at a real section of a seed file, definitions are in
our own words, and no personal contact details entered the project.

The checks against the sources skip where ../shared/seeds is absent (a user's clone)."""

from __future__ import annotations

import re
from pathlib import Path

from kundskab import KnowledgeBase
from kundskab._paths import ontology_dir, rules_dir
from kundskab.reasoning.rules import RuleSet

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
        # Citations are no text of ours: dct:title quotes a title, ks:pagedSection names headings.
        texts += [v for prop, vals in concept.values.items() if prop != "pagedSection"
                  for v in vals if isinstance(v, str)]
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


def test_every_section_of_a_paged_source_is_cited_with_its_page(kb: KnowledgeBase) -> None:
    """002 keeps its page footers ("side 3 af 8"): the page its record gives each section is
    the one whose footer follows the heading, and every citation of 002 names one."""
    seeds = seeds_or_skip()
    text = _normal((seeds / "002_af39631d06cec792.txt").read_text(encoding="utf-8"))
    start = text.index("Transkript")
    pages = {cite: page for cite, page in kb.source_pages.items() if cite.startswith("002_")}
    assert pages
    for cite, page in pages.items():
        heading = cite.partition("#")[2]
        at = text.index(heading, start)
        footer = re.compile(r"side (\d+) af \d+").search(text, at)
        assert footer and int(footer.group(1)) == page, (heading, page)
    for concept in kb:
        for source in concept.sources:
            if source.file.startswith("002_"):
                assert source.page == pages[str(source)], (concept.id, str(source))


def test_a_citation_names_title_section_and_page_and_no_file(kb: KnowledgeBase) -> None:
    from click.testing import CliRunner

    from kundskab.edges.cli import main

    aarhus = kb.get("aarhus").sources[0]
    assert aarhus.citation("da") == "Tryg i Aarhus, oplæg til tryghedsstrategi 2017, afsnit " \
        "'1. Tryghed i den samlede kommune', side 1"
    truancy = next(s for s in kb.get("truancy").sources if s.file.startswith("003_"))
    assert truancy.citation("en").endswith("section 'Fokus på kriminalitetstruede børn og unge', page 7")
    assert truancy.as_dict()["page"] == 7
    shown = CliRunner().invoke(main, ["show", "truancy", "--lang", "da"]).output
    assert "side 7" in shown and ".txt" not in shown
    verbose = CliRunner().invoke(main, ["show", "truancy", "--lang", "da", "--verbose"]).output
    assert "[003_6b7c798122e4c5f5.txt]" in verbose
