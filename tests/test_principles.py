"""Principle support (rules/principles.yaml, kundskab.documents.principle_support), programme verdicts
(`check --programme`), and one home for a programme's parts (kundskab.knowledge.programmes).

Three kinds of support are kept apart: stated (the source or the document says so),
derived (a rule and the facts), claimed without ground (a warning, never counted).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kundskab import KnowledgeBase
from kundskab.documents.principle_support import (
    CANNOT_TELL,
    DERIVED,
    FALLS_SHORT,
    MEETS,
    NOT_GRADED,
    PLACED,
    STATED,
    assess_programme,
    deriver,
    initiative_facts,
    verdict_for_count,
)
from kundskab.edges.cli import main
from kundskab.errors import RuleError
from kundskab.reasoning.rules import Facts, RuleSet, initiative_fact
from tests.conftest import validate_one

RULES = Path(__file__).resolve().parent.parent / "rules" / "principles.yaml"
SIKKER_BY = "sikker-by-2018"
PRINCIPLES = ["collaboration", "knowledge", "youth-at-risk", "gangs", "local-areas"]


@pytest.fixture(scope="module")
def principle_rules(kb: KnowledgeBase) -> RuleSet:
    return RuleSet.load(kb, applies_to="initiatives")


def fact_vocabulary(rules: RuleSet) -> list[str]:
    """Every fact some principle rule reads, plus facts none reads (they must do nothing)."""
    read = sorted({i for r in rules for c in r.conditions for i in c.ids})
    return [*read, "actor:police", "target-group:elderly-citizens", "factor:truancy"]


def initiative_facts_of(known: frozenset[str]):  # type: ignore[no-untyped-def]
    from kundskab.documents.principle_support import InitiativeFacts

    return InitiativeFacts(known)


# ---------------------------------------------------------------------------- the rules


def test_principle_rules_are_their_own_rule_set(kb: KnowledgeBase, principle_rules: RuleSet,
                                                ruleset: RuleSet) -> None:
    assert principle_rules.applies_to == "initiatives"
    assert {k for r in principle_rules for k, _ in r.conclusions} == {"principle"}
    assert not {r.id for r in principle_rules} & {r.id for r in ruleset}
    assert all(k != "principle" for r in ruleset for k, _ in r.conclusions)
    # Every principle of the strategy can be concluded, and every rule cites the chapter of
    # the strategy about the principle it concludes.
    concluded = {i for r in principle_rules for _, i in r.conclusions}
    assert concluded == set(PRINCIPLES)
    for rule in principle_rules:
        principle = kb.get(rule.conclusions[0][1])
        chapters = {s.section for s in principle.sources} | {"s. 6 Effektmåling"}
        assert rule.source.startswith("003_6b7c798122e4c5f5.txt#"), rule.id
        assert rule.source.split("#", 1)[1] in chapters, rule.id
        assert rule.because["da"] and rule.because["en"]
    with pytest.raises(RuleError):
        principle_rules.ranking  # noqa: B018 - the rules about initiatives rank nothing


def test_initiative_facts_are_checked_when_rules_load(kb: KnowledgeBase, tmp_path: Path) -> None:
    assert initiative_fact(kb, "actor:Politiet") == "actor:police"
    for bad in ("colour:red", "actor:nobody-at-all", "effect-follow-up:weekly", "police"):
        with pytest.raises(RuleError):
            initiative_fact(kb, bad)
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "p.yaml").write_text(RULES.read_text("utf-8").replace("factor:gang-member,", "factor:gang-membr,"),
                                   "utf-8")
    with pytest.raises(RuleError, match=r"p\.yaml"):
        RuleSet.load(kb, folder, applies_to="initiatives")


def test_engine_and_reference_evaluator_agree(principle_rules: RuleSet) -> None:
    vocabulary = fact_vocabulary(principle_rules)
    for size in range(0, len(vocabulary), 3):
        facts = Facts(None, frozenset(vocabulary[size:size + 4]))
        state, _ = principle_rules.closure(facts)
        fired = {i for f in deriver(principle_rules.kb).run(facts.true) for _, i in f.rule.conclusions}
        assert fired == state.derived.get("principle", set())


def test_sectors_count_a_municipal_service_and_its_municipality_once(kb: KnowledgeBase) -> None:
    assert "sectors:several" not in initiative_facts(kb, actors=["municipality", "youth-clubs"]).known
    assert "sectors:several" in initiative_facts(kb, actors=["municipality", "police"]).known
    assert "sectors:several" in initiative_facts(kb, actors=["schools", "social-services"]).known
    assert "forum-sectors:several" in initiative_facts(kb, fora=["ssp"]).known
    # Unknown partners might be of several sectors; known ones of one sector are not.
    assert "sectors:several" in initiative_facts(kb, actors=[], actors_known=False).unknown
    assert "sectors:several" not in initiative_facts(kb, actors=["police"]).unknown


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_adding_a_fact_never_removes_a_derived_principle(kb: KnowledgeBase, principle_rules: RuleSet,
                                                         data: st.DataObject) -> None:
    vocabulary = fact_vocabulary(principle_rules)
    facts = data.draw(st.frozensets(st.sampled_from(vocabulary)))
    more = data.draw(st.sampled_from(vocabulary))
    before = {s.id for s in deriver(kb).derive(initiative_facts_of(facts))}
    after = {s.id for s in deriver(kb).derive(initiative_facts_of(facts | {more}))}
    assert before <= after


# ---------------------------------------------------------------------------- documents

FACT_FIELDS = {
    "actors": ["municipality", "police", "schools", "social-services", "youth-clubs", "housing-associations"],
    "fora": ["ssp", "exit", "safety-partnership", "conflict-council"],
    "target_groups": ["school-age-youth", "at-risk-youth", "gang-members", "residents-of-vulnerable-areas",
                      "elderly-citizens"],
    "risk_factors": ["truancy", "street-group", "wants-to-leave-gang", "lives-in-vulnerable-area"],
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_claimed_principle_with_a_supporting_fact_is_never_flagged(kb: KnowledgeBase,
                                                                      data: st.DataObject) -> None:
    fields = {name: data.draw(st.lists(st.sampled_from(values), unique=True, max_size=3))
              for name, values in FACT_FIELDS.items()}
    fields["target_groups"] = fields["target_groups"] or ["school-age-youth"]
    follow_up = data.draw(st.sampled_from(["yearly", "every other year"]))
    claimed = data.draw(st.lists(st.sampled_from(PRINCIPLES), unique=True, min_size=1))
    document = {"title": "X", "programme": SIKKER_BY, "tier": "specific", **fields,
                "principles": claimed, "effect_follow_up": follow_up}
    report = validate_one(yaml.safe_dump(document, allow_unicode=True), "d.yaml", kb)
    facts = initiative_facts(kb, actors=fields["actors"], fora=fields["fora"],
                             target_groups=fields["target_groups"], factors=fields["risk_factors"],
                             effect_follow_up=follow_up)
    supported = {s.id for s in deriver(kb).derive(facts)}
    flagged = {p for p in claimed if f"({p})" in " ".join(w.message for w in report.warnings
                                                          if w.code == "unjustified-principle")}
    assert not flagged & supported
    # And each claim the facts back is reported as derived support, with its rule.
    derived = {s.id for s in report.support if s.support == DERIVED}
    assert derived == supported & set(claimed)
    assert all(s.rule for s in report.support if s.support == DERIVED)
    # What the facts support and the document does not claim is suggested.
    assert {s.id for s in report.suggestions} == supported - set(claimed)


def test_document_grounds_are_kept_apart(kb: KnowledgeBase) -> None:
    text = """---
