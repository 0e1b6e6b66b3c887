"""The web page of `kundskab serve`: the same answers as the JSON API, for people in a browser.

SSP consultants, project officers and lokalråd secretaries ask about a case, validate an
initiative document, look concepts and the catalogue up and read a programme's table here,
in Danish (English with `?lang=en` or the browser's Accept-Language). Every page is
rendered on the server from the typed answers of the API (`kundskab.edges.models`), with Jinja2
templates in `templates_html/` (autoescaped: no HTML is built by hand), and works without
JavaScript: sorting and the interview are links and buttons.

What the API refuses, the page refuses: a case is built from the form fields as the JSON
body the API takes and read by the same model and parser (`Service.recommend`), a document
goes through `Service.validate`, and every call runs in the service's thread pool under the
same time limit; the body limit is the service's edge (`Edge`), the same for both.

Safety: a case is never stored, logged or put in a URL. It is sent by POST only, and every
page answers `Cache-Control: no-store`. Forms carry a CSRF token: an HMAC of a random
cookie (SameSite=Strict, HttpOnly) under the process's secret (`serve` gives its workers one
secret, so any worker accepts a form another rendered); the token says nothing of a case.
A Content-Security-Policy allows only the page's own stylesheet: no script at all, no
inline style, no frame, forms to this origin only.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kundskab._memo import once
from kundskab._names import printable
from kundskab.edges import models
from kundskab.errors import CaseError, KundskabError
from kundskab.i18n import N_, Messages, gettext, other_language
from kundskab.reasoning.answer import Fact, NeedQuestion, OpenQuestion, Recommendation
from kundskab.reasoning.cases import age_from_text, age_groups
from kundskab.reasoning.recommendation import NEED_QUESTIONS

__all__ = ["CSP", "TEXTS", "mount", "page_language"]

Work = Callable[..., Awaitable[Any]]

TEMPLATES = Path(__file__).resolve().parent / "templates_html"
STATIC = TEMPLATES / "static"
CSRF_COOKIE = "kundskab_csrf"
CSRF_FIELD = "csrf"
ENV_SECRET = "KUNDSKAB_SERVE_SECRET"
MAX_FILES = 20  # documents in one upload
MAX_FIELDS = 400  # a case form has some 30 factors; more fields is not a form of ours
ANSWERS = ("true", "false", "unknown")

CSP = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

# Every word of the page (English here, Danish in the message catalogue).
TEXTS = Messages({
    "title": N_("kundskab: knowledge for crime prevention"),
    "skip": N_("Skip to the content"),
    "nav": N_("Main menu"),
    "ask": N_("Ask about a case"),
    "validate": N_("Validate a document"),
    "lookup": N_("Look up"),
    "catalogue": N_("Catalogue"),
    "fora": N_("Fora"),
    "programme_table": N_("A programme's table"),
    "portfolio_title": N_("A municipality's portfolio"),
    "portfolio_intro": N_("Coverage, holes and overlaps of the catalogue's measures in a municipality or police "
                          "district, or of a programme: which needs of which age groups the measures meet."),
    "other_language": N_("English"),
    "intro": N_("Recommendations for a case, checks of initiative documents and the knowledge behind them, "
                "each with its rule and its source. Nothing you type about a case is stored."),
    "privacy": N_("Nothing about the case is stored, logged or put in an address: the form is sent "
                  "to this server only, answered and forgotten. Do not write names, CPR numbers or "
                  "other details that identify a person."),
    "age": N_("Age (years)"),
    "age_hint": N_("Leave empty if you do not know."),
    "age_group": N_("Age group, when the age is not known"),
    "age_group_hint": N_("The answer then fits the ages of the group."),
    "age_group_none": N_("not known"),
    "factors": N_("What do you know about the person?"),
    "yes": N_("yes"),
    "no": N_("no"),
    "dont_know": N_("don't know"),
    "offences": N_("Offences committed or charged with"),
    "offences_hint": N_("Choose none if there are none or you do not know."),
    "municipality": N_("Municipality or police district"),
    "municipality_only": N_("Municipality"),
    "district": N_("Police district"),
    "municipality_hint": N_("Local measures come first. Leave empty if it does not matter."),
    "ref": N_("Your own reference (optional, never stored)"),
    "role": N_("Who is the person?"),
    "role_hint": N_("At risk unless you say otherwise. A relative: a parent or close relative asks for help; the "
                    "age and the factors then describe the child or young person they worry about."),
    "role_at-risk": N_("at risk"),
    "role_offender": N_("has committed offences"),
    "role_victim": N_("victim of a crime"),
    "role_relative": N_("a relative asks"),
    "victim_of": N_("Crimes the person has suffered"),
    "area": N_("Local area (estate, district)"),
    "area_hint": N_("Optional. A place the knowledge base does not know gives a note, never an error."),
    "submit_case": N_("Show the recommendation"),
    "answer": N_("Recommendation"),
    "tier": N_("Tier of effort"),
    "target_groups": N_("Target groups"),
    "fora_title": N_("Fora"),
    "no_fora": N_("No forum: the facts given meet no forum's trigger."),
    "no_fora_age": N_("none yet: they depend on the age, which the case does not give"),
    "fora_elsewhere": N_("Fora elsewhere (not the case's forum here)"),
    "fora_by_age": N_("Fora by age (ask the age to know which)"),
    "fora_ruled_out": N_("Fora the case rules out"),
    "answers_no": N_("the case answers no to: {factor}"),
    "no_fora_ruled_out": N_("none: the case rules out what a rule found (below)"),
    "years": N_("{low}–{high} years"),
    "from_years": N_("from {low} years"),
    "exists_in": N_("exists in {place}"),
    "control": N_("Control and enforcement (aimed at the person, not an offer of help)"),
    "measures": N_("Measures"),
    "no_measures": N_("No measure of the catalogue fits."),
    "score": N_("fit"),
    "why": N_("Why"),
    "source": N_("Source"),
    "reasons": N_("Reasons"),
    "explanation": N_("How the answer follows from the rules"),
    "rule": N_("rule"),
    "premises": N_("because of"),
    "next_question": N_("Next question"),
    "next_question_help": N_("Answering it may change the recommendation. The answer is added to the form below "
                             "and the recommendation is worked out again."),
    "other_questions": N_("Other open questions"),
    "tier_becomes": N_("tier becomes {tier}"),
    "new_fora": N_("new fora: {fora}"),
    "brings": N_("brings: {measures}"),
    "interview_done": N_("No other answer would change the recommendation."),
    "age_question": N_("The age is unknown: write it in the field 'Age' below and show the recommendation "
                       "again."),
    "go_to_age": N_("Go to the age"),
    "warnings": N_("Note"),
    "error": N_("The form could not be answered"),
    "kb_version": N_("Knowledge base version"),
    "validate_intro": N_("Paste an initiative document or upload one or more files (Markdown with YAML front "
                         "matter, YAML, Turtle or JSON-LD). The report lists each problem with its line."),
    "paste": N_("Document text"),
    "paste_format": N_("Format of the pasted text"),
    "upload": N_("Files"),
    "upload_hint": N_("At most {files} files; each at most 5 MB."),
    "submit_validate": N_("Validate"),
    "report": N_("Report"),
    "valid": N_("valid"),
    "invalid": N_("not valid"),
    "errors": N_("Errors"),
    "line": N_("line"),
    "field": N_("field"),
    "no_problems": N_("No problems found."),
    "nothing_sent": N_("Paste a document or choose a file."),
    "template": N_("Download a template"),
    "template_intro": N_("A commented starting document for a programme: fill it in and validate it here."),
    "programme": N_("Programme"),
    "search": N_("Search"),
    "search_label": N_("Words in an id, a name or a definition"),
    "kind": N_("Kind"),
    "any_kind": N_("any kind"),
    "no_results": N_("Nothing found."),
    "results": N_("Results"),
    "definition": N_("Definition"),
    "labels": N_("Names"),
    "sources": N_("Sources"),
    "relations": N_("Relations"),
    "inferred": N_("The editor's inference, not stated by the source"),
    "filter": N_("Filter"),
    "show": N_("Show"),
    "any": N_("any"),
    "crime_type": N_("Crime type"),
    "kind_of_measure": N_("Kind of measure"),
    "principle": N_("Principle"),
    "forum": N_("Forum"),
    "target_group": N_("Target group"),
    "count_items": N_("Found: {n}"),
    "interventions_title": N_("The catalogue of measures"),
    "interventions_intro": N_("The measures of the source documents, filtered as the command interventions "
                              "filters them: values of one filter are alternatives, filters combine."),
    "fora_intro": N_("The fora the catalogue's measures are anchored in, by municipality and programme."),
    "measures_count": N_("measures"),
    "trigger": N_("When"),
    "meets": N_("Meets"),
    "table_intro": N_("Every catalogue initiative of the programme with its principles and its verdict. "
                      "Click a column's heading to sort by it."),
    "verdict": N_("Verdict"),
    "in_scope": N_("Requirement applies"),
    "stated": N_("Stated"),
    "derived": N_("Derived"),
    "claimed": N_("Claimed"),
    "possible": N_("Possible"),
    "id": N_("Id"),
    "name": N_("Name"),
    "download_csv": N_("Download as CSV"),
    "download_xlsx": N_("Download as Excel (xlsx)"),
    "summary": N_("Summary"),
    "true": N_("yes"),
    "false": N_("no"),
    "unknown": N_("unknown"),
    "forbidden": N_("The form has expired or did not come from this page. Load the page again and send it anew."),
    "back": N_("Back to the start"),
})


texts = TEXTS.words  # the page's words in a language


def page_language(request: Request) -> str:
    """As the API: `lang` in the query, else Accept-Language (da or en), else Danish."""
    from kundskab.edges.service import request_language

    return request_language(request.query_params.get("lang"), request.headers.get("accept-language"))


@once
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["each"] = _each
    # Text from a document or a file name: no control, bidi or separator character reaches
    # the page (escaping makes text harmless to the HTML, this to the reader's eye).
    env.filters["printable"] = printable
    return env


def _each(items: Any, call: Callable[[Any], Any]) -> list[Any]:
    """`items | each(function)`: Jinja's `map` takes only a filter's name."""
    return [call(item) for item in items]


def render(template: str, /, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


# ---------------------------------------------------------------------------- CSRF


class Csrf:
    """Signed double submit: the form's token is an HMAC of the browser's random cookie
    under a secret, so a page of another site can neither read nor forge it."""

    def __init__(self, secret: bytes | None = None) -> None:
        given = os.environ.get(ENV_SECRET)
        self.secret = secret or (bytes.fromhex(given) if given and _is_hex(given) else secrets.token_bytes(32))

    def token(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode("ascii", "replace"), hashlib.sha256).hexdigest()

    def nonce(self, request: Request) -> tuple[str, bool]:
        """The browser's cookie, or a new one (and whether it is new)."""
        found = request.cookies.get(CSRF_COOKIE, "")
        if 16 <= len(found) <= 64 and found.isalnum():
            return found, False
        return secrets.token_hex(16), True

    def valid(self, request: Request, sent: Any) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        if not isinstance(sent, str) or not (16 <= len(nonce) <= 64 and nonce.isalnum()):
            return False
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            return False
        return hmac.compare_digest(self.token(nonce), sent)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return len(text) >= 32


