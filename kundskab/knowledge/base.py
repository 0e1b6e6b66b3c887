"""The knowledge base: concepts from the ontology, looked up by id or label.

Loading reads the compiled JSON cache when it matches the ontology files byte for byte
and compiles (with rdflib) only when it does not, so a command pays for Turtle parsing
once per change of the ontology, not once per run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kundskab import _paths
from kundskab._memo import once, per_knowledge_base
from kundskab._names import fold, loose, nearest
from kundskab._paths import read_cache_json, write_cache_json
from kundskab._records import Frozen, set_field
from kundskab.errors import AmbiguousNameError, KnowledgeBaseError, UnknownConceptError
from kundskab.i18n import LANGUAGES, N_, SOURCE_LANGUAGE
from kundskab.knowledge import vocab as _vocab

__all__ = ["GENERAL_TIER", "Concept", "KnowledgeBase", "Source", "load", "tier_ranks"]

# How a concept type is called in messages and accepted on the command line.
KIND_NAMES = {
    "tier": "Tier",
    "programme": "Programme",
    "principle": "Principle",
    "sub-goal": "SubGoal",
    "goal": "Goal",
    "indicator": "Indicator",
    "target-group": "TargetGroup",
    "age-group": "AgeGroup",
    "risk-domain": "RiskDomain",
    "factor": "Factor",
    "forum": "Forum",
    "actor": "Actor",
    "crime-type": "CrimeType",
    "intervention": "Intervention",
    "evidence": "EvidenceBasis",
    "requirement": "Requirement",
    "focus-area": "FocusArea",
    "area": "Area",
    "source-document": "SourceDocument",
    "level": "OrganisationalLevel",
}


SECTION_WORD = {"da": "afsnit", "en": "section"}
PAGE_WORD = {"da": "side", "en": "page"}
# A section cited by page and heading: "s. 7 Fokus på kriminalitetstruede børn og unge".
_PAGED_SECTION = re.compile(r"s\. (\d+) (.+)", re.S)
# A citation of a public record (ontology/concepts/public-records.ttl) rather than a seed file.
PUBLIC_RECORD_PREFIX = "public:"


class Source(Frozen):
    """A citation: a seed file (the identifier) and a section of it, with the title a
    person knows the document by (its ks:SourceDocument record's short title; the file
    name where the knowledge base has no record of it)."""

    _fields = ("file", "section", "title", "page")
    file: str
    section: str | None
    title: str | None
    page: int | None  # where the source has pages and the knowledge base knows it

    def __init__(self, file: str, section: str | None, title: str | None = None, page: int | None = None) -> None:
        paged = _PAGED_SECTION.match(section) if section and page is None else None
        set_field(self, "file", file)
        set_field(self, "section", section)
        set_field(self, "title", title)
        set_field(self, "page", int(paged.group(1)) if paged else page)

    @classmethod
    def parse(cls, text: str, titles: Mapping[str, str] | None = None,
              pages: Mapping[str, int] | None = None) -> Source:
        """A citation "FILE#Section"; `titles` by file, `pages` by citation (KnowledgeBase's
        source_titles and source_pages)."""
        file, _, section = text.partition("#")
        return cls(file=file, section=section or None, title=(titles or {}).get(file),
                   page=(pages or {}).get(text))

    def __str__(self) -> str:
        return f"{self.file}#{self.section}" if self.section else self.file

    @property
    def public(self) -> bool:
        """Whether this cites a public record (a fact of public administration, such as the
        municipalities since 2007) rather than one of the source documents."""
        return self.file.startswith(PUBLIC_RECORD_PREFIX)

    def citation(self, lang: str = "da") -> str:
        """The source as a person reads it, e.g. "Esbjerg lokalråd, handlingsplan 2011,
        afsnit 'SSP og SSP+'"; a section cited with its page ("s. 7 Heading", the
        convention for a source with pages) as "…, afsnit 'Heading', side 7"."""
        title = self.title or self.file
        if not self.section:
            return title
        section = self.section
        paged = _PAGED_SECTION.match(section)
        if paged:
            section = paged.group(2)
        text = f"{title}, {SECTION_WORD.get(lang, SECTION_WORD['en'])} '{section}'"
        return f"{text}, {PAGE_WORD.get(lang, PAGE_WORD['en'])} {self.page}" if self.page else text

    def as_dict(self) -> dict[str, str | int | bool | None]:
        out: dict[str, str | int | bool | None] = {"file": self.file, "section": self.section,
                                             "title": self.title or self.file}
        if self.page is not None:
            out["page"] = self.page
        if self.public:
            out["public_record"] = True
        return out


class Concept(Frozen):
    """One concept of the knowledge base, with everything the ontology says of it."""

    _fields = ("id", "types", "labels", "alt_labels", "definitions", "sources", "refs", "values", "inferred")
    id: str
    types: tuple[str, ...]
    labels: Mapping[str, str]
    alt_labels: Mapping[str, tuple[str, ...]]
    definitions: Mapping[str, str]
    sources: tuple[Source, ...]
    refs: Mapping[str, tuple[str, ...]]
    values: Mapping[str, tuple[Any, ...]]
    # Links the editor inferred rather than the source states (ks:inferred): each a mapping
    # with "property", "value" and "note".
    inferred: tuple[Mapping[str, str], ...]

    def __init__(self, id: str, types: tuple[str, ...], labels: Mapping[str, str],
                 alt_labels: Mapping[str, tuple[str, ...]], definitions: Mapping[str, str],
                 sources: tuple[Source, ...], refs: Mapping[str, tuple[str, ...]] | None = None,
                 values: Mapping[str, tuple[Any, ...]] | None = None,
                 inferred: tuple[Mapping[str, str], ...] = ()) -> None:
        set_field(self, "id", id)
        set_field(self, "types", types)
        set_field(self, "labels", labels)
        set_field(self, "alt_labels", alt_labels)
        set_field(self, "definitions", definitions)
        set_field(self, "sources", sources)
        set_field(self, "refs", {} if refs is None else refs)
        set_field(self, "values", {} if values is None else values)
        set_field(self, "inferred", inferred)

    @property
    def type(self) -> str:
        """The most specific class (e.g. AgeGroup rather than TargetGroup)."""
        return self.types[0] if self.types else "Concept"

    def is_a(self, class_name: str) -> bool:
        return class_name in self.types

    def label(self, lang: str = "da") -> str:
        return self.labels.get(lang) or self.labels.get("en") or self.labels.get("da") or self.id

    def definition(self, lang: str = "da") -> str | None:
        return self.definitions.get(lang) or self.definitions.get("en") or self.definitions.get("da")

    def ref(self, prop: str) -> tuple[str, ...]:
        return self.refs.get(prop, ())

    def value(self, prop: str, lang: str | None = None) -> str | None:
        """The first literal of `prop`, preferring `lang` where literals are language-tagged."""
        found = self.values.get(prop, ())
        plain = [v for v in found if isinstance(v, str)]
        tagged = {v["lang"]: v["value"] for v in found if isinstance(v, dict)}
        if lang and lang in tagged:
            return str(tagged[lang])
        if plain:
            return plain[0]
        return str(next(iter(tagged.values()))) if tagged else None

    def is_inferred(self, prop: str, value: str) -> bool:
        """Whether the link `prop` -> `value` is the editor's inference (ks:inferred)."""
        return any(i.get("property") == prop and i.get("value") == value for i in self.inferred)

    def all_values(self, prop: str) -> list[str]:
        return [v if isinstance(v, str) else v["value"] for v in self.values.get(prop, ())]

    def int_value(self, prop: str) -> int | None:
        text = self.value(prop)
        return int(text) if text is not None and text.lstrip("-").isdigit() else None


