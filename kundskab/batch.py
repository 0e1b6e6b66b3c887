"""Batches of cases: one JSON case per line in, one JSON result per line out, in order.

A bad line yields {"line": N, "error": {"code", "message"}} and the rest go on. With
jobs > 1 the cases are spread over worker processes (each with its own engine); the
output order is the input order all the same. Cases travel to the workers over pipes in
memory only: nothing is written to disk. A worker that dies (killed, out of memory) ends
the batch with a BatchError rather than leaving it waiting for an answer that never comes.
Blank lines are skipped, as JSON Lines readers do.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import Any, BinaryIO, NamedTuple

from kundskab.cases import load_case_json, looks_like_cpr, parse_case
from kundskab.errors import BatchError, KundskabError

__all__ = ["MAX_LINE_BYTES", "BatchLine", "Block", "answer_line", "read_lines", "recommend_blocks",
           "recommend_lines"]

MAX_LINE_BYTES = 64 * 1024
CHUNK = 128

BatchLine = tuple[int, bytes | None]  # line number, and the line (None: it was too long)


class Block(NamedTuple):
    """The answers to one chunk of input lines."""

    lines: int  # how many input lines (cases) it answers
    bad: int  # how many of them were errors
    text: str  # one output line per input line, each ending in a line break
    cpr_like: tuple[int, ...] = ()  # line numbers whose ref looks like a CPR number


def read_lines(stream: BinaryIO, progress: Any = None) -> Iterator[BatchLine]:
    """Numbered lines of a binary stream; an over-long line is skipped, not held in memory."""
    for number, raw in enumerate(iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""), 1):
        size = len(raw)
        if size > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(MAX_LINE_BYTES + 1)
                size += len(raw)
            if progress:
                progress(size)
            yield number, None
            continue
        if progress:
            progress(size)
        if raw.isspace():  # a blank line (often the last) is no case: skipped, as JSON Lines readers do
            continue
        yield number, raw


def _error(line: int, code: str, message: str) -> str:
    # ASCII only, like the answers: one output line is one line for any line reader.
    return json.dumps({"line": line, "error": {"code": code, "message": message}}, separators=(",", ":"))


def _one(recommender: Any, number: int, raw: bytes | None, lang: str, limit: int | None,
         cpr_like: list[int]) -> tuple[bool, str]:
    if raw is None:
        return False, _error(number, "line-too-long", f"a line is at most {MAX_LINE_BYTES // 1024} KiB")
    try:
        data = load_case_json(raw.decode("utf-8"))
        case = parse_case(data, recommender.kb)
        if case.ref is not None and looks_like_cpr(case.ref):
            cpr_like.append(number)
        return True, recommender.recommend(case, lang=lang, limit=limit).to_json()
    except UnicodeDecodeError:
        return False, _error(number, "invalid-case", "not UTF-8")
    except KundskabError as exc:
        return False, _error(number, exc.code, str(exc))
    except ValueError as exc:  # json.JSONDecodeError: its message gives the position, not the text
        return False, _error(number, "invalid-json", f"not a JSON case: {exc}")


def answer_line(recommender: Any, number: int, raw: bytes | None, lang: str = "da",
                limit: int | None = None) -> tuple[bool, str]:
    """(ok, JSON text) for one numbered line: the answer, or {"line": N, "error": ...}."""
    return _one(recommender, number, raw, lang, limit, [])


_WORKER: Any = None


def _init_worker() -> None:
    global _WORKER
    from kundskab.recommendation import Recommender

    # Ctrl-C reaches the whole process group: the parent stops the batch and its workers;
    # a worker interrupted on its own would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = Recommender()
    gc.freeze()


def _block(recommender: Any, chunk: list[BatchLine], lang: str, limit: int | None) -> Block:
    """The answers to a chunk as one text: one piece per chunk crosses the pipe."""
    bad = 0
    texts = []
    cpr_like: list[int] = []
    for number, raw in chunk:
        ok, text = _one(recommender, number, raw, lang, limit, cpr_like)
        bad += not ok
        texts.append(text)
    texts.append("")  # the block ends with a line break
    return Block(len(chunk), bad, "\n".join(texts), tuple(cpr_like))


def _work(chunk: list[BatchLine], lang: str, limit: int | None) -> Block:
    return _block(_WORKER, chunk, lang, limit)


def _chunks(lines: Iterable[BatchLine], size: int) -> Iterator[list[BatchLine]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, size)):
        yield chunk


def recommend_blocks(lines: Iterable[BatchLine], *, recommender: Any = None, jobs: int = 1,
                     lang: str = "da", limit: int | None = None,
                     chunk_size: int = CHUNK) -> Iterator[Block]:
    """The answers per chunk of input lines, in input order. Raises BatchError if a worker
    process dies (the blocks before it have been yielded).

    `chunk_size=1` (with one job) answers each line as soon as it is read: for a caller that
    writes one case and waits for its answer before writing the next."""
    if recommender is None:
        from kundskab.recommendation import Recommender

        recommender = Recommender()
    # The knowledge base, rules and engine live as long as the batch: keep them out of the
    # cyclic garbage collector's scans (a few percent of the time per case).
    gc.freeze()
    if jobs <= 1:
        for chunk in _chunks(lines, chunk_size):
            yield _block(recommender, chunk, lang, limit)
        return
    # The main process takes every jobs-th chunk itself and jobs - 1 workers the others,
    # so `--jobs 2` keeps both cores of a two-core machine busy. "spawn": the parent's
    # durable-rules host runs a timer thread, which fork would copy badly.
    # A process pool from concurrent.futures, not multiprocessing.Pool: when a worker dies,
    # its futures fail (BrokenProcessPool) where Pool would replace the worker and wait for
    # the lost chunk for ever.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs - 1, mp_context=context, initializer=_init_worker)
    try:
        # A bounded window of chunks in flight: memory stays flat however long the input.
        window: deque[tuple[list[BatchLine] | None, Future[Block] | None]] = deque()
        for index, chunk in enumerate(_chunks(lines, CHUNK)):
            if index % jobs == 0:
                window.append((chunk, None))
            else:
                window.append((None, pool.submit(_work, chunk, lang, limit)))
            while len(window) >= 4 * jobs:
                yield _resolve(window.popleft(), recommender, lang, limit)
        while window:
            yield _resolve(window.popleft(), recommender, lang, limit)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _resolve(entry: tuple[list[BatchLine] | None, Future[Block] | None], recommender: Any, lang: str,
             limit: int | None) -> Block:
    chunk, pending = entry
    if chunk is not None:
        return _block(recommender, chunk, lang, limit)
    assert pending is not None
    try:
        return pending.result()
    except BrokenProcessPool:
        raise BatchError("a worker process stopped before answering (killed, or out of memory?); "
                         "the output ends before the lines it held") from None


def recommend_lines(lines: Iterable[BatchLine], *, recommender: Any = None, jobs: int = 1,
                    lang: str = "da", limit: int | None = None) -> Iterator[tuple[bool, str]]:
    """(ok, JSON text) for each numbered line, in input order."""
    for block in recommend_blocks(lines, recommender=recommender, jobs=jobs, lang=lang, limit=limit):
        for text in block.text[:-1].split("\n"):
            yield not text.startswith('{"line":'), text
