"""Every table the platform's producers declare outside dbt, as Arrow schemas.

Why one catalog: the connectors (`etl_core.TableSpec`) and the app database import
(`applicative_schema.TableSpec`) each declare the raw tables they write, but a table used to exist
only once its producer had loaded rows. dbt reads them as sources, so a connector that never had a
row (a quiet week, a fresh environment) made its models fail on BigQuery with "Not found: Table".
`ensure_tables` creates each missing table empty, with the declared schema, in the types the
producer's own load would create (`Warehouse.create_missing_tables`); the SQL type check reads the
sources' column types from here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from data_gcp.config import DataGcpError
from data_gcp.warehouse import Warehouse, bigquery_type

APP_IMPORT = "data-gcp import applicative"


class CatalogError(DataGcpError):
    """Two producers declare the same table."""


@dataclass(frozen=True)
class DeclaredTable:
    """One table a producer writes: `<dataset>.<name>` (logical), its schema and day partition."""

    table: str
    schema: pa.Schema
    producer: str
    partition: str | None = None
    # BigQuery refuses a query without a filter on `partition` (created so; checked offline by
    # data_gcp.sql_typecheck on every compiled dbt node)
    require_partition_filter: bool = False

    def bigquery_columns(self) -> dict[str, str]:
        """Column -> BigQuery type, as the producer's load creates the table."""
        return {f.name: bigquery_type(f.type) for f in self.schema}


def _app_tables() -> list[DeclaredTable]:
    """The app database import's raw tables, their daily history copies and the watermark table."""
    from data_gcp.applicative_schema import APP_TABLES, arrow_schema

    out = []
    for spec in APP_TABLES:
        schema = _nullable(arrow_schema(spec))
        out.append(
            DeclaredTable(
                spec.raw_table, schema, APP_IMPORT, spec.day_partition, spec.require_partition_filter
            )
        )
        if spec.history:
            out.append(
                DeclaredTable(
                    f"clean.applicative_database_{spec.name}_history",
                    schema.append(pa.field("snapshot_date", pa.date32())),
                    APP_IMPORT,
                    "snapshot_date",
                )
            )
    marks = pa.schema(
        [
            ("table_name", pa.string()),
            ("cursor_value", pa.string()),
            ("mode", pa.string()),
            ("rows_loaded", pa.int64()),
            ("run_date", pa.date32()),
            ("imported_at", pa.timestamp("us")),  # UTC, naive like the app tables
        ]
    )
    out.append(DeclaredTable("raw.applicative_import_watermarks", marks, APP_IMPORT))
    return out


def _nullable(schema: pa.Schema) -> pa.Schema:
    """Producers create nullable columns (dlt, the import's CREATE ... AS SELECT): so does the catalog."""
    return pa.schema([f.with_nullable(True) for f in schema])


def connector_tables(connector: type) -> list[DeclaredTable]:
    """The tables of one connector class (`etl_core.Connector`)."""
    out = []
    for spec in connector.tables:
        schema = _nullable(spec.arrow_schema)
        partition = spec.partition
        if partition and not _is_day(schema, partition):
            partition = None
        out.append(
            DeclaredTable(spec.qualified_name, schema, f"data-gcp etl run {connector.name}", partition)
        )
    return out


def _is_day(schema: pa.Schema, name: str) -> bool:
    index = schema.get_field_index(name)
    return index >= 0 and (
        pa.types.is_date(schema.field(index).type) or pa.types.is_timestamp(schema.field(index).type)
    )


def declared_tables() -> dict[str, DeclaredTable]:
    """Every declared table by logical name (`raw.batch_campaign_stats`): app import, then connectors."""
    from data_gcp.etl_core import list_connectors

    tables: dict[str, DeclaredTable] = {}
    found = _app_tables() + [t for c in list_connectors() for t in connector_tables(c)]
    for table in found:
        if table.table in tables:
            raise CatalogError(
                f"{table.table} is declared twice ({tables[table.table].producer}, {table.producer}): "
                "rename one of the TableSpecs"
            )
        tables[table.table] = table
    return tables


def ensure_tables(warehouse: Warehouse, tables: Iterable[DeclaredTable] | None = None) -> list[str]:
    """Create every declared table missing from the warehouse, empty with its schema; returns those created.

    Existing tables are never altered: a producer's own table stays as its load made it.
    """
    wanted = list(declared_tables().values() if tables is None else tables)
    return warehouse.create_missing_tables(
        {t.table: t.schema for t in wanted},
        {t.table: t.partition for t in wanted if t.partition},
        require_partition_filter={t.table for t in wanted if t.partition and t.require_partition_filter},
    )
