"""BigQuery engine. The client is created lazily so that importing this module touches no network.

Loads go through a staging table in the `tmp` dataset, then one DML statement (or a partition
decorator load) makes them visible, so a failed load never leaves a half-written table.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_gcp.config import Settings
from data_gcp.warehouse.base import (
    Data,
    LoadResult,
    Warehouse,
    WarehouseError,
    WriteMode,
    bigquery_type,
    check_identifier,
    split_table,
    tables_by_dataset,
    to_arrow,
    validate_load,
)


def merge_sql(target: str, staging: str, columns: list[str], key_columns: list[str]) -> str:
    """A BigQuery MERGE that updates matched keys and inserts new ones (pure: tested with sqlglot)."""
    on = " AND ".join(f"T.`{k}` = S.`{k}`" for k in key_columns)
    updates = ", ".join(f"`{c}` = S.`{c}`" for c in columns if c not in key_columns)
    cols = ", ".join(f"`{c}`" for c in columns)
    vals = ", ".join(f"S.`{c}`" for c in columns)
    update_clause = f" WHEN MATCHED THEN UPDATE SET {updates}" if updates else ""
    return (
        f"MERGE {target} T USING {staging} S ON {on}{update_clause} "
        f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({vals})"
    )


def replace_partition_sql(
    target: str, staging: str, columns: list[str], partition_column: str, partition_date: dt.date
) -> str:
    """Delete one day then insert it, in one multi-statement transaction.

    The day is a literal built from a `date` object (never user text), so the statement needs no
    query parameters.
    """
    cols = ", ".join(f"`{c}`" for c in columns)
    day = dt.date.fromisoformat(partition_date.isoformat()).isoformat()
    return (
        "BEGIN TRANSACTION; "
        f"DELETE FROM {target} WHERE DATE(`{partition_column}`) = DATE '{day}'; "
        f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {staging}; "
        "COMMIT TRANSACTION;"
    )


def create_table_sql(
    physical: str, schema: pa.Schema, partition: str | None = None, require_partition_filter: bool = False
) -> str:
    """`CREATE TABLE IF NOT EXISTS` of an empty table with a schema's columns (nullable, as loads
    create them), partitioned by its day column like its producer partitions it (pure: tested); with
    `require_partition_filter`, BigQuery refuses a query on it that does not filter that column."""
    cols = ", ".join(f"`{check_identifier(f.name, 'column')}` {bigquery_type(f.type)}" for f in schema)
    sql = f"CREATE TABLE IF NOT EXISTS {physical} ({cols})"
    if partition:
        column = f"`{check_identifier(partition, 'column')}`"
        kind = bigquery_type(schema.field(partition).type)
        sql += f" PARTITION BY {column if kind == 'DATE' else f'DATE({column})'}"
        if require_partition_filter:
            sql += " OPTIONS (require_partition_filter = TRUE)"
    return sql


def query_parameters(params: dict[str, Any] | None) -> list[Any]:
    """Python values -> BigQuery named scalar parameters."""
    from google.cloud import bigquery

    out = []
    for name, value in (params or {}).items():
        if isinstance(value, bool):
            kind = "BOOL"
        elif isinstance(value, int):
            kind = "INT64"
        elif isinstance(value, float):
            kind = "FLOAT64"
        elif isinstance(value, dt.datetime):
            kind = "TIMESTAMP"
        elif isinstance(value, dt.date):
            kind = "DATE"
        else:
            kind, value = "STRING", None if value is None else str(value)
        out.append(bigquery.ScalarQueryParameter(name, kind, value))
    return out


class BigQueryWarehouse(Warehouse):
    engine = "bigquery"

    def __init__(self, settings: Settings, client: Any | None = None) -> None:
        super().__init__(settings)
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from google.cloud import bigquery

            self._client = bigquery.Client(
                project=self.settings.project_id, location=self.settings.bq_location
            )
        return self._client

    def _qualify(self, dataset: str, name: str) -> str:
        return f"`{self.settings.project_id}.{dataset}.{name}`"

    def _table_id(self, table: str) -> str:
        dataset, name = split_table(table)
        return f"{self.settings.project_id}.{self.settings.dataset(dataset)}.{name}"

    def _job_config(self, params: dict[str, Any] | None) -> Any:
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(query_parameters=query_parameters(params)) if params else None

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self.client.query(sql, job_config=self._job_config(params)).result()

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        return self.client.query(sql, job_config=self._job_config(params)).result().to_arrow()

    def create_dataset(self, dataset: str) -> None:
        from google.cloud import bigquery

        ds = bigquery.Dataset(
            f"{self.settings.project_id}.{self.settings.dataset(check_identifier(dataset))}"
        )
        ds.location = self.settings.bq_location
        self.client.create_dataset(ds, exists_ok=True)

    def table_exists(self, table: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self.client.get_table(self._table_id(table))
            return True
        except NotFound:
            return False

    def schema(self, table: str) -> pa.Schema:
        rows = self.client.list_rows(self._table_id(table), max_results=0)
        return rows.to_arrow().schema

    def row_count(self, table: str) -> int:
        return int(self.client.get_table(self._table_id(table)).num_rows)

    def list_tables(self, dataset: str) -> list[str]:
        ds = f"{self.settings.project_id}.{self.settings.dataset(check_identifier(dataset))}"
        return sorted(t.table_id for t in self.client.list_tables(ds))

    def drop_table(self, table: str) -> None:
        self.client.delete_table(self._table_id(table), not_found_ok=True)

    def create_missing_tables(
        self,
        tables: dict[str, pa.Schema],
        partitions: dict[str, str] | None = None,
        require_partition_filter: set[str] | frozenset[str] = frozenset(),
    ) -> list[str]:
        """One listing per dataset, then one script creating the missing tables of that dataset (a
        job per table would cost seconds each)."""
        created = []
        for dataset, names in tables_by_dataset(tables).items():
            self.create_dataset(dataset)
            existing = set(self.list_tables(dataset))
            missing = [t for t in names if split_table(t)[1] not in existing]
            if not missing:
                continue
            script = ";\n".join(
                create_table_sql(
                    self.physical(t),
                    tables[t],
                    (partitions or {}).get(t),
                    require_partition_filter=t in require_partition_filter,
                )
                for t in missing
            )
            try:
                self.execute(script + ";")
            except Exception as err:
                raise WarehouseError(f"creating the empty tables {', '.join(missing)} failed: {err}") from err
            created += missing
        return created

    def _new_columns(self, table_id: str, arrow: pa.Table) -> bool:
        """Whether the data brings columns the existing table lacks (then the load may add them)."""
        from google.api_core.exceptions import NotFound

        try:
            existing = {f.name for f in self.client.get_table(table_id).schema}
        except NotFound:
            return False
        return bool(set(arrow.column_names) - existing)

    def _load_job(
        self,
        table_id: str,
        arrow: pa.Table,
        disposition: str,
        partition_column: str | None,
        allow_field_addition: bool = False,
    ) -> None:
        from google.cloud import bigquery

        buf = io.BytesIO()
        pq.write_table(arrow, buf)
        buf.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET, write_disposition=disposition
        )
        if allow_field_addition:
            config.schema_update_options = [bigquery.SchemaUpdateOption.ALLOW_FIELD_ADDITION]
        if partition_column:
            config.time_partitioning = bigquery.TimePartitioning(field=partition_column)
        self.client.load_table_from_file(buf, table_id, job_config=config).result()

    def load(
        self,
        table: str,
        data: Data,
        mode: WriteMode | str = WriteMode.append,
        *,
        partition_column: str | None = None,
        partition_date: dt.date | None = None,
        key_columns: list[str] | None = None,
    ) -> LoadResult:
        from google.cloud import bigquery

        mode = WriteMode(mode)
        arrow = to_arrow(data)
        validate_load(table, arrow, mode, partition_column, partition_date, key_columns)
        table_id = self._table_id(table)
        try:
            if mode is WriteMode.append:
                self._load_job(
                    table_id,
                    arrow,
                    bigquery.WriteDisposition.WRITE_APPEND,
                    partition_column,
                    allow_field_addition=self._new_columns(table_id, arrow),
                )
            elif mode is WriteMode.replace:
                self._load_job(table_id, arrow, bigquery.WriteDisposition.WRITE_TRUNCATE, partition_column)
            else:
                staging = f"{self.settings.project_id}.{self.settings.dataset('tmp')}.stg_{split_table(table)[1]}_{uuid.uuid4().hex[:8]}"
                self._load_job(staging, arrow, bigquery.WriteDisposition.WRITE_TRUNCATE, None)
                try:
                    if not self.table_exists(table):
                        self._load_job(
                            table_id,
                            arrow.slice(0, 0),
                            bigquery.WriteDisposition.WRITE_APPEND,
                            partition_column,
                        )
                    if mode is WriteMode.merge:
                        sql = merge_sql(
                            f"`{table_id}`", f"`{staging}`", arrow.column_names, key_columns or []
                        )
                        self.execute(sql)
                    else:
                        assert partition_date is not None  # checked by validate_load
                        sql = replace_partition_sql(
                            f"`{table_id}`",
                            f"`{staging}`",
                            arrow.column_names,
                            partition_column or "",
                            partition_date,
                        )
                        self.execute(sql)
                finally:
                    self.client.delete_table(staging, not_found_ok=True)
        except WarehouseError:
            raise
        except Exception as err:
            raise WarehouseError(f"{mode.value} load into {table} ({table_id}) failed: {err}") from err
        return LoadResult(
            table=table, mode=mode, rows_loaded=arrow.num_rows, rows_after=self.row_count(table)
        )
