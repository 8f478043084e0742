"""A service as the image runs it: a real uvicorn process (`uvicorn <app> --factory`), reached over
HTTP, with its log lines and exit code (for the defects that only a process shows: a native abort,
an exit at startup, logging configured by uvicorn, files removed under a running server)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@dataclass
class Served:
    proc: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    url: str | None = None

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=30)

    def post(self, path: str, body: object) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, timeout=30)

    def wait_for(self, predicate, seconds: float = 60, every: float = 0.2):
        """Poll `predicate()` until it returns a truthy value (returned) or `seconds` pass (None)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if got := predicate():
                return got
            time.sleep(every)
        return None


@contextmanager
def _serve(app: str, env: dict[str, str], argv: list[str] | None = None) -> Iterator[Served]:
    command = argv or [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
    ]
    proc = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Served(proc)
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            served.lines.append(line.rstrip("\n"))
            if m := RUNNING.search(line):
                served.url = f"http://127.0.0.1:{m.group(1)}"
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(180)
        if served.url is None:  # it ended before serving: let its exit code be known
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        yield served
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(10)


@pytest.fixture
def serve():
    """`serve(app_factory_path, env)`: a context manager giving a `Served` uvicorn process."""
    return _serve