title: Weekendklub
programme: sikker-by-2018
tier: general
target_groups: [school-age-youth]
actors: [youth-clubs, police]
principles:
  youth-at-risk: Klubben holder åbent, når de unge ellers samles på gaden.
  collaboration:
  gangs:
effect_follow_up: yearly
---
"""
    report = validate_one(text, "k.md", kb)
    kinds = {(s.id, s.support) for s in report.support}
    assert ("youth-at-risk", STATED) in kinds  # its own justification, with the line
    assert next(s for s in report.support if s.id == "youth-at-risk").line == 8
    assert ("collaboration", DERIVED) in kinds  # clubs and police: two sectors
    assert ("gangs", "claimed") in kinds
    assert [w.code for w in report.warnings] == ["unjustified-principle"]
    assert [s.id for s in report.suggestions] == ["knowledge"]  # yearly follow-up


def test_unjustified_subgoal_does_not_fire_on_the_documents_own_justification(kb: KnowledgeBase) -> None:
    # Regression: the justification used none of the sub-goal's words, so it was ignored.
    text = """---
title: Nabohjælp
programme: tryg-i-aarhus-2017
tier: general
target_groups: [residents-of-vulnerable-areas]
subgoals:
  less-fear-of-crime: Beboerne ved, hvem de kan ringe til om aftenen.
  fewer-reported-crimes:
