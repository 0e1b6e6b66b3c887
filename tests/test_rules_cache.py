"""The checked rules are cached beside the knowledge base, so that a start reads no YAML.

The cache directory is untrusted: a rules cache that is not of the exact shape the loader
writes, or names what the knowledge base does not have, is a miss (the YAML is parsed
again), never a crash; and the cache is keyed by the rule files' bytes."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kundskab.errors import RuleError
from kundskab.knowledge.base import KnowledgeBase
from kundskab.reasoning.rules import RuleSet
from tests.tampering import replaced, value_at

ROOT = Path(__file__).resolve().parent.parent


def _cache_file(directory: Path) -> Path:
    (path,) = directory.glob("rules-*.json")
    return path


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("KUNDSKAB_CACHE_DIR", str(directory))
    return directory


def test_a_warm_load_gives_the_very_rules_the_yaml_gives(kb: KnowledgeBase, cache: Path) -> None:
    for applies_to in ("cases", "initiatives"):
        parsed = RuleSet.load(kb, applies_to=applies_to, use_cache=False)
        first = RuleSet.load(kb, applies_to=applies_to)  # a miss: parses, writes the cache
        warm = RuleSet.load(kb, applies_to=applies_to)  # a hit
        assert warm.rules == first.rules == parsed.rules
        assert warm._ranking == parsed._ranking
        assert [(r.file, r.line) for r in warm] == [(r.file, r.line) for r in parsed]
    assert len(list(cache.glob("rules-*.json"))) == 2


def test_the_cache_is_read_and_keyed_by_the_rule_files(kb: KnowledgeBase, cache: Path,
                                                        rules_copy: Path) -> None:
    RuleSet.load(kb, rules_copy)
    path = _cache_file(cache)
    data = json.loads(path.read_text("utf-8"))
    data["rules"][0]["because"]["en"] = "changed in the cache"
    path.write_text(json.dumps(data), "utf-8")
    # Well-formed: read as it is (whoever can write the cache can change answers, which is
    # why the directory is private); this shows the refusals below are real refusals.
    assert RuleSet.load(kb, rules_copy).rules[len(kb.of_type("AgeGroup"))].because["en"] == "changed in the cache"
    # An edit of a rule file is a new key: parsed from the YAML again.
    target = rules_copy / "tiers.yaml"
    target.write_text(target.read_text("utf-8") + "\n", "utf-8")
    assert all(r.because["en"] != "changed in the cache" for r in RuleSet.load(kb, rules_copy))


def _places(data: dict[str, Any]) -> list[list[Any]]:
    """A path to every kind of value in the cache."""
    rule = next(r for r in data["rules"] if any(c["kind"] == "any_factor" for c in r["conditions"]))
    at = data["rules"].index(rule)
    places: list[list[Any]] = [["format"], ["applies_to"], ["rules"], ["ranking"]]
    places += [["rules", at, key] for key in rule]
    j = next(j for j, c in enumerate(rule["conditions"]) if c["kind"] == "any_factor")
    places += [["rules", at, "conditions", j, key] for key in rule["conditions"][j]]
    places += [["rules", at, "conditions", j, "ids", 0], ["rules", at, "conclusions", 0],
               ["rules", at, "conclusions", 0, 0], ["rules", at, "conclusions", 0, 1],
               ["rules", at, "because", "da"]]
    # The fields each other kind of condition carries (derived facts, the tier, the age).
    for kind, keys in (("derived", ("derived_kind", "ids")), ("tier_at_least", ("rank",)),
                       ("age", ("min_age", "max_age"))):
        for i, r in enumerate(data["rules"]):
            for j, c in enumerate(r["conditions"]):
                if c["kind"] == kind:
                    places += [["rules", i, "conditions", j, key] for key in keys]
    places += [["ranking", key] for key in data["ranking"]] + [["ranking", "weights", "needs"]]
    return places


def _names(place: list[Any]) -> bool:
    """Whether the value at `place` names something the loader must know (a kind, a concept
    of the knowledge base, a tier's rank), so that any other value of its type is refused."""
    return (place[-1] in {"format", "applies_to", "rules", "kind", "derived_kind", "rank", "ids", "conditions",
                          "conclusions"} or "conclusions" in place or place[-2:-1] == ["ids"])


BAD_VALUES: list[Any] = [1, None, 1.5, True, "no-such-concept", ["x"], {"x": "y"}, [], 99]


def test_a_tampered_rules_cache_is_refused(kb: KnowledgeBase, cache: Path) -> None:
    reference = RuleSet.load(kb, use_cache=False)
    RuleSet.load(kb)
    path = _cache_file(cache)
    data = json.loads(path.read_text("utf-8"))
    tried = 0
    for place in _places(data):
        for bad in BAD_VALUES:
            original = value_at(data, place)
            if original == bad or (type(original) is type(bad) and not _names(place)) \
                    or (place[-1] in ("min_age", "max_age") and bad in (None, 1)) \
                    or (place[-1] == "rank" and bad in list(reference.tier_by_rank)):  # another tier
                continue  # a change of a free text or number is no change of shape
            path.write_text(json.dumps(replaced(data, place, bad)), "utf-8")
            loaded = RuleSet.load(kb)  # refused: parsed from the YAML and written afresh
            assert loaded.rules == reference.rules, (place, bad)
            assert loaded._ranking == reference._ranking, (place, bad)
            tried += 1
    assert tried > 200
    # A key too many, a rule twice, a rule with the id of a generated one, not JSON at all.
    extra = copy.deepcopy(data)
    extra["rules"][0]["extra"] = 1
    twice = copy.deepcopy(data)
    twice["rules"].append(twice["rules"][0])
    clash = copy.deepcopy(data)
    clash["rules"][0]["id"] = reference.rules[0].id
    nested = "[" * 100_000 + "]" * 100_000
    for text in (json.dumps(extra), json.dumps(twice), json.dumps(clash), "{", nested, ""):
        path.write_text(text, "utf-8")
        assert RuleSet.load(kb).rules == reference.rules
    # Not a regular file: a link to another file, a FIFO.
    path.unlink()
    os.symlink(ROOT / "rules" / "tiers.yaml", path)
    assert RuleSet.load(kb).rules == reference.rules
    path.unlink()
    if hasattr(os, "mkfifo"):
        os.mkfifo(path)
        assert RuleSet.load(kb).rules == reference.rules


def test_rule_problems_are_reported_with_file_and_line_whatever_the_cache(
        kb: KnowledgeBase, cache: Path, rules_copy: Path) -> None:
    RuleSet.load(kb, rules_copy)  # a valid cache exists for the unbroken files
    target = rules_copy / "tiers.yaml"
    target.write_text(target.read_text("utf-8").replace("source:", "sorce:", 1), "utf-8")
    with pytest.raises(RuleError) as raised:
        RuleSet.load(kb, rules_copy)
    assert raised.value.file is not None and raised.value.file.endswith("tiers.yaml")
    assert raised.value.line is not None and raised.value.line > 0


def test_a_warm_recommendation_imports_no_yaml(tmp_path: Path) -> None:
    env = {**os.environ, "KUNDSKAB_CACHE_DIR": str(tmp_path)}
    code = ("import sys\nfrom kundskab.edges.cli import main\n"
            "try:\n    main(['recommend', '--age', '15', '--factor', 'truancy', '--format', 'json'])\n"
            "except SystemExit:\n    pass\n"
            "print('yaml' in sys.modules, file=sys.stderr)\n")
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           check=True, cwd=ROOT) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout and '"tier": "specific"' in runs[1].stdout
    assert runs[1].stderr.strip().splitlines()[-1] == "False"
