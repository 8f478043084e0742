"""Benchmark: what BigQuery's type check adds to CI (`data-gcp typecheck`).

Run: `uv run python development/bench/bench_typecheck.py [--repeat N]`

Three figures, from one offline compile for the prod target:
- compile: `dbt compile --target prod` without a connection (what the check needs first; CI's
  pytest run compiles the same way for the BigQuery parse tests);
- baseline, measured in the same run: parsing every compiled node with sqlglot's BigQuery dialect
  (what CI checked of the prod SQL before types: syntax and function names);
- typecheck: qualifying and annotating every node with the declared types, then the rules.
The check is then `typecheck - baseline` seconds of sqlglot work above parsing. Target (printed, not
asserted): the type check under 30 s, the whole `data-gcp typecheck` under 90 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

TARGET_CHECK_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the parse and of the check")
    args = parser.parse_args()

    import sqlglot

    from data_gcp import dbt_runner
    from data_gcp.config import Settings
    from data_gcp.sql_typecheck import check_manifest, source_columns
    from data_gcp.table_catalog import declared_tables

    with tempfile.TemporaryDirectory(prefix="bench_typecheck_") as tmp:
        target = Path(tmp) / "target"
        settings = Settings(env="local", data_dir=Path(tmp) / "data")
        t0 = time.perf_counter()
        dbt_runner.compile_offline(target="prod", target_path=target, settings=settings)
        compile_s = time.perf_counter() - t0
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    nodes = [
        n["compiled_code"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "snapshot", "test") and n.get("compiled_code")
    ]
    parse_times, check_times = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for sql in nodes:
            sqlglot.parse_one(sql, read="bigquery")
        parse_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        report = check_manifest(manifest, source_columns(manifest, declared_tables()))
        check_times.append(time.perf_counter() - t0)
    parse_s, check_s = statistics.median(parse_times), statistics.median(check_times)
    print(f"nodes: {len(nodes)} (checked {report.checked}, problems {len(report.problems)})")
    print(f"compile --target prod (offline): {compile_s:.1f} s")
    print(f"baseline, sqlglot parse of every node: {parse_s:.2f} s (median of {args.repeat})")
    print(
        f"type check of every node:          {check_s:.2f} s (median of {args.repeat}), {check_s / parse_s:.1f}x the parse"
    )
    verdict = "ok" if check_s < TARGET_CHECK_S else "OVER"
    print(f"target: type check under {TARGET_CHECK_S:.0f} s -> {verdict}")


if __name__ == "__main__":
    main()
