"""The sidecar: a second process doing the generation's work that reads the world and changes
nothing in it, so that both cores work while the world simulates (`World.start_sidecar`).

Why a process: the simulation holds Python's lock most of the time (numpy calls on a day's small
arrays, Python objects), so a thread would not run beside it. What the sidecar does:
- the catalogue's texts (`CatalogueTexts`: names built one at a time in Python), sent back to the
  world, which emits the rows with them before anything updates those rows;
- the pro portal's days (`pro_portal_day`, from a random stream of its own): it writes their rows
  to a SQLite file of its own, which the world appends to its database at the end
  (`SourceDB.append_from`: SQLite copies the stored rows without decoding them).

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

from data_gcp.sandbox.db import SandboxError, SourceDB

PRO_TABLES = ("pro_app_event", "pro_log")  # what the sidecar's days write


class Sidecar:
    """The caller's end: jobs go out in order; the texts come back in the same order."""

    def __init__(self, seed: int, scale: float, path: Path) -> None:
        self.path = path
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
        self.send("start", (seed, scale, str(path), str(Path(__file__).resolve())))

    def _read(self, stream: BinaryIO) -> None:
        while True:
            try:
                self._results.put(pickle.load(stream))
            except EOFError:
                self._results.put(EOFError)
                return

    def send(self, job: str, args: tuple) -> None:
        """Queue a job: "products", "offers" (texts), "static" (venues), "pro_day"."""
        try:
            pickle.dump((job, args), self._out, protocol=pickle.HIGHEST_PROTOCOL)
            self._out.flush()
        except BrokenPipeError:
            raise SandboxError("the sandbox's sidecar process stopped (see its error above)") from None

    def receive(self) -> Any:
        """The next result (a text job's columns), waiting for it."""
        result = self._results.get()
        if result is EOFError:
            raise SandboxError("the sandbox's sidecar process stopped (see its error above)")
        return result

    def close(self) -> None:
        """Let the sidecar write what it holds and stop; its SQLite file is then complete."""
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
        for path in (self.path, self.path.with_name(self.path.name + ".building")):
            path.unlink(missing_ok=True)


def _serve(inp: BinaryIO, out: BinaryIO) -> None:
    """The sidecar's loop: jobs in, texts out, the pro portal's days written to its own file."""
    from data_gcp.sandbox.app_usage import pro_portal_day
    from data_gcp.sandbox.world import CatalogueTexts, World

    job, (seed, scale, path, origin) = pickle.load(inp)
    if job != "start" or origin != str(Path(__file__).resolve()):
        raise SandboxError(f"internal error: the sidecar runs {__file__}, its caller {origin}")
    texts = CatalogueTexts(seed)
    with SourceDB(f"sqlite:///{path}", new=True) as db:
        db.create_schema(indexes=False)
        mirror = World(db, seed, scale)  # the arrays the pro portal reads, sent by the world
        mirror.o_created = np.zeros(0, "datetime64[s]")
        mirror.o_venue = np.zeros(0, np.int64)
        while True:
            job, args = pickle.load(inp)
            if job == "stop":
                break
            if job in ("products", "offers"):
                pickle.dump(getattr(texts, job)(*args), out, protocol=pickle.HIGHEST_PROTOCOL)
                out.flush()
            elif job == "static":
                mirror.v_offerer, mirror.v_open = args
            elif job == "pro_day":
                day, active, created, venue = args
                mirror.o_active = active
                mirror.o_created = np.concatenate([mirror.o_created, created])
                mirror.o_venue = np.concatenate([mirror.o_venue, venue])
                pro_portal_day(mirror, day)
            else:
                raise SandboxError(f"internal error: unknown sidecar job {job!r}")
        mirror.flush()
    pickle.dump("done", out)
    out.flush()


def main() -> None:
    """The sidecar process's entry point: results on the original standard output, anything else
    printed goes to standard error."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, out)
