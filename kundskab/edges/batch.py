"""Batches of cases: one JSON case per line in, one JSON result per line out, in order.

A bad line yields {"line": N, "error": {"code", "message"}} and the rest go on. With
jobs > 1 the cases are spread over worker processes (each with its own engine); the
output order is the input order all the same. Cases travel to the workers over pipes in
memory only: nothing is written to disk. A worker that dies (killed, out of memory) ends
the batch with a BatchError rather than leaving it waiting for an answer that never comes.
Blank lines are skipped, as JSON Lines readers do.

`write_batch` is what `recommend --batch` runs. With jobs > 1 and an output that is a
file descriptor, it forks `jobs` workers that share the loaded knowledge base and write
their answers to the output themselves, taking turns chunk by chunk in input order: only
the cases (about 0.1 KB each) cross a pipe, never the answers (about 11 KB each), so the
work really is shared. Elsewhere (no fork, an in-memory output, other threads running)
`recommend_blocks` sends the answers back over pipes instead.
"""

from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection, wait
from typing import Any, BinaryIO, NamedTuple

from kundskab.errors import BatchError, KundskabError
from kundskab.i18n import N_, gettext
from kundskab.reasoning.answer_json import batch_error_json
from kundskab.reasoning.cases import MAX_CASE_BYTES, case_from_json

__all__ = ["MAX_LINE_BYTES", "BatchLine", "BatchSummary", "Block", "answer_line", "read_lines", "recommend_blocks",
           "recommend_lines", "write_batch"]

MAX_LINE_BYTES = MAX_CASE_BYTES  # a line is one case
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