# ---------------------------------------------------------------------------- the pages


class Pages:
    """What the pages show, worked out in the service's thread pool (library calls and
    rendering both: the event loop only reads and writes)."""

    def __init__(self, service: Any) -> None:
        self.service = service

    # -- shared pieces

    def context(self, lang: str, path: str, **extra: Any) -> dict[str, Any]:
        other = other_language(lang)

        def href(where: str, *pairs: tuple[str, str], **params: str) -> str:
            """A link on the page, in the page's language (never with a case's value)."""
            query = [*pairs, *params.items(), ("lang", lang)]
            return f"{where}?{urlencode(query)}"

        return {"t": texts(lang), "lang": lang, "other_lang": other, "path": path, "href": href,
                "switch": f"{path or '/'}?{urlencode({'lang': other})}", **extra}

    def citation(self, source: str | None, lang: str) -> str:
        from kundskab.knowledge.base import Source

        if not source:
            return ""
        return Source.parse(source, self.service.kb.source_titles).citation(lang)

    def label(self, ident: str, lang: str) -> str:
        kb = self.service.kb
        return str(kb.label(ident, lang)) if ident in kb else ident

    def options(self, class_name: str, lang: str) -> list[tuple[str, str]]:
        kb = self.service.kb
        return sorted(((c.id, c.label(lang)) for c in kb.of_type(class_name)), key=lambda o: o[1].casefold())

    def factor_domains(self, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
        from kundskab.knowledge.browse import list_concepts

        kb = self.service.kb
        groups: dict[str | None, list[tuple[str, str]]] = {}
        for item in list_concepts(kb, "factors", lang):
            groups.setdefault(item["domain"], []).append((item["id"], item["label"]))
        return [(self.label(domain, lang) if domain else texts(lang)["unknown"], items)
                for domain, items in groups.items()]

    # -- ask about a case

    def case_page(self, lang: str, token: str, form: CaseForm | None = None, **extra: Any) -> str:
        return render("case.html", **self.context(
            lang, "/case", form=form or CaseForm(), csrf=token, domains=self.factor_domains(lang),
            fields=set(models.Case.model_fields), roles=ROLES,
            crime_types=self.options("CrimeType", lang), areas=self.options("Area", lang),
            age_groups=[(g, self.label(g, lang)) for g in age_groups(self.service.kb)], **extra))

    def answer(self, form: CaseForm, lang: str, token: str) -> tuple[int, str]:
        """(status, page): the recommendation of the case the form gives, as the API answers
        it, or the form again with the reason it was refused."""
        try:
            rec = recommend_typed(self.service, form.case(), lang)
        except CaseRefused as refused:
            return 422, self.case_page(lang, token, form, error=refused.message)
        except KundskabError as exc:
            from kundskab.edges.service import error_for

            status, _, message = error_for(exc, lang)
            return status, self.case_page(lang, token, form, error=message)
        # The open questions first, then those about needs (a yes brings other measures).
        pending: list[OpenQuestion | NeedQuestion] = [*rec.open_questions, *rec.need_questions]
        questions = [q for q in pending if q.factor not in form.asked]
        return 200, self.case_page(lang, token, form, rec=rec, view=self.answer_view(rec, lang),
                                   question=questions[0] if questions else None, later=questions[1:])

    def answer_view(self, rec: Recommendation, lang: str) -> dict[str, Any]:
        labels = rec.labels

        def name(ident: str) -> str:
            return labels.get(ident) or self.label(ident, lang)

        def premise(fact: Fact) -> str:
            words = texts(lang)
            if fact.kind == "age":
                return f"{words['age']}: {fact.id}"
            if fact.kind == "factor" and fact.value in ANSWERS:
                return f"{name(fact.id)} = {words[fact.value]}"
            return name(fact.id) if not fact.value else str(fact)

        def change(q: OpenQuestion | NeedQuestion, answer: str) -> str:
            words = texts(lang)
            if isinstance(q, NeedQuestion):
                return words["brings"].format(measures=", ".join(m.label for m in q.would_bring)) \
                    if answer == "true" else ""
            moved = q.if_true if answer == "true" else q.if_false
            if moved is None:
                return ""
            parts = []
            if moved.tier and moved.tier != rec.tier:
                parts.append(words["tier_becomes"].format(tier=name(moved.tier)))
            if moved.new_fora:
                parts.append(words["new_fora"].format(fora=", ".join(name(f) for f in moved.new_fora)))
            return "; ".join(parts)

        return {"name": name, "premise": premise, "change": change,
                "cite": lambda source: self.citation(source, lang)}

    # -- validate

    def validate_page(self, lang: str, token: str, **extra: Any) -> str:
        return render("validate.html", **self.context(
            lang, "/validate", csrf=token, programmes=self.options("Programme", lang), max_files=MAX_FILES,
            formats=[("md", "Markdown"), ("yaml", "YAML"), ("ttl", "Turtle"), ("jsonld", "JSON-LD")], **extra))

    def validate_documents(self, documents: list[tuple[str, str]], lang: str,
                           limit: int | None = None, seconds: float | None = None) -> list[models.FileAnswer]:
        """Each document as `POST /v1/validate` answers it; one larger than the API's body
        limit for a document is refused as the API refuses it (the others go on)."""
        from kundskab.edges.service import BODY_TOO_LARGE

        out = []
        for name, content in documents:
            # The body a client would send the API for this document (UTF-8 JSON).
            body = json.dumps({"filename": name, "content": content}, ensure_ascii=False).encode("utf-8")
            if limit is not None and len(body) > limit:
                message = gettext(BODY_TOO_LARGE, lang).format(limit=limit)
                out.append(models.FileAnswer(file=name, valid=False, programme=None, principles=[], warnings=[],
                                             errors=[models.Problem(code="file-too-large", message=message)]))
                continue
            answer = (self.service.validate(name, content, lang) if seconds is None
                      else self.service.validate(name, content, lang, seconds))
            out.append(models.FileAnswer.model_validate(answer))
        return out

    def template(self, programme: str) -> tuple[str, str]:
        from kundskab.documents.templates import document_template

        kb = self.service.kb
        ident = kb.resolve(programme, "Programme")
        return ident, document_template(kb, ident)

    # -- look up

    def search_page(self, lang: str, query: str, kind: str) -> str:
        from kundskab.knowledge.browse import LIST_KINDS, search

        kb = self.service.kb
        kinds = [(k, kb.class_label(c, lang)) for k, c in LIST_KINDS.items() if c in kb.classes]
        found = search(kb, query[:200], lang, kind or None) if query.strip() else None
        return render("search.html", **self.context(lang, "/concepts", query=query, kind=kind, kinds=kinds,
                                                    found=found))

    def concept_page(self, lang: str, name: str) -> str:
        from kundskab.edges.rendering import FIELD_NAMES  # the names `show` gives the fields, one home

        kb = self.service.kb
        data = models.ConceptAnswer.model_validate(self.service.describe(name, lang))
        shown = {"id", "type", "label", "labels", "definition", "sources", "types", "type_label", "definitions",
                 "alt_labels", "inferred"}
        relations = []
        for key, value in (data.model_extra or {}).items():
            if key in shown or value in (None, [], ""):
                continue
            items = [texts(lang)["unknown"] if v == "unknown" else v for v in (value if isinstance(value, list)
                                                                                 else [value])]
            relations.append((FIELD_NAMES.text(lang, key) if key in FIELD_NAMES else key.replace("_", " "),
                              items))
        sources = [(s.model_dump(), self.citation(_source_text(s.model_dump()), lang)) for s in data.sources]
        return render("concept.html", **self.context(
            lang, "/concepts", c=data, extra=data.model_extra or {}, relations=relations, sources=sources,
            kb_classes=kb.classes))

    def interventions_page(self, lang: str, filters: dict[str, list[str]]) -> str:
        found = [models.InterventionSummary.model_validate(i) for i in self.service.interventions(filters, lang)]
        choices = {"tier": self.options("Tier", lang), "target_group": self.options("TargetGroup", lang),
                   "forum": self.options("Forum", lang), "principle": self.options("Principle", lang),
                   "crime_type": self.options("CrimeType", lang), "programme": self.options("Programme", lang),
                   "kind": self.options("InterventionKind", lang), "municipality": self.options("Municipality", lang),
                   "district": self.options("PoliceDistrict", lang)}
        cite = {i.id: [self.citation(_source_text(s.model_dump()), lang) for s in i.sources] for i in found}
        return render("interventions.html", **self.context(
            lang, "/interventions", found=found, filters=filters, choices=choices, cite=cite,
            name=lambda ident: self.label(ident, lang)))

    def fora_page(self, lang: str, municipality: str, programme: str) -> str:
        """The fora in a place and of a programme, as `list fora --municipality --programme`
        selects them (kundskab.knowledge.places.select)."""
        from kundskab.knowledge.browse import list_concepts

        kb = self.service.kb
        place = kb.resolve(municipality, "Area") if municipality else ""
        chosen = kb.resolve(programme, "Programme") if programme else ""
        fora = []
        for item in list_concepts(kb, "fora", lang, municipality=[place] if place else [],
                                  programme=[chosen] if chosen else []):
            concept = kb.get(item["id"])
            fora.append({"id": concept.id, "label": item["label"], "definition": concept.definition(lang),
                         "trigger": concept.value("trigger", lang), "meets": concept.value("meets", lang),
                         "sources": [self.citation(str(s), lang) for s in concept.sources]})
        fora.sort(key=lambda f: f["label"].casefold())
        return render("fora.html", **self.context(
            lang, "/fora", fora=fora, municipality=place, programme=chosen,
            places=self.options("Area", lang), programmes=self.options("Programme", lang)))

    # -- a programme's table

    def table(self, programme: str, lang: str) -> models.ProgrammeCheckAnswer:
        return models.ProgrammeCheckAnswer.model_validate(self.service.check_programme(programme, lang))

    def table_page(self, lang: str, programme: str, sort: str, order: str) -> str:
        from kundskab.documents.principle_support import text as support_text

        data = self.table(programme, lang) if programme else None
        rows = []
        if data is not None:
            for row in data.initiatives:
                # The strategy's placement in a chapter is its own statement: shown as stated.
                by_kind: dict[str, list[str]] = {"stated": [], "placed": [], "derived": [], "claimed": []}
                extra = row.model_extra or {}
                subgoals = [models.SupportAnswer.model_validate(s) for s in extra.get("subgoals") or []]
                for p in [*row.principles, *subgoals]:
                    if p.id not in by_kind[p.support]:
                        by_kind[p.support].append(p.id)
                rows.append({"id": row.id, "label": row.label, "verdict": row.verdict,
                             "verdict_label": support_text(lang, row.verdict),
                             "in_scope": "unknown" if row.in_scope is None else str(row.in_scope).lower(),
                             "stated": by_kind["placed"] + [p for p in by_kind["stated"] if p not in by_kind["placed"]],
                             "derived": by_kind["derived"],
                             "claimed": by_kind["claimed"],
                             "possible": sorted({p["id"] for p in extra.get("possible") or []}),
                             "why": row.why, "scope": extra.get("scope", "")})
        if sort not in SORTABLE:
            sort = "label"
        reverse = order == "desc"
        rows.sort(key=lambda r: _sort_key(r[sort]), reverse=reverse)
        return render("programme.html", **self.context(
            lang, "/programme", data=data, rows=rows, sort=sort, order="desc" if reverse else "asc",
            columns=SORTABLE, programme=programme, programmes=self.options("Programme", lang), xlsx=XLSX,
            verdict_label=lambda verdict: support_text(lang, verdict),
            name=lambda ident: self.label(ident, lang)))

    def table_csv(self, programme: str, lang: str) -> tuple[str, bytes]:
        from kundskab.documents.principle_support import assess_programme
        from kundskab.edges.rendering import table_csv

        assessment = assess_programme(self.service.kb, programme, lang)
        # The same table as `check --programme --format csv`: BOM, ';', in the page's language.
        return assessment.programme, table_csv(self.service.kb, assessment, lang).encode("utf-8")

    def table_xlsx(self, programme: str, lang: str) -> tuple[str, bytes]:
        from kundskab.documents.principle_support import assess_programme
        from kundskab.edges.rendering import write_xlsx

        assessment = assess_programme(self.service.kb, programme, lang)
        out = io.BytesIO()
        write_xlsx(self.service.kb, assessment, out, lang)
        return assessment.programme, out.getvalue()

    # -- a municipality's portfolio (kundskab.documents.portfolios)

    def portfolio_report(self, lang: str, place: str, programme: str) -> Any:
        """The portfolio of the catalogue's measures in a municipality or police district
        and/or of a programme (`portfolio --municipality/--district/--programme`)."""
        from kundskab.documents.portfolios import portfolio

        kb = self.service.kb
        area = kb.resolve(place, "Area") if place else None
        district = area if area and kb.get(area).is_a("PoliceDistrict") else None
        return portfolio(programme=programme or None, municipality=None if district else area, district=district,
                         kb=kb, lang=lang)

    def portfolio_page(self, lang: str, place: str, programme: str) -> str:
        from markupsafe import Markup

        from kundskab.edges.portfolio_output import html_fragment

        kb = self.service.kb
        report = self.portfolio_report(lang, place, programme) if place or programme else None
        # The fragment is the report's own autoescaped template; its style is /static/portfolio.css.
        fragment = Markup(html_fragment(report, inline_style=False)) if report is not None else None
        chosen = kb.resolve(place, "Area") if place else ""
        return render("portfolio.html", **self.context(
            lang, "/portfolio", fragment=fragment, place=chosen, programme=programme,
            places=self.options("Area", lang), programmes=self.options("Programme", lang)))

    def portfolio_xlsx(self, lang: str, place: str, programme: str) -> bytes:
        from kundskab.edges.portfolio_output import xlsx_bytes

        return xlsx_bytes(self.portfolio_report(lang, place, programme))

    def home(self, lang: str) -> str:
        return render("home.html", **self.context(lang, "/", programmes=self.options("Programme", lang)))

    def problem(self, lang: str, message: str) -> str:
        return render("problem.html", **self.context(lang, "", message=message))


XLSX = True  # the programme table's xlsx writer is there (check --programme --format xlsx)
# The table's columns, the name and verdict first (what a phone shows without scrolling).
SORTABLE = ("label", "verdict", "in_scope", "stated", "derived", "claimed", "possible", "id")


def _sort_key(value: Any) -> tuple[int, str]:
    if isinstance(value, list):
        return (len(value), ",".join(value))
    return (0, str(value).casefold())


def _source_text(source: Mapping[str, Any]) -> str:
    file, section = source.get("file") or "", source.get("section")
    return f"{file}#{section}" if section else str(file)


# ---------------------------------------------------------------------------- the case form


class CaseRefused(Exception):
    """The case of a form that the API would refuse, with the message (never a value)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Who the person is (the case's optional `role`, where the case model has it).
ROLES = ("at-risk", "offender", "victim", "relative")


class CaseForm:
    """The fields of the case form, as sent: kept only to render the form again."""

    def __init__(self, age: str = "", factors: Mapping[str, str] | None = None, offences: list[str] | None = None,
                 municipality: str = "", ref: str = "", asked: list[str] | None = None,
                 role: list[str] | None = None, victim_of: list[str] | None = None, area: str = "",
                 age_group: str = "") -> None:
        self.age = age
        self.factors = dict(factors or {})
        self.offences = list(offences or [])
        self.municipality = municipality
        self.ref = ref
        self.asked = list(asked or [])
        self.role = list(role or [])
        self.victim_of = list(victim_of or [])
        self.area = area
        self.age_group = age_group

    @classmethod
    def of(cls, fields: Any) -> CaseForm:
        """From the posted form (a multi-dict). A question answered by its button sets that
        factor and counts it as asked; so does its "don't know"."""
        factors = {key[len("factor:"):]: str(value) for key, value in fields.multi_items()
                   if isinstance(key, str) and key.startswith("factor:") and isinstance(value, str)}
        asked = [str(v) for v in fields.getlist("asked") if isinstance(v, str)]
        answer = fields.get("answer")
        if isinstance(answer, str) and ":" in answer:
            factor, _, value = answer.rpartition(":")
            if factor:
                factors[factor] = value
                if factor not in asked:
                    asked.append(factor)
        def texts(name: str) -> list[str]:
            return [str(v) for v in fields.getlist(name) if isinstance(v, str) and v]


        def text(name: str) -> str:
            value = fields.get(name)
            return value.strip() if isinstance(value, str) else ""

        return cls(text("age"), factors, texts("offences"), text("municipality"), text("ref"), asked,
                   texts("role"), texts("victim_of"), text("area"), text("age_group"))

    def case(self) -> dict[str, Any]:
        """The case as the JSON body the API takes: a factor left at "don't know" is left
        out (unknown either way), an empty field is absent."""
        case: dict[str, Any] = {}
        if self.ref:
            case["ref"] = self.ref
        if self.age:
            # A number as the API's JSON has it, read as --age and the interview read it
            # ("14", "14 år"); anything else as typed, for the case's parser to refuse.
            try:
                case["age"] = age_from_text(self.age)
            except CaseError:
                case["age"] = self.age
        factors = {name: value for name, value in self.factors.items() if value != "unknown"}
        if factors:
            case["factors"] = {name: value == "true" if value in ("true", "false") else value
                               for name, value in factors.items()}
        if self.offences:
            case["offences"] = self.offences
        if self.municipality:
            case["municipality"] = self.municipality
        if self.role:
            case["role"] = self.role
        if self.victim_of:
            case["victim_of"] = self.victim_of
        if self.area:
            case["area"] = self.area
        if self.age_group:
            case["age_group"] = self.age_group
        return case

    def answer(self, factor: str) -> str:
        value = self.factors.get(factor, "unknown")
        return value if value in ANSWERS else "unknown"


def recommend_typed(service: Any, case: dict[str, Any], lang: str) -> Recommendation:
    """The typed answer for a case given as the API's JSON body: the body's text goes to
    `Service.recommendation`, the one case reader and the recommender the API uses."""
    try:
        answer: Recommendation = service.recommendation(json.dumps(case).encode("utf-8", "surrogatepass"),
                                                        lang, None, NEED_QUESTIONS)
    except KundskabError as exc:
        if exc.code in ("invalid-case", "invalid-json", "unknown-concept", "ambiguous-name"):
            raise CaseRefused(exc.translated(lang)) from None
        raise
    return answer


# ---------------------------------------------------------------------------- routes


def mount(app: FastAPI, service: Any, work: Work, csrf: Csrf | None = None, validating: Any = None) -> None:
    """Add the page's routes to the service's application (left out of its OpenAPI
    description, which is the API's). `validating`: the thread pool the API validates
    documents in, so that the page's documents queue there too."""
    pages = Pages(service)
    guard = csrf or Csrf()
    in_validation_pool = {"pool": validating} if validating is not None else {}

    def html(text: str, status: int = 200, nonce: tuple[str, bool] | None = None) -> HTMLResponse:
        response = HTMLResponse(text, status_code=status, headers=HEADERS)
        if nonce is not None and nonce[1]:
            response.set_cookie(CSRF_COOKIE, nonce[0], httponly=True, samesite="strict", path="/")
        return response

    async def page(request: Request, call: Callable[..., str], *args: Any, status: int = 200) -> HTMLResponse:
        lang = page_language(request)
        try:
            return html(await work(call, lang, *args), status)
        except KundskabError as exc:
            from kundskab.edges.service import error_for

            code, _, message = error_for(exc, lang)
            return html(await work(pages.problem, lang, message), code)

    async def problem(lang: str, exc: KundskabError) -> HTMLResponse:
        from kundskab.edges.service import error_for

        code, _, message = error_for(exc, lang)
        headers = {"Retry-After": "1"} if code == 503 else None
        response = html(await work(pages.problem, lang, message), code)
        if headers:
            response.headers.update(headers)
        return response

    def attachment(content: bytes, media: str, filename: str) -> Response:
        headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(content, media_type=media, headers=headers)

    async def form_of(request: Request) -> Any:
        return await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS,
                                  max_part_size=service_limit(app))

    async def forbidden(request: Request) -> HTMLResponse:
        lang = page_language(request)
        return html(await work(pages.problem, lang, texts(lang)["forbidden"]), 403)

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        return await page(request, pages.home)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        files = {"style.css": "text/css", "portfolio.css": "text/css"}
        if name not in files:
            return Response(status_code=404, headers=HEADERS)
        if name == "portfolio.css":  # the portfolio report's own style (kundskab.edges.portfolio_output)
            from kundskab.edges.portfolio_output import stylesheet

            content = stylesheet().encode("utf-8")
        else:
            content = (STATIC / name).read_bytes()
        return Response(content, media_type=files[name], headers={**HEADERS, "Cache-Control": "public, max-age=3600"})

    @app.get("/case", include_in_schema=False)
    async def case_form(request: Request) -> HTMLResponse:
        lang = page_language(request)
        nonce = guard.nonce(request)
        return html(await work(pages.case_page, lang, guard.token(nonce[0])), nonce=nonce)

    @app.post("/case", include_in_schema=False)
    async def case_answer(request: Request) -> HTMLResponse:
        fields = await form_of(request)
        if not guard.valid(request, fields.get(CSRF_FIELD)):
            return await forbidden(request)
        lang = page_language(request)
        try:
            status, text = await work(pages.answer, CaseForm.of(fields), lang, fields.get(CSRF_FIELD))
        except KundskabError as exc:  # the time limit, a knowledge base not loaded
            return await problem(lang, exc)
        return html(text, status)

    @app.get("/validate", include_in_schema=False)
    async def validate_form(request: Request) -> HTMLResponse:
        lang = page_language(request)
        nonce = guard.nonce(request)
        return html(await work(pages.validate_page, lang, guard.token(nonce[0])), nonce=nonce)

    @app.post("/validate", include_in_schema=False)
    async def validate_answer(request: Request) -> HTMLResponse:
        fields = await form_of(request)
        token = fields.get(CSRF_FIELD)
        if not guard.valid(request, token):
            return await forbidden(request)
        lang = page_language(request)
        documents: list[tuple[str, str]] = []
        pasted = fields.get("content")
        if isinstance(pasted, str) and pasted.strip():
            fmt = fields.get("format")
            documents.append((f"dokument.{fmt if fmt in ('md', 'yaml', 'ttl', 'jsonld') else 'md'}", pasted))
        for upload in fields.getlist("files"):
            if isinstance(upload, str) or not upload.filename:
                continue
            data = await upload.read()
            # Bytes the validator reads as its command line does (UTF-8, a bad byte reported there).
            documents.append((upload.filename[-255:], data.decode("utf-8", "replace")))
        if not documents:
            return html(await work(partial(pages.validate_page, error=texts(lang)["nothing_sent"]), lang, token), 422)
        try:
            limits = getattr(app.state, "limits", None)
            answers = await work(pages.validate_documents, documents, lang, document_limit(app),
                                 getattr(limits, "seconds", None), **in_validation_pool)
        except KundskabError as exc:
            from kundskab.edges.service import error_for

            code, _, message = error_for(exc, lang)
            return html(await work(partial(pages.validate_page, error=message), lang, token), code)
        lines = {name: content.splitlines() for name, content in documents}
        return html(await work(partial(pages.validate_page, answers=answers, lines=lines), lang, token))

    @app.get("/template", include_in_schema=False)
    async def template(request: Request) -> Response:
        name = request.query_params.get("programme", "")[:200]
        lang = page_language(request)
        try:
            ident, text = await work(pages.template, name or "-")
        except KundskabError as exc:
            from kundskab.edges.service import error_for

            code, _, message = error_for(exc, lang)
            return html(await work(pages.problem, lang, message), code)
        return attachment(text.encode("utf-8"), "text/markdown; charset=utf-8", f"{ident}.md")

    @app.get("/concepts", include_in_schema=False)
    async def search_page(request: Request) -> HTMLResponse:
        query = request.query_params
        return await page(request, pages.search_page, query.get("q", "")[:200], query.get("kind", "")[:40])

    @app.get("/concepts/{name}", include_in_schema=False)
    async def concept_page(request: Request, name: str) -> HTMLResponse:
        return await page(request, pages.concept_page, name[:200])

    @app.get("/interventions", include_in_schema=False)
    async def interventions_page(request: Request) -> HTMLResponse:
        query = request.query_params
        filters = {key: [v for v in query.getlist(param)[:50] if v] for key, param in
                   (("tier", "tier"), ("target_group", "target-group"), ("forum", "forum"),
                    ("principle", "principle"), ("crime_type", "crime-type"), ("programme", "programme"),
                    ("kind", "kind"), ("municipality", "municipality"), ("district", "district"))}
        return await page(request, pages.interventions_page, filters)

    @app.get("/fora", include_in_schema=False)
    async def fora_page(request: Request) -> HTMLResponse:
        query = request.query_params
        return await page(request, pages.fora_page, query.get("municipality", "")[:200],
                          query.get("programme", "")[:200])

    @app.get("/portfolio", include_in_schema=False)
    async def portfolio_page(request: Request) -> HTMLResponse:
        query = request.query_params
        return await page(request, pages.portfolio_page, query.get("municipality", "")[:200],
                          query.get("programme", "")[:200])

    @app.get("/portfolio.xlsx", include_in_schema=False)
    async def portfolio_xlsx(request: Request) -> Response:
        query = request.query_params
        lang = page_language(request)
        place, programme = query.get("municipality", "")[:200], query.get("programme", "")[:200]
        if not (place or programme):
            return html(await work(pages.problem, lang, texts(lang)["portfolio_intro"]), 422)
        try:
            data = await work(pages.portfolio_xlsx, lang, place, programme)
        except KundskabError as exc:
            return await problem(lang, exc)
        return attachment(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          "portfolio.xlsx")

    @app.get("/programme", include_in_schema=False)
    async def programme_page(request: Request) -> HTMLResponse:
        query = request.query_params
        return await page(request, pages.table_page, query.get("id", "")[:200], query.get("sort", "label"),
                          query.get("order", "asc"))

    async def programme_download(request: Request, name: str, build: Any, media_type: str,
                                 suffix: str) -> Response:
        """The programme table as a file; an unknown programme is a page that says so."""
        lang = page_language(request)
        try:
            ident, data = await work(build, name[:200], lang)
        except KundskabError as exc:
            from kundskab.edges.service import error_for

            code, _, message = error_for(exc, lang)
            return html(await work(pages.problem, lang, message), code)
        return attachment(data, media_type, f"{ident}.{suffix}")

    @app.get("/programme/{name}.csv", include_in_schema=False)
    async def programme_csv(request: Request, name: str) -> Response:
        return await programme_download(request, name, pages.table_csv, "text/csv; charset=utf-8", "csv")

    @app.get("/programme/{name}.xlsx", include_in_schema=False)
    async def programme_xlsx(request: Request, name: str) -> Response:
        return await programme_download(request, name, pages.table_xlsx,
                                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")

def problem_response(status: int, message: str, lang: str, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """A page saying why a request of the page was refused before it reached the page's
    routes (a body over the limit, or too slow): the edge's JSON error, for a person."""
    text = render("problem.html", **Pages(None).context(lang, "", message=message))
    return HTMLResponse(text, status_code=status, headers={**HEADERS, **(headers or {})})


def document_limit(app: FastAPI) -> int | None:
    """The most bytes `POST /v1/validate` takes in one body: the page's bound per document."""
    limits = getattr(app.state, "limits", None)
    body_limit = getattr(limits, "body_limit", None)
    return int(body_limit("/v1/validate")) if body_limit is not None else None


def service_limit(app: FastAPI) -> int:
    limits = getattr(app.state, "limits", None)
    return int(getattr(limits, "max_body_bytes", 6 * 1024 * 1024))

