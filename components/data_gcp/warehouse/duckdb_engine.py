"""DuckDB engine: a single file under the local data folder, one connection per operation.

Why one connection per operation: dbt-duckdb and Airflow tasks open the same file; holding a
connection open would lock them out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from data_gcp.config import Settings
from data_gcp.warehouse.base import (
    Data,
    LoadResult,
    Warehouse,
    WarehouseError,
    WriteMode,
    check_identifier,
    split_table,
    tables_by_dataset,
    to_arrow,
    validate_load,
)


class DuckDBWarehouse(Warehouse):
    engine = "duckdb"

    def __init__(self, settings: Settings, path: Path | None = None) -> None:
        super().__init__(settings)
        self.path = Path(path or settings.duckdb_path)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection to the warehouse file (created on first use)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path), read_only=read_only and self.path.exists())
        try:
            yield con
        finally:
            con.close()

    def _qualify(self, dataset: str, name: str) -> str:
        return f'"{dataset}"."{name}"'

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        with self.connect() as con:
            try:
                con.execute(sql, params or None)
            except duckdb.Error as err:
                raise WarehouseError(f"query failed on {self.path}: {err}") from err

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        with self.connect() as con:
            try:
                return con.execute(sql, params or None).fetch_arrow_table()
            except duckdb.Error as err:
                raise WarehouseError(f"query failed on {self.path}: {err}") from err

    def create_dataset(self, dataset: str) -> None:
        with self.connect() as con:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.settings.dataset(check_identifier(dataset))}"')

    def _exists(self, con: duckdb.DuckDBPyConnection, table: str) -> bool:
        dataset, name = split_table(table)
        return bool(
            con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [self.settings.dataset(dataset), name],
            ).fetchone()[0]
        )

    def table_exists(self, table: str) -> bool:
        if not self.path.exists():
            return False
        with self.connect() as con:
            return self._exists(con, table)

    def schema(self, table: str) -> pa.Schema:
        with self.connect() as con:
            if not self._exists(con, table):
                raise WarehouseError(f"table {table} does not exist in {self.path}")
            return con.execute(f"SELECT * FROM {self.physical(table)} LIMIT 0").fetch_arrow_table().schema

    def row_count(self, table: str) -> int:
        with self.connect() as con:
            if not self._exists(con, table):
                raise WarehouseError(f"table {table} does not exist in {self.path}")
            return con.execute(f"SELECT count(*) FROM {self.physical(table)}").fetchone()[0]

    def list_tables(self, dataset: str) -> list[str]:
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
                [self.settings.dataset(check_identifier(dataset))],
            ).fetchall()
        return [r[0] for r in rows]

    def drop_table(self, table: str) -> None:
        with self.connect() as con:
            con.execute(f"DROP TABLE IF EXISTS {self.physical(table)}")

    def create_missing_tables(
        self,
        tables: dict[str, pa.Schema],
        partitions: dict[str, str] | None = None,
        require_partition_filter: set[str] | frozenset[str] = frozenset(),
    ) -> list[str]:
        created = []
        with self.connect() as con:
            for dataset, names in tables_by_dataset(tables).items():
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.settings.dataset(dataset)}"')
                for table in names:
                    if self._exists(con, table):
                        continue
                    # from an empty Arrow table: exactly the types a load of that schema creates
                    con.register("__declared_empty", tables[table].empty_table())
                    try:
                        con.execute(f"CREATE TABLE {self.physical(table)} AS SELECT * FROM __declared_empty")
                    finally:
                        con.unregister("__declared_empty")
                    created.append(table)
        return created

    def _add_missing_columns(self, con: duckdb.DuckDBPyConnection, target: str) -> None:
        """New columns in the data are added to the table (schema evolution, never dropping)."""
        existing = {r[0] for r in con.execute(f"DESCRIBE {target}").fetchall()}
        for row in con.execute("DESCRIBE __incoming").fetchall():
            name, dtype = row[0], row[1]
            if name not in existing:
                con.execute(f'ALTER TABLE {target} ADD COLUMN "{name}" {dtype}')

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
        mode = WriteMode(mode)
        arrow = to_arrow(data)
        validate_load(table, arrow, mode, partition_column, partition_date, key_columns)
        dataset, _ = split_table(table)
        target = self.physical(table)
        with self.connect() as con:
            con.register("__incoming", arrow)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.settings.dataset(dataset)}"')
                if mode is WriteMode.replace:
                    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM __incoming")
                else:
                    con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM __incoming LIMIT 0")
                    self._add_missing_columns(con, target)
                    if mode is WriteMode.replace_partition:
                        con.execute(
                            f'DELETE FROM {target} WHERE CAST("{partition_column}" AS DATE) = ?',
                            [partition_date],
                        )
                    elif mode is WriteMode.merge:
                        keys = ", ".join(f'"{k}"' for k in key_columns or [])
                        con.execute(
                            f"DELETE FROM {target} WHERE ({keys}) IN (SELECT ({keys}) FROM __incoming)"
                            if len(key_columns or []) > 1
                            else f"DELETE FROM {target} WHERE {keys} IN (SELECT {keys} FROM __incoming)"
                        )
                    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM __incoming")
                rows_after = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
                con.execute("COMMIT")
            except Exception as err:
                con.execute("ROLLBACK")
                if isinstance(err, WarehouseError):
                    raise
                raise WarehouseError(f"{mode.value} load into {table} failed: {err}") from err
            finally:
                con.unregister("__incoming")
        return LoadResult(table=table, mode=mode, rows_loaded=arrow.num_rows, rows_after=rows_after)
