"""Browsing the knowledge base: concepts and interventions as plain JSON-ready dicts.

The CLI's `show` and `interventions` print exactly these objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import Any

from kundskab._memo import per_knowledge_base
from kundskab._names import fold, loose
from kundskab.errors import UnknownKindError
from kundskab.knowledge.base import KIND_NAMES, Concept, KnowledgeBase

__all__ = ["LIST_KINDS", "available_kinds", "describe", "intervention_summary", "kind_class", "kind_name",
           "list_concepts", "search"]

# What `kundskab list KIND` lists: the plural a user types -> the ontology class.
LIST_KINDS: dict[str, str] = {
    "factors": "Factor",
    "risk-domains": "RiskDomain",
    "programmes": "Programme",
    "principles": "Principle",
    "sub-goals": "SubGoal",
    "goals": "Goal",
    "indicators": "Indicator",
    "requirements": "Requirement",
    "focus-areas": "FocusArea",
    "tiers": "Tier",
    "target-groups": "TargetGroup",
    "age-groups": "AgeGroup",
    "situation-groups": "SituationGroup",
    "fora": "Forum",
    "actors": "Actor",
    "crime-types": "CrimeType",
    "interventions": "Intervention",
    "kinds": "InterventionKind",
    "evidence": "EvidenceBasis",
    "levels": "OrganisationalLevel",
    "municipalities": "Municipality",
    "police-districts": "PoliceDistrict",
    "sources": "SourceDocument",
}

# ks: property -> output key, and whether it holds a single value.
PROPERTY_KEYS: dict[str, tuple[str, bool]] = {
    "tier": ("tier", True),
    "kind": ("kind", True),
    "targetGroup": ("target_groups", False),
    "forum": ("fora", False),
    "actor": ("actors", False),
    "crimeType": ("crime_types", False),
    "addressesFactor": ("risk_factors", False),
    "supportsPrinciple": ("principles", False),
    "servesSubGoal": ("subgoals", False),
    "evidence": ("evidence", True),
    "partOfProgramme": ("programme", True),
    "inFocusArea": ("focus_areas", False),
    "ofProgramme": ("programme", True),
    "hasIndicator": ("indicators", False),
    "inDomain": ("domain", True),
    "atLevel": ("levels", False),
    "memberOrganisation": ("members", False),
    "publisher": ("publishers", False),
    "supersedes": ("supersedes", False),
    "valuesFrom": ("values_from", True),
    "broader": ("broader", False),
    "municipality": ("municipality", True),
    "partOf": ("part_of", False),
    "contraindication": ("contraindications", False),
    "implies": ("implies", False),
    "makesMoot": ("makes_moot", False),
    "presupposes": ("presupposes", False),
    "askedOfMinorsAfter": ("asked_of_minors_after", False),
    "askedAfterOneOf": ("asked_after_one_of", False),
    "takesOver": ("takes_over", False),
    "takesOverUnlessSuffered": ("takes_over_unless_suffered", False),
    "notForCaseDenying": ("not_for_case_denying", False),
    "related": ("related", False),
}
VALUE_KEYS = {
    "minAge": "min_age", "maxAge": "max_age", "rank": "rank", "year": "year",
    "trigger": "trigger", "meets": "meets", "place": "place", "period": "period",
    "baseline": "baseline", "baselineYear": "baseline_year", "target": "target",
    "targetYear": "target_year", "dataSource": "data_source", "field": "field",
    "minCount": "min_count", "requiredValue": "required_value",
    "allowedValue": "allowed_values", "errorCode": "error_code",
    "principleNumber": "number", "inTryghedsindeks": "in_tryghedsindeks",
    "version": "version", "note": "note", "scope": "scope", "status": "status",
    "situation": "situations", "area": "area", "shortTitle": "short_title", "file": "file",
    "placeName": "place_name", "pagedSection": "paged_sections",
}
LIST_VALUES = {"situations", "paged_sections"}
INTEGER_VALUES = {"min_age", "max_age", "rank", "min_count", "number"}


def _ref(kb: KnowledgeBase, ident: str, lang: str) -> dict[str, str]:
    return {"id": ident, "label": kb.label(ident, lang)}


def _relations(kb: KnowledgeBase, concept: Concept, lang: str, *, expand: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prop, ids in concept.refs.items():
        key, single = PROPERTY_KEYS.get(prop, (prop, False))
        items: list[Any] = [_ref(kb, i, lang) if expand else i for i in ids]
        out[key] = items[0] if single and len(items) == 1 else items
    for prop, _values in concept.values.items():
        key = VALUE_KEYS.get(prop, prop)
        if key == "allowed_values" or key in LIST_VALUES:
            out[key] = concept.all_values(prop)
            continue
        text = concept.value(prop, lang)
        if key in INTEGER_VALUES and text is not None and text.lstrip("-").isdigit():
            out[key] = int(text)
        elif key in ("in_tryghedsindeks", "victimless", "mediationOnRequest", "askedOnlyWhenRaised"):
            out[key] = text == "true"
        else:
            out[key] = text
    return out


def _base(kb: KnowledgeBase, concept: Concept, lang: str) -> dict[str, Any]:
    return {
        "id": concept.id,
        "type": concept.type,
        "label": concept.label(lang),
        "labels": {"da": concept.labels.get("da"), "en": concept.labels.get("en")},
        "definition": concept.definition(lang),
        "sources": [s.as_dict() for s in concept.sources],
    }


def intervention_summary(kb: KnowledgeBase, concept: Concept, lang: str = "da") -> dict[str, Any]:
    """One intervention as listed by `interventions` (ids, not expanded)."""
    rel = _relations(kb, concept, lang, expand=False)
    return {
        "id": concept.id,
        "label": concept.label(lang),
        "tier": rel.get("tier"),
        "target_groups": _as_list(rel.get("target_groups")),
        "fora": _as_list(rel.get("fora")),
        "principles": list(kb.principles_of(concept)),
        "subgoals": _as_list(rel.get("subgoals")),
        "actors": _as_list(rel.get("actors")),
        "crime_types": _as_list(rel.get("crime_types")),
        "risk_factors": _as_list(rel.get("risk_factors")),
        "focus_areas": _as_list(rel.get("focus_areas")),
        "programme": rel.get("programme"),
        "evidence": rel.get("evidence", "evidence-unknown"),
        "place": rel.get("place", "unknown"),
        "period": rel.get("period", "unknown"),
        "scope": rel.get("scope"),
        "kind": rel.get("kind"),
        "status": rel.get("status"),
        "situations": _as_list(rel.get("situations")),
        "municipality": rel.get("municipality"),
        "area": rel.get("area"),
        "min_age": rel.get("min_age"),
        "max_age": rel.get("max_age"),
        "contraindications": _as_list(rel.get("contraindications")),
        "definition": concept.definition(lang),
        "sources": [s.as_dict() for s in concept.sources],
        "inferred": _inferred(concept),
    }


def _inferred(concept: Concept) -> list[dict[str, str]]:
    """The links the editor inferred (every other link is stated by a cited section)."""
    return [{"property": PROPERTY_KEYS.get(prop, (VALUE_KEYS.get(prop, prop),))[0],
             "value": link.get("value", ""), "note": link.get("note", ""),
             **({"note_da": link["note_da"]} if link.get("note_da") else {})}
            for link in concept.inferred for prop in (link.get("property", ""),)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def describe(kb: KnowledgeBase, concept: Concept, lang: str = "da") -> dict[str, Any]:
    """Everything known about one concept, with labels, relations and sources."""
    out = _base(kb, concept, lang)
    out["types"] = list(concept.types)
    out["type_label"] = kb.class_label(concept.type, lang)
    out["definitions"] = dict(concept.definitions)
    out["alt_labels"] = {k: list(v) for k, v in concept.alt_labels.items()}
    out.update(_relations(kb, concept, lang, expand=True))
    out["inferred"] = _inferred(concept)
    if concept.is_a("Intervention"):
        out.setdefault("evidence", _ref(kb, "evidence-unknown", lang))
        out.setdefault("place", "unknown")
        out.setdefault("period", "unknown")
    if concept.is_a("Programme"):
        out.update(_programme_parts(kb, concept, lang))
    if concept.is_a("Goal"):
        out["indicators"] = [_indicator(kb, kb.get(i), lang) for i in concept.ref("hasIndicator")]
    if concept.is_a("Forum"):
        out["interventions"] = [_ref(kb, c.id, lang) for c in kb.interventions(forum=[concept.id])]
    if concept.is_a("InterventionKind"):
        out["interventions"] = [_ref(kb, c.id, lang) for c in kb.interventions(kind=[concept.id])]
    if concept.is_a("Principle"):
        out["interventions"] = [_ref(kb, c.id, lang) for c in kb.interventions(principle=[concept.id])]
    if concept.is_a("Principle") or concept.is_a("SubGoal"):
        from kundskab.knowledge.programmes import programmes_of

        # Its own programme and every programme that takes it over (ks:includes).
        out["programmes"] = [_ref(kb, p, lang) for p in programmes_of(kb, concept.id)]
    if concept.is_a("RiskDomain"):
        out["factors"] = [_ref(kb, c.id, lang) for c in kb.referrers(concept.id, "inDomain", "Factor")]
    return out


def _indicator(kb: KnowledgeBase, concept: Concept, lang: str) -> dict[str, Any]:
    def value(prop: str) -> str:
        return concept.value(prop, lang) or "unknown"

    return {
        "id": concept.id,
        "label": concept.label(lang),
        "definition": concept.definition(lang),
        "baseline": value("baseline"),
        "baseline_year": value("baselineYear"),
        "target": value("target"),
        "target_year": value("targetYear"),
        "data_source": value("dataSource"),
        "sources": [s.as_dict() for s in concept.sources],
    }


def _programme_parts(kb: KnowledgeBase, programme: Concept, lang: str) -> dict[str, Any]:
    from kundskab.knowledge import programmes

    def parts(class_name: str) -> list[Concept]:
        if class_name == "Requirement":  # a programme's own, not those of what it includes
            return [kb.get(r.id) for r in programmes.requirements(kb, programme.id)]
        return programmes.parts(kb, programme.id, class_name)

    requirements = []
    for req in parts("Requirement"):
        item = _base(kb, req, lang)
        item.update(_relations(kb, req, lang, expand=False))
        item.pop("programme", None)
        requirements.append(item)
    goals = []
    for goal in parts("Goal"):
        item = _base(kb, goal, lang)
        item["indicators"] = [_indicator(kb, kb.get(i), lang) for i in goal.ref("hasIndicator")]
        goals.append(item)
    return {
        "principles": [_base(kb, p, lang) | {"number": p.int_value("principleNumber")}
                       for p in parts("Principle")],
        "subgoals": [_base(kb, s, lang) for s in parts("SubGoal")],
        "requirements": requirements,
        "goals": goals,
        "focus_areas": [_ref(kb, f.id, lang) for f in parts("FocusArea")],
        "interventions": [_ref(kb, i.id, lang) for i in kb.interventions(programme=[programme.id])],
    }


def kind_class(kb: KnowledgeBase, kind: str) -> str:
    """The class a kind names: a plural of LIST_KINDS ("factors", "fora"), a singular
    ("factor", "crime-type") or a class name ("RiskFactor"); UnknownKindError otherwise."""
    key = fold(kind).replace(" ", "-")
    wanted = LIST_KINDS.get(key) or KIND_NAMES.get(key)
    if wanted is None:
        by_class = {fold(c): c for c in kb.classes}
        wanted = by_class.get(key.replace("-", ""))
    if wanted is None or wanted not in kb.classes:
        raise UnknownKindError(kind, available_kinds(kb))
    return wanted


def kind_name(class_name: str) -> str:
    """The name `list` knows a class by ("RiskFactor" -> "factors"), else the class name."""
    for kind, listed in LIST_KINDS.items():
        if listed == class_name:
            return kind
    if class_name in ("RiskFactor", "ProtectiveFactor"):
        return "factors"
    return class_name


def available_kinds(kb: KnowledgeBase) -> list[str]:
    """The kinds `list` accepts in this knowledge base (classes it does not have are left out)."""
    return [kind for kind, class_name in LIST_KINDS.items() if class_name in kb.classes]


def _entry(kb: KnowledgeBase, concept: Concept, lang: str) -> dict[str, Any]:
    return {"id": concept.id, "type": concept.type, "label": concept.label(lang),
            "labels": {"da": concept.labels.get("da"), "en": concept.labels.get("en")}}


def list_concepts(kb: KnowledgeBase, kind: str, lang: str = "da", *, municipality: Iterable[str] = (),
                  district: Iterable[str] = (), programme: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every concept of a kind, sorted by id; factors also carry their risk `domain` and
    are sorted by it, so that a listing reads domain by domain. `municipality`, `district`
    and `programme` keep those in a place or of a programme (kundskab.knowledge.places.select: a
    forum is where the sources that name it, and the measures that name it, are)."""
    from kundskab.knowledge.places import select

    class_name = kind_class(kb, kind)
    items = []
    for concept in select(kb, kb.of_type(class_name), municipality=municipality, district=district,
                          programme=programme):
        item = _entry(kb, concept, lang)
        if concept.is_a("Factor"):
            domain = concept.ref("inDomain")
            item["domain"] = domain[0] if domain else None
        items.append(item)
    if class_name == "Factor":
        items.sort(key=lambda i: (i["domain"] is None, i["domain"] or "", i["id"]))
    return items


