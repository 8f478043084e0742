"""Process checks without a dependency: signal 0 asks the kernel whether a pid exists."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists now (one owned by another user counts as alive).

    Why signal 0: it checks existence and permission without touching the process; a recycled pid
    reads as alive, which errs on the side of keeping a lock or a folder a live process may own.
    """
    if pid <= 0:
        return False  # 0 and negatives name process groups, never one process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
