"""Errors said in plain words, in Danish by default: never Python's own message, an
exception's name or a variable nobody set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kundskab.documents.reading import parse_document
from kundskab.edges.cli import main
from kundskab.errors import DocumentError

DOCUMENTS = Path(__file__).resolve().parent / "documents"
PYTHON_WORDS = ("Exceeds the limit", "local variable", "Error:", "Errno", "sys.set_int_max_str_digits")


def refused(content: bytes, name: str) -> str:
    with pytest.raises(DocumentError) as caught:
        parse_document(content, name)
    message = caught.value.translated("da")
    assert not any(word in message for word in PYTHON_WORDS), message
    return message


def test_a_json_ld_document_that_is_one_value_is_said_so() -> None:
    for value in (b'"text"', b"15", b"null", b"true"):
        assert "JSON-LD er et objekt" in refused(value, "a.jsonld")


def test_a_number_past_pythons_limit_of_digits_is_said_in_danish() -> None:
    digits = b"9" * 5000
    for content, name in ((b'{"@context": {}, "x": ' + digits + b"}", "a.jsonld"),
                          (b"title: !!int " + digits + b"\n", "a.yaml"),
                          (b"---\ntitle: " + digits + b"\n---\ntext\n", "a.md")):
        assert refused(content, name).startswith("Et tal i dokumentet har mere end"), name


def test_a_utf16_document_is_read_and_one_without_a_byte_order_mark_is_named() -> None:
    source = next(DOCUMENTS.glob("sikker-by-2018/*.md"))
    text = source.read_text(encoding="utf-8")
    as_utf8 = parse_document(text.encode("utf-8"), source.name)
    for encoding in ("utf-16", "utf-32"):  # with their byte order marks
        assert parse_document(text.encode(encoding), source.name) == as_utf8, encoding
    assert "UTF-16" in refused(text.encode("utf-16-le"), source.name)
    assert "binær" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "a.md")


def test_a_bad_lang_option_does_not_blame_an_unset_variable() -> None:
    env = {k: v for k, v in os.environ.items() if k != "KUNDSKAB_LANG"}
    result = CliRunner(env={"KUNDSKAB_LANG": None}).invoke(main, ["--lang", "xx", "show", "truancy"])
    assert result.exit_code == 2 and "KUNDSKAB_LANG" not in result.stderr
    result = CliRunner(env={**env, "KUNDSKAB_LANG": "xx"}).invoke(main, ["show", "truancy"])
    assert result.exit_code == 2 and "KUNDSKAB_LANG" in result.stderr  # there, it is the cause


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux) for a full disk")
def test_a_batch_worker_that_cannot_write_says_why_in_danish(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps({"ref": f"r{n}", "age": 15}) + "\n" for n in range(2000)), encoding="utf-8")
    command = [sys.executable, "-m", "kundskab", "recommend", "--batch", str(path), "--jobs", "2"]
    with open("/dev/full", "wb") as full:
        done = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, timeout=300)
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2
    assert err.strip() == "kundskab: kan ikke skrive uddata: der er ikke mere plads på enheden", err
    # A reader that stops early (`| head`): said the same way as for one process.
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(100)
    reader.stdout.close()
    err = reader.stderr.read().decode("utf-8")
    assert reader.wait(timeout=300) == 2
    assert err.strip() == "kundskab: kan ikke skrive uddata: programmet, der læser uddata, er stoppet", err