def _read_sources(files: Iterable[Path], root: Path) -> tuple[str, list[tuple[Path, bytes]]]:
    """The fingerprint of the ontology files and their content, from one read of each:
    the cache is compiled from the very bytes its key was computed from."""
    return _paths.hash_sources([(str(path.relative_to(root)), path) for path in files],
                               f"format={_vocab.CACHE_FORMAT}")


# The cache directory is not trusted (kundskab._paths): a cache file is read only if it has
# the exact shape the compiler writes; anything else is a miss, and the cache is rebuilt.


# The checks below run over every value of the cache on every start-up: sets of types built
# by C loops (`map(type, ...)`), not a Python test per value.
_STR = frozenset({str})
_LIST = frozenset({list})
_DICT = frozenset({dict})


def _is_str_map(value: Any) -> bool:
    return type(value) is dict and {*map(type, value.values())} <= _STR


def _is_list_map(value: Any, item: Any = None) -> bool:
    """A dict of lists of strings (or, where `item` is given, of values `item` accepts)."""
    if type(value) is not dict or not {*map(type, value.values())} <= _LIST:
        return False
    items = [i for v in value.values() for i in v]
    types = {*map(type, items)}
    if types <= _STR:
        return True
    return item is not None and all(type(i) is str or item(i) for i in items)


