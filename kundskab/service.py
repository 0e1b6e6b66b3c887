"""`kundskab serve`: the HTTP API of CONTRACT.md on FastAPI and uvicorn.

FastAPI because its answers and request bodies are typed pydantic models, so the OpenAPI
description (`GET /openapi.json`) carries real schemas of a case and of every answer,
from which clients in other languages can be generated; uvicorn because it is the
standard ASGI server and runs several worker processes (`--workers N`).

The service is a thin edge over the library, like the CLI: it calls `Recommender`,
`validate_document`, `check`, `describe` and `KnowledgeBase.interventions`, and maps the
library's exceptions to HTTP errors in one place (`error_for`). It never logs a request
body or a query string: the access log is method, path, status and duration only.

Concurrency: endpoints run in the server's thread pool; one lock per process serialises
every call into the library (the rules engine keeps state per case and is not shared
between threads safely). A recommendation takes well under a millisecond, so the lock
costs little; several processes (`--workers`) use several cores.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Body, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kundskab import __version__, models
from kundskab.errors import (
    AmbiguousNameError,
    CaseError,
    DocumentError,
    KnowledgeBaseError,
    KundskabError,
    UnknownConceptError,
)
from kundskab.knowledge import KnowledgeBase

__all__ = ["Limits", "Service", "create_app", "error_for", "serve"]

log = logging.getLogger("kundskab.service")
access_log = logging.getLogger("kundskab.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

Lang = Literal["da", "en"]
Name = Annotated[str, Path(min_length=1, max_length=200)]


@dataclass(frozen=True)
class Limits:
    """What one request may take: the body's size, and time (to send the body; for a batch,
    to answer it: lines after the deadline are answered with a `time-limit` error)."""

    max_body_bytes: int = 6 * 1024 * 1024
    seconds: float = 30.0


# ---------------------------------------------------------------------------- errors

# Library exception -> HTTP status. The code and message come from the exception itself
# (its messages never repeat a case's values).
_STATUS: list[tuple[type[BaseException], int]] = [
    (UnknownConceptError, 404),
    (AmbiguousNameError, 400),
    (CaseError, 422),
    (DocumentError, 422),
    (KnowledgeBaseError, 503),
    (KundskabError, 400),
]
_HTTP_CODES = {400: "bad-request", 404: "not-found", 405: "method-not-allowed",
               408: "request-timeout", 413: "body-too-large", 415: "unsupported-media-type",
               422: "invalid-request"}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status)


def error_for(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) of a library exception: the one place errors are mapped."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status, getattr(exc, "code", "error"), str(exc)
    return 500, "internal-error", "the service failed on this request"


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    """The first problem of a request that does not match its model, without the value sent."""
    for problem in exc.errors():
        kind = str(problem.get("type", ""))
        where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        if kind == "json_invalid":
            return "invalid-json", "the body is not JSON"
        message = str(problem.get("msg", "invalid value"))
        return "invalid-request", f"{where or 'body'}: {message}"
    return "invalid-request", "the request does not match its schema"


# ---------------------------------------------------------------------------- the state


class Service:
    """The knowledge base and recommender one process answers from, behind one lock.

    `source` gives the current knowledge base (the embedded one, or a SPARQL store that may
    publish a newer version); `refresh()` swaps in a newer one without a restart.
    """

    def __init__(self, source: Any = None) -> None:
        self.source = source
        self.lock = threading.Lock()
        self._kb: KnowledgeBase | None = None
        self._recommender: Any = None
        self._check: dict[str, Any] | None = None
        self._check_lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._recommender is not None

    def start(self) -> None:
        """Load the knowledge base and rules and warm the engine, before answering."""
        with self.lock:
            self._install(self._load())

    def _load(self) -> KnowledgeBase:
        if self.source is not None:
            kb: KnowledgeBase = self.source.load()
            return kb
        from kundskab.knowledge import load

        return load()

    def _install(self, kb: KnowledgeBase) -> None:
        from kundskab.recommendation import Recommender

        recommender = Recommender(kb)
        recommender.recommend({"age": 15, "factors": []})  # warm the engine and memos
        self._kb, self._recommender, self._check = kb, recommender, None

    def refresh(self) -> bool:
        """Install the source's newer knowledge base, if it has one; True if it did."""
        if self.source is None or not self.source.changed(self.kb_version):
            return False
        kb = self._load()  # outside the lock: answers go on from the current version
        with self.lock:
            if kb.version != self.kb_version:
                self._install(kb)
                log.info("knowledge base %s installed", kb.version)
                return True
        return False

    @property
    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            raise KnowledgeBaseError("the knowledge base is not loaded yet")
        return self._kb

    @property
    def kb_version(self) -> str | None:
        return self._kb.version if self._kb is not None else None

    def recommend(self, case: dict[str, Any], lang: str, limit: int | None) -> str:
        from kundskab.cases import parse_case

        with self.lock:
            if self._recommender is None:
                raise KnowledgeBaseError("the knowledge base is not loaded yet")
            parsed = parse_case(case, self._recommender.kb)
            text: str = self._recommender.recommend(parsed, lang=lang, limit=limit).to_json()
            return text

    def batch(self, body: bytes, lang: str, limit: int | None, deadline: float) -> Iterator[bytes]:
        """One answer line per input line, in order; the lock is taken per line, so that
        single requests are not held up behind a long batch."""
        import io

        from kundskab.batch import answer_line, read_lines

        for number, raw in read_lines(io.BytesIO(body)):
            if time.monotonic() > deadline:
                text = json.dumps({"line": number, "error": {
                    "code": "time-limit", "message": "the batch took longer than the time limit"}})
            else:
                try:
                    with self.lock:
                        _, text = answer_line(self._recommender, number, raw, lang, limit)
                except (RecursionError, MemoryError, ValueError, TypeError):
                    # A line the library did not expect (nesting too deep for the JSON
                    # reader, say): that line is bad, the batch goes on.
                    text = json.dumps({"line": number, "error": {
                        "code": "invalid-json", "message": "the line could not be read as a case"}})
            yield (text + "\n").encode("ascii")

    def validate(self, filename: str, content: str, lang: str) -> dict[str, Any]:
        from kundskab.validation import validate_document

        with self.lock:
            report = validate_document(content, filename, self.kb, lang=lang)
            out = report.as_dict()
            out["kb_version"] = self.kb.version
            return out

    def interventions(self, filters: dict[str, list[str]], lang: str) -> list[dict[str, Any]]:
        from kundskab.browse import intervention_summary

        with self.lock:
            kb = self.kb
            return [intervention_summary(kb, c, lang) for c in kb.interventions(**filters)]

    def describe(self, name: str, lang: str, kind: str | None = None) -> dict[str, Any]:
        from kundskab.browse import describe

        with self.lock:
            kb = self.kb
            return describe(kb, kb.get(kb.resolve(name, kind)), lang)

    def check(self) -> dict[str, Any]:
        """The knowledge base's check, worked out once per version (it does not depend on
        the request). SHACL over the whole ontology takes seconds: it runs outside the
        recommendation lock (it only reads the knowledge base), one at a time."""
        with self._check_lock:
            kb = self.kb
            cached = self._check
            if cached is not None and cached.get("kb_version") == kb.version:
                return cached
            if self.source is not None:
                result: dict[str, Any] = self.source.check(kb).as_dict()
            else:
                from kundskab.integrity import check

                result = check(kb).as_dict()
            self._check = result
            return result


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

        if scope.get("method") == "POST" and not scope.get("path", "").endswith("/batch"):
            # The body is JSON whatever the Content-Type says (curl -d sends a form type).
            headers = [(k, v) for k, v in scope.get("headers", ()) if k != b"content-type"]
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
            log.error("unexpected %s on %s", type(exc).__name__, scope.get("path", "-"))
            if not status["code"]:
                response = error_response(500, "internal-error", "the service failed on this request")
                await response(scope, receive, logged_send)
        finally:
            access_log.info("%s %s %d %.1fms", scope.get("method", "-"), scope.get("path", "-"),
                            status["code"], 1000 * (time.perf_counter() - started))

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, JSONResponse | None]:
        limit = self.limits.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return b"", error_response(400, "bad-request", "Content-Length is not a number")
                if declared > limit:
                    return b"", error_response(413, "body-too-large", f"a body is at most {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.limits.seconds
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(remaining, 0.001))
            except TimeoutError:
                return b"", error_response(408, "request-timeout",
                                           f"the body did not arrive within {self.limits.seconds:g} s")
            if message["type"] == "http.disconnect":
                return b"", error_response(400, "bad-request", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", error_response(413, "body-too-large", f"a body is at most {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), None


# ---------------------------------------------------------------------------- the app

NDJSON = "application/x-ndjson"
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": models.ErrorAnswer, "description": description}
    for status, description in ((400, "Bad request"), (404, "Unknown name"),
                                (413, "Body too large"), (422, "Invalid case or request"))
}


