"""An SSP consultant's day at the command line (issue 21): ten everyday tasks, each as the
command a consultant would type after reading `--help`, in Danish.

Each test first checks that the help names what the task needs (the command in
`kundskab --help`, the option or an example in the command's own help), then runs the
command and checks the answer a person reads."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kundskab import KnowledgeBase
from kundskab.edges.cli import main


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "--lang", "da"], input=stdin, env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def help_of(*command: str) -> str:
    code, out, _ = run(*command, "--help")
    assert code == 0
    return out


def test_1_find_a_factor_from_a_phrase() -> None:
    assert "search" in help_of() and "pjækker fra skolen" in help_of("search")
    code, out, _ = run("search", "pjækker fra skolen")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["truancy", "Skolefravær"]
    code, out, _ = run("search", "pjækker skolen", "--kind", "factors")
    assert code == 0 and out.startswith("truancy")


def test_2_a_case_with_a_place(kb: KnowledgeBase) -> None:
    assert "--municipality" in help_of("recommend")
    code, out, _ = run("recommend", "--age", "15", "--factor", "truancy", "--municipality", "Hjørring",
                       "--format", "json")
    assert code == 0
    answer = json.loads(out)
    here = [i for i in answer["interventions"] if not i["from_elsewhere"] and i["municipality"]]
    # The measures of North Jutland come before those of elsewhere: Hjørring lies in it.
    assert here and all(kb.get(i["municipality"]).id in {"hjoerring", "nordjyllands-politi"} for i in here)
    code, text, _ = run("recommend", "--age", "15", "--factor", "truancy", "--municipality", "Hjorring")
    assert code == 0 and "i Nordjyllands Politi" in text


def test_3_the_interview_with_a_place() -> None:
    assert "--interview" in help_of("recommend")
    # The age, then "nej" to every question the interview asks.
    code, out, _ = run("recommend", "--interview", "--municipality", "Aalborg", stdin="15\n" + "nej\n" * 40)
    assert code == 0
    assert "Anbefaling" in out and "Indsatsniveau" in out
    assert "i Nordjyllands Politi" in out or "i Aalborg Kommune" in out


def test_4_what_a_forum_is() -> None:
    assert "show" in help_of()
    code, out, _ = run("show", "SSP+")
    assert code == 0
    assert out.startswith("SSP+  [ssp-plus]")
    assert "Definition:" in out
    # Its measures by Danish name with the id.
    assert "    - SSP+-samarbejdet for unge over 18 år [ssp-plus-cooperation-esbjerg]" in out
    assert ".txt" not in out  # sources by title, section and page


def test_5_the_fora_of_one_police_district() -> None:
    assert "--district" in help_of("list") and "list fora --district Nordjylland" in help_of("list")
    code, out, _ = run("list", "fora", "--district", "Nordjylland")
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()]
    assert {"ssp", "ssp-plus", "kredsraad", "lokalraad"} <= set(ids)
    assert "sikker-by-steering-group" not in ids  # Copenhagen's, not North Jutland's
    assert "Kredsråd" in out


def test_6_a_template_filled_and_validated(tmp_path: Path) -> None:
    assert "template" in help_of() and "validate" in help_of()
    path = tmp_path / "initiativ.md"
    code, _, _ = run("template", "sikker-by-2018", "-o", str(path))
    assert code == 0
    text = path.read_text(encoding="utf-8")
    code, out, _ = run("validate", str(path))
    assert code == 1 and "skabelontekst" in out  # not filled in yet: said, not guessed
    # Filled in as the template says: each [udfyld: …] replaced, the rest left as it is.
    filled = (text.replace('"[udfyld: initiativets navn]"', "Klubtilbud i Tingbjerg")
              .replace('"[udfyld: hvordan indsatsen understøtter Samarbejde]"',
                       "Klubberne arbejder sammen med skole og politi")
              .replace('"[udfyld: hvordan indsatsen understøtter Viden]"',
                       "Vi følger fremmøde og sigtelser og bruger metoder med kendt virkning")
              .replace('"[udfyld: hvordan indsatsen understøtter Børn og unge i risiko]"',
                       "Tilbuddet når de unge, som er på vej mod kriminalitet")
              .replace("[udfyld: hvad indsatsen skal opnå, og for hvem]", "Færre unge i kriminalitet i Tingbjerg.")
              .replace("[udfyld: hvad der konkret gøres, af hvem og hvor ofte]", "Klubben holder åbent fire aftener.")
              .replace("[udfyld: hvordan indsatsen følges, og hvordan effekten måles]", "Årlig opgørelse."))
    assert "[udfyld" not in "".join(line for line in filled.splitlines() if not line.lstrip().startswith("#"))
    assert "programme: sikker-by-2018" in text
    path.write_text(filled, encoding="utf-8")
    code, out, _ = run("validate", str(path))
    assert code == 0, out
    assert "gyldig" in out


def test_7_another_programmes_rules(tmp_path: Path) -> None:
    code, out, _ = run("show", "Tryg i Aarhus")
    assert code == 0 and "Krav:" in out and "Delmål:" in out
    # A Sikker By principle in a Tryg i Aarhus document: its own code, in words a reader expects.
    path = tmp_path / "aarhus.md"
    path.write_text("---\ntitle: Tryghedsvandring\nprogramme: tryg-i-aarhus-2017\ntier: general\n"
                    "target_groups: [unge]\nprinciples: [gangs]\n---\nTekst.\n", encoding="utf-8")
    code, out, _ = run("validate", str(path))
    assert code == 1
    assert "[principle-of-other-programme]" in out
    assert "hører til Sikker By strategi 2018, ikke til Tryg i Aarhus" in out
    assert "Tryg i Aarhus har ingen principper." in out
    # An unknown name gets the closest names of its kind.
    assert "Ukendt målgruppe 'unge' i feltet 'target_groups'. Mente du:" in out
    code, out, _ = run("validate", str(path), "--format", "json")
    codes = [e["code"] for e in json.loads(out)["files"][0]["errors"]]
    assert "principle-of-other-programme" in codes


def test_8_a_programmes_table() -> None:
    assert "--programme" in help_of("check")
    code, out, _ = run("check", "--programme", "sikker-by-2018", "--format", "csv")
    assert code == 0
    header, *rows = out.splitlines()
    assert "Vurdering" in header.split(";") and len(rows) >= 30  # Danish headers, as Danish Excel opens it


def test_9_search() -> None:
    code, out, _ = run("search", "boligsocial", "--kind", "actors")
    assert code == 0 and "housing-social-staff" in out
    code, out, _ = run("search", "nat")
    # Words that start with "nat" (natteliv, national), never "koordination".
    assert code == 0
    for line in out.splitlines():
        assert "koordination" not in line.casefold() or "nat" in line.casefold().replace("koordination", "")


def test_10_an_error() -> None:
    code, out, err = run("recommend", "-", stdin='{"age": "seksten"}')
    assert code == 2 and out == ""
    assert err.startswith("kundskab: alderen ('age') er et helt antal år")
    code, _, err = run("show", "ungesamrd")
    assert code == 2 and "mente du: youth-sanction-council" in err