evidence: documented
---
"""
    report = validate_one(text, "n.md", kb)
    assert report.valid
    assert [(w.code, w.line) for w in report.warnings] == [("unjustified-subgoal", 8)]


def test_validate_strict_makes_warnings_fail(tmp_path: Path, runner: CliRunner) -> None:
    path = tmp_path / "w.md"
    path.write_text("---\ntitle: Sommerlejr\nprogramme: sikker-by-2018\ntier: general\n"
                    "target_groups: [school-age-youth]\nprinciples: [collaboration, gangs, local-areas]\n"
                    "effect_follow_up: yearly\n---\n", "utf-8")
    assert runner.invoke(main, ["validate", str(path)]).exit_code == 0
    strict = runner.invoke(main, ["validate", "--strict", str(path), "--format", "json"])
    assert strict.exit_code == 1
    data = json.loads(strict.stdout)
    assert data["strict"] is True and data["files"][0]["valid"] is True
    good = tmp_path / "g.yaml"
    good.write_text(yaml.safe_dump({
        "title": "Exitforløb", "programme": SIKKER_BY, "tier": "individual",
        "target_groups": ["gang-members"], "actors": ["municipality", "police"], "fora": ["exit"],
        "principles": ["collaboration", "gangs", "knowledge"], "effect_follow_up": "yearly"}), "utf-8")
    assert runner.invoke(main, ["validate", "--strict", str(good)]).exit_code == 0


# ---------------------------------------------------------------------------- verdicts


@given(count=st.integers(0, 9), possible=st.integers(0, 9), needed=st.integers(0, 9))
def test_verdict_is_the_count_against_the_requirement(count: int, possible: int, needed: int) -> None:
    verdict = verdict_for_count(count, possible, needed)
    assert (verdict == MEETS) == (count >= needed)
    assert (verdict == FALLS_SHORT) == (count + possible < needed)


def test_every_sikker_by_initiative_gets_a_verdict_with_its_evidence(kb: KnowledgeBase) -> None:
    assessment = assess_programme(kb, SIKKER_BY, "en")
    rows = assessment.initiatives
    assert len(rows) == len(kb.interventions(programme=[SIKKER_BY])) >= 39
    for row in rows:
        assert row.verdict in (MEETS, FALLS_SHORT, CANNOT_TELL, NOT_GRADED) and row.why
        counted = set(row.counted()) & set(PRINCIPLES)
        concept = kb.get(row.id)
        if row.verdict == NOT_GRADED:
            # Listed apart: the programme's own follow-up, a measuring tool, core police work,
            # another strategy's measure (kind or ks:outsideRequirements), or only an example.
            assert row.outside or "example" in concept.all_values("status"), row.id
            assert row.in_scope is False
            continue
        # The verdict is the count of placed, stated and derived principles against the three.
        assert (row.verdict == MEETS) == (len(counted) >= 3), row.id
        for support in row.principles:
            if support.support == STATED:
                assert support.source and "003_6b7c798122e4c5f5.txt#" in support.source
            elif support.support == DERIVED:
                assert support.rule and support.because, row.id
            elif support.support == PLACED:  # the chapter, cited with its page
                assert support.source and re.search(r"003_6b7c798122e4c5f5\.txt#s\. \d+ ", support.source)
        if row.verdict == FALLS_SHORT:
            # Only on complete evidence: the source describes the initiative fully.
            assert concept.value("fullyDescribed") == "true", row.id
        # In scope only where the source states the funding (ks:fundedBy); unknown funding
        # is said so, and only an initiative in scope can be a failure.
        if "example" in concept.all_values("status"):
            assert row.in_scope is False
        elif SIKKER_BY in concept.ref("fundedBy"):
            assert row.in_scope is True
        elif not concept.ref("fundedBy"):
            assert row.in_scope is None and "for information" in row.scope
        assert row.failure == (row.in_scope is True and row.verdict == FALLS_SHORT)
    failures = assessment.as_dict()["summary"]["failures"]
    assert failures == sum(1 for r in rows if r.failure)


def test_scope_follows_the_funding_the_source_states(ontology_copy: Path) -> None:
    (ontology_copy / "concepts" / "funding-test.ttl").write_text(
        "@prefix ks: <https://w3id.org/kundskab/schema#> .\n"
        "@prefix kb: <https://w3id.org/kundskab/id/> .\n"
        "kb:free-youth-club-copenhagen ks:fundedBy kb:sikker-by-2018 ; ks:fullyDescribed true .\n"
        "kb:outreach-street-work-copenhagen ks:fundedBy kb:sikker-by-2018 .\n"
        "kb:al-capone-cooperation-copenhagen ks:fundedBy kb:tryg-i-aarhus-2017 .\n", "utf-8")
    kb = KnowledgeBase.load(ontology_copy)
    rows = {r.id: r for r in assess_programme(kb, SIKKER_BY, "en").initiatives}
    funded, other = rows["free-youth-club-copenhagen"], rows["al-capone-cooperation-copenhagen"]
    # Funded and fully described: fewer than three shown is a real shortfall, a finding.
    assert funded.in_scope is True and funded.verdict == FALLS_SHORT and funded.failure
    # Funded but thinly described: fewer shown cannot be told from the source, no finding.
    thin = rows["outreach-street-work-copenhagen"]
    assert thin.in_scope is True and thin.verdict == CANNOT_TELL and not thin.failure
    assert other.in_scope is False and not other.failure and "for information" in other.scope
    assert other.verdict == NOT_GRADED


def test_aarhus_unknown_evidence_is_unknown_not_missing(kb: KnowledgeBase) -> None:
    rows = assess_programme(kb, "tryg-i-aarhus-2017", "en").initiatives
    unknown = [r for r in rows if kb.get(r.id).ref("evidence") == ("evidence-unknown",) and r.verdict != NOT_GRADED]
    assert unknown
    for row in unknown:
        assert row.verdict == CANNOT_TELL and not row.failure
        evidence = next(v for v in row.requirements if v.field == "evidence")
        assert evidence.verdict == CANNOT_TELL and "does not say" in evidence.why
    assert all(r.verdict != FALLS_SHORT for r in rows)


def test_an_inferred_catalogue_link_is_not_stated_support(ontology_copy: Path) -> None:
    path = ontology_copy / "catalogue" / "003-sikker-by-2018.ttl"
    path.write_text(path.read_text("utf-8") + (
        "\nkb:safety-partnership-noerrebro ks:supportsPrinciple kb:knowledge ;\n"
        "    ks:inferred [ ks:property ks:supportsPrinciple ; "
        'ks:value kb:knowledge ; skos:note "read from the chapter it is printed in"@en ] .\n'), "utf-8")
    kb = KnowledgeBase.load(ontology_copy)
    row = next(r for r in assess_programme(kb, SIKKER_BY, "en").initiatives
               if r.id == "safety-partnership-noerrebro")
    knowledge = [s for s in row.principles if s.id == "knowledge"]
    assert [s.support for s in knowledge] == ["claimed"] and "inference" in (knowledge[0].note or "")
    assert "knowledge" not in row.counted()


# ---------------------------------------------------------------------------- the report


def test_check_programme_text_json_and_csv_agree(runner: CliRunner, kb: KnowledgeBase) -> None:
    text = runner.invoke(main, ["check", "--programme", "Sikker By"])
    assert text.exit_code == 0
    lines = [line for line in text.stdout.splitlines() if line and line[0] in "✓✗?·"]
    rows = len(kb.interventions(programme=[SIKKER_BY]))
    assert len(lines) == rows
    data = json.loads(runner.invoke(main, ["check", "--programme", SIKKER_BY, "--format", "json"]).stdout)
    for row in data["initiatives"]:
        # A row outside the requirement is never marked ✗; ✗ only ever marks one in scope.
        if row["in_scope"] is not True:
            assert not any(line.startswith("✗") and f"[{row['id']}]" in line for line in lines)
    # Danish by default; the funding scope said once, at the top, not on every row.
    assert "kan ikke påvises ud fra kilden" in text.stdout
    assert text.stdout.count("Finansiering:") == 1
    assert text.stdout.index("Finansiering:") < text.stdout.index("Vurderet:")
    assert "til orientering" not in text.stdout
    english = runner.invoke(main, ["check", "--programme", SIKKER_BY, "--lang", "en"]).stdout
    assert "cannot be shown from the source" in english and "Funding:" in english
    assert data["programme"] == SIKKER_BY and len(data["initiatives"]) == rows
    for row in data["initiatives"]:
        assert {"id", "in_scope", "verdict", "principles"} <= set(row)
        ids = [p["id"] for p in row["principles"]]
        assert len(ids) == len(set(ids)), row["id"]  # one entry per principle, evidence within
        for principle in row["principles"]:
            assert principle["support"] in ("placed", "stated", "derived", "claimed")
            assert principle["evidence"] and all(e["id"] == principle["id"] for e in principle["evidence"])
            if principle["support"] == "derived":
                assert principle["rule"] and principle["because"]
            if principle["support"] in ("stated", "placed"):
                assert principle["source"]
    counts = data["summary"]["verdicts"]
    assert sum(counts.values()) == rows
    assert data["summary"]["funding_unknown"] is True
    bad = runner.invoke(main, ["check", "--programme", "no-such-programme"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert runner.invoke(main, ["check", "--format", "csv"]).exit_code == 2


# ---------------------------------------------------------------------------- programme parts

PREFIXES = """@prefix ks:   <https://w3id.org/kundskab/schema#> .
@prefix kb:   <https://w3id.org/kundskab/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct:  <http://purl.org/dc/terms/> .
"""

SIKKER_BY_2019 = PREFIXES + """
kb:sikker-by-2019 a ks:Programme ;
    skos:prefLabel "Sikker By 2019"@da , "Safe City 2019"@en ;
    skos:definition "Test data: a revision of the strategy with a sixth principle."@en ;
    ks:supersedes kb:sikker-by-2018 ;
    ks:includes kb:collaboration , kb:knowledge , kb:youth-at-risk , kb:gangs , kb:local-areas ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 3 Formål" .

