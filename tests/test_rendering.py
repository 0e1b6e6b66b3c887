"""kundskab.edges.rendering: the command line's text and JSON text, made from library results by
functions that print nothing; the command prints what they give, unchanged."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from kundskab import KnowledgeBase
from kundskab.documents.principle_support import assess_programme
from kundskab.edges import rendering
from kundskab.edges.cli import main
from kundskab.i18n import using_language
from kundskab.knowledge.browse import describe, intervention_summary, list_concepts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def plain(lines: list[str]) -> str:
    """What click.echo writes of the lines where the output is not a terminal."""
    return "".join(click.unstyle(line) + "\n" for line in lines)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_show_prints_what_concept_lines_give(kb: KnowledgeBase, lang: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with using_language(lang):
        lines = rendering.concept_lines(describe(kb, kb.get("ssp"), lang), lang, verbose=True)
    assert capsys.readouterr() == ("", "")  # a renderer prints nothing
    assert lines[0] == click.style(f"{kb.label('ssp', lang)}  [ssp]", bold=True)  # emphasis is styling, not text
    code, out, _ = invoke("show", "ssp", "-v", "--lang", lang)
    assert code == 0 and out == plain(lines)
    assert "[" + kb.get("ssp").sources[0].file + "]" in out  # --verbose names the files


def test_interventions_and_listing_render_from_the_library_results(kb: KnowledgeBase) -> None:
    found = kb.interventions(tier=["specific"], forum=["ssp"])
    with using_language("en"):
        items = [intervention_summary(kb, c, "en") for c in found]
        lines = rendering.intervention_lines(items, kb, "en")
        count = rendering.interventions_line(len(items))
        listed = rendering.listing_lines(list_concepts(kb, "factors", "en"), kb, "en")
    code, out, err = invoke("interventions", "--tier", "specific", "--forum", "ssp", "--lang", "en")
    assert code == 0 and out == plain(lines) and err == count + "\n"
    assert count == f"{len(found)} interventions"
    code, out, _ = invoke("list", "factors", "--lang", "en")
    assert code == 0 and out == plain(listed)
    # factors are grouped by risk domain: a bold heading, then indented ids
    assert any(line.startswith("\x1b[1m") for line in listed) and any(line.startswith("  ") for line in listed)


def test_the_programme_table_renders_alike_as_text_and_csv(kb: KnowledgeBase) -> None:
    assessment = assess_programme(kb, "sikker-by-2018", "da")
    with using_language("da"):
        lines = rendering.programme_lines(kb, assessment, "da")
    code, out, _ = invoke("check", "--programme", "sikker-by-2018", "--lang", "da")
    assert code == 0 and out == plain(lines)
    csv_text = rendering.table_csv(kb, assessment, "da")
    rows = csv_text.removeprefix("\ufeff").split("\r\n")
    assert rows[0].split(";") == rendering.table_headers("da")
    assert len([r for r in rows[1:] if r]) == len(assessment.initiatives)


def test_the_table_keeps_its_old_import_path() -> None:
    from kundskab.documents import principle_support as support

    assert support.table_csv is rendering.table_csv and support.write_xlsx is rendering.write_xlsx
    assert support.report_lines is rendering.programme_lines
    assert support.TABLE_COLUMNS is rendering.TABLE_COLUMNS
    from kundskab.support import table_csv  # the path before the layout too

    assert table_csv is rendering.table_csv
    with pytest.raises(AttributeError):
        support.no_such_name  # noqa: B018


def test_json_text_escapes_what_a_terminal_would_act_on() -> None:
    text = rendering.json_text({"ref": "a\x9b2Jb\u202ec\u2028d", "ok": "æøå"})
    assert "\x9b" not in text and "\u202e" not in text and "\u2028" not in text
    assert "\\u009b" in text and "\\u202e" in text and "æøå" in text  # UTF-8 stays as it is
    assert json.loads(text) == {"ref": "a\x9b2Jb\u202ec\u2028d", "ok": "æøå"}


def test_a_file_name_cannot_fake_a_line_of_the_validation_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kundskab import validate

    bad = tmp_path / "x\nkundskab: all good.md"
    bad.write_text("# nothing\n", encoding="utf-8")
    with using_language("en"):
        lines = rendering.validation_lines(validate([str(bad)]), summary=True)
    assert all("\n" not in line for line in lines)
    assert lines[-1].startswith("1 document: 0 valid, 1 invalid")


def test_a_citation_of_file_and_section_takes_the_title_from_the_knowledge_base(kb: KnowledgeBase) -> None:
    source = kb.get("ssp").sources[0]
    cited = rendering.citation(f"{source.file}#{source.section}", "da", kb)
    # the document's title and the section, never the file name a reader cannot use
    assert source.file not in cited and str(source.section) in cited and cited.startswith(kb.source_titles[source.file])
    assert rendering.citation(f"{source.file}#{source.section}", "da").startswith(source.file)  # no titles


def test_fora_by_age_read_in_danish_with_their_ages_rule_and_source() -> None:
    from click.testing import CliRunner

    from kundskab.edges.cli import main

    result = CliRunner().invoke(main, ["recommend", "--factor", "street-group", "--municipality", "Odense"])
    assert result.exit_code == 0
    text = result.stdout
    assert "Fora efter alder (spørg om alderen for at vide hvilke):" in text
    assert "  · SSP (6–17 år) [ssp]" in text and "  · SSP+ (18–25 år) [ssp-plus]" in text
    assert "(regel forum-ssp; kilde Esbjerg lokalråd, handlingsplan 2011, afsnit 'SSP og SSP+')" in text


def test_a_victimless_crime_type_says_so_in_danish() -> None:
    from click.testing import CliRunner

    from kundskab.edges.cli import main

    result = CliRunner().invoke(main, ["show", "drugs"])
    assert "  Ingen forurettet at mødes med i et konfliktråd: ja" in result.stdout
    assert "true" not in result.stdout
