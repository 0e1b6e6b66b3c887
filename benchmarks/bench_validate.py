"""Validation speed: documents per second through the library and through the CLI.

    python benchmarks/bench_validate.py [--documents 1000] [--keep DIR]

Generates a folder of initiative documents (every programme with requirements, all four
formats, about one in five invalid) in a temporary directory, validates it with
`kundskab.validate` and with `kundskab validate DIR --format json` in a
subprocess (start-up included), checks that both agree, and prints the figures. The goal
is at least 100 documents per second either way.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kundskab import load
from kundskab.documents.validation import validate

GOAL = 100.0

BODY = ("Indsatsen gennemføres i samarbejde mellem skoler, klubber og politi. "
        "Effekten måles hvert år, og erfaringerne deles i SSP-netværket.\n") * 3


def _markdown(fields: dict[str, object], body: str) -> str:
    import yaml

    return "---\n" + yaml.safe_dump(fields, allow_unicode=True, sort_keys=False) + "---\n" + body


# Document fields -> the knowledge base's properties, for the RDF formats.
REFERENCES = {"programme": "ks:partOfProgramme", "tier": "ks:tier", "target_groups": "ks:targetGroup",
              "principles": "ks:supportsPrinciple", "subgoals": "ks:servesSubGoal", "evidence": "ks:evidence"}
TEXTS = {"title": "dct:title", "effect_follow_up": "ks:effectFollowUp", "goals": "ks:goalText",
         "indicators": "ks:indicatorText", "success_criteria": "ks:successCriterion"}


def _values(value: object) -> list[object]:
    return value if isinstance(value, list) else list(value) if isinstance(value, dict) else [value]


def _turtle(fields: dict[str, object]) -> str:
    lines = ["@prefix ks: <https://w3id.org/kundskab/schema#> .",
             "@prefix kb: <https://w3id.org/kundskab/id/> .",
             "@prefix dct: <http://purl.org/dc/terms/> .",
             "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .",
             "<#initiative> a ks:InitiativeDocument ;"]
    for key, value in fields.items():
        values = _values(value)
        if key in REFERENCES:
            lines.append(f"    {REFERENCES[key]} " + " , ".join(f"kb:{v}" for v in values) + " ;")
        elif key in TEXTS:
            lines.append(f"    {TEXTS[key]} " + " , ".join(json.dumps(str(v), ensure_ascii=False)
                                                           for v in values) + " ;")
    lines.append(f"    dct:description {json.dumps(BODY, ensure_ascii=False)} .")
    return "\n".join(lines) + "\n"


def _jsonld(fields: dict[str, object]) -> str:
    context = {"ks": "https://w3id.org/kundskab/schema#", "kb": "https://w3id.org/kundskab/id/",
               "dct": "http://purl.org/dc/terms/"}
    node: dict[str, object] = {"@context": context, "@id": "urn:example:initiative",
                               "@type": "ks:InitiativeDocument", "dct:description": BODY}
    for key, value in fields.items():
        values = _values(value)
        if key in REFERENCES:
            node[REFERENCES[key]] = [{"@id": f"kb:{v}"} for v in values]
        elif key in TEXTS:
            node[TEXTS[key]] = [str(v) for v in values]
    return json.dumps(node, ensure_ascii=False, indent=1)


def make_fields(rng: random.Random, index: int) -> dict[str, object]:
    programme = rng.choice(["sikker-by-2018", "tryg-i-aarhus-2017", "vestegn-2013"])
    fields: dict[str, object] = {
        "title": f"Indsats nummer {index}",
        "programme": programme,
        "tier": "specific",
        "target_groups": ["school-age-youth", "at-risk-youth"],
    }
    if programme == "sikker-by-2018":
        chosen = rng.sample(["collaboration", "knowledge", "youth-at-risk", "gangs", "local-areas"], 3)
        fields["principles"] = {p: "Unge i lokalområdet får viden og samarbejde om exit fra bander."
                                for p in chosen}
        fields["effect_follow_up"] = "yearly"
    elif programme == "tryg-i-aarhus-2017":
        fields["subgoals"] = {"less-fear-of-crime": "Beboerne bliver mindre utrygge."}
        fields["evidence"] = rng.choice(["documented", "developmental"])
    else:
        fields["goals"] = ["Færre unge rekrutteres til bander"]
        fields["indicators"] = ["Antal unge i bandemiljøet"]
        fields["success_criteria"] = ["Et fald på 10 procent"]
    if rng.random() < 0.2:  # make it invalid in one of several ways
        broken = rng.choice(["drop-title", "tier", "principle", "programme-field"])
        if broken == "drop-title":
            del fields["title"]
        elif broken == "tier":
            fields["tier"] = "general"
            fields["target_groups"] = ["young-offenders"]
        elif broken == "principle":
            fields["target_groups"] = ["school-age-youth", "no-such-group"]
        else:
            for key in ("principles", "subgoals", "goals", "evidence"):
                fields.pop(key, None)
    return fields


def generate(folder: Path, n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    for i in range(n):
        fields = make_fields(rng, i)
        sub = folder / f"group-{i % 10}"
        sub.mkdir(exist_ok=True)
        kind = i % 10
        if kind < 5:
            (sub / f"doc-{i}.md").write_text(_markdown(fields, BODY), encoding="utf-8")
        elif kind < 7:
            import yaml

            (sub / f"doc-{i}.yaml").write_text(
                yaml.safe_dump(fields, allow_unicode=True, sort_keys=False), encoding="utf-8")
        elif kind < 9:
            (sub / f"doc-{i}.ttl").write_text(_turtle(fields), encoding="utf-8")
        else:
            (sub / f"doc-{i}.jsonld").write_text(_jsonld(fields), encoding="utf-8")


def _kundskab() -> list[str]:
    """The installed `kundskab` command beside this Python, else the same through -c."""
    script = Path(sys.executable).parent / "kundskab"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "from kundskab.edges.cli import main; main()"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp) / "documents"
        folder.mkdir(parents=True, exist_ok=True)
        generate(folder, args.documents)
        kb = load()

        start = time.perf_counter()
        report = validate([folder], kb)
        library = time.perf_counter() - start
        n = len(report.files)

        start = time.perf_counter()
        process = subprocess.run([*_kundskab(), "validate", str(folder), "--format", "json"],
                                 capture_output=True, text=True, check=False)
        cli = time.perf_counter() - start
        data = json.loads(process.stdout)
        assert process.returncode == (0 if report.ok else 1), process.stderr
        assert data["summary"] == report.as_dict()["summary"], (data["summary"], report.as_dict()["summary"])

    print(f"documents: {n} ({report.valid} valid, {report.invalid} invalid)")
    print(f"library:   {library:6.2f} s  {n / library:7.1f} documents/s")
    print(f"cli:       {cli:6.2f} s  {n / cli:7.1f} documents/s  (one process, start-up included)")
    ok = n / library >= GOAL and n / cli >= GOAL
    print(f"goal >= {GOAL:.0f} documents/s: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