kb:extremism a ks:Principle ;
    ks:ofProgramme kb:sikker-by-2019 ; ks:principleNumber 6 ;
    skos:prefLabel "Ekstremisme"@da , "Extremism"@en ;
    skos:definition "Test data: prevent extremism among young people."@en ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 3 Formål" .

kb:sikker-by-2019-min-principles a ks:Requirement ;
    ks:ofProgramme kb:sikker-by-2019 ;
    skos:prefLabel "Mindst tre af de seks principper"@da , "At least three of the six principles"@en ;
    skos:definition "Test data."@en ;
    ks:field "principles" ; ks:valuesFrom ks:Principle ; ks:minCount 3 ; ks:errorCode "too-few-principles" ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 6 Effektmåling" .

kb:test-initiative-2019 a ks:Intervention ;
    skos:prefLabel "Testindsats 2019"@da , "Test initiative 2019"@en ;
    skos:definition "Test data: an initiative of the 2019 programme stating three of the 2018 principles."@en ;
    ks:tier kb:specific ; ks:targetGroup kb:school-age-youth ; ks:evidence kb:evidence-unknown ;
    ks:supportsPrinciple kb:collaboration , kb:knowledge , kb:gangs ;
    ks:partOfProgramme kb:sikker-by-2019 ;
    ks:scope "person" ; ks:kind kb:help ; ks:status "running" ; ks:situation "at-risk" ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 3 Formål" .
