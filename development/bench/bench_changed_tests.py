"""Changed-brick test time over full-suite time, for a one-connector change (target <= 0.2).

Run: `uv run python development/bench/bench_changed_tests.py [--connector brevo] [-- <pytest args>]`.
The change is simulated (a file of the connector's brick), so the working tree is left alone; both
suites run in this process's interpreter, one after the other, on the same machine state.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from data_gcp.changed_bricks import select
from data_gcp.config import workspace_root


def _pytest(root: Path, paths: list[str], extra: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    rc = subprocess.run(
        [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", *extra],
        cwd=root, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ).returncode  # fmt: skip
    return time.perf_counter() - start, rc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--connector", default=None, help="connector brick to 'change' (default: first found)"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest args for both runs (after --)")
    args = parser.parse_args()
    root = workspace_root()
    connector = args.connector
    if connector is None:
        from data_gcp.etl_core import CONNECTOR_MODULES

        connector = next(n for n in CONNECTOR_MODULES if (root / "components/data_gcp" / n).is_dir())
    changed = next((root / "components/data_gcp" / connector).glob("*.py")).relative_to(root).as_posix()
    selection = select(root, [changed])
    print(f"change: {changed}")
    print(f"selected bricks: {', '.join(sorted(selection.selected_bricks))}")
    print(f"selected tests: {', '.join(selection.test_paths) or '-'}")
    changed_s, changed_rc = (
        _pytest(root, selection.test_paths, args.pytest_args) if selection.test_paths else (0.0, 0)
    )
    print(f"changed-brick tests: {changed_s:8.1f} s (pytest exit {changed_rc})", flush=True)
    full_s, full_rc = _pytest(root, ["test"], args.pytest_args)
    print(f"full suite:          {full_s:8.1f} s (pytest exit {full_rc})")
    ratio = changed_s / full_s if full_s else float("nan")
    print(f"ratio changed/full:  {ratio:8.3f} (target <= 0.2)")


if __name__ == "__main__":
    main()
