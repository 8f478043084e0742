"""The sidecar: a second process doing the generation's work that reads the world and changes
nothing in it, so that both cores work while the world simulates (`World.start_sidecar`).

Why a process: the simulation holds Python's lock most of the time (numpy calls on a day's small
arrays, Python objects), so a thread would not run beside it. What the sidecar does:
- the catalogue's texts (`CatalogueTexts`: names built one at a time in Python), sent back to the
  world, which emits the rows with them when they come (it holds back the updates of those rows
  until then);
- the pro portal's days (`pro_portal_day`, from a random stream of its own, reading the offers'
  state the world sends each day): their rows are sent back, in Arrow, for the world to emit.

Both are pure functions of what the world sends (ids, the catalogue's arrays, the seed), so the
database is the same with or without the sidecar. It is a plain Python process running `main`
(no multiprocessing: nothing of the caller's `__main__` is imported again) that talks through its
standard input and output (pickles); anything it prints goes to standard error.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa

from data_gcp.sandbox.db import SandboxError


class Sidecar:
    """The caller's end: jobs go out in order; the texts come back in the same order."""

    def __init__(self, seed: int) -> None:
        # the same code as this process: its `data_gcp` folder first (a benchmark may run another
        # revision's sandbox from a folder of its own)
        here = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from data_gcp.sandbox.sidecar import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._out: BinaryIO = self._proc.stdin
        self._results: queue.Queue = queue.Queue()
        # a reader thread: the sidecar never blocks on a full pipe while the caller is writing to it
        self._reader = threading.Thread(target=self._read, args=(self._proc.stdout,), daemon=True)
        self._reader.start()
        self.send("start", (seed, str(Path(__file__).resolve())))

    def _read(self, stream: BinaryIO) -> None:
        while True:
            try:
                self._results.put(pickle.load(stream))
            except EOFError:
                self._results.put(EOFError)
                return

    def send(self, job: str, args: tuple) -> None:
        """Queue a job: "products", "offers" (texts), "static" (venues), "pro_day" (a day's rows)."""
        try:
            pickle.dump((job, args), self._out, protocol=pickle.HIGHEST_PROTOCOL)
            self._out.flush()
        except BrokenPipeError:
            raise SandboxError("the sandbox's sidecar process stopped (see its error above)") from None

    def ready(self) -> bool:
        """Whether the next result has come (`receive` would not wait)."""
        return not self._results.empty()

    def receive(self) -> Any:
        """The next result (a text job's columns, a pro portal day's rows), waiting for it."""
        result = self._results.get()
        if result is EOFError:
            raise SandboxError("the sandbox's sidecar process stopped (see its error above)")
        return result

    def close(self) -> None:
        """Stop the sidecar once its jobs are done (their results received)."""
        self.send("stop", ())
        done = self.receive()
        self._out.close()
        self._proc.wait()
        if done != "done":
            raise SandboxError(f"internal error: the sandbox's sidecar answered {done!r}")

    def kill(self) -> None:
        """Stop the sidecar without waiting for its work (a failed generation)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


class _ProView:
    """What the pro portal's days read of the world (sent by it) and their rows, per day."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.o_created = np.zeros(0, "datetime64[s]")
        self.o_venue = np.zeros(0, np.int64)
        self.rows: list[tuple[str, pa.Table]] = []

    def emit(self, table: str, data: pa.Table) -> None:
        if data.num_rows:
            self.rows.append((table, data))


def _serve(inp: BinaryIO, out: BinaryIO) -> None:
    """The sidecar's loop: jobs in, their rows or columns out, in order."""
    from data_gcp.sandbox.app_usage import pro_portal_day
    from data_gcp.sandbox.world import CatalogueTexts

    job, (seed, origin) = pickle.load(inp)
    if job != "start" or origin != str(Path(__file__).resolve()):
        raise SandboxError(f"internal error: the sidecar runs {__file__}, its caller {origin}")
    texts = CatalogueTexts(seed)
    view = _ProView(seed)
    while True:
        job, args = pickle.load(inp)
        if job == "stop":
            break
        if job in ("products", "offers"):
            result: object = getattr(texts, job)(*args)
        elif job == "static":
            view.v_offerer, view.v_open = args
            continue
        elif job == "pro_day":
            day, view.o_active, created, venue = args
            view.o_created = np.concatenate([view.o_created, created])
            view.o_venue = np.concatenate([view.o_venue, venue])
            pro_portal_day(view, day)  # type: ignore[arg-type]  # what it reads of a World
            result, view.rows = view.rows, []
        else:
            raise SandboxError(f"internal error: unknown sidecar job {job!r}")
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
    pickle.dump("done", out)
    out.flush()


def main() -> None:
    """The sidecar process's entry point: results on the original standard output, anything else
    printed goes to standard error."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, out)
