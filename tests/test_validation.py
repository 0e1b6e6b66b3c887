"""Validating initiative documents (`kundskab validate`, kundskab.documents.validation).

The documents are data files under tests/documents/ with their expected outcome in
tests/documents/expected.yaml; the tests below add what a data file cannot show: limits on
hostile input, programmes as data, the CLI and the template.
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kundskab import DocumentError, KnowledgeBase, validate
from kundskab.documents.matching import Term, TermIndex, guess_languages, stem, tokens
from kundskab.documents.reading import MAX_BYTES, parse_document, read_document
from kundskab.documents.validation import FileReport
from kundskab.edges.cli import main
from tests.conftest import validate_one

DOCS = Path(__file__).parent / "documents"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((DOCS / "expected.yaml").read_text("utf-8"))
CONTRACT_CODES = {"parse-error", "unsupported-format", "file-too-large", "missing-field",
                  "unknown-concept", "too-few-principles", "missing-effect-follow-up",
                  "missing-subgoal", "missing-evidence-basis", "inconsistent-tier"}

VALID_MD = """---
title: Udvidede åbningstider i klubber
programme: sikker-by-2018
tier: general
target_groups: [school-age-youth]
principles:
  collaboration: Klubberne og SSP aftaler fælles indsats i weekenderne.
  youth-at-risk: Alle unge får et alternativ til gaden om aftenen.
  local-areas: Klubber i de mest utrygge bydele prioriteres.