def _is_tagged(value: Any) -> bool:
    return type(value) is dict and type(value.get("value")) is str and type(value.get("lang")) is str


def _well_formed(data: Any) -> bool:
    """Whether a parsed cache has the shape `_compile.compile_graph` writes (JSON keys are
    always strings, so only values need checking). Keep in step with the compiler: a key
    it adds is checked here too (a test compiles the ontology and checks the result)."""
    if type(data) is not dict or data.get("format") != _vocab.CACHE_FORMAT or \
            type(data.get("version")) is not str:
        return False
    classes, concepts = data.get("classes"), data.get("concepts")
    if type(classes) is not dict or type(concepts) is not dict:
        return False
    if not ({*map(type, classes.values())} <= _DICT and {*map(type, concepts.values())} <= _DICT):
        return False
    for entry in classes.values():
        if not _is_list_map({"p": entry.get("parents")}) or not _is_str_map(entry.get("labels")):
            return False
    for entry in concepts.values():
        if not (_is_list_map({"t": entry.get("types"), "s": entry.get("sources")})
                and _is_str_map(entry.get("labels")) and _is_str_map(entry.get("definition"))
                and _is_list_map(entry.get("alt_labels")) and _is_list_map(entry.get("refs"))
                and _is_list_map(entry.get("values"), _is_tagged)
                and _is_list_map({"i": entry.get("inferred", [])}, _is_str_map)):
            return False
    return True


def read_compiled(path: Path) -> dict[str, Any] | None:
    """The compiled model in a cache file, or None where it is absent or not of the exact
    shape the compiler writes (the cache directory is not trusted)."""
    data = read_cache_json(path)
    return data if _well_formed(data) else None


def ontology_fingerprint(directory: Path) -> str:
    """The fingerprint of the ontology in `directory`: what its knowledge base is cached and
    versioned by (a store's published graph carries it too)."""
    return _read_sources(_paths.ontology_files(directory), directory)[0]


