"""One writer of the local DuckDB warehouse at a time, across processes: the others wait their turn.

Why: DuckDB lets a single process open a database file for writing; a second writer fails at once
("Could not set lock on file"). Locally, two things write the warehouse: `data-gcp run` (the whole
chain, in its own process) and the tasks of runs triggered from the local Airflow UI (each in a
worker process of its scheduler). Each takes this lock first (an advisory `flock` on a file next to
the warehouse, released by the kernel when its process ends, even on a crash), so they queue instead
of failing. The lock file names its holder (process id and what it is) for the waiting side's message.

Re-entrant within a process: `data-gcp run` holds it for the whole chain and runs each task in its own
process (`dag.test()`), so a task finds it already held and goes on.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from data_gcp.config import Settings
from data_gcp.processes import pid_alive

_held: dict[str, int] = {}  # lock path -> depth, in this process
_guard = threading.Lock()


@dataclass(frozen=True)
class WriterLockHolder:
    pid: int
    what: str
    since: str

    def describe(self) -> str:
        return f"{self.what} (pid {self.pid}, since {self.since} UTC)"


def writer_lock_path(settings: Settings) -> Path:
    """`<warehouse>.writer.lock`, beside the DuckDB file."""
    path = Path(settings.duckdb_path)
    return path.with_name(path.name + ".writer.lock")


def writer_lock_holder(settings: Settings) -> WriterLockHolder | None:
    """Who writes the warehouse now (None: nobody). Read from the lock file, never by taking the lock."""
    path = writer_lock_path(settings)
    try:
        data = json.loads(path.read_text("utf-8") or "{}")
    except (OSError, ValueError):
        return None
    pid = data.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return None
    return WriterLockHolder(pid, str(data.get("what", "?")), str(data.get("since", "?")))


def _wait_for_duckdb_release(database: Path, timeout_s: float = 120.0) -> None:
    """The previous holder released the writer lock but its process may still be closing its DuckDB
    connection (dbt's adapter keeps one until exit): wait until DuckDB's own file lock is free."""
    import duckdb

    deadline = time.monotonic() + timeout_s
    while database.exists():
        try:
            duckdb.connect(str(database)).close()
            return
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextmanager
def warehouse_writer(
    settings: Settings, what: str, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the local warehouse's writer lock for the block, waiting (and saying who for) if it is taken."""
    path = writer_lock_path(settings)
    key = str(path)
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = writer_lock_holder(settings)
            if on_wait:
                on_wait(
                    f"waiting for the warehouse: {holder.describe() if holder else 'another process'} "
                    f"is writing it ({path}); {what} starts when it is done"
                )
            fcntl.flock(fd, fcntl.LOCK_EX)
            _wait_for_duckdb_release(Path(settings.duckdb_path))
        os.ftruncate(fd, 0)
        record = {
            "pid": os.getpid(),
            "what": what,
            "since": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
        }
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock
