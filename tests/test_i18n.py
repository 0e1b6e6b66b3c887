"""One message catalogue: every message in Danish and English, `--lang` wherever it is given."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner

from kundskab import KnowledgeBase, i18n
from kundskab.edges.cli import main
from kundskab.edges.rendering import FIELD_NAMES
from kundskab.errors import UnknownConceptError
from kundskab.knowledge.browse import describe

PACKAGE = Path(i18n.__file__).resolve().parent
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def code_messages() -> dict[str | tuple[str, str], str]:
    """Every message marked in the package (msgid, or (singular, plural)) -> where."""
    found: dict[str | tuple[str, str], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(PACKAGE)):
        found[message] = f"{filename}:{lineno}"
    return found


def catalogue() -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    with i18n.catalogue_path("da").open("rb") as handle:
        po = read_po(handle, locale="da")
    out = {}
    for message in po:
        if message.id:
            assert not message.fuzzy, f"fuzzy translation of {message.id!r}"
            out[message.id] = message.string
    return out


def test_every_message_exists_in_danish_and_english() -> None:
    # English is the source text (the msgid); Danish is the catalogue's.
    code, danish = code_messages(), catalogue()
    assert len(code) > 100
    missing = [f"{where}: {msgid!r}" for msgid, where in code.items() if msgid not in danish]
    assert not missing, "not in kundskab/locale/da/LC_MESSAGES/kundskab.po:\n" + "\n".join(missing)
    stale = [msgid for msgid in danish if msgid not in code]
    assert not stale, f"in the catalogue but no longer in the code: {stale}"
    for msgid, translation in danish.items():
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        targets = translation if isinstance(translation, tuple) else (translation,)
        assert all(targets), f"no Danish for {msgid!r}"
        wanted = set(PLACEHOLDER.findall(sources[-1]))
        # Danish may start a sentence with a capitalised word ({kind_cap}) where English has "The {kind}".
        allowed = wanted | {f"{name}_cap" for name in wanted}
        for target in targets:
            used = set(PLACEHOLDER.findall(target))
            assert used <= allowed and wanted <= used | {n.removesuffix("_cap") for n in used}, (
                f"placeholders differ: {msgid!r} -> {target!r}")


def test_no_translation_says_a_passage_twice() -> None:
    # A merge once kept two versions of `recommend --help`'s paragraph side by side in one
    # msgstr: Danish help read "Sagen kommer fra CASE_FILE ..." twice, one sentence cut off.
    for msgid, translation in catalogue().items():
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        targets = translation if isinstance(translation, tuple) else (translation,)
        for source, target in zip(sources, targets, strict=False):  # plural forms: as many as the language has
            words = re.findall(r"\w+", target)
            runs = [tuple(words[k:k + 12]) for k in range(len(words) - 11)]
            assert len(runs) == len(set(runs)), f"a passage twice in the Danish of {source[:60]!r}"


def test_no_message_is_hidden_from_the_extractor() -> None:
    # gettext tools cannot see a call inside an f-string: translate first, then format.
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\{_\(|\{gettext\(|\{ngettext\(", text), path.name


def test_the_catalogue_is_compiled_once_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUNDSKAB_CACHE_DIR", str(tmp_path))
    (tmp_path / "kundskab-da-0000000000000000.mo").write_bytes(b"")  # an earlier version's, stale
    (tmp_path / "messages-da-0000000000000000.mo").write_bytes(b"")  # the earlier name
    i18n._CATALOGUES.clear()
    try:
        assert i18n.gettext("Tier", "da") == "Indsatsniveau"
        compiled = list(tmp_path.glob("kundskab-da-*.mo"))
        assert len(compiled) == 1 and not list(tmp_path.glob("messages-*.mo"))
        i18n._CATALOGUES.clear()
        compiled[0].write_bytes(i18n.compile_catalogue(i18n.catalogue_path("da").read_bytes()))
        assert i18n.gettext("Tier", "da") == "Indsatsniveau" and i18n.gettext("Tier", "en") == "Tier"
    finally:
        i18n._CATALOGUES.clear()


def test_errors_are_english_as_text_and_translated_on_demand() -> None:
    error = UnknownConceptError("truancyy", "Factor", ["truancy"])
    assert str(error) == "unknown factor 'truancyy'; did you mean: truancy?"
    assert error.translated("da") == "ukendt faktor: 'truancyy'; mente du: truancy?"
    assert error.translated("en") == str(error)


def test_every_field_show_prints_has_a_name(kb: KnowledgeBase) -> None:
    # Regression: `show` printed raw keys (e.g. "factors:") for fields without a name.
    skipped = {"id", "type", "types", "label", "labels", "definitions", "alt_labels", "type_label"}
    keys = set()
    for concept in kb:
        data = describe(kb, concept, "en")
        keys |= set(data) - skipped
        keys |= {link["property"] for link in data["inferred"]}  # "Risk factors = street-group"
    assert not keys - set(FIELD_NAMES), (
        f"give these fields a name in kundskab.edges.rendering.FIELD_NAMES (and its Danish in the catalogue): "
        f"{keys - set(FIELD_NAMES)}")


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, prog_name="kundskab")
    return result.exit_code, result.stdout, result.stderr


def test_lang_before_the_command_after_it_and_from_the_environment() -> None:
    danish = "Indsatsniveau: Specifik indsats"
    english = "Tier: Specific"
    args = ["recommend", "--age", "15", "--factor", "truancy"]
    assert danish in invoke(*args)[1]
    assert english in invoke("--lang", "en", *args)[1]
    assert english in invoke(*args, "--lang", "en")[1]
    assert english in invoke(*args, env={"KUNDSKAB_LANG": "en"})[1]
    assert danish in invoke(*args, "--lang", "da", env={"KUNDSKAB_LANG": "en"})[1]
    assert danish in invoke("--lang", "en", *args, "--lang", "da")[1]
    code, _, err = invoke(*args, env={"KUNDSKAB_LANG": "fr"})
    assert code == 2 and "Ugyldig værdi for '--lang' (miljøvariabel: 'KUNDSKAB_LANG'): 'fr' er ikke en af" in err
    code, _, err = invoke(*args, "--lang", "en", env={"KUNDSKAB_LANG": "fr"})
    assert code == 2 and "Invalid value for '--lang' (env var: 'KUNDSKAB_LANG'): 'fr' is not one of" in err


def test_help_follows_the_language() -> None:
    code, out, _ = invoke("--help")
    assert code == 0 and "Brug: kundskab" in out and "Tilvalg:" in out and "Eksempler:" in out
    assert "Show this message" not in out and "Recommend a tier" not in out
    code, out, _ = invoke("recommend", "--help", "--lang", "en")
    assert code == 0 and "Usage: kundskab recommend" in out and "Examples:" in out and "Anbefal" not in out
    code, out, _ = invoke("rules", "lint", "--help", env={"KUNDSKAB_LANG": "en"})
    assert code == 0 and "Report cycles" in out


def test_library_errors_are_danish_under_lang_da() -> None:
    code, _, err = invoke("interventions", "--forum", "ssp-plu")
    assert code == 2 and err.startswith("kundskab: ukendt forum: 'ssp-plu'; mente du: ssp-plus")
    code, _, err = invoke("interventions", "--forum", "ssp-plu", "--lang", "en")
    assert code == 2 and err.startswith("kundskab: unknown forum 'ssp-plu'; did you mean: ssp-plus")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_browsing_output_has_no_words_of_the_other_language(lang: str) -> None:
    other_words = {"da": ["Sources", "Type: forum", "Triggered by"],
                   "en": ["Kilder", "Udløses af", "Navne", "samarbejdsforum"]}[lang]
    code, out, _ = invoke("show", "ssp", "--lang", lang)
    assert code == 0 and not [w for w in other_words if w in out]


def test_forum_triggers_exist_in_both_languages(kb: KnowledgeBase) -> None:
    # Regression: `show ssp --lang da` printed "Udløses af: A child or young person…".
    fora = [c for c in kb.of_type("Forum") if c.values.get("trigger")]
    assert fora
    for forum in fora:
        langs = {v["lang"] for v in forum.values["trigger"] if isinstance(v, dict)}
        assert langs == {"da", "en"}, forum.id
    code, out, _ = invoke("show", "ssp")
    assert code == 0 and "Udløses af: Et barn eller en ung" in out


def test_every_help_text_is_in_the_catalogue() -> None:
    # A help text written without N_() would be shown in English under --lang da.
    import click

    danish = catalogue()
    missing = []

    def walk(command: click.Command, path: str) -> None:
        texts = [command.help, command.short_help]
        texts += [p.help for p in command.params if isinstance(p, click.Option)]
        missing.extend(f"{path}: {t!r}" for t in texts if t and t not in danish)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    for name, sub in main.commands.items():
        walk(sub, f"kundskab {name}")
    assert not missing, "help texts not in the catalogue (mark them with N_):\n" + "\n".join(missing)


def test_check_findings_follow_the_language() -> None:
    # Regression: `check --lang da` printed "1 of the required 3".
    code, out, _ = invoke("check")
    assert code == 0 and "Vidensbasen er gyldig" in out
    assert not [w for w in ("of the required", "The knowledge base", "concepts,") if w in out]
    code, out, _ = invoke("check", "--lang", "en")
    assert code == 0 and "The knowledge base is valid" in out
    assert not [w for w in ("af de krævede", "Vidensbasen", "begreber,") if w in out]


def test_library_errors_take_their_messages_from_the_catalogue() -> None:
    # An error raised with a plain string would reach a Danish user in English.
    allowed = {
        "__init__.py",  # AttributeError: Python's protocol for a missing attribute
        "documents/__init__.py",  # the same
        "_paths.py",  # a broken installation, not a user's input
        "_records.py",  # assigning to a frozen field: a programming error, as with a dataclass
        "_yaml.py",  # the YAML parser's detail, quoted inside a catalogue message
        "errors.py",
    }
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()  # "__init__.py" is the package's own, not a sub-package's
        if name in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r'\b[A-Z]\w*Error\(\s*f?"', line) and "ReadError(" not in line:
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "raise errors with N_(template), params:\n" + "\n".join(found)


# ---------------------------------------------------------------- click's own messages

CLICK_PLACEHOLDER = re.compile(r"\{(\w*)(?:![rsa])?\}|%\((\w+)\)s")


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in CLICK_PLACEHOLDER.findall(text)}


def test_every_message_of_click_has_danish() -> None:
    # click marks its messages for gettext; the installed click's are extracted as Babel
    # would (README, Development) and each must have Danish in the catalogue's click domain.
    import click

    with i18n.catalogue_path("da", i18n.CLICK_DOMAIN).open("rb") as handle:
        po = {m.id: m.string for m in read_po(handle, locale="da") if m.id and not m.fuzzy}
    found = {message: f"{filename}:{lineno}" for filename, lineno, message, _comments, _context
             in extract_from_dir(str(Path(click.__file__).parent))}
    assert len(found) > 50
    missing = [f"click/{where}: {msgid!r}" for msgid, where in found.items() if not po.get(msgid)]
    assert not missing, "no Danish in kundskab/locale/da/LC_MESSAGES/click.po for:\n" + "\n".join(missing)
    assert po.get("required"), "click translates 'required' through a variable: keep its entry"
    for msgid, translation in po.items():
        sources = msgid if isinstance(msgid, tuple) else (msgid,)
        targets = translation if isinstance(translation, tuple) else (translation,)
        assert all(targets), f"no Danish for {msgid!r}"
        # Danish may leave out a word click fills in English (a number type's name), never add one.
        for target in targets:
            assert _placeholders(target) <= set().union(*map(_placeholders, sources)), f"{msgid!r} -> {target!r}"


# Bad command lines: (arguments, Danish message, English message). Each is a usage error.
BAD_USAGE = [
    (["recommend", "--age", "15", "--nosuch"], "Tilvalget '--nosuch' findes ikke.", "No such option '--nosuch'."),
    (["show"], "Mangler argumentet 'NAME'.", "Missing argument 'NAME'."),
    (["recommend", "--age"], "Tilvalget '--age' kræver en værdi.", "Option '--age' requires an argument."),
    (["recommend", "--limit", "x", "--age", "3"], "Ugyldig værdi for '--limit': 'x' er ikke et gyldigt tal.",
     "Invalid value for '--limit': 'x' is not a valid integer range."),
    (["interventions", "--format", "xml"], "Ugyldig værdi for '--format': 'xml' er ikke en af 'text', 'json'.",
     "Invalid value for '--format': 'xml' is not one of 'text', 'json'."),
    (["validate", "no-such-file.md"], "'no-such-file.md' findes ikke.", "Path 'no-such-file.md' does not exist."),
    (["bogus"], "Kommandoen 'bogus' findes ikke.", "No such command 'bogus'."),
    (["recommend", "a.json", "b.json"], "Uventet ekstra argument (b.json)", "Got unexpected extra argument (b.json)"),
]


@pytest.mark.parametrize(("args", "danish", "english"), BAD_USAGE, ids=lambda v: v[0] if isinstance(v, list) else "")
def test_clicks_own_errors_speak_the_language(args: list[str], danish: str, english: str) -> None:
    environment = dict(os.environ)
    code, out, err_da = invoke(*args)
    assert code == 2 and out == ""
    assert f"Fejl: {danish}" in err_da or f"Fejl: Ugyldig værdi for 'PATHS...': {danish}" in err_da, err_da
    assert not [w for w in ("Error", "Usage", "Try '", english) if w in err_da], err_da
    # Translated in the process, not by setting LANGUAGE or LC_* for it and its children.
    assert dict(os.environ) == environment

    for english_args, env in ((["--lang", "en", *args], None), (args, {"KUNDSKAB_LANG": "en"})):
        code, out, err = invoke(*english_args, env=env)
        assert code == 2 and "Error: " in err and english in err, err
        assert not [w for w in ("Fejl", "Brug", "Prøv", danish) if w in err], err
    # click's usage line and hint, where it gives them, in Danish too.
    if "Usage: kundskab" in err:
        assert "Brug: kundskab" in err_da and "[TILVALG]" in err_da
        assert "Prøv 'kundskab" in err_da and "for at få hjælp." in err_da

    # --format json: the contract's error object on stdout, same exit status, either language.
    for lang, message in (("da", danish), ("en", english)):
        if "--format" in args:
            continue  # the bad --format is the last one given: the answer is text
        code, out, err = invoke("--lang", lang, args[0], "--format", "json", *args[1:])
        assert code == 2
        error = json.loads(out)["error"]
        assert error["code"] == "usage-error" and message in error["message"] and message in err


def test_help_headings_and_click_words_follow_the_language_in_any_order() -> None:
    # Regression: click builds a command's --help option once, with its help in the
    # language of that moment; a later run in the other language must not inherit it.
    for first, second in (("da", "en"), ("en", "da")):
        for lang in (first, second):
            code, out, _ = invoke("template", "--help", "--lang", lang)
            assert code == 0
            if lang == "da":
                assert "Vis denne hjælp og afslut." in out and "-o, --output FIL " in out
                assert "Tilvalg:" in out and "Show this message" not in out and "FILE" not in out
            else:
                assert "Show this message and exit." in out and "-o, --output FILE " in out
                assert "Options:" in out and "Vis denne" not in out and "FIL " not in out
    code, out, _ = invoke("--help")
    assert code == 0 and "Brug: kundskab [TILVALG] KOMMANDO [ARGUMENTER]..." in out
    assert "[miljøvariabel: KUNDSKAB_LANG; standard: da]" in out and "Kommandoer:" in out
    code, out, _ = invoke("--help", "--lang", "en")
    assert code == 0 and "Usage: kundskab [OPTIONS] COMMAND [ARGS]..." in out and "[env var: KUNDSKAB_LANG" in out
    # A --lang after the command speaks for errors the group finds before reaching it.
    code, _, err = invoke("bogus", "--lang", "en")
    assert code == 2 and "Error: No such command 'bogus'." in err


# ---------------------------------------------------------------- SHACL messages

SHAPES = PACKAGE.parent / "ontology" / "shapes"
# What a shape may carry besides its constraints: a shape with nothing else reports no result of its own.
NOT_CONSTRAINTS = {"type", "targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode", "property",
                   "path", "message", "name", "description", "severity", "deactivated", "prefixes",
                   "select", "sparql", "field", "code"}


def test_every_shape_message_exists_in_danish_and_english() -> None:
    # `validate` and `check` print the violated shape's sh:message in the chosen language.
    import rdflib
    from rdflib.namespace import SH

    files = sorted(SHAPES.rglob("*.ttl"))
    assert len(files) >= 2
    for path in files:
        graph = rdflib.Graph().parse(path)
        reporting = set(graph.subjects(SH.message, None))
        for node in graph.subjects(None, None):  # shapes that report a result of their own
            targeted = any((node, p, None) in graph for p in (SH.targetClass, SH.targetSubjectsOf, SH.targetNode))
            reached = targeted or (None, SH.property, node) in graph or (None, SH.sparql, node) in graph
            # A shape reached only through another's sh:node reports details of that one's result.
            parents = list(graph.subjects(SH.property, node))
            nested = (None, SH.node, node) in graph or (bool(parents) and all(
                (None, SH.node, parent) in graph and (parent, SH.targetClass, None) not in graph for parent in parents))
            own = {str(p).rpartition("#")[2].rpartition("/")[2] for p in graph.predicates(node, None)}
            if reached and not nested and own - NOT_CONSTRAINTS:
                assert node in reporting, f"{path.name}: a shape without sh:message ({sorted(own)})"
        for shape in reporting:
            langs = sorted(m.language or "none" for m in graph.objects(shape, SH.message))
            assert langs == ["da", "en"], f"{path.name}: {shape} has sh:message in {langs}, not one each in da and en"


@pytest.mark.parametrize("lang", ["da", "en"])
def test_shacl_violations_are_reported_in_the_chosen_language(lang: str, ontology_copy: Path) -> None:
    import shutil

    import rdflib
    from rdflib.namespace import SH

    from kundskab.knowledge.check import check

    shapes = rdflib.Graph().parse(SHAPES / "knowledge-base.ttl")
    in_lang = {str(m) for m in shapes.objects(None, SH.message) if m.language == lang}
    fixture = Path(__file__).parent / "shapes" / "intervention.ttl"
    shutil.copy(fixture, ontology_copy / "catalogue" / "zz-broken.ttl")
    report = check(KnowledgeBase.load(ontology_copy), lang)
    shacl = [e for e in report.errors if e.code == "shacl-violation"]
    assert shacl and all(e.message in in_lang for e in shacl), [e.message for e in shacl if e.message not in in_lang]


# ---------------------------------------------------------------- what a new Danish user sees

# (command line, words that must appear in Danish, English words that must not appear)
DANISH_SCREENS = [
    (["show", "outreach-street-work-esbjerg"],
     ["Virker på: grupper\n", "Status i kilden: kun et eksempel\n", "Situation: i risiko\n",
      "Sted: ukendt", "Risikofaktorer = concerning-behaviour", "Afsnittet taler om børn og unge",
      "Indsatsens art: Hjælp og støtte (help)"],
     [": unknown", ": group", ": example", "(example)", "(at-risk)", "risk_factors =", "max_age =",
      "(nogle noter er på engelsk)"]),
    (["show", "al-capone-cooperation-copenhagen"], ["- Samarbejde [collaboration]\n"], ["[collaboration]: \n"]),
    (["show", "sikker-by-2018"], ["(ukendt)"], ["(unknown)"]),
    (["show", "kredsraad"], ["Mødes: hvert kvartal"], ["quarterly"]),
    (["interventions", "--tier", "individual"], ["enkeltpersoner · planlagt", "Bander [gangs]"],
     ["person ·", "· planned", "(planned)", "Principper: gangs"]),
    (["recommend", "--age", "15", "--factor", "truancy"],
     ["kilde Esbjerg lokalråd, handlingsplan 2011, afsnit", "fordi: Skolefravær = ja;",
      "fordi: alder 15, Specifik indsats;"],
     [".txt#", "factor:", "=true", "age:", "tier:"]),
    (["rules", "list"], ["(dannet ud fra ontologien)", "[Esbjerg lokalråd, handlingsplan 2011, afsnit"],
     [".txt#", "ontology (age bounds)"]),
    (["check", "--programme", "sikker-by-2018"],
     ["(kilde Sikker By strategi 2018, København, afsnit 'Effektmåling', side 6)"],
     [".txt#"]),
    (["serve", "--help"], ["Kør HTTP-API'et", "Adressen, der lyttes på.", "Eksempler:"],
     ["Serve the HTTP API", "Examples:", "TEXT", "INTEGER"]),
    (["store", "load", "--help"], ["Udgiv ontologien", "Eksempler:"], ["Publish the ontology", "Examples:"]),
]


@pytest.mark.parametrize(("args", "danish", "english"), DANISH_SCREENS,
                         ids=[" ".join(a) for a, _d, _e in DANISH_SCREENS])
def test_a_danish_user_sees_danish(args: list[str], danish: list[str], english: list[str]) -> None:
    # Regressions: raw codes and "unknown" in `show`, source files instead of titles in
    # `recommend` and `rules list`, English help of `serve` and `store`.
    code, out, _ = invoke(*args)
    assert code == 0
    assert not [w for w in danish if w not in out], out
    assert not [w for w in english if w in out], out


def test_operating_system_reasons_follow_the_language(tmp_path: Path) -> None:
    missing = str(tmp_path / "sag.json")
    code, _, err = invoke("recommend", missing)
    assert code == 2 and err.endswith("sag.json: filen eller mappen findes ikke\n") and "kan ikke læse inddata" in err
    code, _, err = invoke("recommend", missing, "--lang", "en")
    assert code == 2 and err.endswith("sag.json: no such file or directory\n")


def test_every_coded_value_the_catalogue_uses_has_a_name(kb: KnowledgeBase) -> None:
    # `show` and `interventions` print a scope, status or situation by its name in the
    # chosen language; a code the catalogue starts using must be named too.
    from kundskab.edges.rendering import VALUE_NAMES

    used: dict[str, set[str]] = {"scope": set(), "status": set(), "situations": set()}
    for concept in kb.of_type("Intervention"):
        data = describe(kb, concept, "da")
        for key, codes in used.items():
            value = data.get(key)
            codes.update(value if isinstance(value, list) else [value] if value else [])
    assert all(used.values())
    unnamed = {key: codes - set(VALUE_NAMES[key]) for key, codes in used.items() if codes - set(VALUE_NAMES[key])}
    assert not unnamed, f"name these in kundskab.edges.rendering.VALUE_NAMES (and in the catalogue): {unnamed}"


def test_every_note_on_an_inferred_link_is_in_danish_as_well_as_english() -> None:
    # A Danish reader of `show` sees the editor's notes: none may be in English only.
    import rdflib
    from rdflib.namespace import SKOS

    from tests.conftest import ROOT

    ks = rdflib.Namespace("https://w3id.org/kundskab/schema#")
    english_only = []
    for path in sorted((ROOT / "ontology").rglob("*.ttl")):
        graph = rdflib.Graph().parse(path, format="turtle")
        for _, _, node in graph.triples((None, ks.inferred, None)):
            languages = {note.language for note in graph.objects(node, SKOS.note)}
            if "en" in languages and "da" not in languages:
                english_only.append(path.name)
    assert not english_only, english_only
