"""Cloud engine: BigQuery federated `EXTERNAL_QUERY` against the Cloud SQL read replica.

The same column lists and row filters as the local engine, written as PostgreSQL inside a
BigQuery statement. Each table lands first in a staging table of `tmp_<env>`; one multi-statement
transaction then merges every table, writes the daily history and advances the watermarks, so a
failure leaves raw tables and watermarks as they were. The SQL builders are pure functions (tested
with sqlglot); `run_cloud` only sends them.

Deletions: for the tables the app deletes rows from (`TableSpec.deletes`) an incremental run also
stages the source's primary keys, read after the changed rows, and the transaction deletes, after
the MERGE, the raw rows whose key is no longer in the source.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from data_gcp.applicative_import.local import TableResult, _lit
from data_gcp.applicative_import.spec import (
    POSTGRES_FAMILIES,
    WATERMARK_TABLE,
    ImportError_,
    Plan,
    check_columns,
    detects_deletions,
    history_table,
    history_tables,
    import_tables,
    keys_plan,
    plan_table,
)
from data_gcp.applicative_schema import TableSpec
from data_gcp.config import ConfigError, Settings
from data_gcp.warehouse import Warehouse

BQ_TYPES = {
    "int": "INT64",
    "float": "FLOAT64",
    "str": "STRING",
    "json": "STRING",
    "bool": "BOOL",
    "ts": "TIMESTAMP",
    "date": "DATE",
}


def _pg_literal(value: object) -> str:
    if isinstance(value, dt.datetime):
        return f"'{value.isoformat(sep=' ')}'::timestamp"
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'::date"
    raise TypeError(f"no PostgreSQL literal for {value!r}")


def postgres_query(plan: Plan) -> str:
    """The PostgreSQL run on Cloud SQL: the spec's columns (JSON as text) and the plan's filter."""
    spec = plan.spec
    cols = ", ".join(
        f'"{c.name}"::text AS "{c.name}"' if c.type == "json" else f'"{c.name}"' for c in spec.columns
    )
    sql = f'SELECT {cols} FROM public."{spec.name}"'
    if spec.partition_column:
        col = f'"{spec.partition_column}"'
        if plan.full:
            return f"{sql} WHERE {col} <= {_pg_literal(plan.last_day)}"
        return f"{sql} WHERE {col} >= {_pg_literal(plan.first_day)} AND {col} <= {_pg_literal(plan.last_day)}"
    if plan.full:
        return sql
    if plan.since_key is not None:
        return f'{sql} WHERE "{spec.append_key}" >= {int(plan.since_key)}'
    ors = " OR ".join(f'"{c}" >= {_pg_literal(plan.since)}' for c in spec.cursor_columns)
    return f"{sql} WHERE ({ors})"


def _bq_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def external_query_sql(plan: Plan, connection_id: str, staging: str) -> str:
    """Stage one table: `CREATE OR REPLACE TABLE staging AS SELECT <typed columns> FROM EXTERNAL_QUERY(...)`."""
    cols = ", ".join(f"CAST(`{c.name}` AS {BQ_TYPES[c.type]}) AS `{c.name}`" for c in plan.spec.columns)
    return (
        f"CREATE OR REPLACE TABLE {staging} AS SELECT {cols} "
        f"FROM EXTERNAL_QUERY({_bq_string(connection_id)}, {_bq_string(postgres_query(plan))})"
    )


def columns_check_sql(connection_id: str, specs: tuple[TableSpec, ...]) -> str:
    """The source's column types, read through the same connection (checked before any load)."""
    names = ", ".join(f"''{s.name}''" for s in specs)
    inner = (
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = ''public'' AND table_name IN ({names})"
    )
    return f"SELECT * FROM EXTERNAL_QUERY({_bq_string(connection_id)}, '{inner}')".replace("''", "\\'")


