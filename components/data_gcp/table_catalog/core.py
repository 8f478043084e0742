"""Every table the platform declares outside dbt, with one type vocabulary for both engines.

Why one catalog: the connectors (`etl_core.TableSpec`) and the app database import
(`applicative_schema.TableSpec`) each declare the raw tables they write, but a table exists only once
its producer has loaded rows. dbt reads them as sources, so a connector that never had a row (a quiet
week, a fresh environment) made its models fail with "Not found: Table". `ensure_tables` creates each
missing table empty, with the declared schema, in the engine's own types (what the producer itself
would have created), and the SQL type check reads its column types from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from data_gcp.config import DataGcpError
from data_gcp.warehouse import Warehouse

# Logical types: the connectors' vocabulary, plus `ts` for the app database's naive UTC timestamps
# (a connector's `timestamp` is time-zone aware: TIMESTAMPTZ on DuckDB, as dlt creates it).
BIGQUERY_TYPES = {
    "string": "STRING",
    "int": "INT64",
    "float": "FLOAT64",
    "bool": "BOOL",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "ts": "TIMESTAMP",
    "json": "STRING",
}
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "ts": "TIMESTAMP",
    "json": "VARCHAR",
}
_APP_TYPES = {"str": "string", "int": "int", "float": "float", "bool": "bool", "date": "date", "ts": "ts"}


class CatalogError(DataGcpError):
    """Two producers declare the same table differently, or a declared table cannot be created."""


@dataclass(frozen=True)
class DeclaredColumn:
    name: str
    type: str  # a key of BIGQUERY_TYPES


@dataclass(frozen=True)
class DeclaredTable:
    """One table a producer writes: `<dataset>.<name>` (logical), its columns and day partition."""

    table: str
    columns: tuple[DeclaredColumn, ...]
    producer: str
    partition: str | None = None

    def bigquery_columns(self) -> dict[str, str]:
        return {c.name: BIGQUERY_TYPES[c.type] for c in self.columns}


def _app_tables() -> list[DeclaredTable]:
    """The app database import's raw tables, their daily history copies and the watermark table."""
    from data_gcp.applicative_schema import APP_TABLES

    out = []
    for spec in APP_TABLES:
        columns = tuple(DeclaredColumn(c.name, _APP_TYPES.get(c.type, "json")) for c in spec.columns)
        out.append(DeclaredTable(spec.raw_table, columns, "data-gcp import applicative", spec.partition_column))
        if spec.history:
            out.append(
                DeclaredTable(
                    f"clean.applicative_database_{spec.name}_history",
                    (*columns, DeclaredColumn("snapshot_date", "date")),
                    "data-gcp import applicative",
                    "snapshot_date",
                )
            )
    marks = (
        ("table_name", "string"),
        ("cursor_value", "string"),
        ("mode", "string"),
        ("rows_loaded", "int"),
        ("run_date", "date"),
        ("imported_at", "timestamp"),
    )
    out.append(
        DeclaredTable(
            "raw.applicative_import_watermarks",
            tuple(DeclaredColumn(n, t) for n, t in marks),
            "data-gcp import applicative",
        )
    )
    return out


def _connector_tables() -> list[DeclaredTable]:
    from data_gcp.etl_core import list_connectors

    out = []
    for connector in list_connectors():
        for spec in connector.tables:
            columns = tuple(DeclaredColumn(c.name, c.type) for c in spec.columns)
            partition = spec.partition if spec.partition and _is_day(spec.partition, columns) else None
            out.append(DeclaredTable(spec.qualified_name, columns, f"data-gcp etl run {connector.name}", partition))
    return out


def _is_day(name: str, columns: tuple[DeclaredColumn, ...]) -> bool:
    return any(c.name == name and c.type in ("date", "timestamp", "ts") for c in columns)


def declared_tables() -> dict[str, DeclaredTable]:
    """Every declared table by logical name (`raw.batch_campaign_stats`), app import then connectors."""
    tables: dict[str, DeclaredTable] = {}
    for table in _app_tables() + _connector_tables():
        if table.table in tables:
            raise CatalogError(
                f"{table.table} is declared twice ({tables[table.table].producer}, {table.producer}): "
                "rename one of the TableSpecs"
            )
        tables[table.table] = table
    return tables


def create_table_sql(table: DeclaredTable, engine: str, physical: str) -> str:
    """`CREATE TABLE IF NOT EXISTS` of an empty table with the declared columns, in the engine's types.

    Columns are nullable (as the producers create them: dlt and the import add no NOT NULL), and a
    BigQuery table is partitioned by its day column like its producer partitions it.
    """
    types = BIGQUERY_TYPES if engine == "bigquery" else DUCKDB_TYPES
    quote = "`" if engine == "bigquery" else '"'
    cols = ", ".join(f"{quote}{c.name}{quote} {types[c.type]}" for c in table.columns)
    sql = f"CREATE TABLE IF NOT EXISTS {physical} ({cols})"
    if engine == "bigquery" and table.partition:
        kind = next(c.type for c in table.columns if c.name == table.partition)
        column = f"`{table.partition}`"
        sql += f" PARTITION BY {column if kind == 'date' else f'DATE({column})'}"
    return sql


def ensure_tables(warehouse: Warehouse, tables: Iterable[DeclaredTable] | None = None) -> list[str]:
    """Create every declared table missing from the warehouse, empty with its schema; returns those created.

    One listing per dataset, then one DDL statement per missing table: a warehouse where every
    producer has run costs a listing per dataset and nothing else.
    """
    wanted = list(declared_tables().values() if tables is None else tables)
    by_dataset: dict[str, list[DeclaredTable]] = {}
    for table in wanted:
        by_dataset.setdefault(table.table.split(".")[0], []).append(table)
    created = []
    for dataset, members in sorted(by_dataset.items()):
        warehouse.create_dataset(dataset)
        existing = set(warehouse.list_tables(dataset))
        missing = [t for t in members if t.table.split(".")[1] not in existing]
        if not missing:
            continue
        # one script per dataset: a DuckDB connection or a BigQuery job per table would cost seconds
        script = ";\n".join(
            create_table_sql(t, warehouse.engine, warehouse.physical(t.table)) for t in missing
        )
        try:
            warehouse.execute(script + ";")
        except Exception as err:
            names = ", ".join(f"{t.table} (`{t.producer}`)" for t in missing)
            raise CatalogError(
                f"creating the empty declared tables {names} failed: {err}; "
                "run the producers once, or fix the TableSpec named"
            ) from err
        created += [t.table for t in missing]
    return created