effect_follow_up: yearly
---
Fri tekst.
"""


def codes(problems: list[Any]) -> list[str]:
    return sorted(p.code for p in problems)


# ---------------------------------------------------------------------------- the data files


def test_every_document_file_has_an_expectation() -> None:
    files = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*") if p.is_file()}
    assert files - {"README.md", "expected.yaml"} == set(EXPECTED)


def test_the_documents_cover_every_contract_code_and_programme() -> None:
    errors = {code for case in EXPECTED.values() for code in case["errors"]}
    assert CONTRACT_CODES - {"file-too-large"} <= errors  # 5 MB is made in a test below
    for programme in ("sikker-by-2018", "tryg-i-aarhus-2017", "vestegn-2013"):
        outcomes = {case["valid"] for name, case in EXPECTED.items() if name.startswith(programme)}
        assert outcomes == {True, False}, programme


@pytest.fixture(scope="module")
def batch(kb: KnowledgeBase) -> dict[str, FileReport]:
    # One run over every file: the way a folder is validated, one SHACL pass.
    report = validate([DOCS / name for name in sorted(EXPECTED)], kb)
    return {Path(f.file).relative_to(DOCS).as_posix(): f for f in report.files}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_document_gives_exactly_its_expected_outcome(name: str, batch: dict[str, FileReport]) -> None:
    expected, report = EXPECTED[name], batch[name]
    assert report.valid is expected["valid"], report.errors
    assert codes(report.errors) == sorted(expected["errors"])
    assert codes(report.warnings) == sorted(expected["warnings"])
    for code, line in expected.get("lines", {}).items():
        assert {p.line for p in report.errors + report.warnings if p.code == code} == {line}, code
    for problem in report.errors + report.warnings:
        assert problem.message.strip()


def test_a_document_alone_gets_the_same_report_as_in_a_batch(
        kb: KnowledgeBase, batch: dict[str, FileReport]) -> None:
    for name in sorted(EXPECTED):
        alone = validate_one((DOCS / name).read_bytes(), str(DOCS / name), kb)
        in_batch = batch[name]
        assert alone.as_dict() == in_batch.as_dict(), name


def test_report_lists_programme_and_principles_as_ids(batch: dict[str, FileReport]) -> None:
    report = batch["sikker-by-2018/valid-labels.yaml"]
    assert report.programme == "sikker-by-2018"
    assert report.principles == ["collaboration", "youth-at-risk", "local-areas"]
    assert batch["tryg-i-aarhus-2017/valid-subgoal.md"].subgoals == ["less-fear-of-crime"]
    assert batch["common/binary.md"].programme is None


def test_messages_suggest_and_explain(batch: dict[str, FileReport]) -> None:
    (unknown,) = batch["common/unknown-concept.md"].errors
    assert "school-age-youth" in unknown.message
    other = next(e for e in batch["sikker-by-2018/principle-of-another-programme.md"].errors
                 if e.code == "principle-of-other-programme")
    # By the programmes' names; the principles the document's programme has, with their ids.
    assert "Partnerskab mod bandekriminalitet i Herlev, Ballerup og Gladsaxe" in other.message
    assert "Lokalområder med tryghedsudfordringer (local-areas)" in other.message
    (none,) = batch["tryg-i-aarhus-2017/principle-without-principles.md"].errors
    assert none.message.endswith(" Tryg i Aarhus har ingen principper.")
    too_few = next(e for e in batch["sikker-by-2018/too-few-principles.md"].errors)
    assert "3" in too_few.message and "youth-at-risk" in too_few.message
    suggested = batch["sikker-by-2018/suggested-principle.md"].warnings
    assert {w.message.split("(")[1].split(")")[0] for w in suggested} == {"gangs", "knowledge"}
    assert any("bandemiljøet" in w.message for w in suggested)  # the words that matched
    assert any("effektmåling" in w.message for w in suggested)


# ---------------------------------------------------------------------------- lines


def test_markdown_lines_count_the_front_matter_opening(kb: KnowledgeBase) -> None:
    text = "---\ntitle: T\nprogramme: esbjerg-2011\ntier: nope\ntarget_groups:\n  - road-users\n  - x\n---\n"
    report = validate_one(text, "a.md", kb)
    assert {(e.code, e.line) for e in report.errors} == {("unknown-concept", 4), ("unknown-concept", 7)}
    same_as_yaml = validate_one(text.split("---\n")[1], "a.yaml", kb)
    assert {e.line for e in same_as_yaml.errors} == {3, 6}


def test_yaml_syntax_error_line_is_the_file_line(kb: KnowledgeBase) -> None:
    report = validate_one("---\ntitle: ok\n\n\nbad: [\n---\n", "a.md", kb)
    assert report.errors[0].code == "parse-error" and report.errors[0].line == 6


# ---------------------------------------------------------------------------- hostile input


REMOTE_CONTEXTS = [
    {"@context": "https://example.org/ctx.jsonld"},
    {"@context": ["http://example.org/a", {"dct": "http://purl.org/dc/terms/"}]},
    {"@context": {"@import": "https://example.org/b"}},
    {"@context": {"x": {"@id": "urn:x", "@context": "https://example.org/scoped"}}},
    {"@graph": [{"@context": "https://example.org/nested", "@id": "urn:x"}]},
    {"@context": "file:///etc/passwd"},
]


@pytest.mark.parametrize("data", REMOTE_CONTEXTS, ids=range(len(REMOTE_CONTEXTS)))
def test_jsonld_remote_context_is_refused_without_network(
        data: dict[str, Any], kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch,
        runner: CliRunner, tmp_path: Path) -> None:
    attempts: list[object] = []

    def no_network(self: socket.socket, *args: object) -> None:
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: attempts.append(a))
    report = validate_one(json.dumps(data), "remote.jsonld", kb)
    assert codes(report.errors) == ["parse-error"]
    assert "@context" in report.errors[0].message
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps(data))
    result = runner.invoke(main, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["files"][0]["errors"][0]["code"] == "parse-error"
    assert attempts == []


def test_inline_jsonld_context_is_fine(kb: KnowledgeBase) -> None:
    data = {"@context": {"ks": "https://w3id.org/kundskab/schema#", "kb": "https://w3id.org/kundskab/id/",
                         "title": "http://purl.org/dc/terms/title"},
            "@type": "ks:InitiativeDocument", "title": "Skolebesøg",
            "ks:partOfProgramme": {"@id": "kb:esbjerg-2011"}, "ks:tier": {"@id": "kb:general"},
            "ks:targetGroup": {"@id": "kb:school-pupils"}}
    assert validate_one(json.dumps(data), "x.jsonld", kb).valid


@pytest.mark.parametrize("wrap", [lambda t: t, lambda t: f"---\n{t}---\nbody\n"], ids=["yaml", "md"])
def test_alias_bomb_is_refused_fast(wrap: Any, kb: KnowledgeBase) -> None:
    lines = ['a0: &a0 ["' + "x" * 50 + '"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 20) + "]" for i in range(1, 30)]
    text = wrap("\n".join(lines) + "\ntitle: *a29\n")
    start = time.perf_counter()
    report = validate_one(text, "bomb.yaml" if text.startswith("a0") else "bomb.md", kb)
    assert time.perf_counter() - start < 2.0
    assert codes(report.errors) == ["parse-error"]
    assert "&" in report.errors[0].message


def test_a_single_alias_is_refused_too(kb: KnowledgeBase) -> None:
    report = validate_one("title: &t T\nplace: *t\n", "a.yaml", kb)
    assert codes(report.errors) == ["parse-error"]


def test_file_over_5_mb_is_refused_before_reading(tmp_path: Path, kb: KnowledgeBase,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.md"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: nothing to read
    report = validate(big, kb)
    assert codes(report.files[0].errors) == ["file-too-large"]
    content = b"---\ntitle: x\n---\n" + b"a" * MAX_BYTES
    assert codes(validate_one(content, "big.md", kb).errors) == ["file-too-large"]
    just_under = b"---\ntitle: T\nprogramme: esbjerg-2011\ntier: general\ntarget_groups: [road-users]\n---\n"
    just_under += b"ord " * ((MAX_BYTES - len(just_under)) // 4)
    assert len(just_under) <= MAX_BYTES
    assert validate_one(just_under, "ok.md", kb).valid


@pytest.mark.parametrize("suffix", [".md", ".yaml", ".ttl", ".jsonld"])
def test_binary_content_is_a_parse_error_in_every_format(suffix: str, kb: KnowledgeBase) -> None:
    for data in (bytes(range(256)), b"\xff\xfe\x00t\x00i", b"title: \xc3\x28"):
        report = validate_one(data, f"x{suffix}", kb)
        assert codes(report.errors) == ["parse-error"], data


def test_control_characters_never_reach_a_message(kb: KnowledgeBase) -> None:
    text = 'title: T\nprogramme: esbjerg-2011\ntier: "\\e[31mred\\x07"\ntarget_groups: ["\\e]0;x\\x07"]\n'
    report = validate_one(text, "x.yaml", kb)
    assert codes(report.errors) == ["unknown-concept", "unknown-concept"]
    jsonld = ('{"@context": {"ks": "https://w3id.org/kundskab/schema#"}, "@type": "ks:InitiativeDocument",'
              ' "ks:tier": "\\ud800\\u001b[2J"}')
    report_rdf = validate_one(jsonld, "x.jsonld", kb)
    assert "unknown-concept" in codes(report_rdf.errors)
    for problem in report.errors + report_rdf.errors:
        assert not re.search(r"[\x00-\x1f\x7f]", problem.message)
        problem.message.encode("utf-8")  # no lone surrogates


def test_deep_nesting_is_reported_not_crashed(kb: KnowledgeBase) -> None:
    deep = "[" * 5000 + "]" * 5000
    for name, text in (("d.yaml", f"title: {deep}\n"), ("d.jsonld", deep),
                       ("d.ttl", "<a> <b> " + "(" * 5000 + ")" * 5000 + " .")):
        report = validate_one(text, name, kb)
        assert not report.valid, name


def test_rdf_document_needs_exactly_one_initiative(kb: KnowledgeBase) -> None:
    two = ("@prefix ks: <https://w3id.org/kundskab/schema#> .\n"
           "<#a> a ks:InitiativeDocument .\n<#b> a ks:InitiativeDocument .\n")
    report = validate_one(two, "two.ttl", kb)
    assert codes(report.errors) == ["parse-error"] and "2" in report.errors[0].message


def test_rdf_literals_are_names_too(kb: KnowledgeBase) -> None:
    ttl = ("@prefix ks: <https://w3id.org/kundskab/schema#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n"
           '<#a> a ks:Intervention ; dct:title "Cykelkontrol" ; ks:partOfProgramme "Esbjerg 2011" ;\n'
           '  ks:tier "Generel indsats" ; ks:targetGroup "trafikanter" , <https://example.org/x> .\n')
    report = validate_one(ttl, "lit.ttl", kb)
    assert report.programme == "esbjerg-2011"
    assert codes(report.errors) == ["unknown-concept"]
    assert "https://example.org/x" in report.errors[0].message


# ---------------------------------------------------------------------------- runs


def test_one_shacl_pass_per_run(tmp_path: Path, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyshacl

    calls: list[int] = []
    real = pyshacl.validate

    def counting(data_graph: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(data_graph))
        return real(data_graph, *args, **kwargs)

    monkeypatch.setattr(pyshacl, "validate", counting)
    for i in range(12):
        (tmp_path / f"d{i}.md").write_text(VALID_MD.replace("klubber", f"klubber {i}"), "utf-8")
    report = validate([tmp_path], kb)
    assert len(report.files) == 12 and report.ok
    assert len(calls) == 1


def test_folders_are_recursive_and_skip_other_and_hidden_files(tmp_path: Path, kb: KnowledgeBase) -> None:
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "sub" / "deeper" / "a.md").write_text(VALID_MD, "utf-8")
    (tmp_path / "sub" / "notes.txt").write_text("not a document", "utf-8")
    (tmp_path / ".hidden.md").write_text("garbage", "utf-8")
    (tmp_path / ".git" / "b.md").write_text("garbage", "utf-8")
    report = validate([tmp_path], kb)
    assert [Path(f.file).name for f in report.files] == ["a.md"]
    explicit = validate([tmp_path / "sub" / "notes.txt"], kb)
    assert codes(explicit.files[0].errors) == ["unsupported-format"]


def test_missing_path_is_an_error_not_a_report(tmp_path: Path, kb: KnowledgeBase) -> None:
    with pytest.raises(DocumentError):
        validate([tmp_path / "nope.md"], kb)


def test_warnings_never_make_a_document_invalid(kb: KnowledgeBase) -> None:
    text = VALID_MD.replace("Fri tekst.", "Bander, effektmåling og [udfyld: noget]\n") + ""
    report = validate_one(text.replace("tier: general", "tier: general\nbudget: 3"), "w.md", kb)
    assert report.valid
    assert {"suggested-principle", "unfilled-placeholder", "unknown-field"} <= set(codes(report.warnings))


def test_english_messages(kb: KnowledgeBase) -> None:
    report = validate_one("title: T\nprogramme: sikker-by-2018\ntier: general\n"
                               "target_groups: [school-age-youth]\n", "e.yaml", kb, lang="en")
    messages = " ".join(e.message for e in report.errors)
    assert "requires at least 3" in messages and "must be 'yearly'" in messages


def test_english_label_does_not_fire_in_danish_text(kb: KnowledgeBase) -> None:
    text = VALID_MD.replace("Fri tekst.", "Vi mødes en gang om ugen, og det er der stor opbakning til.")
    assert not any(w.code == "suggested-principle" for w in validate_one(text, "g.md", kb).warnings)
    english = VALID_MD.replace("Fri tekst.", "The club works with the gang unit of the police and the schools.")
    warned = validate_one(english, "g.md", kb).warnings
    assert any(w.code == "suggested-principle" and "(gangs)" in w.message for w in warned)


# ---------------------------------------------------------------------------- matching


def test_stemming_and_compounds() -> None:
    assert stem("samarbejdet") == stem("samarbejde") == stem("samarbejder") == "samarbejd"
    assert stem("bander") == stem("bande") == "band"
    assert stem("unge") == "ung" and stem("ing") == "ing"  # never below three letters
    index = TermIndex([Term.of("gangs", "Bander", "da"), Term.of("collaboration", "på tværs", "da"),
                       Term.of("knowledge", "Viden", "da")])
    found = index.find(tokens("Indsatsen mod bandekriminalitet går på tværs af forvaltninger. Videre."),
                       frozenset({"da"}))
    assert set(found) == {"gangs", "collaboration"}  # "Videre" is not "viden": short stems match whole
    assert found["gangs"][0].words == "bandekriminalitet"
    assert found["collaboration"][0].words == "på tværs"


def test_language_guess() -> None:
    assert guess_languages(tokens("Vi og de andre er med i det")) == {"da"}
    assert guess_languages(tokens("We and the others are in it for the long run")) == {"en"}
    assert guess_languages(tokens("SSP")) == {"da", "en"}


# ---------------------------------------------------------------------------- programmes as data

SIKKER_BY_2019 = """
@prefix ks:   <https://w3id.org/kundskab/schema#> .
@prefix kb:   <https://w3id.org/kundskab/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct:  <http://purl.org/dc/terms/> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .

