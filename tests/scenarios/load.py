"""Scenario cases written from the five sources: the one place that reads their files.

A scenario is a realistic case an SSP consultant would meet, written from the source
documents (never from the rules), with what the sources lead one to expect: the tier, the
exact set of fora, catalogue interventions that must reach the top 5, and ones that must stay
out of the top 10 (category errors). Every expectation cites the seed section behind it.

Two folders hold them: `cases/` (used while improving the ranking) and `holdout/` (scored
the same way, never used to tune). `benchmarks/score_scenarios.py` scores them;
`tests/test_scenarios.py` checks that the files are well-formed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FOLDERS",
    "SCENARIO_DIR",
    "Citation",
    "Expectation",
    "Scenario",
    "ScenarioFormatError",
    "load_all",
    "load_dir",
    "load_folder",
]

SCENARIO_DIR = Path(__file__).resolve().parent
FOLDERS = ("cases", "holdout")

CASE_FIELDS = ("age", "factors", "offences", "municipality", "role", "victim_of", "area", "age_group")
SCENARIO_FIELDS = {"id", "description", *CASE_FIELDS, "expect", "sources", "why_fewer",
                   "outside_catalogue"}
EXPECT_FIELDS = {"tier", "fora", "top5", "not_top10"}
# Optional expectations: factors that must never be asked (already answered, or harmful), and
# the questions (factor ids, or "age") a consultant would ask next, most likely first.
OPTIONAL_EXPECT_FIELDS = {"not_asked", "ask_first"}
ROLES = ("at-risk", "offender", "victim", "relative")
SEED_FILE = re.compile(r"^0\d\d_[0-9a-f]{16}\.txt$")
ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class ScenarioFormatError(ValueError):
    """A scenario file that does not follow the format (names the file and the scenario)."""


@dataclass(frozen=True)
class Citation:
    """A seed file and a section heading in it, as `file#section`."""

    file: str
    section: str

    @classmethod
    def parse(cls, text: object, where: str) -> Citation:
        if not isinstance(text, str) or "#" not in text:
            raise ScenarioFormatError(f"{where}: a source is 'seed-file#section', not {text!r}")
        file, _, section = text.partition("#")
        if not SEED_FILE.match(file) or not section.strip():
            raise ScenarioFormatError(f"{where}: {text!r} names no seed file and section")
        return cls(file, section)

    def __str__(self) -> str:
        return f"{self.file}#{self.section}"


@dataclass(frozen=True)
class Expectation:
    tier: str
    fora: frozenset[str]
    top5: tuple[str, ...]
    not_top10: tuple[str, ...]
    not_asked: tuple[str, ...] = ()
    ask_first: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    id: str
    description: str
    folder: str
    file: str
    case: Mapping[str, Any]
    expect: Expectation
    # Which expectation rests on which sections: "tier" and "fora" map to a list of
    # citations, and every id in top5 / not_top10 to its own.
    sources: Mapping[str, tuple[Citation, ...]] = field(default_factory=dict)
    why_fewer: str | None = None
    outside_catalogue: str | None = None

    def citations(self) -> list[tuple[str, Citation]]:
        """Every (expectation, citation) pair, for checks against the seeds."""
        return [(key, c) for key, cites in self.sources.items() for c in cites]


def _id_list(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and ID.match(v) for v in value):
        raise ScenarioFormatError(f"{where}: expected a list of ids, got {value!r}")
    if len(set(value)) != len(value):
        raise ScenarioFormatError(f"{where}: an id is listed twice")
    return tuple(value)


def _parse(raw: object, folder: str, file: str) -> Scenario:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ScenarioFormatError(f"{file}: every scenario is a mapping with an 'id'")
    sid = raw["id"]
    where = f"{folder}/{file} [{sid}]"
    if not ID.match(sid):
        raise ScenarioFormatError(f"{where}: the id is lower-case kebab-case")
    unknown = set(raw) - SCENARIO_FIELDS
    if unknown:
        raise ScenarioFormatError(f"{where}: unknown field(s) {sorted(unknown)}")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip() or "\n" in description.strip():
        raise ScenarioFormatError(f"{where}: a one-line 'description' is required")
    case = {k: raw[k] for k in CASE_FIELDS if k in raw}
    if not isinstance(case.get("factors", {}), dict):
        raise ScenarioFormatError(f"{where}: 'factors' maps factor ids to true/false/unknown")
    for factor, answer in case.get("factors", {}).items():
        if answer not in (True, False, "unknown"):
            raise ScenarioFormatError(f"{where}: factor {factor} is true, false or unknown")
    if "offences" in case:
        _id_list(case["offences"], f"{where} offences")
    if "age" in case and (type(case["age"]) is not int or not 0 <= case["age"] <= 120):
        raise ScenarioFormatError(f"{where}: 'age' is a whole number of years")
    if "role" in case:
        roles = [case["role"]] if isinstance(case["role"], str) else case["role"]
        if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
            raise ScenarioFormatError(f"{where}: 'role' is one or more of {', '.join(ROLES)}")
    if "victim_of" in case:
        _id_list(case["victim_of"], f"{where} victim_of")
    for key in ("municipality", "area"):
        if key in case and (not isinstance(case[key], str) or not case[key].strip()):
            raise ScenarioFormatError(f"{where}: '{key}' is a name")

    expect = raw.get("expect")
    if not isinstance(expect, dict) or not EXPECT_FIELDS <= set(expect) <= EXPECT_FIELDS | OPTIONAL_EXPECT_FIELDS:
        raise ScenarioFormatError(f"{where}: 'expect' has {sorted(EXPECT_FIELDS)}, and may have "
                                  f"{sorted(OPTIONAL_EXPECT_FIELDS)}")
    if not isinstance(expect["tier"], str):
        raise ScenarioFormatError(f"{where}: 'expect.tier' is a tier id")
    top5 = _id_list(expect["top5"], f"{where} top5")
    not_top10 = _id_list(expect["not_top10"], f"{where} not_top10")
    not_asked = _id_list(expect.get("not_asked", []), f"{where} not_asked")
    ask_first = _id_list(expect.get("ask_first", []), f"{where} ask_first")
    exp = Expectation(expect["tier"], frozenset(_id_list(expect["fora"], f"{where} fora")),
                      top5, not_top10, not_asked, ask_first)
    if set(top5) & set(not_top10):
        raise ScenarioFormatError(f"{where}: an id is both expected and excluded")
    if len(top5) > 5:
        raise ScenarioFormatError(f"{where}: at most 5 interventions can be expected in the top 5")
    outside = raw.get("outside_catalogue")
    if outside is not None and top5:
        raise ScenarioFormatError(f"{where}: a case outside the catalogue expects no top 5")
    if outside is None and len(top5) < 2 and not raw.get("why_fewer"):
        raise ScenarioFormatError(f"{where}: expect 2 to 5 interventions, or say 'why_fewer'")
    if not not_top10:
        raise ScenarioFormatError(f"{where}: name the category errors in 'not_top10'")

    src = raw.get("sources")
    if not isinstance(src, dict) or not EXPECT_FIELDS <= set(src) <= EXPECT_FIELDS | OPTIONAL_EXPECT_FIELDS:
        raise ScenarioFormatError(f"{where}: 'sources' cites every expectation: {sorted(EXPECT_FIELDS)}")
    sources: dict[str, tuple[Citation, ...]] = {}
    for key in ("tier", "fora"):
        cites = src[key]
        if not isinstance(cites, list) or not cites:
            raise ScenarioFormatError(f"{where}: sources.{key} is a non-empty list")
        sources[key] = tuple(Citation.parse(c, f"{where} sources.{key}") for c in cites)
    for key, ids in (("top5", top5), ("not_top10", not_top10)):
        per_id = src[key] or {}
        if not isinstance(per_id, dict) or set(per_id) != set(ids):
            raise ScenarioFormatError(f"{where}: sources.{key} cites each id of expect.{key}, and only those")
        for ident in ids:
            sources[f"{key}:{ident}"] = (Citation.parse(per_id[ident], f"{where} sources.{key}.{ident}"),)
    if "not_asked" in src:  # optional: a question may be ruled out by plain sense alone
        per_id = src["not_asked"] or {}
        if not isinstance(per_id, dict) or not set(per_id) <= set(not_asked):
            raise ScenarioFormatError(f"{where}: sources.not_asked cites ids of expect.not_asked only")
        for ident, cite in per_id.items():
            sources[f"not_asked:{ident}"] = (Citation.parse(cite, f"{where} sources.not_asked.{ident}"),)
    return Scenario(sid, description.strip(), folder, file, case, exp, sources,
                    raw.get("why_fewer"), outside)


def load_folder(folder: str, root: Path = SCENARIO_DIR) -> list[Scenario]:
    """The scenarios of one folder, in file and then file order."""
    return load_dir(root / folder, folder)


def load_dir(path: Path, name: str | None = None) -> list[Scenario]:
    """The scenarios of any folder of scenario files (e.g. a set written elsewhere), in file
    and then file order; `name` is the folder's name in messages (its own by default)."""
    folder = name or path.name
    scenarios = []
    for file in sorted(path.glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ScenarioFormatError(f"{folder}/{file.name}: a scenario file is a list")
        scenarios.extend(_parse(raw, folder, file.name) for raw in data)
    seen: set[str] = set()
    for s in scenarios:
        if s.id in seen:
            raise ScenarioFormatError(f"scenario id {s.id} is used twice in {folder}")
        seen.add(s.id)
    return scenarios


def load_all(root: Path = SCENARIO_DIR) -> dict[str, list[Scenario]]:
    """Both folders; an id used twice anywhere is an error."""
    folders = {folder: load_folder(folder, root) for folder in FOLDERS}
    seen: dict[str, str] = {}
    for folder, scenarios in folders.items():
        for s in scenarios:
            if s.id in seen:
                raise ScenarioFormatError(f"scenario id {s.id} is used in {seen[s.id]} and {folder}/{s.file}")
            seen[s.id] = f"{folder}/{s.file}"
    return folders
