"""The local warehouse's writer lock: a second writer (another process) waits, told who it waits for."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from data_gcp.warehouse import warehouse_writer, writer_lock_holder, writer_lock_path

HOLD = """
import sys, time
from data_gcp.config import get_settings
from data_gcp.warehouse import warehouse_writer
with warehouse_writer(get_settings(), "`data-gcp run` for 2026-03-02"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
    print(f"releasing {time.time()}", flush=True)
"""


def test_a_second_writer_waits_for_the_first_and_names_it(settings) -> None:
    env = {**os.environ, "DATA_GCP_DATA_DIR": str(settings.local_data_dir), "DATA_GCP_ENV": "local"}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "2"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        seen = writer_lock_holder(settings)
        assert seen is not None and seen.pid == holder.pid and seen.what.startswith("`data-gcp run`")
        waits: list[str] = []
        with warehouse_writer(settings, "a task of a UI run", on_wait=waits.append):
            entered = time.time()
            released = float(holder.stdout.readline().split()[1])
            assert entered >= released, "entered while the other process still held the lock"
            mine = writer_lock_holder(settings)
            assert mine is not None and mine.pid == os.getpid() and mine.what == "a task of a UI run"
            with warehouse_writer(settings, "the same process again"):  # re-entrant: no self-deadlock
                pass
        assert len(waits) == 1 and f"pid {holder.pid}" in waits[0] and "`data-gcp run`" in waits[0]
        assert writer_lock_holder(settings) is None  # released, and says so
    finally:
        holder.kill()
        holder.wait()


def test_a_holder_that_died_holds_nothing(settings) -> None:
    env = {**os.environ, "DATA_GCP_DATA_DIR": str(settings.local_data_dir), "DATA_GCP_ENV": "local"}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "60"], env=env, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()  # SIGKILL: no cleanup; the kernel drops the flock, the file still names it
    holder.wait()
    assert writer_lock_path(settings).read_text("utf-8")  # the stale record is there
    assert writer_lock_holder(settings) is None
    waits: list[str] = []
    with warehouse_writer(settings, "next", on_wait=waits.append):
        pass
    assert waits == []  # taken at once: nobody to wait for
