"""What the benchmarks share: the ML benchmarks' sandbox options and the commands that build the
sandbox; a brick's code at an earlier git revision (the baseline of a benchmark) and a phase timed in
its own process.

Why a module of its own: each benchmark is a script (`python development/bench/<name>.py`), whose folder
is on `sys.path`, so they import this one as `sandbox_setup`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

IMPORT_STEPS = (
    # a full import: the raw layer by an incremental import would miss most of the new data
    ("data-gcp", "import", "applicative", "--full"),
)


def add_sandbox_options(ap: argparse.ArgumentParser, scale: float, data_dir: str) -> None:
    """--scale, --data-dir and --no-build, with this benchmark's defaults."""
    ap.add_argument("--scale", type=float, default=scale)
    ap.add_argument("--data-dir", default=data_dir)
    ap.add_argument("--no-build", action="store_true", help="reuse the sandbox already in --data-dir")
    ap.add_argument("--sandbox-seed", type=int, default=0, help="seed of the generated sandbox")


def build(scale: float, env: dict[str, str], *after: tuple[str, ...], seed: int = 0) -> None:
    """Generate the sandbox at `scale` with `seed`, import it in full, then run the `after` commands; each timed."""
    generate = ("data-gcp", "sandbox", "generate", "--scale", str(scale), "--seed", str(seed))
    for cmd in (generate, *IMPORT_STEPS, *after):
        t = time.perf_counter()
        subprocess.run(list(cmd), env=env, check=True)  # noqa: S603 - fixed argv
        print(f"{' '.join(cmd)}: {time.perf_counter() - t:.0f}s", flush=True)


def extract_brick(ref: str, brick: str, dest: Path) -> Path:
    """The Python files of `brick` (e.g. `components/data_gcp/sandbox`) at git `ref`, as a `data_gcp`
    namespace folder: put it first on sys.path (`run_phase(..., first_path=)`) to run that version."""
    target = dest / "data_gcp" / brick.rsplit("/", 1)[1]
    target.mkdir(parents=True)
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{ref}:{brick}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for name in names:
        if name.endswith(".py"):
            text = subprocess.run(
                ["git", "show", f"{ref}:{brick}/{name}"], cwd=ROOT, check=True, capture_output=True, text=True
            ).stdout
            (target / name).write_text(text)
    return dest


def run_phase(code: str, env: dict[str, str], first_path: Path | None = None) -> dict:
    """Run `code` (which sets `rows`) in a fresh interpreter: wall and CPU seconds, peak RSS, rows.

    Why a process per phase: its peak memory (max RSS) and CPU time are its own."""
    if first_path is not None:
        code = f"import sys; sys.path.insert(0, {str(first_path)!r})\n{code}"
    script = f"{code}\nimport json, sys; print(json.dumps({{'rows': rows}}))"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"phase failed (status {status}):\n{code}")
    rows = json.loads(out.strip().splitlines()[-1])["rows"]
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu_s": cpu, "peak_mib": usage.ru_maxrss / 1024, "rows": rows}