# Search as people search: every word of the text matches the start of a word somewhere
# in the concept (id, labels, alt labels, definitions), folded for case and æ/ø/å; a
# Danish ending on the word (skolen, pjækker) is tried without it; small words (fra, og,
# the) count only when the text has nothing else. Ranked: the whole name, a name that
# starts with the text, every word in the names, the words spread over names and
# definitions, every word in a definition only.
_WORD = re.compile(r"[^\W_]+")
# Words that tell nothing in a search ("pjækker fra skolen"): Danish and English.
_SMALL_WORDS = frozenset((
    "af", "at", "de", "den", "der", "det", "du", "en", "er", "et", "for", "fra", "har", "i", "ikke",
    "jeg", "med", "og", "om", "op", "på", "pa", "paa", "som", "til", "ud", "under", "ved", "vi",
    "a", "an", "and", "are", "as", "be", "by", "from", "in", "is", "it", "of", "on", "or", "the",
    "to", "with"))
# Danish inflectional endings, longest first: a word is also tried without one, if what is
# left has at least four letters (skolen -> skol, pjækker -> pjækk, bandernes -> band).
_ENDINGS = ("ernes", "enes", "erne", "ene", "ers", "ens", "ets", "er", "en", "et", "es", "e", "s")


def _stems(word: str) -> tuple[str, ...]:
    found = [word]
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            found.append(word[: -len(ending)])
    return tuple(dict.fromkeys(found))


