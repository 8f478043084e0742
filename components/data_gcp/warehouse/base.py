"""The warehouse contract shared by both engines."""

from __future__ import annotations

import datetime as dt
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (makes pa.compute available)
import pyarrow.parquet as pq

from data_gcp.config import DataGcpError, Settings

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Data = pa.Table | pa.RecordBatchReader | Path | str


class WarehouseError(DataGcpError):
    """A warehouse operation failed; the message names the table and the operation."""


class WriteMode(StrEnum):
    append = "append"
    replace = "replace"
    replace_partition = "replace_partition"
    merge = "merge"


@dataclass(frozen=True)
class LoadResult:
    table: str
    mode: WriteMode
    rows_loaded: int
    rows_after: int


def check_identifier(name: str, what: str = "identifier") -> str:
    """Identifiers are interpolated into SQL, so they must be plain names."""
    if not _IDENT.match(name):
        raise WarehouseError(f"invalid {what} {name!r}: use letters, digits and '_' only")
    return name


def split_table(table: str) -> tuple[str, str]:
    """`raw.user` -> ("raw", "user"); both parts checked."""
    parts = table.split(".")
    if len(parts) != 2:
        raise WarehouseError(f"table {table!r} must be written <dataset>.<table>")
    return check_identifier(parts[0], "dataset"), check_identifier(parts[1], "table name")


def to_arrow(data: Data) -> pa.Table:
    """Accept an Arrow table, a batch reader, or a Parquet file/folder path."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    path = Path(data)
    if not path.exists():
        raise WarehouseError(f"no Parquet data at {path}")
    return pq.read_table(path)


def validate_load(
    table: str,
    data: pa.Table,
    mode: WriteMode,
    partition_column: str | None,
    partition_date: dt.date | None,
    key_columns: list[str] | None,
) -> None:
    """Checks common to both engines, so that a bad load fails before anything is written."""
    names = set(data.column_names)
    for col in data.column_names:
        check_identifier(col, f"column of {table}")
    if mode is WriteMode.replace_partition:
        if not partition_column or partition_date is None:
            raise WarehouseError(f"replace_partition on {table} needs partition_column and partition_date")
        if partition_column not in names:
            raise WarehouseError(f"replace_partition on {table}: column {partition_column!r} not in the data")
        col = data.column(partition_column)
        if data.num_rows:
            # distinct values only: a day's partition can hold millions of rows
            values = {
                v.date() if isinstance(v, dt.datetime) else v for v in pa.compute.unique(col).to_pylist()
            }
            if values != {partition_date}:
                other = sorted(str(v) for v in values - {partition_date})[:3]
                raise WarehouseError(
                    f"replace_partition on {table} for {partition_date}: rows of other days in the data ({', '.join(other)})"
                )
    if mode is WriteMode.merge:
        if not key_columns:
            raise WarehouseError(f"merge into {table} needs key_columns")
        missing = [k for k in key_columns if k not in names]
        if missing:
            raise WarehouseError(f"merge into {table}: key columns {missing} not in the data")
        if data.num_rows:
            keys = data.select(key_columns).group_by(key_columns).aggregate([([], "count_all")])
            dupes = keys.filter(pa.compute.greater(keys.column("count_all"), 1))
            if dupes.num_rows:
                raise WarehouseError(
                    f"merge into {table}: {dupes.num_rows} key(s) appear more than once in the data, "
                    f"e.g. {dupes.slice(0, 1).drop(['count_all']).to_pylist()[0]}"
                )


def bigquery_type(dtype: pa.DataType) -> str:
    """The BigQuery column type a load of this Arrow type creates (Parquet load, dlt)."""
    if pa.types.is_boolean(dtype):
        return "BOOL"
    if pa.types.is_integer(dtype):
        return "INT64"
    if pa.types.is_floating(dtype):
        return "FLOAT64"
    if pa.types.is_decimal(dtype):
        return "NUMERIC"
    if pa.types.is_date(dtype):
        return "DATE"
    if pa.types.is_timestamp(dtype):
        return "TIMESTAMP"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "STRING"
    if pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return "BYTES"
    raise WarehouseError(f"no BigQuery column type for Arrow type {dtype}")


def tables_by_dataset(tables: dict[str, pa.Schema]) -> dict[str, list[str]]:
    """Logical table names grouped by dataset (each checked), datasets sorted."""
    out: dict[str, list[str]] = {}
    for table in tables:
        out.setdefault(split_table(table)[0], []).append(table)
    return dict(sorted(out.items()))


class Warehouse(ABC):
    """Operations every engine provides. SQL is the engine's dialect; tables are logical names."""

    engine: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def physical(self, table: str) -> str:
        """The engine's quoted name for a logical `<dataset>.<table>`."""
        dataset, name = split_table(table)
        return self._qualify(self.settings.dataset(dataset), name)

    @abstractmethod
    def _qualify(self, dataset: str, name: str) -> str: ...

    @abstractmethod
    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run a statement (named parameters as `$name` on DuckDB, `@name` on BigQuery)."""

    @abstractmethod
    def query(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        """Run a query and return its result as Arrow."""

    @abstractmethod
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
        """Load Arrow/Parquet into a table atomically: a failed load leaves the table as it was."""

    @abstractmethod
    def table_exists(self, table: str) -> bool: ...

    @abstractmethod
    def schema(self, table: str) -> pa.Schema: ...

    @abstractmethod
    def row_count(self, table: str) -> int: ...

    @abstractmethod
    def create_dataset(self, dataset: str) -> None: ...

    @abstractmethod
    def list_tables(self, dataset: str) -> list[str]: ...

    @abstractmethod
    def drop_table(self, table: str) -> None: ...

    @abstractmethod
    def create_missing_tables(
        self,
        tables: dict[str, pa.Schema],
        partitions: dict[str, str] | None = None,
        require_partition_filter: set[str] | frozenset[str] = frozenset(),
    ) -> list[str]:
        """Create each of `tables` (logical name -> Arrow schema) that does not exist, empty, with the
        engine types a load of that schema would create; `partitions`: table -> its day column;
        `require_partition_filter`: the tables a query must filter on it (BigQuery only).
        Existing tables are left as they are. Returns the tables created."""
