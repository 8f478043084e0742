"""Benchmark: sandbox generation and applicative import, time and peak memory per scale.

    uv run python development/bench/bench_applicative.py [--scales 0.1 1] [--source sqlite|postgres]
        [--baseline HEAD]

Each phase runs in its own process so that its peak memory (max RSS) is its own. Prints, per scale,
generation / full import / one-day advance / incremental import: seconds, peak MiB and rows, then
the ratio between the largest and the smallest scale (time ratio vs data ratio: a time ratio at
or below the data ratio means time grows no faster than the data). Target: full import at scale 1
under 30 s on 2 cores. The machine may be shared: compare figures of one run only, and read the
CPU seconds (user + system of the phase's process) when other work competes for the cores.
`--baseline REF` also runs the full import with the import brick as it was at git REF (into its own
warehouse, same source, same run), and prints new / baseline ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from sandbox_setup import extract_brick, run_phase

PHASES = {
    "generate": "from data_gcp.sandbox import generate; r = generate({scale}, 42, {url!r}); rows = sum(r.counts.values())",
    "import_full": "from data_gcp.applicative_import import import_applicative; import datetime as dt; "
    "r = import_applicative(None, True, {url!r}); rows = r.rows_read",
    "advance_1d": "from data_gcp.sandbox import advance; r = advance(1, {url!r}); rows = 0",
    "import_incremental": "from data_gcp.applicative_import import import_applicative; import datetime as dt; "
    "r = import_applicative(dt.date.today(), False, {url!r}); rows = r.rows_read",
}


BRICK = "components/data_gcp/applicative_import"


def extract_baseline(ref: str, dest: Path) -> Path:
    """The import brick's files at git `ref`, as a `data_gcp` namespace folder put first on sys.path."""
    return extract_brick(ref, BRICK, dest)


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
    parser.add_argument(
        "--copy-source",
        metavar="SQLITE",
        type=Path,
        help="with one scale and --source sqlite: copy this generated sandbox instead of generating one",
    )
    parser.add_argument("--baseline", metavar="REF", help="also time the full import of the brick at git REF")
    args = parser.parse_args()
    if args.copy_source and (len(args.scales) != 1 or args.source != "sqlite"):
        parser.error("--copy-source needs one --scales value and --source sqlite")
    results: dict[float, dict[str, dict]] = {}
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="bench_applicative_") as tmp:
            old = extract_baseline(args.baseline, Path(tmp) / "baseline_code") if args.baseline else None
            env = {**os.environ, "DATA_GCP_ENV": "local", "DATA_GCP_DATA_DIR": tmp}
            pg_name = None
            if args.source == "postgres":
                url, pg_name = postgres_url()
            else:
                url = f"sqlite:///{Path(tmp) / 'sandbox' / 'app.sqlite'}"
            try:
                results[scale] = {}
                for phase, code in PHASES.items():
                    if phase == "generate" and args.copy_source:
                        (Path(tmp) / "sandbox").mkdir()
                        shutil.copy(args.copy_source, Path(tmp) / "sandbox" / "app.sqlite")
                        code = "rows = 0"
                    if phase == "import_full" and old is not None:
                        base_env = {**env, "DATA_GCP_DATA_DIR": str(Path(tmp) / "baseline_data")}
                        r = run_phase(code.format(scale=scale, url=url), base_env, old)
                        results[scale]["import_full_baseline"] = r
                        shutil.rmtree(Path(tmp) / "baseline_data", ignore_errors=True)
                        print(
                            f"scale {scale:<5} {'import_full @' + args.baseline:<20} {r['seconds']:8.1f} s  "
                            f"cpu {r['cpu_s']:8.1f} s  peak {r['peak_mib']:7.0f} MiB  {r['rows']:>11,} rows",
                            flush=True,
                        )
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
    if args.baseline:
        for scale in args.scales:
            a, b = results[scale]["import_full_baseline"], results[scale]["import_full"]
            print(
                f"scale {scale}: full import new / {args.baseline}: wall x{b['seconds'] / a['seconds']:.2f}  "
                f"cpu x{b['cpu_s'] / max(a['cpu_s'], 1e-9):.2f}  peak memory x{b['peak_mib'] / a['peak_mib']:.2f}"
            )
    if len(args.scales) > 1:
        hi = max(args.scales)
        full = results[hi]["import_full"]["seconds"]
        print(f"full import at scale {hi}: {full:.1f} s (target < 30 s on 2 cores at scale 1)")


if __name__ == "__main__":
    main()
