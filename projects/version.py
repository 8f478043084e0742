"""Every project's version: `0.1.0+g<commit>` (`.dirty` appended for uncommitted changes).

Why from the commit: Composer and the images reinstall a package only when its version changes, so a
code-only change must change the version. Hatchling loads this file when it builds a project's wheel
(`[tool.hatch.version] source = "code"`); outside a git checkout the base version is used.
"""

import subprocess
from pathlib import Path

BASE_VERSION = "0.1.0"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, check=True
    ).stdout.strip()


def project_version() -> str:
    try:
        sha = _git("rev-parse", "--short=12", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return BASE_VERSION
    return f"{BASE_VERSION}+g{sha}" + (".dirty" if dirty else "")


__version__ = project_version()