kb:sikker-by-2019 a ks:Programme ;
    skos:prefLabel "Sikker By 2019"@da , "Safe City 2019"@en ;
    skos:definition "The 2019 revision of Copenhagen's Safe City strategy, with a sixth principle."@en ;
    ks:year "2019"^^xsd:gYear ; ks:supersedes kb:sikker-by-2018 ;
    ks:includes kb:collaboration , kb:knowledge , kb:youth-at-risk , kb:gangs , kb:local-areas ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 3 Formål" .

kb:extremism a ks:Principle ;
    ks:ofProgramme kb:sikker-by-2019 ; ks:principleNumber 6 ;
    skos:prefLabel "Ekstremisme"@da , "Extremism"@en ;
    skos:altLabel "radikalisering"@da , "radicalisation"@en ;
    skos:definition "Prevent extremism and radicalisation among young people."@en ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 3 Formål" .

kb:sikker-by-2019-min-principles a ks:Requirement ;
    ks:ofProgramme kb:sikker-by-2019 ;
    skos:prefLabel "Mindst tre af de seks principper"@da , "At least three of the six principles"@en ;
    skos:definition "An initiative is expected to support at least three of the six principles."@en ;
    ks:field "principles" ; ks:valuesFrom ks:Principle ; ks:minCount 3 ; ks:errorCode "too-few-principles" ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 6 Fokus på viden" .

