"""`kundskab serve`: the HTTP API of CONTRACT.md on FastAPI and uvicorn.

FastAPI because its answers and request bodies are typed pydantic models, so the OpenAPI
description (`GET /openapi.json`) carries real schemas of a case and of every answer,
from which clients in other languages can be generated; uvicorn because it is the
standard ASGI server and runs several worker processes (`--workers N`).

The service is a thin edge over the library, like the CLI: it calls `Recommender`,
`validate`, `check`, `describe` and `KnowledgeBase.interventions`, and maps the
library's exceptions to HTTP errors in one place (`error_for`). It never logs a request
body or a query string: the access log is method, path, status and duration only.

Concurrency: library calls run in a small thread pool of each process, so that the event
loop keeps reading and answering while one is worked out; the library is thread-safe (the
rules engine takes one case at a time under its own lock), so no lock of the service's
holds requests up: a check of several seconds does not delay a recommendation. Several
processes (`--workers`) use several cores. Every call has the time limit of `Limits`
(`--timeout`): past it the client gets a 503 `time-limit` error with Retry-After, the
call finishes in the background (a check is then kept for the next request), and the
worker goes on answering. A validation runs in a child process of the worker
(kundskab.edges.sandbox), which is killed at the time limit instead.

Connections (idle ones, slow headers, what is not HTTP) are bounded by the protocol of
kundskab.edges.connections, below every route.

Speed: uvicorn runs on httptools and uvloop (dependencies of the package). Without uvloop,
asyncio's loop leaves Nagle's algorithm on for the sockets uvicorn shares between worker
processes (`--workers` > 1), and every answer waits ~40 ms for the client's delayed ACK.

Language: messages follow the `lang` query parameter, else the request's Accept-Language
(da or en), else Danish, as the CLI's `--lang` does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kundskab import __version__
from kundskab._memo import BoundedMemo
from kundskab.edges import models
from kundskab.edges.connections import log_safe
from kundskab.errors import (
    AmbiguousNameError,
    CaseError,
    CaseJSONError,
    DocumentError,
    KnowledgeBaseError,
    KundskabError,
    RequestError,
    UnknownConceptError,
)
from kundskab.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, Messages, Text, gettext
from kundskab.knowledge.base import KnowledgeBase, load
from kundskab.reasoning.answer import Recommendation
from kundskab.reasoning.recommendation import MAX_LIMIT, Recommender

__all__ = ["Limits", "Service", "TimeLimitError", "create_app", "error_for", "request_language", "serve",
           "validation_message"]

log = logging.getLogger("kundskab.edges.service")
access_log = logging.getLogger("kundskab.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")

Lang = Literal["da", "en"]
Name = Annotated[str, Path(min_length=1, max_length=200)]
LangQuery = Annotated[Lang | None, Query(description="Language of labels and messages; without it the "
                                               "request's Accept-Language (da or en), else Danish.")]


VALIDATE_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may take: the body's size, and time (to send the body, and to
    answer it; for a batch, lines after the deadline are answered with a `time-limit` error)."""

    max_body_bytes: int = 6 * 1024 * 1024
    seconds: float = 30.0
    # `/v1/validate` reads and matches prose, about 1 s per MB of Markdown (5.6 s and 1 GB
    # for 4.8 MB): its body is kept to what an initiative document needs, so that its
    # slowest input takes a fraction of a second, and it runs in a child process that is
    # killed at the time limit (kundskab.edges.sandbox).
    max_validate_bytes: int = VALIDATE_BODY_BYTES

    def body_limit(self, path: str) -> int:
        """The largest body a request to `path` may send."""
        if path == "/v1/validate":
            return min(self.max_body_bytes, self.max_validate_bytes)
        return self.max_body_bytes


class TimeLimitError(KundskabError):
    """The answer took longer than the service's time limit."""

    code = "time-limit"


# ---------------------------------------------------------------------------- messages

NOT_LOADED = N_("the knowledge base is not loaded yet")
LOADING = N_("the knowledge base is loading")
FAILED = N_("the service failed on this request")
TOO_LATE = N_("the answer took longer than the time limit of {seconds} s; it may be ready if you ask again "
              "in a moment")
