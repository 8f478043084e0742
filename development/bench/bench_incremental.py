"""A nightly incremental dbt run against the full rebuild of the same day, on the same data.

Run: `uv run python development/bench/bench_incremental.py --scale 1 [--data-dir D] [--reuse]`.

In `--data-dir` (default: a temporary folder; a folder holding a raw layer is used as is with
`--reuse`, e.g. one a scale-10 sandbox was imported into): the raw layer is made as CI makes it
(sandbox, import, connectors: `data_gcp.dbt_faults.load_raw_layer`). The newest day of app events
and one event in four of the two days before it are held back, and every model is built as of the
day before (`--full-refresh`, setup). Then the held events land (the night: a day plus late
events) and, each a `data-gcp dbt run` process timed with its peak RSS (`/usr/bin/time`):
- **nightly**: the models and snapshots (`dbt build` without the tests) for that day (the incremental models rewrite the day and its look-back,
  the others are rebuilt as every night);
- **full rebuild** (the baseline, same data, same day): the same with `--full-refresh`.
Both include dbt's start-up and parse (the same for both).

Bytes read: for every model a run executes, its compiled query's reads, as BigQuery's on-demand
billing counts them: of each relation read (a table, or a view as the table it is on BigQuery), the
logical bytes (8 per number, date or timestamp, 1 per boolean, 2 + length per string) of the columns
the query reads from it (all of them, and the whole rows, are reported too), only the rows of the
days its partition filter keeps (constant bounds on the partition column of a raw table
the import partitions by day, such as `raw.firebase_events`, or of an incremental model; any other
read counts the whole relation). `--top N` lists the N models reading the most in the nightly.

The data folder is changed (the held events end up back in the raw layer). Timings on the shared
2-core machine are upper bounds; read the ratios (both runs are in the same process tree, back to back).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from data_gcp.config import Settings, reset_settings, temporary_env, workspace_root

EVENTS = "raw.firebase_events"
_WIDTH = {"BOOLEAN": 1}


def _dbt(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """`data-gcp dbt <args>` in a process of its own: (seconds, peak RSS in GB)."""
    stats = log.with_suffix(".time")
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), "data-gcp", "dbt", *args]
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.run(
            cmd, cwd=workspace_root(), env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"data-gcp dbt {' '.join(args)} failed: see {log}")
    rss_kb = float(stats.read_text().split()[-1])
    return seconds, rss_kb / 1024 / 1024


def _put_back(con: duckdb.DuckDBPyConnection) -> None:
    """The held events back into the raw layer (also those of an interrupted run)."""
    if con.sql(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'bench_held'"
    ).fetchone()[0]:
        cols = ", ".join(f'"{c[0]}"' for c in con.sql(f"describe {EVENTS}").fetchall())
        con.execute(f"insert into {EVENTS} select {cols} from raw.bench_held")
        con.execute("drop table raw.bench_held")


def _hold_back(con: duckdb.DuckDBPyConnection) -> dt.date:
    _put_back(con)
    last = con.sql(f"select max(event_date) from {EVENTS}").fetchone()[0]
    con.execute(
        f"create table raw.bench_held as select * from {EVENTS} where event_date = '{last}' or "
        f"(event_date >= '{last - dt.timedelta(days=2)}' and hash(event_timestamp, user_pseudo_id) % 4 = 0)"
    )
    con.execute(
        f"delete from {EVENTS} where event_date = '{last}' or "
        f"(event_date >= '{last - dt.timedelta(days=2)}' and hash(event_timestamp, user_pseudo_id) % 4 = 0)"
    )
    return last


def _partition_columns(manifest: dict) -> dict[tuple[str, str], str]:
    """(schema, table) -> partition column: the raw tables the import partitions by day (app and pro
    events, Adage logs, the pro log; the display log by the day of its timestamp) and the
    incremental models."""
    from data_gcp.applicative_schema import TABLES

    out = {tuple(t.raw_table.split(".")): t.day_partition for t in TABLES if t.day_partition}
    for node in manifest["nodes"].values():
        day = ((node.get("config") or {}).get("meta") or {}).get("incremental_day")
        if node["resource_type"] == "model" and day:
            out[(node["schema"], node["alias"])] = day
    return out


def _bound(node: exp.Expression, exclusive_upper: bool = False) -> dt.date | None:
    """The day a constant expression (`cast('2026-12-06' as date) + -90`) is, else None. An
    exclusive upper bound at midnight (`ts < '2026-12-07 00:00'`) keeps the day before."""
    if node.find(exp.Column) or node.find(exp.Select):
        return None
    try:
        value = duckdb.sql(f"select {node.sql(dialect='duckdb')}").fetchone()[0]
    except duckdb.Error:
        return None
    if isinstance(value, dt.datetime):
        if exclusive_upper and value.time() == dt.time():
            return value.date() - dt.timedelta(days=1)
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _day_range(table: exp.Table, column: str) -> tuple[dt.date | None, dt.date | None]:
    """Constant bounds on `column` of `table` in the WHERE / ON of the SELECT reading it."""
    select = table.find_ancestor(exp.Select)
    alias = table.alias_or_name
    lo: dt.date | None = None
    hi: dt.date | None = None
    if select is None:
        return lo, hi
    conds = [select.args.get("where")] + [j.args.get("on") for j in select.args.get("joins") or []]
    for cond in conds:
        if cond is None:
            continue
        for cmp in cond.find_all(exp.GTE, exp.GT, exp.LTE, exp.LT, exp.EQ):
            left, right = cmp.left, cmp.right
            if not (isinstance(left, exp.Column) and left.name == column and left.table in (alias, "")):
                continue
            day = _bound(right, exclusive_upper=isinstance(cmp, exp.LT))
            if day is None:
                continue
            if isinstance(cmp, exp.GTE | exp.GT | exp.EQ):
                lo = max(lo, day) if lo else day
            if isinstance(cmp, exp.LTE | exp.LT | exp.EQ):
                hi = min(hi, day) if hi else day
    return lo, hi


class Sizes:
    """Logical bytes of each column of a relation (or of a day range of it), cached: a string counts
    2 + its length, a boolean 1, any other value 8; NULL strings count nothing."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.cache: dict[tuple, dict[str, float]] = {}
        self.schema: dict[str, dict[str, dict[str, str]]] = {}
        for db, table, column, kind in con.sql(
            "select table_schema, table_name, column_name, data_type from information_schema.columns"
        ).fetchall():
            self.schema.setdefault(db, {}).setdefault(table, {})[column] = kind

    def columns(
        self, schema: str, name: str, column: str | None, lo: dt.date | None, hi: dt.date | None
    ) -> dict[str, float]:
        key = (schema, name, column, lo, hi)
        if key not in self.cache:
            cols = self.schema.get(schema, {}).get(name, {})
            if not cols:
                self.cache[key] = {}
                return {}
            terms = [
                f'coalesce(sum(strlen(cast("{c}" as varchar)) + 2), 0)' if t.startswith("VARCHAR")
                else f"count(*) * {_WIDTH.get(t, 8)}"
                for c, t in cols.items()
            ]  # fmt: skip
            where = []
            if column and lo:  # whole days: the partitions a timestamp column's bounds keep
                where.append(f"cast(\"{column}\" as date) >= '{lo}'")
            if column and hi:
                where.append(f"cast(\"{column}\" as date) <= '{hi}'")
            sql = f'select {", ".join(terms)} from "{schema}"."{name}"' + (
                f" where {' and '.join(where)}" if where else ""
            )
            row = self.con.sql(sql).fetchone()
            self.cache[key] = {c: float(v or 0) for c, v in zip(cols, row, strict=True)}
        return self.cache[key]


