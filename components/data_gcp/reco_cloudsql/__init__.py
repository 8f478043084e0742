"""The recommendation tables the app reads back, written to its PostgreSQL database (Cloud SQL).

One transaction per night: each table's rows of the day replace that day's (`import_date`), the
newest days are kept, and the `<table>_mv` views the app reads are refreshed to the newest day.
"""

from data_gcp.reco_cloudsql.core import (
    KEEP_DAYS,
    LOCAL_RECO_DATABASE_URL,
    RECO_DATABASE_URL_SECRET,
    RECO_TABLES,
    RecoDatabaseUnreachable,
    RecoExportError,
    RecoTable,
    WrittenRecoTable,
    connect,
    database_url,
    export_reco_tables,
    safe_url,
    write_tables,
)

__all__ = [
    "KEEP_DAYS",
    "LOCAL_RECO_DATABASE_URL",
    "RECO_DATABASE_URL_SECRET",
    "RECO_TABLES",
    "RecoDatabaseUnreachable",
    "RecoExportError",
    "RecoTable",
    "WrittenRecoTable",
    "connect",
    "database_url",
    "export_reco_tables",
    "safe_url",
    "write_tables",
]
