"""Batches of cases: one JSON case per line in, one JSON result per line out, in order.

A bad line yields {"line": N, "error": {"code", "message"}} and the rest go on. With
jobs > 1 the cases are spread over worker processes (each with its own engine); the
output order is the input order all the same. Cases travel to the workers over pipes in
memory only: nothing is written to disk.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, BinaryIO

from kundskab.cases import parse_case
from kundskab.errors import KundskabError
from kundskab.i18n import gettext

__all__ = ["MAX_LINE_BYTES", "BatchLine", "answer_line", "read_lines", "recommend_blocks", "recommend_lines"]

MAX_LINE_BYTES = 64 * 1024
CHUNK = 128

BatchLine = tuple[int, bytes | None]  # line number, and the line (None: it was too long)


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
        yield number, raw


def _error(line: int, code: str, message: str) -> str:
    # ASCII only, like the answers: one output line is one line for any line reader.
    return json.dumps({"line": line, "error": {"code": code, "message": message}}, separators=(",", ":"))


def _one(recommender: Any, number: int, raw: bytes | None, lang: str, limit: int | None) -> tuple[bool, str]:
    if raw is None:
        return False, _error(number, "line-too-long", gettext("a line is at most {size} KiB", lang).format(
            size=MAX_LINE_BYTES // 1024))
    try:
        data = json.loads(raw.decode("utf-8"))
        case = parse_case(data, recommender.kb)
        return True, recommender.recommend(case, lang=lang, limit=limit).to_json()
    except UnicodeDecodeError:
        return False, _error(number, "invalid-case", gettext("not UTF-8", lang))
    except KundskabError as exc:
        return False, _error(number, exc.code, exc.translated(lang))
    except ValueError as exc:  # json.JSONDecodeError
        return False, _error(number, "invalid-json", gettext("not a JSON case: {detail}", lang).format(detail=exc))


def answer_line(recommender: Any, number: int, raw: bytes | None, lang: str = "da",
                limit: int | None = None) -> tuple[bool, str]:
    """(ok, JSON text) for one numbered line: the answer, or {"line": N, "error": ...}."""
    return _one(recommender, number, raw, lang, limit)


_WORKER: Any = None


def _init_worker() -> None:
    global _WORKER
    from kundskab.recommendation import Recommender

    _WORKER = Recommender()
    gc.freeze()


def _block(recommender: Any, chunk: list[BatchLine], lang: str, limit: int | None) -> tuple[int, int, str]:
    """(lines, bad lines, their output as one text): one piece per chunk crosses the pipe."""
    bad = 0
    texts = []
    for number, raw in chunk:
        ok, text = _one(recommender, number, raw, lang, limit)
        bad += not ok
        texts.append(text)
    texts.append("")  # the block ends with a line break
    return len(chunk), bad, "\n".join(texts)


def _work(args: tuple[list[BatchLine], str, int | None]) -> tuple[int, int, str]:
    chunk, lang, limit = args
    return _block(_WORKER, chunk, lang, limit)


def _chunks(lines: Iterable[BatchLine], size: int) -> Iterator[list[BatchLine]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, size)):
        yield chunk


def recommend_blocks(lines: Iterable[BatchLine], *, recommender: Any = None, jobs: int = 1,
                     lang: str = "da", limit: int | None = None,
                     chunk_size: int = CHUNK) -> Iterator[tuple[int, int, str]]:
    """(lines, bad lines, output text) per chunk of input lines, in input order.

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
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs - 1, initializer=_init_worker) as pool:
        # A bounded window of chunks in flight: memory stays flat however long the input
        # (Pool.imap would read the whole input ahead).
        window: deque[tuple[list[BatchLine] | None, Any]] = deque()
        for index, chunk in enumerate(_chunks(lines, CHUNK)):
            if index % jobs == 0:
                window.append((chunk, None))
            else:
                window.append((None, pool.apply_async(_work, ((chunk, lang, limit),))))
            while len(window) >= 4 * jobs:
                yield _resolve(window.popleft(), recommender, lang, limit)
        while window:
            yield _resolve(window.popleft(), recommender, lang, limit)


def _resolve(entry: tuple[list[BatchLine] | None, Any], recommender: Any, lang: str,
             limit: int | None) -> tuple[int, int, str]:
    chunk, pending = entry
    if chunk is not None:
        return _block(recommender, chunk, lang, limit)
    return pending.get()  # type: ignore[no-any-return]


def recommend_lines(lines: Iterable[BatchLine], *, recommender: Any = None, jobs: int = 1,
                    lang: str = "da", limit: int | None = None) -> Iterator[tuple[bool, str]]:
    """(ok, JSON text) for each numbered line, in input order."""
    for _, _, block in recommend_blocks(lines, recommender=recommender, jobs=jobs, lang=lang, limit=limit):
        for text in block[:-1].split("\n"):
            yield not text.startswith('{"line":'), text