def max_cursor_sql(spec: TableSpec, staging: str) -> str:
    cols = [spec.partition_column] if spec.partition_column else list(spec.cursor_columns)
    if spec.partition_column:
        return f"SELECT CAST(MAX(`{cols[0]}`) AS STRING) AS m FROM {staging}"
    parts = ", ".join(f"COALESCE(`{c}`, TIMESTAMP '1970-01-01')" for c in cols)
    expr = f"GREATEST({parts})" if len(cols) > 1 else parts
    return f"SELECT FORMAT_TIMESTAMP('%F %H:%M:%E6S', MAX({expr})) AS m FROM {staging}"


def gone_condition(spec: TableSpec, keys: str) -> str:
    """The rows of `T` (a raw table) whose primary key is not in the staged `keys` of the source."""
    on = " AND ".join(f"K.`{k}` = T.`{k}`" for k in spec.primary_key)
    return f"NOT EXISTS (SELECT 1 FROM {keys} K WHERE {on})"


def finalize_script(
    settings: Settings,
    staged: list[tuple[Plan, str, int, str | None]],
    run_date: dt.date,
    physical: Callable[[str], str],
    keys: dict[str, str] | None = None,
) -> str:
    """DDL for missing targets, then one transaction: merges, deletions, partitions, history, watermarks.

    `keys`: table name -> staging table of the source's primary keys (tables with `deletes`, read
    incrementally): after the MERGE, the raw rows whose key is not there are deleted.
    """
    keys = keys or {}
    ddl, tx = [], ["BEGIN TRANSACTION"]
    day = f"DATE {_lit(run_date)}"
    for plan, staging, _, _ in staged:
        spec, target = plan.spec, physical(plan.spec.raw_table)
        part = ""
        if spec.partition_column:
            part = f" PARTITION BY `{spec.partition_column}`"
        elif spec.timestamp_partition:
            part = f" PARTITION BY DATE(`{spec.timestamp_partition}`)"
        ddl.append(f"CREATE TABLE IF NOT EXISTS {target}{part} AS SELECT * FROM {staging} WHERE FALSE")
        cols = ", ".join(f"`{c}`" for c in spec.column_names)
        if spec.partition_column:
            col = f"`{spec.partition_column}`"
            cond = (
                "TRUE"
                if plan.full
                else f"{col} BETWEEN DATE {_lit(plan.first_day)} AND DATE {_lit(plan.last_day)}"
            )
            tx.append(f"DELETE FROM {target} WHERE {cond}")
            tx.append(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {staging}")
        elif plan.full:
            tx.append(f"DELETE FROM {target} WHERE TRUE")
            tx.append(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {staging}")
        else:
            on = " AND ".join(f"T.`{k}` = S.`{k}`" for k in spec.primary_key)
            if spec.timestamp_partition and spec.cursor_columns == (spec.timestamp_partition,) and plan.since:
                # A log partitioned by its only cursor, a timestamp a line never changes: a staged line
                # (cursor >= since) can only match a line of those days, so the MERGE scans those
                # partitions of the target, not its whole history (BigQuery prunes on this filter).
                on += f" AND T.`{spec.timestamp_partition}` >= TIMESTAMP {_lit(plan.since)}"
            sets = ", ".join(f"`{c}` = S.`{c}`" for c in spec.column_names if c not in spec.primary_key)
            vals = ", ".join(f"S.`{c}`" for c in spec.column_names)
            tx.append(
                f"MERGE {target} T USING {staging} S ON {on} WHEN MATCHED THEN UPDATE SET {sets} "
                f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})"
            )
            if spec.name in keys:
                tx.append(f"DELETE FROM {target} T WHERE {gone_condition(spec, keys[spec.name])}")
    for spec in history_tables():
        hist, raw = physical(history_table(spec)), physical(spec.raw_table)
        ddl.append(
            f"CREATE TABLE IF NOT EXISTS {hist} PARTITION BY snapshot_date AS "
            f"SELECT *, {day} AS snapshot_date FROM {raw} WHERE FALSE"
        )
        tx.append(f"DELETE FROM {hist} WHERE snapshot_date = {day}")
        tx.append(f"INSERT INTO {hist} SELECT *, {day} AS snapshot_date FROM {raw}")
    marks = physical(WATERMARK_TABLE)
    ddl.append(
        f"CREATE TABLE IF NOT EXISTS {marks} (table_name STRING, cursor_value STRING, mode STRING, "
        "rows_loaded INT64, run_date DATE, imported_at TIMESTAMP)"
    )
    values = " UNION ALL ".join(
        f"SELECT {_lit(p.spec.name)} AS table_name, {_lit(mark)} AS cursor_value, {_lit(p.mode)} AS mode, "
        f"{rows} AS rows_loaded"
        for p, _, rows, mark in staged
    )
    tx.append(
        f"MERGE {marks} T USING ({values}) S ON T.table_name = S.table_name "
        f"WHEN MATCHED THEN UPDATE SET cursor_value = S.cursor_value, mode = S.mode, rows_loaded = S.rows_loaded, "
        f"run_date = {day}, imported_at = CURRENT_TIMESTAMP() "
        f"WHEN NOT MATCHED THEN INSERT (table_name, cursor_value, mode, rows_loaded, run_date, imported_at) "
        f"VALUES (S.table_name, S.cursor_value, S.mode, S.rows_loaded, {day}, CURRENT_TIMESTAMP())"
    )
    tx.append("COMMIT TRANSACTION")
    return ";\n".join(ddl + tx) + ";"


