"""Benchmark: sandbox generation and applicative import, time and peak memory per scale.

    uv run python development/bench/bench_applicative.py [--scales 0.1 1] [--source sqlite|postgres]

Each phase runs in its own process so that its peak memory (max RSS) is its own. Prints, per scale,
generation / full import / one-day advance / incremental import: seconds, peak MiB and rows, then
the ratio between the largest and the smallest scale (time ratio vs data ratio: a time ratio at
or below the data ratio means time grows no faster than the data). Target: full import at scale 1
under 30 s on 2 cores. The machine may be shared: compare figures of one run only, and read the
CPU seconds (user + system of the phase's process) when other work competes for the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PHASES = {
    "generate": "from data_gcp.sandbox import generate; r = generate({scale}, 42, {url!r}); rows = sum(r.counts.values())",
    "import_full": "from data_gcp.applicative_import import import_applicative; import datetime as dt; "
    "r = import_applicative(None, True, {url!r}); rows = r.rows_read",
    "advance_1d": "from data_gcp.sandbox import advance; r = advance(1, {url!r}); rows = 0",
    "import_incremental": "from data_gcp.applicative_import import import_applicative; import datetime as dt; "
    "r = import_applicative(dt.date.today(), False, {url!r}); rows = r.rows_read",
}


def run_phase(code: str, env: dict[str, str]) -> dict:
    script = f"{code}\nimport json, sys; print(json.dumps({{'rows': rows}}))"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"phase failed (status {status}):\n{code}")
    rows = json.loads(out.strip().splitlines()[-1])["rows"]
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu_s": cpu, "peak_mib": usage.ru_maxrss / 1024, "rows": rows}


def postgres_url() -> tuple[str, str]:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", type=float, default=[0.1, 1.0])
    parser.add_argument("--source", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    results: dict[float, dict[str, dict]] = {}
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="bench_applicative_") as tmp:
            env = {**os.environ, "DATA_GCP_ENV": "local", "DATA_GCP_DATA_DIR": tmp}
            pg_name = None
            if args.source == "postgres":
                url, pg_name = postgres_url()
            else:
                url = f"sqlite:///{Path(tmp) / 'sandbox' / 'app.sqlite'}"
            try:
                results[scale] = {}
                for phase, code in PHASES.items():
                    r = run_phase(code.format(scale=scale, url=url), env)
                    results[scale][phase] = r
                    print(
                        f"scale {scale:<5} {phase:<20} {r['seconds']:8.1f} s  cpu {r['cpu_s']:8.1f} s  "
                        f"peak {r['peak_mib']:7.0f} MiB  "
                        f"{r['rows']:>11,} rows",
                        flush=True,
                    )
            finally:
                if pg_name:
                    drop_postgres(pg_name)
    if len(args.scales) > 1:
        lo, hi = min(args.scales), max(args.scales)
        print(f"\nratios scale {hi} / scale {lo} (source {args.source}, {os.cpu_count()} cores)")
        for phase in PHASES:
            a, b = results[lo][phase], results[hi][phase]
            data = (b["rows"] / a["rows"]) if a["rows"] else float("nan")
            print(
                f"  {phase:<20} time x{b['seconds'] / a['seconds']:.2f}  cpu x{b['cpu_s'] / max(a['cpu_s'], 1e-9):.2f}  "
                f"data x{data:.2f}  "
                f"peak memory x{b['peak_mib'] / a['peak_mib']:.2f}"
            )
        full = results[hi]["import_full"]["seconds"]
        print(f"full import at scale {hi}: {full:.1f} s (target < 30 s on 2 cores at scale 1)")


if __name__ == "__main__":
    main()
