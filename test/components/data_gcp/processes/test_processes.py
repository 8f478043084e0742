import os
import subprocess
import sys

from data_gcp.processes import pid_alive


def test_a_running_process_is_alive_and_an_ended_one_is_not() -> None:
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
    assert not pid_alive(child.pid)  # reaped: the pid names no process


def test_pid_1_belongs_to_another_user_or_to_us_and_counts_as_alive() -> None:
    assert pid_alive(1)


def test_group_pids_are_never_a_process() -> None:
    assert not pid_alive(0)
    assert not pid_alive(-os.getpid())