def run_cloud(
    wh: Warehouse, run_date: dt.date, full: bool, tick: Callable[[str], None] | None = None
) -> list[TableResult]:
    settings = wh.settings
    conn = settings.cloudsql_connection_id
    if not conn:
        raise ConfigError(
            "DATA_GCP_CLOUDSQL_CONNECTION_ID is required to import the app database in the cloud"
        )
    specs = import_tables(cloud=True)
    found: dict[str, dict[str, str]] = {}
    for row in wh.query(columns_check_sql(conn, specs)).to_pylist():
        family = POSTGRES_FAMILIES.get(row["data_type"], row["data_type"])
        found.setdefault(row["table_name"], {})[row["column_name"]] = family
    for spec in specs:
        check_columns(spec, found.get(spec.name))
    from data_gcp.applicative_import.local import read_watermarks

    marks = read_watermarks(wh)
    run_id = uuid.uuid4().hex[:8]
    staged: list[tuple[Plan, str, int, str | None]] = []
    keys: dict[str, str] = {}
    gone: dict[str, int] = {}
    try:
        for spec in specs:
            plan = plan_table(spec, marks.get(spec.name), run_date, full, wh.table_exists(spec.raw_table))
            staging = wh.physical(f"tmp.applicative_import_{spec.name}_{run_id}")
            wh.execute(external_query_sql(plan, conn, staging))
            stats = wh.query(f"SELECT COUNT(*) AS n FROM {staging}").to_pylist()[0]["n"]
            mark = wh.query(max_cursor_sql(spec, staging)).to_pylist()[0]["m"] if stats else None
            staged.append((plan, staging, int(stats), mark or marks.get(spec.name)))
            if detects_deletions(plan):  # the keys after the rows (see the module docstring)
                keys[spec.name] = wh.physical(f"tmp.applicative_import_{spec.name}_keys_{run_id}")
                wh.execute(external_query_sql(keys_plan(spec), conn, keys[spec.name]))
                target = wh.physical(spec.raw_table)
                gone[spec.name] = wh.query(
                    f"SELECT COUNT(*) AS n FROM {target} T WHERE {gone_condition(spec, keys[spec.name])}"
                ).to_pylist()[0]["n"]
            if tick:
                tick(spec.name)
        wh.execute(finalize_script(settings, staged, run_date, wh.physical, keys))
    except ImportError_:
        raise
    finally:
        for spec in specs:
            wh.drop_table(f"tmp.applicative_import_{spec.name}_{run_id}")
            if spec.name in keys:
                wh.drop_table(f"tmp.applicative_import_{spec.name}_keys_{run_id}")
    return [
        TableResult(
            p.spec.name,
            p.spec.raw_table,
            p.mode,
            rows,
            wh.row_count(p.spec.raw_table),
            mark,
            int(gone.get(p.spec.name, 0)),
        )
        for p, _, rows, mark in staged
    ]
