"""Load on `kundskab serve`: concurrent clients on loopback for a fixed time.

    python benchmarks/bench_serve.py [--clients 8] [--seconds 15] [--workers 2] [--no-store]
                                     [--client stdlib|httpx] [--idle 1000]

Starts `kundskab serve --workers N` on a free 127.0.0.1 port, lets each client post
generated cases to /v1/recommend one after another until the time is up (and at most
MAX_REQUESTS each), and prints errors, p50/p99 latency, throughput and the resident memory
of the server's processes at the start and the end. Then the same while `--idle` sockets
(1,000 by default) are held open to the server without sending a request, as an attacker
would: each one the server closes (its header deadline, or its cap per worker that sheds
the least recently active idle connection) is opened again at once, and the run prints how
many were open on average. Then the same with `--store`, against an Oxigraph server (PyPI
package oxigraph) started here, if it is installed.
Goals: zero errors, p99 <= 50 ms, memory flat. Everything it starts is stopped at the end.

The clients (threads of this process; http.client, or httpx with --client httpx, which
takes about three times the CPU per request) and the server share the machine's cores:
the figures are those of both together on one machine, not of the server alone. So it
prints the CPU time each side used, beside the cores' time there was, and the load average
at the start and the end (other work on the machine weighs on every figure).
"""

from __future__ import annotations

import argparse
import http.client
import json as _json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.servers import free_port, oxigraph_binary, oxigraph_store

# English messages, so that a case refused as contradictory is told apart by its message.
PATH = "/v1/recommend?lang=en"
MAX_REQUESTS = 200_000  # per client: the loop ends by time, or by this, whichever first
FACTORS = ["truancy", "street-group", "family-problems", "offence-committed", "substance-abuse",
           "gang-proximity", "no-leisure-activity", "repeat-offending", "victim-of-crime"]


def together(count: int, seconds: float, session: Callable[[int], AbstractContextManager[Callable[[], None]]],
             most: int | None = None) -> float:
    """Run `count` threads at once for `seconds` and return the seconds they really ran.

    Each thread opens `session(index)` (set-up, such as a connection, happens before the
    clock starts), then calls the step it yields again and again until the time is up or it
    has made `most` steps. All start together behind a barrier."""
    barrier = threading.Barrier(count + 1)

    def run(index: int) -> None:
        try:
            with session(index) as step:
                barrier.wait()
                end = time.monotonic() + seconds
                steps = 0
                while time.monotonic() < end and (most is None or steps < most):
                    step()
                    steps += 1
        except threading.BrokenBarrierError:
            pass
        except BaseException:
            barrier.abort()  # a session that cannot start must not leave the others waiting
            raise

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join(seconds + 60)
    return time.monotonic() - began


def tree(root: int) -> list[int]:
    """A process and its children and grandchildren (uvicorn's supervisor and workers)."""
    pids = [root]
    try:
        children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
        pids += [int(c) for c in children]
        for child in list(pids[1:]):
            pids += [int(c) for c in Path(f"/proc/{child}/task/{child}/children").read_text().split()]
    except OSError:
        pass
    return pids


def cpu_seconds(root: int) -> float:
    """User and system CPU time used so far by a process tree (Linux /proc)."""
    total = 0
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def rss_mib(root: int) -> float:
    """Resident memory of a process and its children (the uvicorn workers), in MiB."""
    total = 0
    for pid in tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def case(rng: random.Random) -> dict[str, object]:
    return {"ref": f"b{rng.randrange(10**6)}", "age": rng.randrange(3, 40),
            "factors": {f: rng.choice([True, False, "unknown"]) for f in rng.sample(FACTORS, rng.randrange(0, 5))}}


