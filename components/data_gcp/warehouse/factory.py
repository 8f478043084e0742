"""Pick the engine from the environment: DuckDB locally, BigQuery in the cloud."""

from __future__ import annotations

from data_gcp.config import Settings, get_settings
from data_gcp.warehouse.base import Warehouse


def get_warehouse(settings: Settings | None = None) -> Warehouse:
    settings = settings or get_settings()
    if settings.is_cloud:
        from data_gcp.warehouse.bigquery_engine import BigQueryWarehouse

        return BigQueryWarehouse(settings)
    from data_gcp.warehouse.duckdb_engine import DuckDBWarehouse

    return DuckDBWarehouse(settings)
