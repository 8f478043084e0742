"""Nightly copy of the app database into the raw layer (`raw.applicative_database_<table>`).

Incremental where the source has cursors (merged on primary keys), full with `full=True` or on the
first run; events into `raw.firebase_events` by day; daily history of offer, stock, booking and
venue in `clean`. Locally the source is read into Arrow (ADBC drivers, else SQLAlchemy) and
streamed into one DuckDB transaction; in the cloud BigQuery reads Cloud SQL through `EXTERNAL_QUERY`.
"""

from data_gcp.applicative_import.bigquery import (
    columns_check_sql,
    external_query_sql,
    finalize_script,
    postgres_query,
)
from data_gcp.applicative_import.core import ImportResult, import_applicative
from data_gcp.applicative_import.local import TableResult, read_watermarks
from data_gcp.applicative_import.spec import (
    WATERMARK_TABLE,
    ImportError_,
    Plan,
    history_table,
    import_tables,
    keys_plan,
    plan_table,
)

__all__ = [
    "WATERMARK_TABLE",
    "ImportError_",
    "ImportResult",
    "Plan",
    "TableResult",
    "columns_check_sql",
    "external_query_sql",
    "finalize_script",
    "history_table",
    "import_applicative",
    "import_tables",
    "keys_plan",
    "plan_table",
    "postgres_query",
    "read_watermarks",
]