def _one(recommender: Any, number: int, raw: bytes | None, lang: str, limit: int | None,
         cpr_like: list[int], questions: int | None = None) -> tuple[bool, str]:
    if raw is None:
        return False, batch_error_json(number, "line-too-long", gettext("a line is at most {size} KiB", lang).format(
            size=MAX_LINE_BYTES // 1024))
    try:
        answer = recommender.recommend(case_from_json(raw, recommender.kb), lang=lang, limit=limit,
                                       questions=questions)
    except KundskabError as exc:
        return False, batch_error_json(number, exc.code, exc.translated(lang))
    if answer.warnings and any(w.code == "ref-looks-like-cpr" for w in answer.warnings):
        cpr_like.append(number)
    return True, answer.to_json()


def answer_line(recommender: Any, number: int, raw: bytes | None, lang: str = "da",
                limit: int | None = None, cpr_like: list[int] | None = None,
                questions: int | None = None) -> tuple[bool, str]:
    """(ok, JSON text) for one numbered line: the answer, or {"line": N, "error": ...}.
    The line's number is added to `cpr_like` if the answer has a warning (its ref looks
    like a CPR number)."""
    return _one(recommender, number, raw, lang, limit, [] if cpr_like is None else cpr_like, questions)


def _block(recommender: Any, chunk: list[BatchLine], lang: str, limit: int | None,
           questions: int | None = None) -> Block:
    """The answers to a chunk as one text: one piece per chunk crosses the pipe."""
    bad = 0
    texts = []
    cpr_like: list[int] = []
    for number, raw in chunk:
        ok, text = _one(recommender, number, raw, lang, limit, cpr_like, questions)
        bad += not ok
        texts.append(text)
    texts.append("")  # the block ends with a line break
    return Block(len(chunk), bad, "\n".join(texts), tuple(cpr_like))


def _chunks(lines: Iterable[BatchLine], size: int) -> Iterator[list[BatchLine]]:
    iterator = iter(lines)
    while chunk := list(islice(iterator, size)):
        yield chunk


def recommend_blocks(lines: Iterable[BatchLine], *, recommender: Any = None, jobs: int = 1,
                     lang: str = "da", limit: int | None = None, questions: int | None = None,
                     chunk_size: int = CHUNK) -> Iterator[Block]:
    """The answers per chunk of input lines, in input order. Raises BatchError if a worker
    process dies (the blocks before it have been yielded).

    `chunk_size=1` (with one job) answers each line as soon as it is read: for a caller that
    writes one case and waits for its answer before writing the next."""
    if recommender is None:
        from kundskab.reasoning.recommendation import Recommender

        recommender = Recommender()
    # The knowledge base, rules and engine live as long as the batch: keep them out of the
    # cyclic garbage collector's scans (a few percent of the time per case).
    gc.freeze()
    if jobs <= 1:
        for chunk in _chunks(lines, chunk_size):
            yield _block(recommender, chunk, lang, limit, questions)
        return
    # The main process takes every jobs-th chunk itself and jobs - 1 workers the others,
    # so `--jobs 2` keeps both cores of a two-core machine busy. "spawn": this path also
    # serves callers with threads of their own, which fork would copy badly.
    context = multiprocessing.get_context("spawn")
    workers: list[_Spawned] = []
    try:
        workers += (_Spawned(context, recommender) for _ in range(jobs - 1))
        # A bounded window of chunks in flight: memory stays flat however long the input.
        window: deque[tuple[list[BatchLine] | None, _Spawned | None]] = deque()
        for index, chunk in enumerate(_chunks(lines, CHUNK)):
            if index % jobs == 0:
                window.append((chunk, None))
            else:
                worker = workers[index % jobs - 1]
                worker.send(chunk, lang, limit, questions)
                window.append((None, worker))
            while len(window) >= 4 * jobs:
                yield _resolve(window.popleft(), recommender, lang, limit, questions)
        while window:
            yield _resolve(window.popleft(), recommender, lang, limit, questions)
    finally:
        for worker in workers:
            worker.close()
        for worker in workers:
            worker.stop()


_WORKER_DIED = N_("a worker process stopped before answering (killed, or out of memory?); "
                  "the output ends before the lines it held")
_WORKER_FAILED = N_("a batch worker failed ({kind}); the output ends before the lines it held")


class _Spawned:
    """One spawned worker process and its own pipe: chunks go in, blocks come back in the
    order the chunks went. Only the worker holds the far end of the pipe, so if it dies
    (killed, out of memory), even halfway through an answer, reading gives end of file at
    once. (concurrent.futures' pool shares one result pipe that the main process also
    holds: a worker killed while writing left it waiting for the rest for ever.)"""

    def __init__(self, context: Any, recommender: Any) -> None:
        ours, theirs = context.Pipe()
        # A daemon: it cannot outlive the main process, even one that never reaches `stop`.
        self.process = context.Process(target=_serve_chunks, args=(recommender, theirs), daemon=True)
        try:
            self.process.start()
        finally:
            theirs.close()  # the worker's copy is the only one left
        self.link: Connection = ours

    def send(self, chunk: list[BatchLine], lang: str, limit: int | None, questions: int | None) -> None:
        try:
            self.link.send((chunk, lang, limit, questions))
        except OSError:  # it is gone: the answer it owes says how
            pass

    def receive(self) -> Block:
        try:
            kind, value = self.link.recv()
        except (EOFError, OSError):
            raise BatchError(_WORKER_DIED) from None
        if kind == "failed":
            raise BatchError(_WORKER_FAILED, kind=value)
        assert isinstance(value, Block)
        return value

    def close(self) -> None:
        """The end of its input: it stops once it has answered what it holds."""
        self.link.close()

    def stop(self) -> None:
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _serve_chunks(recommender: Any, link: Connection) -> None:
    """The worker: answer chunks in the order they come until the input ends. A thread
    takes the chunks off the pipe as they arrive, so the main process never waits to send
    while this process waits to hand back a long answer."""
    # Ctrl-C reaches the whole process group: the parent stops the batch and its workers;
    # a worker interrupted on its own would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()  # the knowledge base, rules and engine live as long as the batch
    inbox: queue.SimpleQueue[tuple[list[BatchLine], str, int | None, int | None] | None] = queue.SimpleQueue()

    def take() -> None:
        try:
            while True:
                inbox.put(link.recv())
        except (EOFError, OSError):
            inbox.put(None)

    threading.Thread(target=take, daemon=True).start()
    while (work := inbox.get()) is not None:
        chunk, lang, limit, questions = work
        try:
            answer: tuple[str, Any] = ("block", _block(recommender, chunk, lang, limit, questions))
        except BaseException as exc:  # said to the main process by its kind only: its text
            answer = ("failed", type(exc).__name__)  # could hold a case's value
        try:
            link.send(answer)
        except OSError:
            return  # the main process gave up on the batch
        if answer[0] == "failed":
            return


def _resolve(entry: tuple[list[BatchLine] | None, _Spawned | None], recommender: Any, lang: str,
             limit: int | None, questions: int | None) -> Block:
    chunk, worker = entry
    if chunk is not None:
        return _block(recommender, chunk, lang, limit, questions)
    assert worker is not None
    return worker.receive()


def recommend_lines(lines: Iterable[BatchLine], *, recommender: Any = None, jobs: int = 1,
                    lang: str = "da", limit: int | None = None,
                    questions: int | None = None) -> Iterator[tuple[bool, str]]:
    """(ok, JSON text) for each numbered line, in input order."""
    for block in recommend_blocks(lines, recommender=recommender, jobs=jobs, lang=lang, limit=limit,
                                  questions=questions):
        for text in block.text[:-1].split("\n"):
            yield not text.startswith('{"line":'), text


@dataclass
class BatchSummary:
    lines: int = 0
    bad: int = 0
    cpr_like: list[int] = field(default_factory=list)  # line numbers whose ref looks like a CPR number


def write_batch(lines: Iterable[BatchLine], out: BinaryIO, *, recommender: Any = None, jobs: int = 1,
                lang: str = "da", limit: int | None = None, questions: int | None = None,
                chunk_size: int = CHUNK, progress: Callable[[int, int], None] | None = None) -> BatchSummary:
    """Answer every line and write the answers to `out`, one line each, in input order.
    `progress(lines, bad)` is called as chunks are done."""
    if recommender is None:
        from kundskab.reasoning.recommendation import Recommender

        recommender = Recommender()
    fd = _descriptor(out) if jobs > 1 else None
    if fd is not None and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        out.flush()
        return _write_forked(lines, fd, recommender, jobs, lang, limit, questions, progress)
    summary = BatchSummary()
    for block in recommend_blocks(lines, recommender=recommender, jobs=jobs, lang=lang, limit=limit,
                                  questions=questions, chunk_size=chunk_size):
        out.write(block.text.encode("ascii"))
        if chunk_size == 1:  # a co-process waits for each answer
            out.flush()
        summary.lines += block.lines
        summary.bad += block.bad
        summary.cpr_like += block.cpr_like
        if progress:
            progress(summary.lines, summary.bad)
    return summary


def _descriptor(out: BinaryIO) -> int | None:
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


# Chunks sent to a worker and not yet written. A worker answers that many ahead of its
# turn to write, so that it never idles while another writes; the input pipe never fills
# (a worker always has room to take what was sent).
IN_FLIGHT = 4


def _write_forked(lines: Iterable[BatchLine], fd: int, recommender: Any, jobs: int, lang: str,
                  limit: int | None, questions: int | None,
                  progress: Callable[[int, int], None] | None) -> BatchSummary:
    """Chunk i goes to worker i % jobs; worker w writes when it holds turn w and then hands
    the turn to worker w + 1, so the output is in input order whoever finishes first. The
    turn is a byte passed along a ring of pipes: a worker waits for its turn and for new
    chunks at once, and answers the next chunks while it waits to write."""
    context = multiprocessing.get_context("fork")
    for stream in (sys.stdout, sys.stderr):  # a child flushes these on exit: nothing twice
        if stream is not None:
            stream.flush()
    turns = [os.pipe() for _ in range(jobs)]  # (read end, write end): worker w reads turns[w]
    os.write(turns[0][1], b".")
    failed = context.Event()
    gc.freeze()  # forked workers share the loaded knowledge base without copying it
    links: list[Connection] = []
    workers = []
    try:
        for index in range(jobs):
            ours, theirs = context.Pipe()
            worker = context.Process(target=_worker, daemon=True, args=(
                recommender, theirs, turns[index][0], turns[(index + 1) % jobs][1], failed, fd,
                lang, limit, questions, [ours, *links]))
            worker.start()
            theirs.close()
            links.append(ours)
            workers.append(worker)
    finally:
        for pair in turns:  # the workers hold their own copies
            for end in pair:
                os.close(end)
    summary = BatchSummary()
    in_flight = [0] * jobs
    done = [False] * jobs
    # What went wrong, as the workers say it: ("os", errno) for an output that cannot be
    # written, ("failed", kind of exception) or ("stopped", None) for a worker gone.
    problem: list[tuple[str, Any]] = []

    def collect(block: bool) -> None:
        ready = wait([*links, *(w.sentinel for w in workers)], None if block else 0)
        for index, link in enumerate(links):
            while link in ready and not done[index] and link.poll():
                try:
                    message = link.recv()
                except (EOFError, OSError):  # reset, when it died with chunks unread
                    message = ("error", ("stopped", None))
                if message[0] == "chunk":
                    in_flight[index] -= 1
                    summary.lines += message[1]
                    summary.bad += message[2]
                    summary.cpr_like += message[3]
                    if progress:
                        progress(summary.lines, summary.bad)
                elif message[0] == "done":
                    done[index] = True
                else:
                    problem.append(message[1])
                    done[index] = True
        for index, worker in enumerate(workers):
            if worker.sentinel in ready and not done[index] and not links[index].poll():
                problem.append(("stopped", worker.exitcode))
                done[index] = True
        if problem:
            failed.set()

    finished = False
    try:
        for number, chunk in enumerate(_chunks(lines, CHUNK)):
            index = number % jobs
            while in_flight[index] >= IN_FLIGHT and not problem:
                collect(block=True)
            if problem:
                break
            try:
                links[index].send(chunk)
            except OSError:  # the worker is gone: collect says how
                collect(block=True)
                if not problem:
                    problem.append(("stopped", None))
                break
            in_flight[index] += 1
            collect(block=False)
        for link in links:
            try:
                link.send(None)
            except OSError:
                pass
        # Once one worker has failed, the others may wait for a turn that never comes.
        while not all(done) and not problem:
            collect(block=True)
        finished = not problem
    finally:
        if not finished:  # failed, or interrupted: the workers must not wait for ever
            failed.set()
            for link in links:  # a worker sees its input end and stops, even while it waits
                link.close()
        for worker in workers:
            worker.join(timeout=None if finished else 5)
            if worker.is_alive():
                worker.kill()
                worker.join()
        for link in links:
            link.close()
    if problem:
        for kind, detail in problem:
            if kind == "os":  # the output cannot be written: said as for one process
                raise OSError(detail, os.strerror(detail))
        kind, detail = problem[0]
        if kind == "failed":
            raise BatchError(_WORKER_FAILED, kind=detail)
        raise BatchError(_WORKER_DIED)
    return summary


def _worker(recommender: Any, link: Connection, turn: int, next_turn: int, failed: Any, fd: int, lang: str,
            limit: int | None, questions: int | None, main_ends: list[Connection]) -> None:
    """Answer chunks as they come (up to IN_FLIGHT ahead) and write each in turn; on failure
    keep passing the turn (writing nothing), so that no other worker waits for ever."""
    # Ctrl-C reaches the whole process group: the main process stops the batch (its
    # workers see their input end); a worker interrupted on its own would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The main process's ends of the links, copied by fork: closed here, so that when the
    # main process closes its own, every worker sees the end of its input at once.
    for end in main_ends:
        end.close()
    trouble: tuple[str, Any] | None = None  # as `problem` in _write_forked
    answered: deque[tuple[Block, bytes]] = deque()  # in input order, waiting for the turn
    ended = False
    holding = False  # whether this worker holds the turn to write
    while answered or not ended:
        if answered and holding:
            block, data = answered.popleft()
            try:
                if trouble is None and not failed.is_set():
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
            except OSError as exc:
                trouble = ("os", exc.errno) if exc.errno else ("failed", type(exc).__name__)
            finally:
                holding = False
                with contextlib.suppress(OSError):  # the next worker is gone: the batch is over
                    os.write(next_turn, b".")
            try:
                link.send(("chunk", block.lines, block.bad, block.cpr_like) if trouble is None else
                          ("error", trouble))
            except OSError:
                return  # the main process gave up on the batch
            continue
        # The input is always watched: the main process never sends more than IN_FLIGHT
        # chunks ahead, and after the last one only the end (None) or, if the batch
        # failed, end of file.
        ready = wait([turn, link] if answered else [link])
        if turn in ready:  # writing first: the other workers may be waiting for this turn
            os.read(turn, 1)
            holding = True
            continue
        if ended:
            return  # the input closed after its end: the main process gave up on the batch
        try:
            chunk = link.recv()
        except (EOFError, OSError):
            # The main process gave up on the batch: nothing more to write. (Closed with
            # this worker's messages unread, the link is reset rather than ended.)
            return
        if chunk is None:
            ended = True
            continue
        block, data = Block(len(chunk), 0, ""), b""
        if trouble is None:
            try:
                block = _block(recommender, chunk, lang, limit, questions)
                data = block.text.encode("ascii")
            except BaseException as exc:  # reported to the main process, never lost (its text
                trouble = ("failed", type(exc).__name__)  # is not: it could hold a case's value)
        answered.append((block, data))
    with contextlib.suppress(OSError):  # closed: the main process gave up on the batch
        link.send(("done",) if trouble is None else ("error", trouble))
