"""The typed answer (kundskab.reasoning.answer) is the one description of a recommendation:
its JSON text (kundskab.reasoning.answer_json), the HTTP models and JSON Schemas
(kundskab.edges.models) and the command line's text all come from its values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kundskab._memo import bounds, clear_all
from kundskab.edges import models
from kundskab.edges.rendering import recommendation_lines
from kundskab.i18n import using_language
from kundskab.reasoning import answer_json
from kundskab.reasoning.answer import (
    NOT_IN_JSON,
    Brought,
    CaseWarning,
    Change,
    Explanation,
    Fact,
    ForumByAge,
    ForumElsewhere,
    ForumRuledOut,
    NeedQuestion,
    OpenQuestion,
    RankedIntervention,
    Recommendation,
)
from kundskab.reasoning.recommendation import Recommender

# Cases that between them fill every part of an answer: control apart, fora elsewhere,
# warnings, a relative asking, a victim, implied factors, an unknown age, a forum the case
# rules out.
CASES: list[dict[str, Any]] = [
    {"ref": "opaque-1", "age": 15, "factors": {"truancy": True, "family-problems": "unknown"}},
    {"ref": "0102031234", "age": 17, "factors": ["gang-member", "offence-committed"], "offences": ["violence"]},
    {"age": 16, "factors": ["wants-to-leave-gang"], "municipality": "odense"},
    {"age": 12, "factors": ["truancy"], "role": ["relative"], "municipality": "esbjerg"},
    {"age": 14, "role": ["victim"], "victim_of": ["violence-and-threats"], "municipality": "koebenhavn",
     "area": "tingbjerg"},
    {"factors": ["street-group"], "municipality": "aalborg", "area": "Atlantis"},
    {"age": 19, "factors": ["released-from-custody", "substance-abuse"]},
    {"age": 51, "factors": {"psychiatric-illness": True, "falls-between-services": False}},
]


def answers(recommender: Recommender) -> list[Recommendation]:
    return [recommender.recommend(case, lang=lang, need_questions=3) for case in CASES for lang in ("da", "en")]


def test_the_json_is_the_typed_values_field_for_field(recommender: Recommender) -> None:
    seen: set[str] = set()
    for rec in answers(recommender):
        data = rec.as_dict()
        fields = [f for f in Recommendation._fields if f not in NOT_IN_JSON]
        # Every key is a field; a field with a default (empty) is left out only when empty.
        assert set(data) == {f for f in fields if f not in Recommendation._field_defaults or getattr(rec, f)}
        seen.update(f for f in data if f in Recommendation._field_defaults)
        for key in ("interventions", "control"):
            for item, typed in zip(data.get(key, []), getattr(rec, key), strict=True):
                assert isinstance(typed, RankedIntervention)
                assert list(item) == list(RankedIntervention._fields)
                assert item == json.loads(json.dumps(answer_json.plain(typed)))
        for question, asked in zip(data["open_questions"], rec.open_questions, strict=True):
            assert isinstance(asked, OpenQuestion) and list(question) == list(OpenQuestion._fields)
            for change in (asked.if_true, asked.if_false):
                assert change is None or isinstance(change, Change)
        for entry, typed in zip(data["explanation"], rec.explanation, strict=True):
            assert isinstance(typed, Explanation) and list(entry) == list(Explanation._fields)
            # Premises and conclusions are facts (kind, id, value), written in the rules' notation.
            assert all(isinstance(p, Fact) for p in (typed.conclusion, *typed.premises))
            assert entry["conclusion"] == str(typed.conclusion)
            assert entry["premises"] == [str(p) for p in typed.premises]
            assert all(Fact.read(str(p)) == p for p in (typed.conclusion, *typed.premises))
        assert all(isinstance(f, ForumElsewhere) for f in rec.fora_elsewhere)
        assert all(isinstance(f, ForumByAge) for f in rec.fora_by_age)
        assert all(isinstance(f, ForumRuledOut) for f in rec.fora_ruled_out)
        assert data.get("fora_ruled_out", []) == [f._asdict() for f in rec.fora_ruled_out]
        assert data.get("fora_by_age", []) == [f._asdict() for f in rec.fora_by_age]
        assert all(isinstance(w, CaseWarning) for w in rec.warnings)
        assert data.get("warnings", []) == [w._asdict() for w in rec.warnings]
        assert all(isinstance(q, NeedQuestion) and all(isinstance(m, Brought) for m in q.would_bring)
                   for q in rec.need_questions)
        assert data.get("need_questions", []) == [
            {"factor": q.factor, "label": q.label, "would_bring": [m._asdict() for m in q.would_bring]}
            for q in rec.need_questions]
        assert data["labels"] == dict(rec.labels)
    # the cases reach every optional part
    assert seen == {"fora_elsewhere", "control", "warnings", "fora_by_age", "need_questions", "fora_ruled_out"}


def test_facts_read_and_write_the_rules_notation() -> None:
    for text, fact in (("factor:truancy=true", Fact("factor", "truancy", "true")), ("age:15", Fact("age", "15")),
                       ("case", Fact("case", "")),
                       ("target-group:at-risk-youth", Fact("target-group", "at-risk-youth"))):
        assert Fact.read(text) == fact and str(fact) == text


def test_the_models_and_schemas_are_made_from_the_typed_answer(recommender: Recommender) -> None:
    assert list(models.Recommendation.model_fields) == [f for f in Recommendation._fields if f not in NOT_IN_JSON]
    for typed, model in ((RankedIntervention, models.RankedIntervention), (OpenQuestion, models.OpenQuestion),
                         (Explanation, models.Explanation), (Change, models.Change),
                         (ForumElsewhere, models.ForumElsewhere), (CaseWarning, models.CaseWarning),
                         (ForumByAge, models.ForumByAge), (ForumRuledOut, models.ForumRuledOut),
                         (NeedQuestion, models.NeedQuestion),
                         (Brought, models.Brought)):
        assert list(model.model_fields) == list(typed._fields)
    schema = models.Recommendation.model_json_schema()
    assert schema["$defs"]["RankedIntervention"]["properties"]["min_age"]["description"].startswith("The youngest")
    for rec in answers(recommender):
        # The model reads every answer and gives back the same object.
        assert models.Recommendation.model_validate_json(rec.to_json()).model_dump(mode="json") == {
            k: v for k, v in rec.as_dict().items()} | {
                k: [] for k in ("fora_elsewhere", "control", "warnings", "fora_by_age", "need_questions",
                                "fora_ruled_out")
                if k not in rec.as_dict()}


def test_shared_values_cannot_be_changed_by_one_caller(recommender: Recommender) -> None:
    rec = recommender.recommend(CASES[0])
    with pytest.raises(TypeError):
        rec.labels["ssp"] = "x"  # type: ignore[index]
    data = rec.as_dict()
    data["interventions"][0]["label"] = "changed"
    data["labels"].clear()
    assert recommender.recommend(CASES[0]).to_json() == rec.to_json()


def test_the_texts_kept_by_the_encoder_can_be_cleared_at_any_time(recommender: Recommender) -> None:
    expected = [rec.to_json() for rec in answers(recommender)]
    assert [rec.to_json() for rec in answers(recommender)] == expected  # kept texts are the same texts
    small = {"answer_json.texts": 3, "answer_json.lists": 2, "answer_json.labels": 2, "answer_json.id_lists": 1}
    with bounds(small):  # cleared over and over within each answer
        assert [rec.to_json() for rec in answers(recommender)] == expected
        assert len(answer_json._TEXTS) <= 3 and len(answer_json._LISTS) <= 2 and len(answer_json._LABELS) <= 2
    clear_all()
    assert [rec.to_json() for rec in answers(recommender)] == expected


def test_the_text_for_people_is_rendered_from_the_typed_values(recommender: Recommender) -> None:
    rec = recommender.recommend({"age": 15, "factors": ["truancy"]}, lang="en")
    with using_language("en"):
        text = "\n".join(recommendation_lines(rec, recommender.kb, "en"))
    assert rec.interventions[0].label in text and f"[{rec.tier}]" in text
    assert "Truancy = yes" in text  # a premise read from its fact, not from its notation
    assert json.loads(rec.to_json())["tier"] == rec.tier


def test_each_measure_names_the_answers_fora_it_is_anchored_in(recommender: Recommender) -> None:
    kb = recommender.kb
    seen = set()
    for rec in answers(recommender):
        for item in (*rec.interventions, *rec.control):
            own = set(kb.get(item.id).ref("forum"))
            if rec.age is not None:
                assert item.fora == tuple(sorted(own & set(rec.fora))), item.id
            else:  # the fora of the ages the case allows
                assert set(item.fora) <= own and list(item.fora) == sorted(item.fora), item.id
            seen.add(bool(item.fora))
        assert all(json.loads(rec.to_json())["interventions"][i]["fora"] == list(item.fora)
                   for i, item in enumerate(rec.interventions))
    assert seen == {True, False}  # the cases give measures of the answer's fora and others