"""

SEVEN = PREFIXES + """
kb:seven-principles a ks:Programme ;
    skos:prefLabel "Syv principper"@da , "Seven principles"@en ;
    skos:definition "Test data: a later strategy with seven principles, taking over the 2018 programme."@en ;
    ks:supersedes kb:sikker-by-2018 ; ks:includes kb:sikker-by-2018 ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 3 Formål" .
""" + "".join(f"""
kb:seventh-{n} a ks:Principle ;
    ks:ofProgramme kb:seven-principles ; ks:principleNumber {5 + n} ;
    skos:prefLabel "Princip {5 + n}"@da , "Principle {5 + n}"@en ;
    skos:definition "Test data."@en ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 3 Formål" .
""" for n in (1, 2)) + """
kb:seven-principles-min a ks:Requirement ;
    ks:ofProgramme kb:seven-principles ;
    skos:prefLabel "Mindst fire af de syv principper"@da , "At least four of the seven principles"@en ;
    skos:definition "Test data."@en ;
    ks:field "principles" ; ks:valuesFrom ks:Principle ; ks:minCount 4 ; ks:errorCode "too-few-principles" ;
    dct:source "003_6b7c798122e4c5f5.txt#s. 6 Effektmåling" .
"""


def _parts_everywhere(kb: KnowledgeBase, runner: CliRunner, programme: str) -> dict[str, list[str]]:
    from kundskab.documents.templates import document_template
    from kundskab.knowledge.browse import describe
    from kundskab.knowledge.programmes import parts

    template = document_template(kb, programme)
    front = template.split("---\n")[1]
    in_template = re.findall(r"^#?\s+([a-z0-9-]+): \"\[udfyld: hvordan", front, flags=re.M)
    return {
        "programmes": [p.id for p in parts(kb, programme, "Principle")],
        "show": [p["id"] for p in describe(kb, kb.get(programme))["principles"]],
        "template": in_template,
    }


def test_check_show_template_and_validate_agree_on_a_programmes_parts(ontology_copy: Path,
                                                                      runner: CliRunner) -> None:
    (ontology_copy / "concepts" / "sikker-by-2019.ttl").write_text(SIKKER_BY_2019, "utf-8")
    (ontology_copy / "concepts" / "seven.ttl").write_text(SEVEN, "utf-8")
    kb = KnowledgeBase.load(ontology_copy)
    from kundskab.knowledge.check import shacl_issues

    assert shacl_issues(ontology_copy) == []
    six = [*PRINCIPLES, "extremism"]
    for programme, expected in (("sikker-by-2019", six),
                                ("seven-principles", [*PRINCIPLES, "seventh-1", "seventh-2"])):
        found = _parts_everywhere(kb, runner, programme)
        assert {k: sorted(v) for k, v in found.items()} == {k: sorted(expected) for k in found}, programme
    # check: the 2019 initiative's three 2018 principles count ("0 of the required 3" before).
    row = assess_programme(kb, "sikker-by-2019").initiatives[0]
    assert row.id == "test-initiative-2019" and row.verdict == MEETS
    assert sorted(row.counted()) == ["collaboration", "gangs", "knowledge"]
    # validate: a document of each programme with the included principles is accepted.
    for programme, needed in (("sikker-by-2019", 3), ("seven-principles", 4)):
        claims = {p: "Indsatsen samarbejder, måler effekt og når unge i risiko." for p in
                  [*PRINCIPLES, "extremism"][:needed] if p != "extremism"}
        if programme == "seven-principles":
            claims["seventh-1"] = "Princip seks i den nye strategi."
        document = {"title": "T", "programme": programme, "tier": "specific",
                    "target_groups": ["school-age-youth"], "principles": claims}
        report = validate_one(yaml.safe_dump(document, allow_unicode=True), "d.yaml", kb)
        assert report.valid, (programme, report.errors)
        assert "too-few-principles" not in [e.code for e in report.errors]
    # show: a principle names every programme that has it.
    from kundskab.knowledge.browse import describe

    shown = [p["id"] for p in describe(kb, kb.get("gangs"))["programmes"]]
    assert shown == ["seven-principles", "sikker-by-2018", "sikker-by-2019"]


def test_principle_rules_cite_real_sections_in_their_own_words(principle_rules: RuleSet) -> None:
    from .conftest import seeds_or_skip

    seeds = seeds_or_skip()
    text = " ".join((seeds / "003_6b7c798122e4c5f5.txt").read_text("utf-8").split()).lower()
    words = re.findall(r"\w+", text)
    shingles = {tuple(words[i:i + 8]) for i in range(len(words) - 7)}
    for rule in principle_rules:
        heading = re.sub(r"^s\. \d+ ", "", rule.source.split("#", 1)[1]).lower()
        assert heading in text, rule.id
        for because in rule.because.values():
            w = re.findall(r"\w+", because.lower())
            assert not any(tuple(w[i:i + 8]) in shingles for i in range(len(w) - 7)), rule.id
