"""Validation of a document sent over HTTP, in a child process with a deadline and a memory
limit of its own.

Validating is the one request whose work grows with the text a client sends (matching prose
word by word, parsing Turtle, running SHACL): in a thread of the service it would share the
GIL with every recommendation of the worker, and a thread cannot be stopped at a deadline.
So each service worker keeps one child process (started on the first validation, spawned,
with the worker's knowledge base) that validates one document at a time: past the deadline
it is killed, so the CPU time a request can take is bounded, and a new one is started for
the next request; its address space is limited to what it had after loading plus
`MEMORY_BYTES`, so a document cannot take the worker's memory either.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import time
from typing import Any

from kundskab.errors import DocumentError, KundskabError
from kundskab.i18n import N_

__all__ = ["MEMORY_BYTES", "SandboxError", "Validator"]

MEMORY_BYTES = 512 * 1024 * 1024  # beyond what the child holds once loaded
START_SECONDS = 120.0  # for a child to import and load (not counted against a request)
TOO_MUCH_MEMORY = N_("the document takes more memory to validate than a request may use")


class SandboxError(RuntimeError):
    """The child failed in a way the library does not raise (a bug): only its type is known."""


class Validator:
    """One child process that validates documents, one at a time."""

    def __init__(self, memory_bytes: int = MEMORY_BYTES) -> None:
        self.memory_bytes = memory_bytes
        self._lock = threading.Lock()
        self._child: Any = None
        self._connection: Any = None
        self._version: str | None = None

    def prepare(self, kb: Any) -> None:
        """Start the child for `kb` now (the service does, once a knowledge base is installed),
        so that no request waits for its start."""
        with self._lock:
            try:
                self._ensure(kb)
            except (EOFError, OSError, KundskabError):
                self._stop()  # tried again at the next validation

    def validate(self, kb: Any, filename: str, content: str, lang: str, seconds: float,
                 late: KundskabError) -> dict[str, Any]:
        """`validate(documents=[(filename, content)], kb=kb, lang=lang).files[0].as_dict()`, worked out in the
        child within `seconds` (else the child is killed and `late` raised)."""
        with self._lock:
            try:
                self._ensure(kb)
                deadline = time.monotonic() + seconds
                self._connection.send((filename, content, lang))
                if not self._connection.poll(max(0.0, deadline - time.monotonic())):
                    self._stop()
                    raise late
                answer = self._connection.recv()
            except (EOFError, OSError):
                # The child died (killed from outside, or out of memory while answering).
                self._stop()
                raise DocumentError(TOO_MUCH_MEMORY, "document-too-large") from None
        kind = answer[0]
        if kind == "ok":
            result: dict[str, Any] = answer[1]
            return result
        if kind == "error":
            raise DocumentError(answer[2], answer[1])  # already in `lang`
        if kind == "memory":
            self.stop()
            raise DocumentError(TOO_MUCH_MEMORY, "document-too-large")
        raise SandboxError(answer[1])

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def _ensure(self, kb: Any) -> None:
        if self._child is not None and self._child.is_alive() and self._version == kb.version:
            return
        self._stop()
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        child = context.Process(target=_serve, args=(theirs, pickle.dumps(kb), self.memory_bytes),
                                name="kundskab-validate", daemon=True)
        child.start()
        theirs.close()
        self._child, self._connection, self._version = child, ours, kb.version
        if not ours.poll(START_SECONDS) or ours.recv() != ("ready",):
            self._stop()
            raise SandboxError()  # the child did not start: an internal error (500), logged by type

    def _stop(self) -> None:
        child, connection = self._child, self._connection
        self._child = self._connection = self._version = None
        if connection is not None:
            connection.close()
        if child is not None:
            child.kill()
            child.join(5)


def _limit_memory(extra: int) -> None:
    try:
        import resource

        with open("/proc/self/statm") as handle:  # Linux: the address space now, in pages
            size = int(handle.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (size + extra, resource.RLIM_INFINITY))
    except (ImportError, OSError, ValueError):
        pass  # no such limit here: the body limit still bounds the work


def _serve(connection: Any, kb_bytes: bytes, memory_bytes: int) -> None:
    """The child: validate what arrives, until the pipe closes."""
    import pyshacl  # noqa: F401 - imported before the memory limit, as validation needs it

    from kundskab.documents.validation import validate

    kb = pickle.loads(kb_bytes)
    validate(documents=[("warm.yaml", "title: x\n")], kb=kb)  # everything a validation imports, loaded
    _limit_memory(memory_bytes)
    connection.send(("ready",))
    while True:
        try:
            filename, content, lang = connection.recv()
        except (EOFError, OSError):
            return
        try:
            report = validate(documents=[(filename, content)], kb=kb, lang=lang)
            connection.send(("ok", report.files[0].as_dict()))
        except KundskabError as exc:
            connection.send(("error", exc.code, exc.translated(lang)))
        except MemoryError:
            connection.send(("memory",))
        except Exception as exc:  # a bug: only its type leaves the child (its text may hold content)
            connection.send(("crash", type(exc).__name__))