kb:sikker-by-2019-yearly-follow-up a ks:Requirement ;
    ks:ofProgramme kb:sikker-by-2019 ;
    skos:prefLabel "Årlig effektopfølgning 2019"@da , "Yearly effect follow-up 2019"@en ;
    skos:definition "Initiatives must follow up on their effect every year."@en ;
    ks:field "effect_follow_up" ; ks:requiredValue "yearly" ; ks:errorCode "missing-effect-follow-up" ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 6 Fokus på viden" .
"""

DOC_2019 = """---
title: Dialogforløb mod radikalisering
programme: {programme}
tier: specific
target_groups: [radicalisation-at-risk]
principles:
  extremism: Forløbet forebygger radikalisering blandt unge.
  collaboration: Infohuset og SSP samarbejder om forløbet.
{third}{follow_up}---
"""


def test_a_new_programme_version_is_turtle_only(ontology_copy: Path, kb: KnowledgeBase,
                                                runner: CliRunner) -> None:
    (ontology_copy / "concepts" / "sikker-by-2019.ttl").write_text(SIKKER_BY_2019, "utf-8")
    kb2019 = KnowledgeBase.load(ontology_copy)

    def check(programme: str, third: bool = True, follow_up: bool = True,
              knowledge: KnowledgeBase = kb2019) -> FileReport:
        text = DOC_2019.format(
            programme=programme,
            third="  youth-at-risk: Unge i risiko for at blive radikaliseret.\n" if third else "",
            follow_up="effect_follow_up: yearly\n" if follow_up else "")
        return validate_one(text, "d.md", knowledge)

    good = check("sikker-by-2019")
    assert good.valid, good.errors
    assert good.principles == ["extremism", "collaboration", "youth-at-risk"]
    assert codes(check("Sikker By 2019", third=False).errors) == ["too-few-principles"]
    assert codes(check("sikker-by-2019", follow_up=False).errors) == ["missing-effect-follow-up"]
    # The sixth principle is not one of 2018's, in the new knowledge base or the bundled one.
    assert codes(check("sikker-by-2018").errors) == ["principle-of-other-programme", "too-few-principles"]
    assert codes(check("sikker-by-2018", knowledge=kb).errors) == ["too-few-principles", "unknown-concept"]
    # The knowledge base with the new programme is still sound.
    from kundskab.knowledge.check import shacl_issues

    assert shacl_issues(ontology_copy) == []
    # And the template follows.
    from kundskab.documents.templates import document_template

    template = document_template(kb2019, "sikker-by-2019")
    assert "extremism" in template and "Mindst tre af de seks principper" in template
    filled = re.sub(r"\[udfyld: ([^\]]*)\]", r"Udfyldt: \1", template)
    assert validate_one(filled, "t.md", kb2019).valid


def test_a_changed_requirement_is_data(ontology_copy: Path) -> None:
    programmes = ontology_copy / "concepts" / "programmes.ttl"
    text = programmes.read_text("utf-8")
    assert 'ks:minCount 3 ; ks:errorCode "too-few-principles"' in text
    programmes.write_text(text.replace('ks:minCount 3 ; ks:errorCode "too-few-principles"',
                                       'ks:minCount 4 ; ks:errorCode "too-few-principles"'), "utf-8")
    stricter = KnowledgeBase.load(ontology_copy)
    assert codes(validate_one(VALID_MD, "v.md", stricter).errors) == ["too-few-principles"]


def test_tier_bounds_are_data(ontology_copy: Path) -> None:
    text = VALID_MD.replace("[school-age-youth]", "[parents]")
    groups = ontology_copy / "concepts" / "target-groups.ttl"
    source = groups.read_text("utf-8")
    marker = "kb:parents a ks:SituationGroup ;\n"
    assert marker in source
    groups.write_text(source.replace(marker, marker + "    ks:minTier kb:individual ;\n"), "utf-8")
    assert codes(validate_one(text, "p.md", KnowledgeBase.load(ontology_copy)).errors) == [
        "inconsistent-tier"]


def test_no_programme_is_named_in_the_validation_code(kb: KnowledgeBase) -> None:
    package = Path(__file__).resolve().parent.parent / "kundskab"
    code = "".join((package / name).read_text("utf-8")
                   for name in ("documents/validation.py", "documents/reading.py", "documents/templates.py",
                                "documents/matching.py"))
    for concept in kb.of_type("Programme") + kb.of_type("Principle") + kb.of_type("SubGoal"):
        assert f'"{concept.id}"' not in code, concept.id


# ---------------------------------------------------------------------------- CLI


def test_cli_exit_codes(tmp_path: Path, runner: CliRunner) -> None:
    good = tmp_path / "good.md"
    good.write_text(VALID_MD, "utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text(VALID_MD.replace("effect_follow_up: yearly\n", ""), "utf-8")
    assert runner.invoke(main, ["validate", str(good)]).exit_code == 0
    assert runner.invoke(main, ["validate", str(good), str(bad)]).exit_code == 1
    missing = runner.invoke(main, ["validate", str(tmp_path / "nope.md")])
    assert missing.exit_code == 2 and "nope.md" in missing.output
    assert runner.invoke(main, ["validate"]).exit_code == 2
    assert runner.invoke(main, ["validate", str(good), "--format", "xml"]).exit_code == 2


def test_cli_json_is_the_contract(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "a.md").write_text(VALID_MD, "utf-8")
    (tmp_path / "b.md").write_text(VALID_MD.replace("  local-areas: Klubber i de mest utrygge bydele "
                                                    "prioriteres.\n", ""), "utf-8")
    result = runner.invoke(main, ["validate", str(tmp_path), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"]["valid"] == 1 and data["summary"]["invalid"] == 1
    first, second = data["files"]
    assert {"file", "valid", "programme", "principles", "errors", "warnings"} <= set(first)
    assert first["file"].endswith("a.md") and first["valid"] is True
    assert first["programme"] == "sikker-by-2018"
    assert first["principles"] == ["collaboration", "youth-at-risk", "local-areas"]
    (error,) = second["errors"]
    assert set(error) >= {"code", "message", "line"}
    assert error["code"] == "too-few-principles" and error["line"] == 6


def test_cli_text_has_a_summary_for_a_folder_and_lines(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "a.md").write_text(VALID_MD, "utf-8")
    (tmp_path / "b.yaml").write_text("title: x\n", "utf-8")
    result = runner.invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "2 dokumenter: 1 gyldige, 1 ugyldige" in result.stdout
    assert re.search(r"b\.yaml:1: fejl \[missing-field\]", result.stdout)
    english = runner.invoke(main, ["validate", str(tmp_path), "--lang", "en"])
    assert "2 documents: 1 valid, 1 invalid" in english.stdout
    single = runner.invoke(main, ["validate", str(tmp_path / "a.md")])
    assert single.exit_code == 0 and "dokumenter" not in single.stdout


def test_cli_reports_unsupported_explicit_file(tmp_path: Path, runner: CliRunner) -> None:
    path = tmp_path / "x.rdf"
    path.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', "utf-8")
    result = runner.invoke(main, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["files"][0]["errors"][0]["code"] == "unsupported-format"


# ---------------------------------------------------------------------------- template


@pytest.mark.parametrize("programme", ["sikker-by-2018", "tryg-i-aarhus-2017", "vestegn-2013",
                                       "esbjerg-2011", "nordjylland-2020"])
def test_template_lists_every_required_field_and_validates(programme: str, kb: KnowledgeBase,
                                                           runner: CliRunner) -> None:
    result = runner.invoke(main, ["template", programme])
    assert result.exit_code == 0
    text = result.stdout
    front = yaml.safe_load(text.split("---\n")[1])
    required = {"title", "programme", "tier", "target_groups"}
    required |= {r.value("field") for r in kb.of_type("Requirement") if programme in r.ref("ofProgramme")}
    assert required <= set(front)
    assert front["programme"] == programme
    # Unfilled, the template is not a finished document: the title is a placeholder.
    report = validate_one(text, "template.md", kb)
    assert not report.valid
    assert set(codes(report.errors)) == {"unfilled-placeholder"}
    assert any(p.field == "title" for p in report.errors)
    # Filled in, it is valid and has no warning about placeholders left.
    filled = re.sub(r"\[udfyld: ([^\]]*)\]", r"Udfyldt: \1", text)
    done = validate_one(filled, "filled.md", kb)
    assert done.valid, done.errors
    assert "unfilled-placeholder" not in codes(done.warnings)


def test_unfilled_template_fails_validate_on_the_command_line(tmp_path: Path, runner: CliRunner) -> None:
    # Regression: the unfilled template validated as "gyldig" with exit 0.
    path = tmp_path / "ny.md"
    assert runner.invoke(main, ["template", "sikker-by-2018", "-o", str(path)]).exit_code == 0
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "ugyldig" in result.stdout and "unfilled-placeholder" in result.stdout


def test_template_lists_the_programmes_principles(runner: CliRunner) -> None:
    text = runner.invoke(main, ["template", "Sikker By"]).stdout
    for principle in ("collaboration", "knowledge", "youth-at-risk", "gangs", "local-areas"):
        assert principle in text
    assert "effect_follow_up: yearly" in text


def test_template_output_file_and_unknown_programme(tmp_path: Path, runner: CliRunner) -> None:
    target = tmp_path / "ny.md"
    assert runner.invoke(main, ["template", "tryg-i-aarhus-2017", "-o", str(target)]).exit_code == 0
    assert "subgoals:" in target.read_text("utf-8")
    again = runner.invoke(main, ["template", "tryg-i-aarhus-2017", "-o", str(target)])
    assert again.exit_code == 2
    assert runner.invoke(main, ["template", "tryg-i-aarhus-2017", "-o", str(target), "--force"]).exit_code == 0
    unknown = runner.invoke(main, ["template", "sikker-by"])
    assert unknown.exit_code == 2 and "sikker-by-2018" in unknown.output
    as_json = json.loads(runner.invoke(main, ["template", "Tryg i Aarhus", "--format", "json"]).stdout)
    assert as_json["programme"] == "tryg-i-aarhus-2017" and "subgoals:" in as_json["template"]


# ---------------------------------------------------------------------------- reading


def test_parse_document_keeps_body_and_lines() -> None:
    document = parse_document(VALID_MD, "x.md")
    assert document.format == "markdown" and document.body == "Fri tekst.\n"
    assert document.body_line == 12
    assert document.fields["principles"].line == 6
    assert document.fields["principles"].item_lines == (7, 8, 9)


def test_read_document_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(DocumentError) as caught:
        read_document(fifo)
    assert caught.value.code == "parse-error"


def test_the_report_is_the_same_in_every_process() -> None:
    # pySHACL gives its results in hash-set order; the report must not follow it.
    import os
    import subprocess
    import sys

    documents = str(Path(__file__).parent / "documents")
    outputs = {subprocess.run([sys.executable, "-m", "kundskab", "validate", documents, "--strict", "--format", "json"],
                              capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2", "3")}
    assert len(outputs) == 1 and '"missing-field"' in outputs.pop()