class KnowledgeBase:
    """Concepts by id, label lookup, and the catalogue of interventions."""

    def __init__(self, model: Mapping[str, Any], *, ontology_dir: Path | None = None,
                 fingerprint: str = "") -> None:
        self.ontology_dir = ontology_dir
        self.fingerprint = fingerprint
        self.classes: Mapping[str, Mapping[str, Any]] = model["classes"]
        self.schema_version: str = model.get("version", "0")
        # Source documents by seed file and public records by key ("public:NAME"), so that
        # every citation can show its title.
        self.source_titles: dict[str, str] = {}
        for entry in model["concepts"].values():
            if "SourceDocument" in entry["types"] or "PublicRecord" in entry["types"]:
                files = [v for v in entry["values"].get("file", ()) if isinstance(v, str)]
                short = entry["values"].get("shortTitle", ())
                title = next((v if isinstance(v, str) else v["value"] for v in short), None)
                for file in files:
                    if title:
                        self.source_titles[file] = title
        titles = self.source_titles
        # The page of a section, where a source document has pages and its record says on
        # which ("s. 4 5. Mål og delmål" in ks:pagedSection), by citation "FILE#Section".
        self.source_pages: dict[str, int] = {}
        for entry in model["concepts"].values():
            if "SourceDocument" in entry["types"]:
                for file in (v for v in entry["values"].get("file", ()) if isinstance(v, str)):
                    for paged in entry["values"].get("pagedSection", ()):
                        found = _PAGED_SECTION.match(paged if isinstance(paged, str) else paged["value"])
                        if found:
                            self.source_pages[f"{file}#{found.group(2)}"] = int(found.group(1))
        pages = self.source_pages
        self._concepts: dict[str, Concept] = {
            ident: Concept(
                id=ident,
                types=tuple(entry["types"]),
                labels=entry["labels"],
                alt_labels={k: tuple(v) for k, v in entry["alt_labels"].items()},
                definitions=entry["definition"],
                sources=tuple(Source.parse(s, titles, pages) for s in entry["sources"]),
                refs={k: tuple(v) for k, v in entry["refs"].items()},
                values={k: tuple(v) for k, v in entry["values"].items()},
                inferred=tuple(entry.get("inferred", ())),
            )
            for ident, entry in model["concepts"].items()
        }

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, ontology_dir: Path | str | None = None, *, use_cache: bool = True) -> KnowledgeBase:
        """Load the knowledge base from `ontology_dir` (default: the bundled ontology)."""
        directory = Path(ontology_dir) if ontology_dir else _paths.ontology_dir()
        if not directory.is_dir():
            raise KnowledgeBaseError(N_("{directory}: not a directory"), directory=str(directory))
        files = _paths.ontology_files(directory)
        if not files:
            raise KnowledgeBaseError(N_("{directory}: no Turtle files"), directory=str(directory))
        read: list[list[tuple[Path, bytes]]] = []  # the sources' content, once read

        def fingerprint_of_content() -> str:
            fingerprint, sources = _read_sources(files, directory)
            read.append(sources)
            return fingerprint

        # Unchanged sources are known by their signature, without reading them.
        fingerprint = _paths.content_key("kb", files, fingerprint_of_content, extra=f"format={_vocab.CACHE_FORMAT}") \
            if use_cache else fingerprint_of_content()
        cache_path = _paths.cache_dir() / f"kb-{fingerprint[:32]}.json"
        model = read_compiled(cache_path) if use_cache else None
        if model is None:
            from kundskab.knowledge import compile as _compile  # rdflib only on a cache miss

            if not read:
                # Compiled from the very bytes the fingerprint is computed from.
                fingerprint = fingerprint_of_content()
                cache_path = _paths.cache_dir() / f"kb-{fingerprint[:32]}.json"
            model = _compile.compile_sources(read[-1])
            if use_cache:
                write_cache_json(cache_path, model)
        return cls(model, ontology_dir=directory, fingerprint=fingerprint)

    @property
    def version(self) -> str:
        """Identifies the exact knowledge: schema version plus a hash of the ontology."""
        return f"{self.schema_version}+{self.fingerprint[:12]}"

    # ------------------------------------------------------------------ access

    def __contains__(self, ident: object) -> bool:
        return ident in self._concepts

    def __iter__(self) -> Iterator[Concept]:
        return iter(self._concepts.values())

    def __len__(self) -> int:
        return len(self._concepts)

    def __bool__(self) -> bool:
        # A knowledge base is there even when it holds no concepts (a store that published
        # an empty graph): `kb or load()` must never swap it for the embedded one.
        return True

    def get(self, ident: str) -> Concept:
        """The concept with this exact id (KeyError-like UnknownConceptError otherwise)."""
        try:
            return self._concepts[ident]
        except KeyError:
            raise UnknownConceptError(ident, None, self.suggest(ident)) from None

    def of_type(self, class_name: str) -> list[Concept]:
        """The concepts of a class, by id (a new list: the caller may change it)."""
        return list(_types_index(self).get(class_name, ()))

    def label(self, ident: str, lang: str = "da") -> str:
        """The concept's name in `lang` (else English, else Danish), or `ident` itself when
        the knowledge base has no such concept."""
        if lang not in LANGUAGES:  # no table for it: kept to the languages there are
            concept = self._concepts.get(ident)
            return concept.label(lang) if concept else ident
        return self.labels(lang).get(ident, ident)

    def labels(self, lang: str = "da") -> Mapping[str, str]:
        """Every concept's name in `lang` (one of i18n.LANGUAGES) by id, as `label` gives
        it: one table per language, made on first use and shared (do not change it). Any
        other language: the English table."""
        if lang not in LANGUAGES:
            lang = SOURCE_LANGUAGE
        tables = _label_tables(self)
        table = tables.get(lang)
        if table is None:
            table = tables[lang] = {c.id: c.label(lang) for c in self}
        return table

    def class_label(self, class_name: str, lang: str = "da") -> str:
        labels = self.classes.get(class_name, {}).get("labels", {})
        return str(labels.get(lang) or labels.get("en") or class_name)

    def referrers(self, ident: str, prop: str, class_name: str | None = None) -> list[Concept]:
        """Concepts whose `prop` points at `ident` (the inverse direction)."""
        return [
            c for c in self.of_type(class_name or "Concept") if ident in c.ref(prop)
        ]

    # ------------------------------------------------------------------ names

    def resolve(self, name: str, kind: str | None = None, *, suggest: bool = True) -> str:
        """The id that `name` (an id, or a Danish or English label) stands for.

        `kind` (a class such as "Forum", or a kind name such as "forum") restricts the
        candidates. Ids win over preferred labels, which win over alternative labels; a
        name typed without æ/ø/å ('Koge') is tried by its loose key last, in the same order.
        Without `suggest`, an unknown name raises without the (costlier) nearest ids.
        """
        class_name = KIND_NAMES.get(kind, kind) if kind else None
        text = name.strip()
        if text in self._concepts and (class_name is None or self._concepts[text].is_a(class_name)):
            return text
        key = fold(text)
        for position, index in enumerate(_names_index(self)):
            wanted = key if position < 3 else loose(key)  # loose only once the exact keys missed
            found = sorted(
                i for i in index.get(wanted, ()) if class_name is None or self._concepts[i].is_a(class_name)
            )
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise AmbiguousNameError(name, found)
        raise UnknownConceptError(name, kind, self.suggest(name, class_name) if suggest else [])

    def suggest(self, name: str, class_name: str | None = None, n: int = 3) -> list[str]:
        """The nearest ids to a name that matched nothing."""
        keys = _suggestion_keys(self).get(class_name)
        if keys is None:  # folded once per kind: a document may name hundreds of unknowns
            keys = {}
            for concept in self:
                if class_name and not concept.is_a(class_name):
                    continue
                keys.setdefault(fold(concept.id), concept.id)
                for label in concept.labels.values():
                    keys.setdefault(fold(label), concept.id)
            _suggestion_keys(self)[class_name] = keys
        found = nearest(name, keys, n)
        if not found and (class_name is None or class_name in self.classes):
            # No name spelt like it: those whose words it starts ('unge' -> 'Unge lovovertrædere').
            from kundskab.knowledge.browse import search

            found = [item["id"] for item in search(self, name, kind=class_name)[:n]]
        return found

    # ------------------------------------------------------------------ catalogue

    def principles_of(self, concept: Concept) -> tuple[str, ...]:
        """The principles an intervention is linked to (ks:supportsPrinciple) or that the
        chapter its programme places it in opens with (ks:inFocusArea, ks:underPrinciple)."""
        placed = [p for a in concept.ref("inFocusArea") if a in self for p in self.get(a).ref("underPrinciple")]
        return tuple(dict.fromkeys([*placed, *concept.ref("supportsPrinciple")]))

    def interventions(
        self,
        *,
        tier: Iterable[str] = (),
        target_group: Iterable[str] = (),
        forum: Iterable[str] = (),
        principle: Iterable[str] = (),
        crime_type: Iterable[str] = (),
        programme: Iterable[str] = (),
        kind: Iterable[str] = (),
        municipality: Iterable[str] = (),
        district: Iterable[str] = (),
    ) -> list[Concept]:
        """Catalogue interventions matching every given filter (any value within one).
        `municipality` and `district` name areas as kundskab.knowledge.places.select takes them: a
        measure is where its ks:municipality says (else where its programme's source is)."""
        filters = [
            ("tier", {self.resolve(t, "Tier") for t in tier}),
            ("targetGroup", {self.resolve(t, "TargetGroup") for t in target_group}),
            ("forum", {self.resolve(f, "Forum") for f in forum}),
            ("supportsPrinciple", {self.resolve(p, "Principle") for p in principle}),
            ("crimeType", {self.resolve(c, "CrimeType") for c in crime_type}),
            ("partOfProgramme", {self.resolve(p, "Programme") for p in programme}),
            ("kind", {self.resolve(k, "InterventionKind") for k in kind}),
        ]
        result = []
        for concept in self.of_type("Intervention"):
            if all(not wanted or wanted & set(self.principles_of(concept) if prop == "supportsPrinciple"
                                              else concept.ref(prop)) for prop, wanted in filters):
                result.append(concept)
        municipality, district = tuple(municipality), tuple(district)
        if municipality or district:
            from kundskab.knowledge.places import select

            result = select(self, result, municipality=municipality, district=district)
        return result


