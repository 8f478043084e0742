"""One warehouse interface, two engines: DuckDB locally, BigQuery in the cloud.

Tables are named logically as `<dataset>.<table>` (`raw.applicative_database_user`); the engine maps
the dataset to its physical name (`raw` locally, `raw_prod` in prod) through the config.
"""

from data_gcp.warehouse.base import LoadResult, Warehouse, WarehouseError, WriteMode, bigquery_type
from data_gcp.warehouse.bigquery_engine import BigQueryWarehouse
from data_gcp.warehouse.duckdb_engine import DuckDBWarehouse
from data_gcp.warehouse.factory import get_warehouse
from data_gcp.warehouse.writer_lock import (
    WriterLockHolder,
    warehouse_writer,
    writer_lock_holder,
    writer_lock_path,
)

__all__ = [
    "BigQueryWarehouse",
    "DuckDBWarehouse",
    "LoadResult",
    "Warehouse",
    "WarehouseError",
    "WriteMode",
    "WriterLockHolder",
    "bigquery_type",
    "get_warehouse",
    "warehouse_writer",
    "writer_lock_holder",
    "writer_lock_path",
]
