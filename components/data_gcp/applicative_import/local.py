"""Local engine: source -> Arrow batches -> staging tables in `tmp` -> one DuckDB transaction.

Why stage then swap: the raw tables, the daily history and the watermarks change together in one
transaction at the end, so a failure anywhere (source, network, disk) leaves every table and every
watermark as they were, and a re-run starts from the same point.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_gcp.applicative_import.source import SourceReader, batch_schema
from data_gcp.applicative_import.spec import (
    SUBCATEGORIES_TABLE,
    WATERMARK_TABLE,
    Plan,
    history_table,
    history_tables,
    import_tables,
    plan_table,
)
from data_gcp.applicative_schema import TableSpec
from data_gcp.offer_categories import subcategories_table
from data_gcp.warehouse import Warehouse


@dataclass
class TableResult:
    table: str
    target: str
    mode: str
    rows_read: int
    rows_after: int
    watermark: str | None


def read_watermarks(wh: Warehouse) -> dict[str, str]:
    if not wh.table_exists(WATERMARK_TABLE):
        return {}
    rows = wh.query(f"SELECT table_name, cursor_value FROM {wh.physical(WATERMARK_TABLE)}").to_pylist()
    return {r["table_name"]: r["cursor_value"] for r in rows if r["cursor_value"] is not None}


def _max_cursor(batch: pa.RecordBatch, spec: TableSpec) -> dt.datetime | dt.date | None:
    if spec.partition_column or spec.append_key:
        cols = [spec.partition_column or spec.append_key]
    else:
        cols = list(spec.cursor_columns)
    best = None
    for col in cols:
        value = pc.max(batch.column(col)).as_py()
        if value is not None and (best is None or value > best):
            best = value
    return best


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
) -> list[TableResult]:
    """Read every table into Parquet staging files, then apply them all in one warehouse transaction.

    Why files rather than staging tables: each DuckDB connection costs a checkpoint, and the
    warehouse opens one per call; files let the whole run cost a handful of connections while the
    final statement still makes everything visible at once.
    """
    specs = import_tables(cloud=False)
    reader = SourceReader(source_url)
    stage_dir = wh.settings.local_data_dir / "tmp" / f"applicative_import_{uuid.uuid4().hex[:8]}"
    staged: list[tuple[Plan, str, int, str | None]] = []
    try:
        specs = reader.check(specs)  # every table checked before anything is written
        marks = read_watermarks(wh)
        existing = set(wh.list_tables("raw"))
        for spec in specs:
            target_exists = spec.raw_table.split(".", 1)[1] in existing
            plan = plan_table(spec, marks.get(spec.name), run_date, full, target_exists)
            folder = stage_dir / spec.name
            folder.mkdir(parents=True)
            rows, best, part = 0, None, 0
            for batch in reader.read(plan):
                if not batch.num_rows:
                    continue
                pq.write_table(pa.Table.from_batches([batch]), folder / f"part-{part:05d}.parquet")
                part += 1
                rows += batch.num_rows
                value = _max_cursor(batch, spec)
                best = value if best is None or (value is not None and value > best) else best
            if not rows:
                pq.write_table(batch_schema(spec).empty_table(), folder / "part-00000.parquet")
            new_mark = _cursor_text(best) if best is not None else marks.get(spec.name)
            staged.append((plan, str(folder / "*.parquet"), rows, new_mark))
            if tick:
                tick(spec.name)
        pq.write_table(subcategories_table(), stage_dir / "subcategories.parquet")
        wh.execute(_finalize_sql(wh, staged, str(stage_dir / "subcategories.parquet"), run_date))
    finally:
        reader.close()
        shutil.rmtree(stage_dir, ignore_errors=True)
    counts = _row_counts(wh, [p.spec.raw_table for p, _, _, _ in staged])
    return [
        TableResult(p.spec.name, p.spec.raw_table, p.mode, rows, counts[p.spec.raw_table], mark)
        for p, _, rows, mark in staged
    ]


def _row_counts(wh: Warehouse, tables: list[str]) -> dict[str, int]:
    sql = " UNION ALL ".join(f"SELECT {_lit(t)} AS t, count(*) AS n FROM {wh.physical(t)}" for t in tables)
    return {r["t"]: r["n"] for r in wh.query(sql).to_pylist()}


def _finalize_sql(
    wh: Warehouse, staged: list[tuple[Plan, str, int, str | None]], sub_staging: str, run_date: dt.date
) -> str:
    """One DuckDB transaction: raw tables, subcategories, daily history, watermarks."""
    ds = wh.settings.dataset
    stmts = ["BEGIN TRANSACTION"]
    stmts += [f'CREATE SCHEMA IF NOT EXISTS "{ds(d)}"' for d in ("raw", "clean")]
    for plan, files, _, _ in staged:
        spec, target, stg = plan.spec, wh.physical(plan.spec.raw_table), f"read_parquet({_lit(files)})"
        if plan.full and not spec.partition_column:
            stmts.append(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {stg}")
            continue
        stmts.append(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM {stg} LIMIT 0")
        if spec.partition_column:
            col = f'"{spec.partition_column}"'
            if plan.full:
                stmts.append(f"DELETE FROM {target}")
            else:
                stmts.append(
                    f"DELETE FROM {target} WHERE {col} BETWEEN DATE {_lit(plan.first_day)} AND DATE {_lit(plan.last_day)}"
                )
        else:
            on = " AND ".join(f'{target}."{k}" = s."{k}"' for k in spec.primary_key)
            stmts.append(f"DELETE FROM {target} USING {stg} AS s WHERE {on}")
        stmts.append(f"INSERT INTO {target} BY NAME SELECT * FROM {stg}")
    stmts.append(
        f"CREATE OR REPLACE TABLE {wh.physical(SUBCATEGORIES_TABLE)} AS SELECT * FROM read_parquet({_lit(sub_staging)})"
    )
    day = f"DATE {_lit(run_date)}"
    for spec in history_tables():
        hist, raw = wh.physical(history_table(spec)), wh.physical(spec.raw_table)
        stmts.append(
            f"CREATE TABLE IF NOT EXISTS {hist} AS SELECT *, {day} AS snapshot_date FROM {raw} LIMIT 0"
        )
        stmts.append(f"DELETE FROM {hist} WHERE snapshot_date = {day}")
        stmts.append(f"INSERT INTO {hist} BY NAME SELECT *, {day} AS snapshot_date FROM {raw}")
    marks = wh.physical(WATERMARK_TABLE)
    stmts.append(
        f"CREATE TABLE IF NOT EXISTS {marks} (table_name VARCHAR, cursor_value VARCHAR, mode VARCHAR, "
        "rows_loaded BIGINT, run_date DATE, imported_at TIMESTAMP)"
    )
    names = ", ".join(_lit(p.spec.name) for p, _, _, _ in staged)
    stmts.append(f"DELETE FROM {marks} WHERE table_name IN ({names})")
    values = ", ".join(
        f"({_lit(p.spec.name)}, {_lit(mark)}, {_lit(p.mode)}, {rows}, {day}, now()::TIMESTAMP)"
        for p, _, rows, mark in staged
    )
    stmts.append(f"INSERT INTO {marks} VALUES {values}")
    stmts.append("COMMIT")
    return ";\n".join(stmts) + ";"
