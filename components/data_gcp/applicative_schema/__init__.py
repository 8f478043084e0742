"""The app database's tables as the data platform sees them: columns, types, keys and cursors.

One spec read by the sandbox (to create the synthetic source) and by the import (to check the source
and build its queries), so the two can never disagree on a column name or type.
"""

from data_gcp.applicative_schema.core import (
    APP_TABLES,
    POSTGRES_TYPES,
    SQLITE_TYPES,
    TABLES,
    Column,
    TableSpec,
    arrow_schema,
    database_url,
    table_spec,
)

__all__ = [
    "APP_TABLES",
    "POSTGRES_TYPES",
    "SQLITE_TYPES",
    "TABLES",
    "Column",
    "TableSpec",
    "arrow_schema",
    "database_url",
    "table_spec",
]