def _reads(sql: str, sizes: Sizes) -> list[tuple[exp.Table, set[str] | None]]:
    """Each table a query reads, with the columns it reads from it (None: all of them, when the
    query cannot be qualified). Columns are what BigQuery's on-demand billing counts."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    try:
        tree = qualify(tree, schema=sizes.schema, dialect="duckdb", validate_qualify_columns=False)
        out = []
        for scope in traverse_scope(tree):
            for alias, (_, source) in scope.selected_sources.items():
                if isinstance(source, exp.Table) and source.db:
                    out.append((source, {c.name for c in scope.columns if c.table == alias}))
        return out
    except sqlglot.errors.SqlglotError:
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        return [(t, None) for t in tree.find_all(exp.Table) if t.db and t.name not in ctes]


def bytes_read(manifest: dict, run_results: dict, sizes: Sizes) -> dict[str, tuple[float, float]]:
    """By model name: (bytes of the columns its query reads, bytes of the whole rows it reads), each
    table read only for the days its partition filter keeps (see the module doc)."""
    partitioned = _partition_columns(manifest)
    executed = {r["unique_id"] for r in run_results["results"] if r["status"] == "success"}
    out: dict[str, tuple[float, float]] = {}
    for uid in executed:
        node = manifest["nodes"].get(uid)
        if not node or node["resource_type"] != "model" or not node.get("compiled_code"):
            continue
        billed = whole = 0.0
        for table, used in _reads(node["compiled_code"], sizes):
            column = partitioned.get((table.db, table.name))
            lo, hi = _day_range(table, column) if column else (None, None)
            by_column = sizes.columns(table.db, table.name, column, lo, hi)
            whole += sum(by_column.values())
            billed += sum(v for c, v in by_column.items() if used is None or c in used)
        out[node["name"]] = (billed, whole)
    return out


RUNS = ("nightly", "full rebuild")


def report(warehouse: Path, logs: Path, top: int) -> None:
    """The figures of the nightly and the full rebuild from what each run left in `logs` (its
    /usr/bin/time line, manifest and run results), with the bytes read counted on `warehouse`."""
    runs = {}
    for name in RUNS:
        stem = logs / name.replace(" ", "_")
        if not stem.with_suffix(".run_results.json").is_file():
            raise SystemExit(f"no saved {name} run in {logs}: run the bench without --recount first")
        seconds, rss_kb = (float(v) for v in stem.with_suffix(".time").read_text().split()[-2:])
        manifest = json.loads(stem.with_suffix(".manifest.json").read_text())
        results = json.loads(stem.with_suffix(".run_results.json").read_text())
        runs[name] = (seconds, rss_kb / 1024 / 1024, manifest, results)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        sizes = Sizes(con)
        per_model = {name: bytes_read(r[2], r[3], sizes) for name, r in runs.items()}
    billed = {name: sum(b for b, _ in models.values()) for name, models in per_model.items()}
    whole = {name: sum(w for _, w in models.values()) for name, models in per_model.items()}
    print(f"\n{'run':<14}{'seconds':>9}{'peak RSS':>10}{'bytes read':>13}{'whole rows':>13}")
    for name, (seconds, rss, _, _) in runs.items():
        print(
            f"{name:<14}{seconds:>8.1f}s{rss:>8.2f}GB{billed[name] / 1e9:>11.3f}GB{whole[name] / 1e9:>11.3f}GB"
        )
    for name, (_, _, manifest, results) in runs.items():
        incremental = {
            uid
            for uid, node in manifest["nodes"].items()
            if (node.get("config") or {}).get("materialized") == "incremental"
        }
        node_s = sum(r["execution_time"] for r in results["results"] if r["unique_id"] in incremental)
        all_s = sum(r["execution_time"] for r in results["results"])
        print(
            f"{name}: dbt node time {all_s:.1f}s, of which the {len(incremental)} incremental models {node_s:.1f}s"
        )
    nightly, full = per_model["nightly"], per_model["full rebuild"]
    manifest = runs["nightly"][2]
    by_name = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    inc = {m for m in full if (by_name.get(m, {}).get("config") or {}).get("materialized") == "incremental"}
    print("\nbytes read (columns), by kind of model: nightly / full rebuild")
    for label, names in (("incremental models", inc), ("models rebuilt every night", set(full) - inc)):
        n_b = sum(nightly.get(m, (0, 0))[0] for m in names)
        f_b = sum(full[m][0] for m in names)
        print(f"  {label:<28}{n_b / 1e6:>9.1f} MB / {f_b / 1e6:>8.1f} MB = {n_b / f_b if f_b else 0:.1%}")
    print(
        f"\nthe {top} models reading the most in the nightly (MB of the columns read: nightly, full rebuild)"
    )
    for model in sorted(nightly, key=lambda m: nightly[m][0], reverse=True)[:top]:
        print(f"  {model:<52}{nightly[model][0] / 1e6:>10.1f}{full.get(model, (0, 0))[0] / 1e6:>10.1f}")
    n, f = runs["nightly"], runs["full rebuild"]
    print(
        f"\nnightly / full rebuild: time {n[0] / f[0]:.0%}, bytes read {billed['nightly'] / billed['full rebuild']:.1%}"
        f" (whole rows: {whole['nightly'] / whole['full rebuild']:.1%}); nightly peak RSS {n[1]:.2f} GB"
        f" (load average {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="use the raw layer already in --data-dir")
    parser.add_argument("--top", type=int, default=12, help="models listed by bytes read in the nightly")
    parser.add_argument(
        "--recount",
        action="store_true",
        help="only report the last runs in --data-dir (their saved artifacts)",
    )
    args = parser.parse_args()
    if args.recount:
        if args.data_dir is None:
            raise SystemExit("--recount reports the runs saved in --data-dir: name it")
        data_dir = args.data_dir.resolve()
        report(Settings(env="local", data_dir=data_dir).duckdb_path, data_dir / "bench_incremental", args.top)
        return
    with tempfile.TemporaryDirectory(prefix="bench_incremental_") as tmp:
        data_dir = (args.data_dir or Path(tmp) / "data").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DATA_GCP_ENV": "local", "DATA_GCP_DATA_DIR": str(data_dir), "DBT_TARGET": "ci"}
        settings = Settings(env="local", data_dir=data_dir)
        if not (args.reuse and settings.duckdb_path.is_file()):
            from data_gcp.dbt_faults import load_raw_layer

            started = time.perf_counter()
            with temporary_env({"DATA_GCP_ENV": "local", "DATA_GCP_DATA_DIR": str(data_dir)}):
                reset_settings()
                load_raw_layer(settings, scale=args.scale, seed=args.seed)
            print(f"raw layer at scale {args.scale}: {time.perf_counter() - started:.0f}s")
        with duckdb.connect(str(settings.duckdb_path)) as con:
            day = _hold_back(con)
            events = con.sql(f"select count(*) from {EVENTS}").fetchone()[0]
            held = con.sql("select count(*) from raw.bench_held").fetchone()[0]
        before = day - dt.timedelta(days=1)
        print(f"raw events {events + held:,}; night of {day}: {held:,} events land ({day} and late ones)")
        logs = data_dir / "bench_incremental"  # dbt's logs and artifacts of each run, kept
        logs.mkdir(exist_ok=True)
        target = logs / "target"

        def days(d: dt.date) -> list[str]:
            return ["--vars", json.dumps({"first_day": str(d), "last_day": str(d)})]

        # models and snapshots, no tests (`dbt build` without its data and unit tests)
        common = [
            "build",
            "--exclude",
            "test_type:data test_type:unit",
            "--target",
            "ci",
            "--target-path",
            str(target),
        ]
        setup_s, _ = _dbt([*common, "--full-refresh", *days(before)], env, logs / "setup.log")
        print(f"setup: every model built as of {before} in {setup_s:.0f}s")
        with duckdb.connect(str(settings.duckdb_path)) as con:
            _put_back(con)
        for name, extra in (("nightly", []), ("full rebuild", ["--full-refresh"])):
            _dbt([*common, *extra, *days(day)], env, logs / f"{name.replace(' ', '_')}.log")
            shutil.copy(target / "manifest.json", logs / f"{name.replace(' ', '_')}.manifest.json")
            shutil.copy(target / "run_results.json", logs / f"{name.replace(' ', '_')}.run_results.json")
        report(settings.duckdb_path, logs, args.top)
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
