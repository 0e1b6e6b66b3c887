"""The service's connections: how many one worker keeps, how long a request may take to
arrive, and what the server says when a request is not HTTP at all.

uvicorn's own `limit_concurrency` counts every open connection, idle ones included, and
answers 503 to everyone past it: 1,000 sockets that never send a byte made `/healthz`
answer 503 for as long as they stayed open. Its keep-alive timer is cancelled by every
byte that arrives, so headers sent a byte at a time (slowloris) held a connection for
as long as the client liked. This protocol (uvicorn's httptools protocol with three
changes) holds by construction for every route, whatever the application:

- **A connection cap that sheds idle ones.** Past `connection_cap()` open connections in
  one worker, a new connection closes the least recently active idle one (no request in
  progress: never sent one, between requests, or still sending headers). Connections
  that are answering are never closed for it; if every one is, the new connection gets a
  503 and is closed.
- **One deadline for a request's line and headers** (`header_seconds` from the
  connection's start or the previous answer's end), not reset by each byte: a client
  that has sent part of a request by then gets a 408, one that sent nothing is closed.
- **At most MAX_HEADER_BYTES of request line and headers** (431): httptools would gather
  an endless header in memory.
- **Errors in the contract's shape**: a request that is not valid HTTP gets a 400 with
  `{"error": {"code", "message"}}` instead of uvicorn's plain text.

The body has its own deadline and size limit in the application's edge middleware
(`kundskab.edges.service.Edge`), which also closes the connection after refusing a body it did
not read to the end.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kundskab.i18n import DEFAULT_LANGUAGE, N_, gettext

__all__ = ["Guard", "GuardedProtocol", "error_bytes", "log_safe"]

HEADER_SECONDS = 10.0
MAX_HEADER_BYTES = 64 * 1024  # a request's line and headers (httptools itself sets no bound)
MAX_CONNECTIONS = 1024  # per worker; fewer if the process may not open that many files

NOT_HTTP = N_("the request is not valid HTTP")
HEADERS_TOO_SLOW = N_("the request's headers did not arrive within {seconds} s")
TOO_MANY = N_("the service has too many connections open; try again in a moment")
HEADERS_TOO_LARGE = N_("a request's line and headers are at most {limit} bytes")


def error_bytes(status: int, reason: str, code: str, message: str, retry_after: int | None = None) -> bytes:
    """A whole HTTP/1.1 answer with the contract's error body, that closes the connection."""
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode("utf-8")
    head = [f"HTTP/1.1 {status} {reason}", "content-type: application/json",
            f"content-length: {len(body)}", "connection: close"]
    if retry_after is not None:
        head.append(f"retry-after: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


# Characters a log line must not carry raw: controls (a newline would start a forged line,
# ESC drives a terminal), DEL and C1, line and paragraph separators, bidi controls; and
# the backslash, so that an escape in the log cannot be mistaken for one sent.
_UNSAFE = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0))}
_UNSAFE.update({c: f"\\u{c:04x}" for c in (0x061c, 0x200e, 0x200f, 0x2028, 0x2029, *range(0x202a, 0x202f),
                                           *range(0x2066, 0x206a))})
_UNSAFE[ord("\\")] = "\\\\"


def log_safe(text: str) -> str:
    """`text` with every character that could forge or hide a log line escaped."""
    return text.translate(_UNSAFE)


class Guard:
    """The open connections of one worker, least recently active first."""

    def __init__(self) -> None:
        self.open: OrderedDict[GuardedProtocol, None] = OrderedDict()

    def opened(self, protocol: GuardedProtocol, limit: int) -> bool:
        """Register a new connection; False if it must be refused (every other one busy)."""
        while len(self.open) >= limit:
            idle = next((p for p in self.open if p.idle), None)
            if idle is None:
                return False
            self.open.pop(idle)
            idle.shed()
        self.open[protocol] = None
        return True

    def active(self, protocol: GuardedProtocol) -> None:
        if protocol in self.open:
            self.open.move_to_end(protocol)

    def closed(self, protocol: GuardedProtocol) -> None:
        self.open.pop(protocol, None)


_GUARDS: dict[asyncio.AbstractEventLoop, Guard] = {}
_CAP: list[int] = []


def connection_cap() -> int:
    """MAX_CONNECTIONS, within what the process may open: the soft limit on open files is
    raised towards the hard one if it is lower (1,024 is a common default), and the cap
    leaves room for the files and sockets the worker needs besides."""
    if not _CAP:
        limit = MAX_CONNECTIONS + 256
        try:
            import resource

            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if soft != resource.RLIM_INFINITY and soft < limit:
                wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
                soft = wanted
            if soft != resource.RLIM_INFINITY:
                limit = soft
        except (ImportError, ValueError, OSError):
            pass  # no such limit here (Windows), or not allowed: keep what there is
        _CAP.append(max(16, min(MAX_CONNECTIONS, limit - 256)))
    return _CAP[0]


def _guard(loop: asyncio.AbstractEventLoop) -> Guard:
    # One per event loop: a worker process runs one; tests may run several in turn.
    guard = _GUARDS.get(loop)
    if guard is None:
        for old in [other for other in _GUARDS if other.is_closed()]:
            del _GUARDS[old]
        guard = _GUARDS[loop] = Guard()
    return guard


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a per-worker connection cap that sheds idle
    connections, one deadline for each request's headers, and JSON error answers."""

    header_seconds = HEADER_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._partial = 0  # bytes of a request whose headers are not yet whole
        self._guard = _guard(self.loop)

    @property
    def idle(self) -> bool:
        """No request being answered: never sent one, between two, or sending headers."""
        return self.cycle is None or self.cycle.response_complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self._guard.opened(self, connection_cap()):
            message = gettext(TOO_MANY, DEFAULT_LANGUAGE)
            transport.write(error_bytes(503, "Service Unavailable", "too-many-connections", message, 1))
            transport.close()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._guard.closed(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self.idle
        super().data_received(data)
        # Counted after the parser has seen the bytes: a piece that completes the headers
        # (and brings part of the body) starts a request and is not counted.
        if waiting and self.idle and not self.transport.is_closing():
            self._partial += len(data)
            if self._partial > MAX_HEADER_BYTES:
                self._refuse(431, "Request Header Fields Too Large", "headers-too-large",
                             gettext(HEADERS_TOO_LARGE, DEFAULT_LANGUAGE).format(limit=MAX_HEADER_BYTES))

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._partial = 0
        self._disarm()
        self._guard.active(self)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._guard.active(self)
        if not self.transport.is_closing() and not self.pipeline:
            self._arm()

    def send_400_response(self, msg: str) -> None:
        # uvicorn's is plain text; the language of a request that is not HTTP is unknown.
        self._refuse(400, "Bad Request", "bad-request", gettext(NOT_HTTP, DEFAULT_LANGUAGE))

    def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(error_bytes(status, reason, code, message))
            self.transport.close()

    def shed(self) -> None:
        """Closed to make room for a new connection (this one was the least recently active)."""
        self._disarm()
        if not self.transport.is_closing():
            self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._partial = 0
        self._header_timer = self.loop.call_later(self.header_seconds, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self.idle:
            return
        if self._partial:
            message = gettext(HEADERS_TOO_SLOW, DEFAULT_LANGUAGE).format(seconds=f"{self.header_seconds:g}")
            self._refuse(408, "Request Timeout", "request-timeout", message)
        else:
            self.transport.close()