TOO_LATE_VALIDATE = N_("the validation took longer than the time limit of {seconds} s and was stopped")
BATCH_TOO_LATE = N_("the batch took longer than the time limit of {seconds} s")
LINE_UNREADABLE = N_("the line could not be read as a case")
BODY_TOO_LARGE = N_("a body is at most {limit} bytes")
BODY_TOO_SLOW = N_("the body did not arrive within {seconds} s")
BAD_LENGTH = N_("Content-Length is not a number")
CLIENT_GONE = N_("the client went away")
NOT_JSON = N_("the body is not JSON")
EMPTY_BATCH = N_("the body is empty: send one case a line")
UNREADABLE = N_("the body could not be read (not JSON, not UTF-8, or nested too deeply)")
NO_SCHEMA_MATCH = N_("the request does not match its schema")
HTTP_MESSAGES = Messages({
    404: N_("there is nothing at this path"),
    405: N_("this path does not take that method"),
})
BAD_REQUEST = N_("bad request")
# Why a request does not match its model, by pydantic's error type (pydantic's own message
# is English only). None of them repeats the value sent.
FIELD_PROBLEMS = Messages({
    "missing": N_("{field}: required"),
    "int_type": N_("{field}: not a whole number"),
    "int_parsing": N_("{field}: not a whole number"),
    "int_from_float": N_("{field}: not a whole number"),
    "greater_than_equal": N_("{field}: out of range"),
    "less_than_equal": N_("{field}: out of range"),
    "greater_than": N_("{field}: out of range"),
    "less_than": N_("{field}: out of range"),
    "string_too_short": N_("{field}: too short"),
    "string_too_long": N_("{field}: too long"),
    "literal_error": N_("{field}: not one of the allowed values"),
    "enum": N_("{field}: not one of the allowed values"),
})
WRONG_TYPE = N_("{field}: of the wrong type")
UNKNOWN_FIELD = N_("the request has a field it does not take")


def request_language(query_lang: str | None, accept_language: str | None) -> str:
    """The language of a request: `lang` if given, else the first of da/en in the
    Accept-Language header by its weight (`da, en;q=0.5`), else Danish."""
    if query_lang in LANGUAGES:
        return query_lang
    best, best_weight = DEFAULT_LANGUAGE, 0.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                continue
        if weight > best_weight:
            best, best_weight = primary, weight
    return best


def _scope_language(scope: Scope) -> str:
    from urllib.parse import parse_qs

    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[-1]
    header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept-language"), None)
    return request_language(query, header)


def _language(request: Request, lang: str | None = None) -> str:
    return request_language(lang or request.query_params.get("lang"), request.headers.get("accept-language"))


# ---------------------------------------------------------------------------- errors