def _tokens(texts: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for text in texts:
        folded = fold(text)
        out.update(_WORD.findall(folded))
        out.update(loose(t) for t in _WORD.findall(folded))
    return out


def _matches(stems: tuple[str, ...], tokens: AbstractSet[str]) -> bool:
    """A word matches a field when a word of the field starts with it (or with a stem of it)."""
    return any(t.startswith(s) for s in stems for t in tokens)


class _SearchIndex:
    """Each concept's words, folded, by field: names (id, labels, alt labels) and definitions."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.entries: list[tuple[Concept, frozenset[str], frozenset[str], frozenset[str]]] = []
        for concept in kb:
            names = [concept.id.replace("-", " "), *concept.labels.values(),
                     *(alt for alts in concept.alt_labels.values() for alt in alts)]
            whole = frozenset(k for n in names for k in (fold(n), loose(fold(n))))
            self.entries.append((concept, whole, frozenset(_tokens(names)),
                                 frozenset(_tokens(concept.definitions.values()))))


_search_index = per_knowledge_base(_SearchIndex)


def search(kb: KnowledgeBase, text: str, lang: str = "da", kind: str | None = None) -> list[dict[str, Any]]:
    """Concepts that every word of `text` finds, best first (see _SMALL_WORDS and _ENDINGS):
    each word matches the start of a word of the concept's id, labels, alt labels or
    definitions, case and æ/ø/å folded; small words (fra, og, the) count only in a text of
    nothing else. Ranked: the whole name; a name that starts with the text; every word in
    the names; the words spread over names and definitions; every word in a definition."""
    all_words = _WORD.findall(fold(text))
    if not all_words:
        return []
    words = [w for w in all_words if w not in _SMALL_WORDS] or all_words
    stems = [tuple(dict.fromkeys(s for stem in _stems(w) for s in (stem, loose(stem)))) for w in words]
    class_name = kind_class(kb, kind) if kind else None
    whole = " ".join(_WORD.findall(fold(text)))
    whole_keys = {whole, loose(whole)}
    found: list[tuple[int, str, dict[str, Any]]] = []
    for concept, names, name_words, definition_words in _search_index(kb).entries:
        if class_name and not concept.is_a(class_name):
            continue
        in_names = [_matches(s, name_words) for s in stems]
        if all(in_names):
            if whole_keys & names:
                rank = 0
            elif any(n.startswith(k) for n in names for k in whole_keys):
                rank = 1
            else:
                rank = 2
        elif all(hit or _matches(s, definition_words) for hit, s in zip(in_names, stems, strict=True)):
            rank = 3 if any(in_names) else 4
        else:
            continue
        item = _entry(kb, concept, lang)
        item["type_label"] = kb.class_label(concept.type, lang)
        item["matched"] = "name" if rank <= 2 else "definition"
        found.append((rank, concept.id, item))
    return [item for _, _, item in sorted(found, key=lambda f: (f[0], f[1]))]

