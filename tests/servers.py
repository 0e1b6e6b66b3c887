"""Test support for the HTTP service and the SPARQL store over real sockets on loopback: a
free port, a `kundskab serve` process started and stopped, an oxigraph store, and the checks
every service test makes of an error answer. The benchmarks use them too."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP_SECONDS = 120  # the shared machine can be very slow to import and warm up


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(os.environ.get("KUNDSKAB_CACHE_DIR", "/tmp")) / f"serve-{self.port}.log"
        self._handle = self.log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kundskab", "serve", "--port", str(self.port), *args],
            stdout=self._handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("serve exited: " + self.log.read_text(errors="replace")[-2000:])
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("serve did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._handle.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def oxigraph_binary() -> str | None:
    """The oxigraph server (PyPI package oxigraph) beside this Python or on PATH, if installed."""
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    return found if Path(found).exists() else None


@contextmanager
def oxigraph_store(binary: str) -> Iterator[str]:
    """A throwaway oxigraph server; yields its Graph Store URL and stops it afterwards."""
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/store"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, str]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


def get_when_ready(client: httpx.Client, path: str, **params: str) -> httpx.Response:
    """GET, asking again while the answer is still being worked out (503 time-limit)."""
    deadline = time.monotonic() + 300
    while True:
        response = client.get(path, params=params, timeout=300)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        assert_error(response, 503, "time-limit")
        time.sleep(float(response.headers["retry-after"]))
