"""Local engine: source -> Arrow batches -> one DuckDB transaction (raw, history, watermarks).

Why one transaction: the raw tables, the daily history and the watermarks change together at
COMMIT, so a failure anywhere (source, network, disk) leaves every table and every watermark as
they were, and a re-run starts from the same point.

Deletions: a cursor finds changed rows, never deleted ones. For the tables the app deletes rows from
(`TableSpec.deletes`) an incremental run reads the source's primary keys right after the table's
changed rows and deletes from raw the rows whose key is gone; keys read after the rows, so a row
inserted in between is in both reads and never deleted by mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from data_gcp.applicative_import.source import Prefetch, SourceReader, typed_select
from data_gcp.applicative_import.spec import (
    WATERMARK_TABLE,
    ImportError_,
    Plan,
    detects_deletions,
    history_table,
    history_tables,
    import_tables,
    keys_plan,
    plan_table,
)
from data_gcp.applicative_schema import TableSpec
from data_gcp.warehouse import DuckDBWarehouse, Warehouse

# Why: the final transaction holds every new table until COMMIT; a bounded buffer pool spills to
# disk instead of growing with the data, and unordered inserts let DuckDB stream CREATE TABLE AS.
SESSION_SETTINGS = (
    "SET memory_limit = '1GB'",
    "SET preserve_insertion_order = false",
    "SET TimeZone = 'UTC'",
)


@dataclass
class TableResult:
    table: str
    target: str
    mode: str
    rows_read: int
    rows_after: int
    watermark: str | None
    rows_deleted: int = 0  # rows gone from the source, deleted from raw (tables with `deletes`)


def read_watermarks(wh: Warehouse) -> dict[str, str]:
    if not wh.table_exists(WATERMARK_TABLE):
        return {}
    rows = wh.query(f"SELECT table_name, cursor_value FROM {wh.physical(WATERMARK_TABLE)}").to_pylist()
    return {r["table_name"]: r["cursor_value"] for r in rows if r["cursor_value"] is not None}


def _lit(value: object) -> str:
    """A SQL literal for values this module produces itself (dates, numbers, known names)."""
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _cursor_text(value: dt.datetime | dt.date | int | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


def run_local(
    wh: Warehouse,
    source_url: str,
    run_date: dt.date,
    full: bool,
    tick: Callable[[str], None] | None = None,
    native: bool | None = None,
) -> list[TableResult]:
    """Stream every table from the source into one DuckDB transaction, then commit once.

    Why one connection and one transaction: the raw tables, the daily history and the watermarks
    change together at COMMIT, so a failure anywhere (source, network, disk) leaves every table and
    every watermark as they were, and a re-run starts from the same point. Batches go straight
    from the source driver into DuckDB (no staging files); full reloads replace the table
    (`CREATE OR REPLACE ... AS SELECT`), incremental reads go through a temporary table and are
    merged. `native` picks the source reader (see `SourceReader`); the default is the fastest.
    """
    if not isinstance(wh, DuckDBWarehouse):
        raise TypeError(f"the local import writes to DuckDB, not {type(wh).__name__}")
    reader = SourceReader(source_url, native=native)
    try:
        specs = reader.check(import_tables(cloud=False))  # every table checked before anything is written
        with wh.connect() as con:
            for setting in SESSION_SETTINGS:
                con.execute(setting)
            marks = _watermarks(con, wh)
            existing = _raw_tables(con, wh)
            plans = []
            for s in specs:
                plan = plan_table(
                    s, marks.get(s.name), run_date, full, s.raw_table.split(".", 1)[1] in existing
                )
                plans.append(plan)
                if detects_deletions(plan):
                    plans.append(keys_plan(s))  # read after the table's rows (see the module docstring)
            prefetch = Prefetch(reader, plans)
            con.execute("BEGIN TRANSACTION")
            try:
                results = _apply(con, wh, prefetch, marks, run_date, reader.sentinels, tick)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                prefetch.close()
    finally:
        reader.close()
    return results


def _watermarks(con: duckdb.DuckDBPyConnection, wh: Warehouse) -> dict[str, str]:
    schema, name = wh.settings.dataset("raw"), WATERMARK_TABLE.split(".", 1)[1]
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()[0]
    if not found:
        return {}
    rows = con.execute(f"SELECT table_name, cursor_value FROM {wh.physical(WATERMARK_TABLE)}").fetchall()
    return {t: v for t, v in rows if v is not None}


def _raw_tables(con: duckdb.DuckDBPyConnection, wh: Warehouse) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
        [wh.settings.dataset("raw")],
    ).fetchall()
    return {r[0] for r in rows}


def _cursor_columns(spec: TableSpec) -> list[str]:
    if spec.partition_column or spec.append_key:
        return [spec.partition_column or spec.append_key]
    return list(spec.cursor_columns)


def _apply(
    con: duckdb.DuckDBPyConnection,
    wh: Warehouse,
    prefetch: Prefetch,
    marks: dict[str, str],
    run_date: dt.date,
    sentinels: bool,
    tick: Callable[[str], None] | None,
) -> list[TableResult]:
    """Inside the open transaction: raw tables, daily history, watermarks.

    `raw.subcategories` is not ours: the `api_referentials` connector writes it in every environment.
    """
    ds = wh.settings.dataset
    for d in ("raw", "clean"):
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{ds(d)}"')
    loaded: list[tuple[Plan, int, str | None]] = []
    deleted: dict[str, int] = {}
    for plan, stream in prefetch.tables():
        spec, target = plan.spec, wh.physical(plan.spec.raw_table)
        if plan.keys_only:
            deleted[spec.name] = _delete_gone(con, target, plan, stream, sentinels)
            continue
        staged = target if plan.full else "__staged"
        kind = "TABLE" if plan.full else "TEMP TABLE"
        _materialise(
            con,
            stream,
            spec,
            sentinels,
            f"{kind} {staged}",
            f"loading source table {spec.name!r} into {spec.raw_table}",
        )
        cursors = _cursor_columns(spec)
        maxima = "".join(f', max("{c}")' for c in cursors)
        stats = con.execute(f"SELECT count(*){maxima} FROM {staged}").fetchone()
        rows = stats[0]
        values = [v for v in stats[1:] if v is not None]
        best = max(values) if values else None
        if not plan.full:
            con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM {staged} LIMIT 0")
            if rows:
                if spec.partition_column:
                    col = f'"{spec.partition_column}"'
                    con.execute(
                        f"DELETE FROM {target} WHERE {col} BETWEEN DATE {_lit(plan.first_day)} "
                        f"AND DATE {_lit(plan.last_day)}"
                    )
                else:
                    on = " AND ".join(f'{target}."{k}" = s."{k}"' for k in spec.primary_key)
                    con.execute(f"DELETE FROM {target} USING {staged} AS s WHERE {on}")
                con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {staged}")
            elif spec.partition_column:  # days re-read with no rows left: the source deleted them
                col = f'"{spec.partition_column}"'
                con.execute(
                    f"DELETE FROM {target} WHERE {col} BETWEEN DATE {_lit(plan.first_day)} "
                    f"AND DATE {_lit(plan.last_day)}"
                )
            con.execute(f"DROP TABLE {staged}")
        loaded.append((plan, rows, _cursor_text(best) if best is not None else marks.get(spec.name)))
        if tick:
            tick(spec.name)
    day = f"DATE {_lit(run_date)}"
    for spec in history_tables():
        hist, raw = wh.physical(history_table(spec)), wh.physical(spec.raw_table)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {hist} AS SELECT *, {day} AS snapshot_date FROM {raw} LIMIT 0"
        )
        con.execute(f"DELETE FROM {hist} WHERE snapshot_date = {day}")
        con.execute(f"INSERT INTO {hist} BY NAME SELECT *, {day} AS snapshot_date FROM {raw}")
    marks_table = wh.physical(WATERMARK_TABLE)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {marks_table} (table_name VARCHAR, cursor_value VARCHAR, mode VARCHAR, "
        "rows_loaded BIGINT, run_date DATE, imported_at TIMESTAMP)"
    )
    names = ", ".join(_lit(p.spec.name) for p, _, _ in loaded)
    con.execute(f"DELETE FROM {marks_table} WHERE table_name IN ({names})")
    values = ", ".join(
        f"({_lit(p.spec.name)}, {_lit(mark)}, {_lit(p.mode)}, {rows}, {day}, now()::TIMESTAMP)"
        for p, rows, mark in loaded
    )
    con.execute(f"INSERT INTO {marks_table} VALUES {values}")
    counts = _row_counts(con, wh, [p.spec.raw_table for p, _, _ in loaded])
    return [
        TableResult(
            p.spec.name,
            p.spec.raw_table,
            p.mode,
            rows,
            counts[p.spec.raw_table],
            mark,
            deleted.get(p.spec.name, 0),
        )
        for p, rows, mark in loaded
    ]


def _materialise(
    con: duckdb.DuckDBPyConnection, stream: object, spec: TableSpec, sentinels: bool, relation: str, what: str
) -> None:
    """`CREATE OR REPLACE <relation>` from a source stream, typed by the spec; a failure names `what`."""
    con.register("__incoming", stream)
    try:
        con.execute(f"CREATE OR REPLACE {relation} AS {typed_select(spec, '__incoming', sentinels)}")
    except duckdb.Error as err:
        raise ImportError_(f"{what} failed: {err}; nothing was imported") from err
    finally:
        con.unregister("__incoming")


def _delete_gone(
    con: duckdb.DuckDBPyConnection, target: str, plan: Plan, stream: object, sentinels: bool
) -> int:
    """Delete from `target` the rows whose primary key the source no longer has; how many."""
    spec = plan.spec
    _materialise(
        con, stream, spec, sentinels, "TEMP TABLE __keys", f"reading the keys of source table {spec.name!r}"
    )
    on = " AND ".join(f'k."{c}" = {target}."{c}"' for c in spec.primary_key)
    row = con.execute(
        f"DELETE FROM {target} WHERE NOT EXISTS (SELECT 1 FROM __keys AS k WHERE {on})"
    ).fetchone()
    con.execute("DROP TABLE __keys")
    return int(row[0]) if row else 0


def _row_counts(con: duckdb.DuckDBPyConnection, wh: Warehouse, tables: list[str]) -> dict[str, int]:
    sql = " UNION ALL ".join(f"SELECT {_lit(t)} AS t, count(*) AS n FROM {wh.physical(t)}" for t in tables)
    return dict(con.execute(sql).fetchall())