# Library exception -> HTTP status. The code and message come from the exception itself
# (its messages never repeat a case's values).
_STATUS: list[tuple[type[BaseException], int]] = [
    (UnknownConceptError, 404),
    (AmbiguousNameError, 400),
    (CaseJSONError, 400),
    (CaseError, 422),
    (DocumentError, 422),
    (TimeLimitError, 503),
    (KnowledgeBaseError, 503),
    (KundskabError, 400),
]
_HTTP_CODES = {400: "bad-request", 404: "not-found", 405: "method-not-allowed",
               408: "request-timeout", 413: "body-too-large", 415: "unsupported-media-type",
               422: "invalid-request"}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def error_for(exc: BaseException, lang: str | None = None) -> tuple[int, str, str]:
    """(status, code, message in `lang`) of a library exception: the one place errors are mapped."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            message = exc.translated(lang) if isinstance(exc, KundskabError) else str(exc)
            return status, getattr(exc, "code", "error"), message
    return 500, "internal-error", gettext(FAILED, lang)


def validation_message(errors: Any, lang: str) -> str:
    """The message of a body that does not match its model (pydantic's errors), as the API says it."""
    return _validation_message(RequestValidationError(errors), lang)[1]


def _validation_message(exc: RequestValidationError, lang: str) -> tuple[str, str]:
    """The first problem of a request that does not match its model, without the value sent."""
    for problem in exc.errors():
        kind = str(problem.get("type", ""))
        where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        if kind == "json_invalid":
            return "invalid-json", gettext(NOT_JSON, lang)
        if kind == "extra_forbidden":  # the name of a field the model does not have is the client's text
            return "invalid-request", gettext(UNKNOWN_FIELD, lang)
        template = FIELD_PROBLEMS.get(kind, WRONG_TYPE)
        return "invalid-request", gettext(template, lang).format(field=where or "body")
    return "invalid-request", gettext(NO_SCHEMA_MATCH, lang)


# ---------------------------------------------------------------------------- the state


class Service:
    """The knowledge base and recommender one process answers from.

    `source` gives the current knowledge base (the embedded one, or a SPARQL store that may
    publish a newer version); `refresh()` swaps in a newer one without a restart. A request
    reads the current pair (knowledge base, recommender) once, so a swap in the middle of
    it does not mix two versions.
    """

    def __init__(self, source: Any = None) -> None:
        self.source = source
        self._install_lock = threading.Lock()
        self._current: tuple[KnowledgeBase, Any] | None = None
        self._checks = BoundedMemo("service.checks")  # by knowledge base version and language
        self._check_lock = threading.Lock()
        from kundskab.edges.sandbox import Validator

        self.validator = Validator()

    @property
    def ready(self) -> bool:
        return self._current is not None

    def start(self) -> None:
        """Load the knowledge base and rules and warm the engine, before answering."""
        with self._install_lock:
            self._install(self._load())

    def _load(self) -> KnowledgeBase:
        if self.source is not None:
            kb: KnowledgeBase = self.source.load()
            return kb
        return load()

    def _install(self, kb: KnowledgeBase) -> None:
        recommender = Recommender(kb)
        recommender.recommend({"age": 15, "factors": []})  # warm the engine and memos
        # The validating process too (seconds: it imports pySHACL), before the service says
        # it is ready: not while the first requests are answered.
        self.validator.prepare(kb)
        self._current = (kb, recommender)  # one assignment: requests see the old or the new pair

    def refresh(self) -> bool:
        """Install the source's newer knowledge base, if it has one; True if it did."""
        if self.source is None or not self.source.changed(self.kb_version):
            return False
        kb = self._load()  # answers go on from the current version meanwhile
        with self._install_lock:
            if kb.version != self.kb_version:
                self._install(kb)
                log.info("knowledge base %s installed", kb.version)
                return True
        return False

    def _pair(self) -> tuple[KnowledgeBase, Any]:
        current = self._current
        if current is None:
            raise KnowledgeBaseError(NOT_LOADED)
        return current

    @property
    def kb(self) -> KnowledgeBase:
        return self._pair()[0]

    @property
    def kb_version(self) -> str | None:
        current = self._current
        return current[0].version if current is not None else None

    def recommendation(self, body: bytes, lang: str, limit: int | None, need_questions: int = 0) -> Recommendation:
        """The answer to a body holding a case's JSON text, read by the one case reader every
        path uses (kundskab.reasoning.cases.case_from_json); the web page asks for the
        questions about needs, the API's JSON does not."""
        from kundskab.reasoning.cases import case_from_json

        kb, recommender = self._pair()
        answer: Recommendation = recommender.recommend(case_from_json(body, kb), lang=lang, limit=limit,
                                                       need_questions=need_questions)
        return answer

    def recommend(self, body: bytes, lang: str, limit: int | None) -> str:
        """The answer's JSON text (`POST /v1/recommend`)."""
        return self.recommendation(body, lang, limit).to_json()

    def batch(self, body: bytes, lang: str, limit: int | None, deadline: float,
              seconds: float) -> Iterator[bytes]:
        """One answer line per input line, in order, a few lines per piece (every piece
        crosses from a worker thread to the event loop). A line after the deadline is
        answered with a `time-limit` error, cheaply, so that the batch still ends."""
        import io

        from kundskab.edges.batch import CHUNK, answer_line, read_lines
        from kundskab.reasoning.answer_json import batch_error_json

        _, recommender = self._pair()
        late = gettext(BATCH_TOO_LATE, lang).format(seconds=f"{seconds:g}")
        unreadable = gettext(LINE_UNREADABLE, lang)
        piece: list[str] = []
        size = 0
        for number, raw in read_lines(io.BytesIO(body)):
            if time.monotonic() > deadline:
                text = batch_error_json(number, "time-limit", late)
            else:
                try:
                    _, text = answer_line(recommender, number, raw, lang, limit)
                except (RecursionError, MemoryError, ValueError, TypeError):
                    # A line the library did not expect (nesting too deep for the JSON
                    # reader, say): that line is bad, the batch goes on.
                    text = batch_error_json(number, "invalid-json", unreadable)
            piece.append(text)
            size += len(text)
            if size >= 64 * 1024 or len(piece) >= CHUNK:
                yield ("\n".join(piece) + "\n").encode("ascii")
                piece, size = [], 0
        if piece:
            yield ("\n".join(piece) + "\n").encode("ascii")

    def validate(self, filename: str, content: str, lang: str, seconds: float = Limits.seconds) -> dict[str, Any]:
        """One document's entry, worked out in the validating child process (kundskab.edges.sandbox)
        within `seconds`: past them the child is killed, and TimeLimitError raised."""
        kb = self.kb
        late = TimeLimitError(TOO_LATE_VALIDATE, seconds=f"{seconds:g}")
        out = self.validator.validate(kb, filename, content, lang, seconds, late)
        out["kb_version"] = kb.version
        return out

    def portfolio(self, request: Any, lang: str, fmt: str, document_limit: int) -> dict[str, Any] | str:
        """`portfolio --format json` of the documents and catalogue measures asked for; with
        `fmt` "html", the report's HTML fragment (kundskab.edges.portfolio_output.html_fragment).
        A document larger than `POST /v1/validate` takes (its body as that endpoint would
        receive it) is refused as that endpoint refuses it, `file-too-large`, and listed
        among the invalid ones; the others go on."""
        from kundskab.documents.portfolios import portfolio
        from kundskab.edges.portfolio_output import html_fragment

        documents: list[tuple[str, str | DocumentError]] = []
        for document in request.documents:
            body = json.dumps({"filename": document.filename, "content": document.content}, ensure_ascii=False)
            if len(body.encode("utf-8", "surrogatepass")) > document_limit:
                documents.append((document.filename,
                                  DocumentError(BODY_TOO_LARGE, "file-too-large", limit=document_limit)))
            else:
                documents.append((document.filename, document.content))
        report = portfolio(documents=documents,
                           programme=request.programme, municipality=request.municipality,
                           district=request.district, kb=self.kb, lang=lang)
        return html_fragment(report) if fmt == "html" else report.as_dict()

    def interventions(self, filters: dict[str, list[str]], lang: str) -> list[dict[str, Any]]:
        from kundskab.knowledge.browse import intervention_summary

        kb = self.kb
        return [intervention_summary(kb, c, lang) for c in kb.interventions(**filters)]

    def describe(self, name: str, lang: str, kind: str | None = None) -> dict[str, Any]:
        from kundskab.knowledge.browse import describe

        kb = self.kb
        return describe(kb, kb.get(kb.resolve(name, kind)), lang)

    def check(self, lang: str) -> dict[str, Any]:
        """The knowledge base's check (`check --format json`), worked out once per version
        and language (it does not depend on anything else in the request): SHACL over the
        whole ontology takes seconds. One at a time; requests for other answers go on."""
        with self._check_lock:
            kb = self.kb
            key = (kb.version, lang)
            cached: dict[str, Any] | None = self._checks.get(key)
            if cached is not None:
                return cached
            if self.source is not None:
                result: dict[str, Any] = self.source.check(kb, lang).as_dict()
            else:
                from kundskab.knowledge.check import check

                result = check(kb, lang).as_dict()
            self._checks.keep(key, result)
            return result

    def check_programme(self, programme: str, lang: str) -> dict[str, Any]:
        """`check --programme ID --format json`: every catalogue initiative of the
        programme with its verdict (milliseconds: worked out per request)."""
        from kundskab.documents.principle_support import assess_programme

        data: dict[str, Any] = assess_programme(self.kb, programme, lang).as_dict(lang)
        return data


# ---------------------------------------------------------------------------- middleware


class Edge:
    """Pure ASGI middleware: the access log (method, path, status, duration: never a body
    or a query string), the body size limit (413) and the time to send it (408).

    The body is read here, bounded, before the application sees it, so that neither a huge
    body nor a slow one ties up the application."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        path = scope.get("path", "")
        if scope.get("method") == "POST" and path.startswith("/v1/") and not path.endswith("/batch"):
            # The body is JSON whatever the Content-Type says (curl -d sends a form type);
            # the web page's forms (kundskab.edges.web) keep theirs.
            headers = scope.get("headers", ())
            if (b"content-type", b"application/json") not in headers:
                headers = [(k, v) for k, v in headers if k != b"content-type"]
                scope = dict(scope, headers=[*headers, (b"content-type", b"application/json")])
        try:
            body, problem = await self._read_body(scope, receive)
            if problem is not None:
                await problem(scope, receive, logged_send)
                return
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()  # the client's disconnect, when it comes

            await self.app(scope, replay, logged_send)
        except Exception as exc:
            # The application's handlers have answered already (Starlette re-raises after
            # answering a 500); stop here, so that no traceback (which could show a value
            # from the request) reaches the server's log.
            log.error("unexpected %s on %s", type(exc).__name__, log_safe(str(scope.get("path", "-"))))
            if not status["code"]:
                response = error_response(500, "internal-error", gettext(FAILED, _scope_language(scope)))
                await response(scope, receive, logged_send)
        finally:
            # The path is decoded (%0a is a newline): escaped, so that no request can write
            # a line of its own into the log.
            access_log.info("%s %s %d %.1fms", log_safe(str(scope.get("method", "-"))),
                            log_safe(str(scope.get("path", "-"))), status["code"],
                            1000 * (time.perf_counter() - started))

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, Response | None]:
        limit = self.limits.body_limit(str(scope.get("path", "")))

        def problem(status: int, code: str, message: Text, **params: Any) -> tuple[bytes, Response]:
            # The rest of the body is not read: the connection is closed after the answer,
            # so that a client cannot keep it by sending on (a refused chunked upload).
            lang = _scope_language(scope)
            text = gettext(message, lang).format(**params)
            if not str(scope.get("path", "")).startswith("/v1/"):
                from kundskab.edges.web import problem_response  # a form of the web page: a page says it

                return b"", problem_response(status, text, lang, {"Connection": "close"})
            return b"", error_response(status, code, text, {"Connection": "close"})

        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return problem(400, "bad-request", BAD_LENGTH)
                if declared > limit:
                    return problem(413, "body-too-large", BODY_TOO_LARGE, limit=limit)
        chunks: list[bytes] = []
        size = 0
        try:
            # One deadline for the whole body (asyncio.timeout: no task per chunk, as wait_for).
            async with asyncio.timeout(self.limits.seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return problem(400, "bad-request", CLIENT_GONE)
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return problem(413, "body-too-large", BODY_TOO_LARGE, limit=limit)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks), None
        except TimeoutError:
            return problem(408, "request-timeout", BODY_TOO_SLOW, seconds=f"{self.limits.seconds:g}")


# ---------------------------------------------------------------------------- the app

NDJSON = "application/x-ndjson"
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": models.ErrorAnswer, "description": description}
    for status, description in ((400, "Bad request"), (404, "Unknown name"),
                                (413, "Body too large"), (422, "Invalid case or request"),
                                (503, "Not ready yet, or the answer took longer than the time limit "
                                      "(code time-limit; ask again after Retry-After seconds)"))
}


RECOMMEND_PARAMETERS = [
    {"name": "lang", "in": "query", "required": False, "schema": {"enum": list(LANGUAGES), "type": "string"},
     "description": "Language of labels and messages; without it the request's Accept-Language (da or en), "
                    "else Danish."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
     "description": "At most this many interventions (as `recommend --limit`)."},
]


def _recommend_options(request: Request) -> tuple[str, int | None]:
    """`lang` and `limit` of a recommendation, checked as FastAPI would check them."""
    query = request.query_params
    lang, limit_text = query.get("lang"), query.get("limit")
    if lang is not None and lang not in LANGUAGES:
        raise RequestValidationError([{"type": "literal_error", "loc": ("query", "lang")}])
    limit = None
    if limit_text is not None:
        try:
            limit = int(limit_text)
        except ValueError:
            raise RequestValidationError([{"type": "int_parsing", "loc": ("query", "limit")}]) from None
        if not 1 <= limit <= MAX_LIMIT:
            raise RequestValidationError([{"type": "less_than_equal", "loc": ("query", "limit")}])
    return _language(request, lang), limit


def create_app(service: Service | None = None, limits: Limits | None = None, *,
               poll_seconds: float = 0.0, threads: int = 4) -> Any:
    """The ASGI application (FastAPI wrapped in the edge middleware).

    `poll_seconds` > 0 makes the service ask its source for a newer knowledge base that
    often (a cheap version query), and install it without a restart. `threads`: how many
    library calls one process works on at once (the GIL lets one run at a time; more
    threads only let a short call pass a long one)."""
    service = service or Service()
    limits = limits or Limits()
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kundskab")
    # The check of the whole knowledge base (seconds, once per version and language) has a
    # thread of its own: requests for it wait there, never in front of recommendations.
    slow = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kundskab-check")
    # Validations too (each in the validating child process, kundskab.edges.sandbox): one at a
    # time, so that many of them never fill the pool recommendations are answered from; one
    # that waits past the time limit is dropped before it starts.
    validating = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kundskab-validate")

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        background: asyncio.Task[None] | None = None
        if service.source is None:
            # The embedded knowledge base: a failure is a broken installation, said at once.
            await asyncio.get_running_loop().run_in_executor(executor, service.start)
        else:
            # A store may be down, slow or wrong: load in the background, retrying with
            # back-off, while the process answers (/healthz up, /readyz and the rest 503
            # not ready) and honours SIGTERM.
            background = asyncio.create_task(_start_from_store(service, poll_seconds))
        try:
            yield
        finally:
            if background is not None:
                background.cancel()
            for pool in (executor, slow, validating):
                pool.shutdown(wait=False, cancel_futures=True)
            service.validator.stop()

    async def work(call: Callable[..., T], *args: Any, pool: ThreadPoolExecutor = executor) -> T:
        """`call(*args)` in the thread pool, within the time limit (TimeLimitError past it;
        the call itself runs on to its end, and the process stays ready for others)."""
        future = asyncio.get_running_loop().run_in_executor(pool, call, *args)
        try:
            return await asyncio.wait_for(future, timeout=limits.seconds)
        except TimeoutError:
            raise TimeLimitError(TOO_LATE, seconds=f"{limits.seconds:g}") from None

    app = FastAPI(
        title="kundskab", version=__version__, lifespan=lifespan,
        # No /docs or /redoc: their pages load scripts from a public CDN (telling a third
        # party who uses the service, and failing offline), and the contract has
        # /openapi.json for tools. Each operation's id is its handler's name.
        docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
        generate_unique_id_function=lambda route: route.name,
        description="Knowledge base and rules for Danish crime-prevention work: recommendations "
                    "for a case, validation of initiative documents, the catalogue with its sources. "
                    "Every error is {\"error\": {\"code\", \"message\"}}; messages follow `lang`, "
                    "else Accept-Language (da or en), else Danish.",
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc, _language(request))
        return error_response(400 if code == "invalid-json" else 422, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        lang = _language(request)
        detail = gettext(UNREADABLE if status == 400 else HTTP_MESSAGES.get(status, BAD_REQUEST), lang)
        # Starlette's own headers (Allow on a 405) are kept.
        return error_response(status, _HTTP_CODES.get(status, "error"), detail, dict(exc.headers or {}) or None)

    @app.exception_handler(KundskabError)
    async def on_library(request: Request, exc: KundskabError) -> JSONResponse:
        status, code, message = error_for(exc, _language(request))
        headers = {"Retry-After": str(max(1, round(limits.seconds)))} if status == 503 else None
        return error_response(status, code, message, headers)

    @app.exception_handler(Exception)
    async def on_other(request: Request, exc: Exception) -> JSONResponse:
        # Only the exception's type is logged: its text could hold a value from the request.
        log.error("unexpected %s", type(exc).__name__)
        status, code, message = error_for(exc, _language(request))
        return error_response(status, code, message)

    def json_text(text: str) -> Response:
        return Response(content=text, media_type="application/json")

    # The answers are built by the library as JSON (text or plain objects) and sent as they
    # are: `response_model` documents them in the OpenAPI description without validating
    # every answer again (a recommendation is ~8 KB of JSON).

    # The most asked endpoint reads its body and query itself: FastAPI's solving of typed
    # parameters cost a third of the server's time per recommendation.
    @app.post("/v1/recommend", response_model=models.Recommendation, responses=ERRORS,
              summary="The recommendation for one case", openapi_extra={
                  "parameters": RECOMMEND_PARAMETERS,
                  "requestBody": {"required": True, "content": {
                      "application/json": {"schema": {"$ref": "#/components/schemas/Case"}}}}})
    async def recommend(request: Request) -> Response:
        lang, limit = _recommend_options(request)
        # The raw body goes to the library's one case reader, as a batch line or a case
        # file does: every path accepts and refuses the same cases (models.Case describes it).
        return json_text(await work(service.recommend, await request.body(), lang, limit))

    @app.post(
        "/v1/recommend/batch", summary="One case per line in, one answer per line out (NDJSON)",
        response_class=StreamingResponse, responses={**ERRORS, 200: {
            "description": "One line per input line, in order: a recommendation, or "
                           "{\"line\": N, \"error\": {…}} for a bad line (code time-limit for a "
                           "line reached after the time limit).",
            "content": {NDJSON: {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/Recommendation"},
                {"$ref": "#/components/schemas/BatchError"}]}}}}},
        openapi_extra={"requestBody": {"required": True, "content": {
            NDJSON: {"schema": {"$ref": "#/components/schemas/Case"}}}}},
    )
    async def recommend_batch(request: Request, lang: LangQuery = None,
                              limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None) -> StreamingResponse:
        body = await request.body()
        if not body.strip():
            raise RequestError(EMPTY_BATCH)
        deadline = time.monotonic() + limits.seconds
        if not service.ready:
            raise KnowledgeBaseError(NOT_LOADED)
        return StreamingResponse(service.batch(body, _language(request, lang), limit, deadline, limits.seconds),
                                 media_type=NDJSON)

    @app.post("/v1/validate", response_model=models.FileAnswer, responses=ERRORS,
              summary="Validate one initiative document given as content")
    async def validate(request: Request, document: models.ValidateRequest, lang: LangQuery = None) -> JSONResponse:
        return JSONResponse(await work(service.validate, document.filename, document.content,
                                       _language(request, lang), limits.seconds, pool=validating))

    @app.post("/v1/portfolio", response_model=models.PortfolioAnswer, responses={
                  **ERRORS, 200: {"content": {"text/html": {"schema": {"type": "string"}}},
                                  "description": "The report (JSON), or with format=html its HTML fragment"}},
              summary="Coverage, holes and overlaps of initiative documents and/or catalogue measures")
    async def portfolio(request: Request, body: models.PortfolioRequest, lang: LangQuery = None,
                        fmt: Annotated[Literal["json", "html"], Query(alias="format")] = "json") -> Response:
        answer = await work(service.portfolio, body, _language(request, lang), fmt,
                            limits.body_limit("/v1/validate"))
        if isinstance(answer, str):
            return Response(content=answer, media_type="text/html; charset=utf-8")
        return JSONResponse(answer)

    @app.get("/v1/interventions", response_model=list[models.InterventionSummary], responses=ERRORS,
             summary="The catalogue, filtered (filters combine with AND, repeated values with OR)")
    async def interventions(
        request: Request,
        tier: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
        target_group: Annotated[list[str], Query(alias="target-group")] = [],  # noqa: B006
        forum: Annotated[list[str], Query()] = [],  # noqa: B006
        principle: Annotated[list[str], Query()] = [],  # noqa: B006
        crime_type: Annotated[list[str], Query(alias="crime-type")] = [],  # noqa: B006
        programme: Annotated[list[str], Query()] = [],  # noqa: B006
        kind: Annotated[list[str], Query()] = [],  # noqa: B006
        municipality: Annotated[list[str], Query(
            description="A municipality or police district (name or id): the measures that run there "
                        "or in its police district")] = [],  # noqa: B006
        district: Annotated[list[str], Query(
            description="A police district (name or id; a municipality stands for its district): the "
                        "measures of the district and of its municipalities")] = [],  # noqa: B006
        lang: LangQuery = None,
    ) -> JSONResponse:
        filters = {"tier": tier, "target_group": target_group, "forum": forum,
                   "principle": principle, "crime_type": crime_type, "programme": programme,
                   "kind": kind, "municipality": municipality, "district": district}
        return JSONResponse(await work(service.interventions, filters, _language(request, lang)))

    @app.get("/v1/concepts/{name}", response_model=models.ConceptAnswer, responses=ERRORS,
             summary="Everything known about one concept (id, or Danish or English label)")
    async def concept(request: Request, name: Name, lang: LangQuery = None) -> JSONResponse:
        return JSONResponse(await work(service.describe, name, _language(request, lang)))

    @app.get("/v1/programmes/{name}", response_model=models.ConceptAnswer, responses=ERRORS,
             summary="A programme with its principles, sub-goals, requirements and goals")
    async def programme(request: Request, name: Name, lang: LangQuery = None) -> JSONResponse:
        return JSONResponse(await work(service.describe, name, _language(request, lang), "Programme"))

    @app.get("/v1/check", response_model=models.CheckAnswer | models.ProgrammeCheckAnswer, responses=ERRORS,
             summary="The knowledge base's own check (`check --format json`); with `programme`, the "
                     "programme's table (`check --programme ID --format json`)")
    async def check(request: Request, programme: Annotated[str | None, Query(
                        min_length=1, max_length=200,
                        description="A programme id or label: one row per catalogue initiative of it, "
                                    "with its verdict")] = None,
                    lang: LangQuery = None) -> JSONResponse:
        chosen = _language(request, lang)
        if programme is not None:
            return JSONResponse(await work(service.check_programme, programme, chosen))
        return JSONResponse(await work(service.check, chosen, pool=slow))

    @app.get("/healthz", response_model=models.Health, summary="The process is up")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "kb_version": service.kb_version}

    @app.get("/readyz", response_model=models.Health,
             responses={503: {"model": models.ErrorAnswer, "description": "Not ready yet"}},
             summary="The knowledge base is loaded and the engine warm")
    async def readyz(request: Request) -> Any:
        if not service.ready:
            return error_response(503, "not-ready", gettext(LOADING, _language(request)))
        return {"status": "ready", "kb_version": service.kb_version}

    # The web page (kundskab.edges.web): the same service, limits and thread pool.
    from kundskab.edges.web import mount

    app.state.limits = limits
    mount(app, service, work, validating=validating)

    _register_schemas(app)
    return Edge(app, limits)


# Codes the service itself answers with, besides the library's (error_codes).
SERVICE_CODES = ("invalid-json", "time-limit", "not-ready", "internal-error", "line-too-long",
                 "too-many-connections", "headers-too-large", "document-too-large")


def error_codes() -> list[str]:
    """Every `error.code` an answer (or a batch line) can carry: the library's exceptions'
    codes, the HTTP ones and the service's own. The OpenAPI description lists them."""
    codes = {*_HTTP_CODES.values(), *SERVICE_CODES}
    kinds: list[type[KundskabError]] = [KundskabError]
    while kinds:
        kind = kinds.pop()
        codes.add(kind.code)
        kinds.extend(kind.__subclasses__())
    return sorted(codes)


def _register_schemas(app: FastAPI) -> None:
    """Add the models referred to only by hand (NDJSON bodies) to the OpenAPI components."""
    from pydantic.json_schema import models_json_schema

    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema: dict[str, Any] = original()
        _, defs = models_json_schema([(models.Case, "validation"), (models.BatchError, "validation")],
                                     ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        components["ErrorDetail"]["properties"]["code"]["enum"] = error_codes()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _in_daemon_thread(call: Callable[[], T]) -> T:
    """`call()` in a thread of its own that does not hold the process up at exit: a request
    to a store can take up to its deadline, and SIGTERM must not wait for it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if not future.done():
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def run() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = call()
        except BaseException as exc:  # handed to the awaiting task as it is
            error = exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the loop has closed: the process is stopping

    threading.Thread(target=run, name="kundskab-store", daemon=True).start()
    return await future


RETRY_FIRST, RETRY_MOST = 1.0, 30.0  # seconds: back-off while the store cannot be read


def _one_line(exc: BaseException) -> str:
    """An exception for the log: a library error's message (which never holds a case value
    or a credential), else only its type."""
    return str(exc) if isinstance(exc, KundskabError) else type(exc).__name__


async def _start_from_store(service: Service, poll_seconds: float) -> None:
    delay = RETRY_FIRST
    while True:
        try:
            await _in_daemon_thread(service.start)
            break
        except Exception as exc:
            log.warning("knowledge base not loaded from the store %s: %s; trying again in %g s",
                        getattr(service.source, "shown", "-"), _one_line(exc), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MOST)
    log.info("knowledge base %s loaded from the store", service.kb_version)
    if poll_seconds > 0:
        await _poll(service, poll_seconds)


async def _poll(service: Service, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await _in_daemon_thread(service.refresh)
        except Exception as exc:
            # The store may be down for a moment: keep answering from the version we have.
            log.warning("knowledge base not refreshed: %s", _one_line(exc))


# ---------------------------------------------------------------------------- running

ENV_STORE = "KUNDSKAB_SERVE_STORE"
ENV_LIMITS = "KUNDSKAB_SERVE_LIMITS"
ENV_LOG_LEVEL = "KUNDSKAB_SERVE_LOG_LEVEL"


class SafeFormatter(logging.Formatter):
    """Each record is one line: control characters (a newline from a request would start a
    forged line), ESC and the like are escaped, whatever a message was given."""

    def format(self, record: logging.LogRecord) -> str:
        return log_safe(super().format(record))


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(SafeFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(level.upper())


def app_from_env() -> Any:
    """The application for uvicorn's worker processes, configured by `serve` through the
    environment (uvicorn starts workers from an import string)."""
    _configure_logging(__import__("os").environ.get(ENV_LOG_LEVEL, "info"))
    settings = json.loads(__import__("os").environ.get(ENV_LIMITS, "{}"))
    store = __import__("os").environ.get(ENV_STORE) or None
    source = None
    if store:
        from kundskab.edges.store import StoreSource

        source = StoreSource(store, graph=settings.get("graph"))
    limits = Limits(max_body_bytes=int(settings.get("max_body_bytes", Limits.max_body_bytes)),
                    seconds=float(settings.get("seconds", Limits.seconds)))
    return create_app(Service(source), limits, poll_seconds=float(settings.get("poll", 0.0)))


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *, store: str | None = None,
          graph: str | None = None, limits: Limits | None = None, poll_seconds: float = 5.0,
          log_level: str = "info") -> None:
    """Run the HTTP API until interrupted."""
    import os

    import uvicorn

    limits = limits or Limits()
    os.environ[ENV_LIMITS] = json.dumps({"max_body_bytes": limits.max_body_bytes,
                                         "seconds": limits.seconds, "poll": poll_seconds,
                                         "graph": graph})
    if store:
        os.environ[ENV_STORE] = store
    else:
        os.environ.pop(ENV_STORE, None)
    os.environ[ENV_LOG_LEVEL] = log_level
    # One secret for the web page's CSRF tokens in every worker (a form rendered by one
    # worker is posted to any); made here, never written anywhere.
    from kundskab.edges.web import ENV_SECRET

    os.environ.setdefault(ENV_SECRET, __import__("secrets").token_hex(32))
    # uvicorn's own access log prints the query string: ours (Edge) prints the path only.
    # The protocol is httptools' with the connection limits of kundskab.edges.connections (no
    # limit_concurrency: it answers 503 to everyone once idle sockets fill it); the "auto"
    # loop picks uvloop, a dependency of the package (no Windows build: asyncio's loop
    # there, see the module's docstring).
    uvicorn.run("kundskab.edges.service:app_from_env", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_level=log_level,
                http="kundskab.edges.connections:GuardedProtocol", timeout_keep_alive=5)
