"""The pro portal's statistics, written to ClickHouse (a server in the cloud, embedded chdb locally).

Each day replaces its own MergeTree partition (`REPLACE PARTITION` from a staging table), then the
`analytics` tables the portal reads are rebuilt: a re-run of a day duplicates nothing.
"""

from data_gcp.pro_clickhouse.core import (
    ANALYTICS_TABLES,
    INTERMEDIATE_TABLES,
    KEEP_DAYS,
    ClickHouseExportError,
    ClickHouseTable,
    WrittenPartition,
    export_pro_statistics,
    write_partition,
)
from data_gcp.pro_clickhouse.engine import (
    CLICKHOUSE_PASSWORD_SECRET,
    ClickHouse,
    ClickHouseError,
    EmbeddedClickHouse,
    ServerClickHouse,
    connect,
)

__all__ = [
    "ANALYTICS_TABLES",
    "CLICKHOUSE_PASSWORD_SECRET",
    "INTERMEDIATE_TABLES",
    "KEEP_DAYS",
    "ClickHouse",
    "ClickHouseError",
    "ClickHouseExportError",
    "ClickHouseTable",
    "EmbeddedClickHouse",
    "ServerClickHouse",
    "WrittenPartition",
    "connect",
    "export_pro_statistics",
    "write_partition",
]
