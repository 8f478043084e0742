"""What the ML benchmarks share: their sandbox options and the commands that build the sandbox.

Why a module of its own: each benchmark is a script (`python development/bench/<name>.py`), whose folder
is on `sys.path`, so they import this one as `sandbox_setup`.
"""

from __future__ import annotations

import argparse
import subprocess
import time

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
