"""Where a loaded service keeps its index copy, and which copies may be removed.

Why one folder per load (not per process): a background reload builds its replacement while the
live service keeps answering from its own copy; were they to share a folder, building or cleaning
one would delete the files the other is reading. A folder is `<run>-<pid>-<token>`: the pid lets a
new process remove the copies of killed ones, the token keeps two loads of one process apart. A
process never removes its own folders here: each service removes its own at `close`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from data_gcp.config import Settings
from data_gcp.log import get_logger
from data_gcp.processes import pid_alive

log = get_logger(__name__)

INDEX_DIR = "index"


def default_work_dir(settings: Settings) -> Path:
    """Where the downloaded run and the index live: the data folder locally, /tmp in a container."""
    if settings.is_cloud or settings.data_dir is None and os.environ.get("K_SERVICE"):
        return Path(tempfile.gettempdir()) / "data_gcp_retrieval"
    return settings.local_data_dir / "cache" / "retrieval"


def new_index_dir(work: Path, version: str | None) -> Path:
    """A folder no other load uses (not created: the index builder creates it)."""
    return work / INDEX_DIR / f"{version or 'local'}-{os.getpid()}-{uuid.uuid4().hex[:TOKEN_LENGTH]}"


TOKEN_LENGTH = 12


def owner_pid(folder: Path) -> int | None:
    """The process that made an index copy (`<run>-<pid>-<token>`, or `<run>-<pid>` as written by
    earlier versions), or None for another name."""
    head, _, last = folder.name.rpartition("-")
    is_token = len(last) == TOKEN_LENGTH and all(c in "0123456789abcdef" for c in last)
    pid = head.rpartition("-")[2] if is_token else last
    return int(pid) if pid.isdigit() else None


def clean_stale_index_dirs(parent: Path) -> list[Path]:
    """Remove the index copies of processes that are gone (a killed worker never cleaned its own).

    Copies of this process, live or not, are left alone: they belong to a service that removes its
    own when it is closed after being swapped out.
    """
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for folder in parent.iterdir():
        pid = owner_pid(folder)
        if folder.is_dir() and pid is not None and pid != os.getpid() and not pid_alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed %d index copies of stopped processes under %s", len(removed), parent)
    return removed