@per_knowledge_base
def _types_index(kb: KnowledgeBase) -> dict[str, tuple[Concept, ...]]:
    """The concepts of each class, by id (start-up asks for a dozen classes: one scan)."""
    found: dict[str, list[Concept]] = {}
    for concept in sorted(kb, key=lambda c: c.id):
        for class_name in dict.fromkeys(concept.types):
            found.setdefault(class_name, []).append(concept)
    return {k: tuple(v) for k, v in found.items()}


@per_knowledge_base
def _names_index(kb: KnowledgeBase) -> tuple[dict[str, set[str]], ...]:
    """Folded ids, preferred labels and alternative labels -> ids, then the same by loose keys."""
    ids: dict[str, set[str]] = {}
    preferred: dict[str, set[str]] = {}
    alternative: dict[str, set[str]] = {}
    for concept in kb:
        ids.setdefault(fold(concept.id), set()).add(concept.id)
        for label in concept.labels.values():
            preferred.setdefault(fold(label), set()).add(concept.id)
        for alts in concept.alt_labels.values():
            for alt in alts:
                alternative.setdefault(fold(alt), set()).add(concept.id)
    # Then the same names by their loose keys (_names.loose): 'Koge' finds Køge.
    loosely = []
    for index in (ids, preferred, alternative):
        by_loose: dict[str, set[str]] = {}
        for key, found in index.items():
            by_loose.setdefault(loose(key), set()).update(found)
        loosely.append(by_loose)
    return ids, preferred, alternative, *loosely


@per_knowledge_base
def _label_tables(kb: KnowledgeBase) -> dict[str, dict[str, str]]:
    """Language -> concept id -> label (filled by `KnowledgeBase.labels`)."""
    return {}


GENERAL_TIER = "general"  # the general effort: the tier of rank 1, where a case starts


@per_knowledge_base
def tier_ranks(kb: KnowledgeBase) -> dict[str, int]:
    """Each tier of the knowledge base with its rank (ks:rank: the general effort 1 up to
    the individual one). One table per knowledge base, shared: do not change it."""
    return {t.id: t.int_value("rank") or 0 for t in kb.of_type("Tier")}


@per_knowledge_base
def _suggestion_keys(kb: KnowledgeBase) -> dict[str | None, dict[str, str]]:
    """Folded ids and labels -> id, per class asked for (filled by `suggest`)."""
    return {}


@once
def _bundled() -> KnowledgeBase:
    return KnowledgeBase.load()


def load(ontology_dir: Path | str | None = None) -> KnowledgeBase:
    """The knowledge base; the bundled one is loaded once per process and reused."""
    return _bundled() if ontology_dir is None else KnowledgeBase.load(ontology_dir)