def start_server(args: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "kundskab", "serve", "--port", str(port),
                                "--log-level", "warning", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit("serve did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Stdlib:
    """A keep-alive client on the standard library's http.client: about a third of httpx's
    CPU per request, so that on a machine the clients share with the server they take
    less of the cores the server is measured on. Same interface as the part of httpx used."""

    class Answer:
        def __init__(self, status_code: int, text: str) -> None:
            self.status_code, self.text = status_code, text

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname or "127.0.0.1", parts.port or 80, timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def __enter__(self) -> Stdlib:
        return self

    def __exit__(self, *_: object) -> None:
        self.connection.close()

    def post(self, path: str, json: object) -> Stdlib.Answer:
        body = _json.dumps(json).encode()
        try:
            self.connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = self.connection.getresponse()
            return Stdlib.Answer(response.status, response.read().decode())
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()  # the next request opens a new connection
            raise httpx.TransportError(str(exc)) from None


CLIENTS = {"stdlib": Stdlib, "httpx": httpx.Client}


def load(url: str, clients: int, seconds: float, kind: str = "stdlib") -> dict[str, float]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    # 422: a random case the case rules refuse as contradictory (e.g. repeat offending with
    # no offence): the right answer, counted apart from errors.
    refused = [0] * clients

    @contextmanager
    def client(index: int) -> Iterator[Callable[[], None]]:
        rng = random.Random(index)
        with CLIENTS[kind](base_url=url, timeout=30) as http:
            http.post(PATH, json=case(rng))  # connection set up before the clock

            def once() -> None:
                body = case(rng)
                started = time.perf_counter()
                try:
                    response = http.post(PATH, json=body)
                    contradictory = response.status_code == 422 and "cannot be" in response.text
                    refused[index] += contradictory
                    ok = response.status_code == 200 or contradictory
                except httpx.HTTPError:
                    ok = False
                latencies[index].append(time.perf_counter() - started)
                errors[index] += not ok

            yield once

    elapsed = together(clients, seconds, client, MAX_REQUESTS)
    flat = sorted(x for per in latencies for x in per)
    return {
        "requests": len(flat), "errors": sum(errors), "refused": sum(refused), "seconds": elapsed,
        "throughput": len(flat) / elapsed,
        "p50_ms": 1000 * statistics.median(flat) if flat else float("nan"),
        "p99_ms": 1000 * flat[min(len(flat) - 1, int(0.99 * len(flat)))] if flat else float("nan"),
    }


class IdleSockets:
    """`count` connections to the server that never send a byte, kept open: one the server
    closes is opened again at once (a thread of its own, with selectors)."""

    def __init__(self, url: str, count: int) -> None:
        import selectors

        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.count = count
        self.selector = selectors.DefaultSelector()
        self.samples: list[int] = []
        self.reopened = 0
        self.running = True
        self.thread = threading.Thread(target=self._hold, daemon=True)

    def __enter__(self) -> IdleSockets:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < self.count + 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, self.count + 256), hard))
        for _ in range(self.count):
            self._open()
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.running = False
        self.thread.join(10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self.selector.close()

    def _open(self) -> None:
        import selectors

        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(self.address)
        self.selector.register(sock, selectors.EVENT_READ)

    def _hold(self) -> None:
        last_sample = 0.0
        while self.running:
            for key, _ in self.selector.select(timeout=0.1):
                sock = key.fileobj
                try:
                    data = sock.recv(4096)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # closed by the server: open another
                    self.selector.unregister(sock)
                    sock.close()  # type: ignore[union-attr]
                    self._open()
                    self.reopened += 1
            if time.monotonic() - last_sample >= 0.5:
                last_sample = time.monotonic()
                self.samples.append(self._established())

    def _established(self) -> int:
        count = 0
        for key in self.selector.get_map().values():
            try:
                key.fileobj.getpeername()  # type: ignore[union-attr]
                count += 1
            except OSError:
                continue
        return count


def run(label: str, args: list[str], clients: int, seconds: float, kind: str, idle: int = 0) -> None:
    from contextlib import nullcontext

    process, url = start_server(args)
    holder = IdleSockets(url, idle) if idle else None
    try:
        with holder or nullcontext():
            _measure(label, process, url, clients, seconds, kind, holder)
    finally:
        stop(process)


def _measure(label: str, process: subprocess.Popen[bytes], url: str, clients: int, seconds: float, kind: str,
             holder: IdleSockets | None) -> None:
    load(url, clients, 2.0, kind)  # warm-up: memos fill, as in service
    before = rss_mib(process.pid)
    server_cpu, client_cpu, load_before = cpu_seconds(process.pid), own_cpu_seconds(), os.getloadavg()[0]
    # Memory half-way too: flat means the second half adds nothing the first did not.
    halfway: list[float] = []
    sampler = threading.Timer(seconds / 2, lambda: halfway.append(rss_mib(process.pid)))
    sampler.start()
    figures = load(url, clients, seconds, kind)
    sampler.join()
    server_cpu, client_cpu = cpu_seconds(process.pid) - server_cpu, own_cpu_seconds() - client_cpu
    after = rss_mib(process.pid)
    if holder is not None:
        held = holder.samples[len(holder.samples) // 10:] or [0]
        print(f"{label}: idle sockets held open {statistics.mean(held):.0f} on average (min {min(held)}, "
              f"max {max(held)}; {holder.reopened} reopened after the server closed them)")
    available = (os.cpu_count() or 1) * figures["seconds"]
    print(f"{label}: {figures['requests']} requests in {figures['seconds']:.1f} s by {clients} {kind} clients; "
          f"errors {figures['errors']} ({figures['refused']} contradictory cases refused, 422); "
          f"throughput {figures['throughput']:.0f}/s; "
          f"p50 {figures['p50_ms']:.1f} ms; p99 {figures['p99_ms']:.1f} ms (goal <= 50); "
          f"server RSS {before:.1f} -> {halfway[0]:.1f} half-way -> {after:.1f} MiB at the end "
          f"({halfway[0] - before:+.1f}, then {after - halfway[0]:+.1f}); "
          f"CPU used: server {server_cpu:.1f} s, clients {client_cpu:.1f} s, of {available:.0f} s of the "
          f"{os.cpu_count()} cores; load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-store", action="store_true", help="skip the run against a SPARQL store")
    parser.add_argument("--idle", type=int, default=1000,
                        help="idle sockets held open in the second run (0: no such run)")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="stdlib",
                        help="the HTTP client the load is made with (stdlib: lighter on the shared cores)")
    options = parser.parse_args()
    import importlib.util

    fast = [m for m in ("httptools", "uvloop") if importlib.util.find_spec(m) is not None]
    print(f"machine: {os.cpu_count()} cores shared by the clients and the server, load average "
          f"{os.getloadavg()[0]:.1f} at start; uvicorn with {', '.join(fast) or 'h11 and asyncio'}")
    workers = ["--workers", str(options.workers)]
    run(f"serve --workers {options.workers}", workers, options.clients, options.seconds, options.client)
    if options.idle:
        run(f"serve --workers {options.workers}, {options.idle} idle sockets", workers, options.clients,
            options.seconds, options.client, idle=options.idle)
    oxigraph = oxigraph_binary()
    if options.no_store or oxigraph is None:
        print("store: skipped" + ("" if options.no_store else " (oxigraph not installed)"))
        return
    with oxigraph_store(oxigraph) as url:
        from kundskab.edges.store import publish

        publish(url)
        run(f"serve --workers {options.workers} --store", [*workers, "--store", url, "--poll", "5"],
            options.clients, options.seconds, options.client)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
