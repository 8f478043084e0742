"""What changed since a reference: resolved strictly, so that a bad ref never reads as "no changes"."""

from __future__ import annotations

import subprocess
from pathlib import Path

from data_gcp.config import DataGcpError

MAIN_BRANCHES = ("origin/master", "origin/main", "master", "main")


class ChangeDetectionError(DataGcpError):
    """The reference to compare with could not be resolved; the message says what to pass instead."""

    exit_code = 2


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ChangeDetectionError("git is not installed: cannot tell what changed") from None


def _commit(root: Path, ref: str) -> str | None:
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def resolve_base(root: Path, since: str | None = None) -> str:
    """The commit to diff against: the merge base of HEAD with `since` (the branch point: commits
    the base branch got since are not this branch's changes), else with the main branch."""
    if since:
        commit = _commit(root, since)
        if not commit:
            raise ChangeDetectionError(
                f"cannot resolve --since {since!r} in {root}: not a commit here (fetch it, e.g. "
                "`git fetch --depth=50 origin master`, or pass another ref)"
            )
        if not _commit(root, "HEAD"):
            return commit
        result = _git(root, "merge-base", "HEAD", commit)
        if result.returncode != 0 or not result.stdout.strip():
            raise ChangeDetectionError(
                f"--since {since!r} shares no history with HEAD in {root} (a shallow clone? fetch with "
                "`fetch-depth: 0`, or pass another ref)"
            )
        return result.stdout.strip()
    if not _commit(root, "HEAD"):
        raise ChangeDetectionError(f"{root} has no commit yet: pass --since REF or run the full suite")
    for branch in MAIN_BRANCHES:
        if _commit(root, branch):
            result = _git(root, "merge-base", "HEAD", branch)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip()
    raise ChangeDetectionError(
        f"cannot find the main branch ({', '.join(MAIN_BRANCHES)}) nor its merge base with HEAD in {root}: "
        "pass --since REF (in CI, fetch the base branch first)"
    )


def changed_files(root: Path, base: str) -> list[str]:
    """Files changed between `base` and the working tree (committed, staged, unstaged, untracked)."""
    diff = _git(root, "diff", "--name-only", "--no-renames", base, "--")
    if diff.returncode != 0:
        raise ChangeDetectionError(f"git diff against {base} failed in {root}: {diff.stderr.strip()}")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard")
    if untracked.returncode != 0:
        raise ChangeDetectionError(f"git ls-files failed in {root}: {untracked.stderr.strip()}")
    return sorted({line for line in (diff.stdout + untracked.stdout).splitlines() if line.strip()})
