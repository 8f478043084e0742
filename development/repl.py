"""REPL / notebook helpers: `from development.repl import *` in a Python shell at the workspace root.

Why: exploring the warehouse or the bucket should take one line, with the same settings the jobs use.
"""

from __future__ import annotations

import pyarrow as pa

from data_gcp.config import Settings, get_settings
from data_gcp.storage import Storage, get_storage
from data_gcp.warehouse import Warehouse, get_warehouse

__all__ = ["bucket", "settings", "sql", "tables", "wh"]


def settings() -> Settings:
    return get_settings()


def wh() -> Warehouse:
    return get_warehouse()


def bucket() -> Storage:
    return get_storage()


def sql(query: str) -> pa.Table:
    """Run a query on the current warehouse; `.to_pandas()` the result in a notebook."""
    return get_warehouse().query(query)


def tables(dataset: str = "raw") -> list[str]:
    return get_warehouse().list_tables(dataset)
