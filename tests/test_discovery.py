"""Finding what can be asked: `list`, `search`, `show` of a risk domain, suggestions of the
kind asked for, shell completion of ids, and the adaptive interview."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kundskab import KnowledgeBase
from kundskab.edges.cli import main
from kundskab.errors import UnknownKindError
from kundskab.knowledge.browse import kind_class, list_concepts, search


def run(runner: CliRunner, *args: str, input: str | None = None, env: dict[str, str] | None = None
        ) -> tuple[int, str, str]:
    result = runner.invoke(main, list(args), input=input, env=env, prog_name="kundskab")
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_kinds_accept_plural_singular_and_class_names(kb: KnowledgeBase) -> None:
    assert kind_class(kb, "factors") == kind_class(kb, "factor") == "Factor"
    assert kind_class(kb, "fora") == kind_class(kb, "Forum") == "Forum"
    assert kind_class(kb, "crime-types") == kind_class(kb, "Crime types") == "CrimeType"
    assert kind_class(kb, "RiskFactor") == "RiskFactor"
    with pytest.raises(UnknownKindError) as caught:
        kind_class(kb, "bogus")
    assert "factors" in caught.value.kinds


def test_factors_are_listed_domain_by_domain(kb: KnowledgeBase) -> None:
    items = list_concepts(kb, "factors", "en")
    assert {i["id"] for i in items} == {c.id for c in kb.of_type("Factor")}
    domains = [i["domain"] for i in items]
    assert domains == sorted(domains, key=lambda d: (d is None, d or ""))  # grouped
    truancy = next(i for i in items if i["id"] == "truancy")
    assert truancy["domain"] == "school" and truancy["label"] == kb.label("truancy", "en")


def test_list_cli_text_and_json(runner: CliRunner, kb: KnowledgeBase) -> None:
    code, out, _ = run(runner, "list", "factors")
    assert code == 0
    lines = out.splitlines()
    school = lines.index(f"{kb.label('school', 'da')} [school]")
    assert any(line.split() == ["truancy", *kb.label("truancy", "da").split()] for line in lines[school:])
    code, out, _ = run(runner, "list", "fora", "--format", "json")
    assert code == 0 and {"ssp", "youth-sanction-council"} <= {i["id"] for i in json.loads(out)}
    code, out, _ = run(runner, "list", "--format", "json")
    assert code == 0 and {"factors", "fora", "programmes", "crime-types"} <= {k["kind"] for k in json.loads(out)}
    code, _, err = run(runner, "list", "bogus")
    assert code == 2 and "factors" in err


def test_search_ranks_names_before_definitions(kb: KnowledgeBase) -> None:
    found = search(kb, "ungesamraad", "da")
    assert found[0]["id"] == "youth-sanction-council" and found[0]["matched"] == "name"
    ids = [i["id"] for i in search(kb, "bande", "da")]
    assert "gang-council" in ids and "gang-member" in ids
    assert [i["matched"] for i in search(kb, "bande")] == sorted(
        [i["matched"] for i in search(kb, "bande")], key=lambda m: m == "definition")
    assert {i["type"] for i in search(kb, "skole", kind="factors")} <= {"RiskFactor", "ProtectiveFactor"}
    assert search(kb, "   ") == []


def test_search_cli_exits_1_when_nothing_matches(runner: CliRunner) -> None:
    code, out, _ = run(runner, "search", "Ungesamråd", "--format", "json")
    assert code == 0 and json.loads(out)[0]["id"] == "youth-sanction-council"
    code, out, _ = run(runner, "search", "zzzqqq")
    assert code == 1 and out == ""


def test_show_a_risk_domain_lists_its_factors(runner: CliRunner, kb: KnowledgeBase) -> None:
    code, out, _ = run(runner, "show", "family", "--format", "json")
    expected = {c.id for c in kb.of_type("Factor") if "family" in c.ref("inDomain")}
    assert code == 0 and {f["id"] for f in json.loads(out)["factors"]} == expected
    code, out, _ = run(runner, "show", "family", "--lang", "en")
    assert code == 0 and "Factors:" in out and kb.label("family-problems", "en") in out


def test_a_kind_given_to_show_points_at_list(runner: CliRunner) -> None:
    # Regression: `show RiskFactor` suggested 'parents-actor'.
    code, _, err = run(runner, "show", "RiskFactor")
    assert code == 2 and "kundskab list factors" in err and "parents-actor" not in err


def test_suggestions_are_of_the_kind_asked_for(runner: CliRunner, kb: KnowledgeBase) -> None:
    code, _, err = run(runner, "recommend", "--age", "15", "--factor", "truancyy")
    assert code == 2 and "truancy" in err.replace("truancyy", "")
    code, _, err = run(runner, "interventions", "--forum", "ssp-plu")
    assert code == 2 and "ssp-plus" in err
    suggested = kb.suggest("family problem", "Factor")
    assert suggested and all(kb.get(s).is_a("Factor") for s in suggested)


def complete(runner: CliRunner, line: str) -> list[str]:
    words = line.split(" ")
    env = {"_KUNDSKAB_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    result = runner.invoke(main, [], env=env, prog_name="kundskab")
    return [row.split(",", 1)[1] for row in result.output.splitlines()]


def test_shell_completion_offers_ids_of_the_right_kind(runner: CliRunner, kb: KnowledgeBase) -> None:
    shown = complete(runner, "kundskab show youth-s")
    assert "youth-sanction-council" in shown and all(i.startswith("youth-s") for i in shown)
    assert shown == sorted(c.id for c in kb if c.id.startswith("youth-s"))
    factors = complete(runner, "kundskab recommend --factor ")
    assert set(factors) == {c.id for c in kb.of_type("Factor")}
    assert complete(runner, "kundskab interventions --forum ssp") == ["ssp", "ssp-plus"]
    assert complete(runner, "kundskab template sikker") == ["sikker-by-2018"]
    assert "factors" in complete(runner, "kundskab list fa")


# ------------------------------------------------------------------ the interview


def test_interview_asks_only_what_would_change_the_answer(runner: CliRunner, recommender) -> None:  # type: ignore[no-untyped-def]
    first = recommender.recommend({"age": 4}, lang="da").open_questions[0]
    # A bad age is refused at once, before any factor is asked; then "ved ikke" to all.
    code, out, err = run(runner, "recommend", "--interview", "--format", "json", input="fire\n4\n" + "\n" * 60)
    assert code == 0
    assert err.index("Alderen er et helt antal år") < err.index(first.label)
    asked = err.count("[ja/nej/ved ikke]")
    assert 0 < asked < len(recommender.kb.of_type("RiskFactor"))
    assert json.loads(out)["tier"] == recommender.recommend({"age": 4}).tier


def test_interview_follows_the_answers(runner: CliRunner, recommender) -> None:  # type: ignore[no-untyped-def]
    first = recommender.recommend({"age": 15}, lang="en").open_questions[0]
    code, out, err = run(runner, "recommend", "--interview", "--lang", "en", "--format", "json",
                         input="15\nyes\n" + "\n" * 60)
    assert code == 0
    data = json.loads(out)
    assert data["tier"] == recommender.recommend({"age": 15, "factors": [first.factor]}).tier
    # The answered factor is never asked again.
    assert err.count(f"{first.label}?") == 1


def test_interview_takes_14_aar_and_a_municipality(runner: CliRunner, recommender) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(runner, "recommend", "--interview", "--municipality", "Aalborg", "--format", "json",
                         input="14 år\n" + "\n" * 60)
    assert code == 0 and "Alderen er et helt antal år" not in err
    assert json.loads(out)["tier"] == recommender.recommend({"age": 14, "municipality": "aalborg"}).tier


def test_interview_and_flags_take_an_age_group_where_the_age_is_unknown(runner: CliRunner, recommender) -> None:  # type: ignore[no-untyped-def]
    # A word the interview cannot read is asked again, with the groups it can.
    code, out, err = run(runner, "recommend", "--interview", "--municipality", "Odense", "--format", "json",
                         input="et barn\nskolebørn\n" + "\n" * 60)
    assert code == 0 and "eller en aldersgruppe: Børn under skolealderen, Børn og unge i skolealderen" in err
    refusal = next(line for line in err.splitlines() if "eller en aldersgruppe" in line)
    assert "et barn" not in refusal.split("ved ikke):")[-1]  # the answer typed is not repeated (CliRunner echoes it)
    answer = json.loads(out)
    assert answer == json.loads(recommender.recommend(
        {"municipality": "odense", "age_group": "school-age-youth"}).to_json())
    code, out, _ = run(runner, "recommend", "--age-group", "school-age-youth", "--factor", "street-group",
                       "--format", "json")
    assert code == 0 and json.loads(out)["fora"] == ["ssp"]
    code, out, err = run(runner, "recommend", "--age", "31", "--age-group", "school-age-youth", "--format", "json")
    assert code == 2 and "31" not in out + err and json.loads(out)["error"]["code"] == "invalid-case"
    code, _, err = run(runner, "recommend", "--age-group", "teenagers")
    assert code == 2 and "teenagers" not in err and "Traceback" not in err


def test_interview_asks_whether_a_gang_member_wants_out_only_after_membership(runner: CliRunner) -> None:
    # "ja" to every question: wanting out is asked after being a member, never before.
    code, _, err = run(runner, "recommend", "--interview", input="20\n" + "ja\n" * 40)
    assert code == 0
    if "Ønsker at forlade bandemiljøet?" in err:
        assert err.index("Bandemedlem?") < err.index("Ønsker at forlade bandemiljøet?")


def test_interview_ends_with_exit_2_at_end_of_input(runner: CliRunner) -> None:
    code, out, err = run(runner, "recommend", "--interview", input="15\n")
    assert code == 2 and out == "" and "før alle spørgsmål var besvaret" in err


def test_rules_list_never_prints_none_for_an_open_age_bound(runner: CliRunner) -> None:
    # Regression: `rules list` printed "age: {min: 26, max: None}".
    code, out, _ = run(runner, "rules", "list")
    assert code == 0 and "None" not in out and "age: {min: 26}" in out


def test_an_unknown_name_that_is_no_kind_either_gets_suggestions(runner: CliRunner) -> None:
    code, _, err = run(runner, "show", "ungesamrd", "--lang", "en")
    assert code == 2 and "did you mean: youth-sanction-council" in err and "kind" not in err
    # Typed without å, the name is no misspelling: it is found.
    code, out, _ = run(runner, "show", "ungesamrad", "--lang", "en")
    assert code == 0 and "[youth-sanction-council]" in out