def create_app(service: Service | None = None, limits: Limits | None = None, *,
               poll_seconds: float = 0.0) -> Any:
    """The ASGI application (FastAPI wrapped in the edge middleware).

    `poll_seconds` > 0 makes the service ask its source for a newer knowledge base that
    often (a cheap version query), and install it without a restart."""
    service = service or Service()
    limits = limits or Limits()

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        await asyncio.to_thread(service.start)
        poller = None
        if poll_seconds > 0 and service.source is not None:
            poller = asyncio.create_task(_poll(service, poll_seconds))
        try:
            yield
        finally:
            if poller is not None:
                poller.cancel()

    app = FastAPI(
        title="kundskab", version=__version__, lifespan=lifespan,
        description="Knowledge base and rules for Danish crime-prevention work: recommendations "
                    "for a case, validation of initiative documents, the catalogue with its sources. "
                    "Every error is {\"error\": {\"code\", \"message\"}}.",
    )
    app.state.service = service

    @app.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        code, message = _validation_message(exc)
        return error_response(400 if code == "invalid-json" else 422, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else "bad request"
        if status == 400:
            detail = "the body could not be read (not JSON, not UTF-8, or nested too deeply)"
        return error_response(status, _HTTP_CODES.get(status, "error"), detail)

    @app.exception_handler(KundskabError)
    async def on_library(_request: Request, exc: KundskabError) -> JSONResponse:
        status, code, message = error_for(exc)
        return error_response(status, code, message)

    @app.exception_handler(Exception)
    async def on_other(_request: Request, exc: Exception) -> JSONResponse:
        # Only the exception's type is logged: its text could hold a value from the request.
        log.error("unexpected %s", type(exc).__name__)
        status, code, message = error_for(exc)
        return error_response(status, code, message)

    def json_text(text: str) -> Response:
        return Response(content=text, media_type="application/json")

    @app.post("/v1/recommend", response_model=models.Recommendation, responses=ERRORS,
              summary="The recommendation for one case")
    def recommend(case: Annotated[models.Case, Body()], lang: Lang = "da",
                  limit: Annotated[int | None, Query(ge=1, le=100)] = None) -> Response:
        return json_text(service.recommend(case.model_dump(exclude_unset=True), lang, limit))

    @app.post(
        "/v1/recommend/batch", summary="One case per line in, one answer per line out (NDJSON)",
        response_class=StreamingResponse, responses={**ERRORS, 200: {
            "description": "One line per input line, in order: a recommendation, or "
                           "{\"line\": N, \"error\": {…}} for a bad line.",
            "content": {NDJSON: {"schema": {"oneOf": [
                {"$ref": "#/components/schemas/Recommendation"},
                {"$ref": "#/components/schemas/BatchError"}]}}}}},
        openapi_extra={"requestBody": {"required": True, "content": {
            NDJSON: {"schema": {"$ref": "#/components/schemas/Case"}}}}},
    )
    async def batch(request: Request, lang: Lang = "da",
                    limit: Annotated[int | None, Query(ge=1, le=100)] = None) -> StreamingResponse:
        body = await request.body()
        deadline = time.monotonic() + limits.seconds
        if not service.ready:
            raise KnowledgeBaseError("the knowledge base is not loaded yet")
        return StreamingResponse(service.batch(body, lang, limit, deadline), media_type=NDJSON)

    @app.post("/v1/validate", response_model=models.FileAnswer, responses=ERRORS,
              summary="Validate one initiative document given as content")
    def validate(document: models.ValidateRequest, lang: Lang = "da") -> JSONResponse:
        return JSONResponse(service.validate(document.filename, document.content, lang))

    @app.get("/v1/interventions", response_model=list[models.InterventionSummary], responses=ERRORS,
             summary="The catalogue, filtered (filters combine with AND, repeated values with OR)")
    def interventions(
        tier: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
        target_group: Annotated[list[str], Query(alias="target-group")] = [],  # noqa: B006
        forum: Annotated[list[str], Query()] = [],  # noqa: B006
        principle: Annotated[list[str], Query()] = [],  # noqa: B006
        crime_type: Annotated[list[str], Query(alias="crime-type")] = [],  # noqa: B006
        programme: Annotated[list[str], Query()] = [],  # noqa: B006
        lang: Lang = "da",
    ) -> JSONResponse:
        filters = {"tier": tier, "target_group": target_group, "forum": forum,
                   "principle": principle, "crime_type": crime_type, "programme": programme}
        return JSONResponse(service.interventions(filters, lang))

    @app.get("/v1/concepts/{name}", response_model=models.ConceptAnswer, responses=ERRORS,
             summary="Everything known about one concept (id, or Danish or English label)")
    def concept(name: Name, lang: Lang = "da") -> JSONResponse:
        return JSONResponse(service.describe(name, lang))

    @app.get("/v1/programmes/{name}", response_model=models.ConceptAnswer, responses=ERRORS,
             summary="A programme with its principles, sub-goals, requirements and goals")
    def programme(name: Name, lang: Lang = "da") -> JSONResponse:
        return JSONResponse(service.describe(name, lang, "Programme"))

    @app.get("/v1/check", response_model=models.CheckAnswer, summary="The knowledge base's own check")
    def check() -> JSONResponse:
        return JSONResponse(service.check())

    @app.get("/healthz", response_model=models.Health, summary="The process is up")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/readyz", response_model=models.Health,
             responses={503: {"model": models.ErrorAnswer, "description": "Not ready yet"}},
             summary="The knowledge base is loaded and the engine warm")
    async def readyz() -> Any:
        if not service.ready:
            return error_response(503, "not-ready", "the knowledge base is loading")
        return {"status": "ready", "kb_version": service.kb_version}

    _register_schemas(app)
    return Edge(app, limits)


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
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _poll(service: Service, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await asyncio.to_thread(service.refresh)
        except KundskabError as exc:
            # The store may be down for a moment: keep answering from the version we have.
            log.warning("knowledge base not refreshed: %s", exc)


# ---------------------------------------------------------------------------- running

ENV_STORE = "KUNDSKAB_SERVE_STORE"
ENV_LIMITS = "KUNDSKAB_SERVE_LIMITS"
ENV_LOG_LEVEL = "KUNDSKAB_SERVE_LOG_LEVEL"


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")


def app_from_env() -> Any:
    """The application for uvicorn's worker processes, configured by `serve` through the
    environment (uvicorn starts workers from an import string)."""
    _configure_logging(__import__("os").environ.get(ENV_LOG_LEVEL, "info"))
    settings = json.loads(__import__("os").environ.get(ENV_LIMITS, "{}"))
    store = __import__("os").environ.get(ENV_STORE) or None
    source = None
    if store:
        from kundskab.store import StoreSource

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
    # uvicorn's own access log prints the query string: ours (Edge) prints the path only.
    uvicorn.run("kundskab.service:app_from_env", factory=True, host=host, port=port,
                workers=workers, access_log=False, log_level=log_level,
                timeout_keep_alive=5, limit_concurrency=1000)
