"""The tables the platform's producers declare (connectors, app database import), created empty
when missing so that no dbt source is ever "not found"; their types feed the SQL type check."""

from data_gcp.table_catalog.core import (
    APP_IMPORT,
    CatalogError,
    DeclaredTable,
    connector_tables,
    declared_tables,
    ensure_tables,
)

__all__ = [
    "APP_IMPORT",
    "CatalogError",
    "DeclaredTable",
    "connector_tables",
    "declared_tables",
    "ensure_tables",
]
