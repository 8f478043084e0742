"""Write the pro portal's statistics to ClickHouse, one day at a time.

`intermediate.*` tables are the rows the portal aggregates, loaded from the dbt models
`export.export_clickhouse__<table>`, each in MergeTree partitions:

- a snapshot table (`update_date`: bookings, school bookings, offer counts) holds the state of each
  export day; the newest `keep_days` days are kept;
- an event table (`partition_date`: app events) holds the events of each day, all days kept.

A day is written into a staging table, then swapped in with `ALTER TABLE ... REPLACE PARTITION`
(atomic in ClickHouse): a re-run of a day replaces that day's partition, nothing is duplicated; a day
with no rows drops its partition. The `analytics.*` tables the portal reads are then rebuilt from the
newest partitions (`CREATE OR REPLACE TABLE ... AS SELECT`), so they are idempotent too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.log import get_logger
from data_gcp.pro_clickhouse.engine import ClickHouse, connect

log = get_logger(__name__)

KEEP_DAYS = 3
LATE_DAYS = 3  # an event table's day is rewritten while late events may still reach it (dbt's look-back)


class ClickHouseExportError(DataGcpError):
    """The statistics could not be written (missing model, bad column, ClickHouse error)."""


@dataclass(frozen=True)
class ClickHouseTable:
    """One `intermediate` table: its columns (name, ClickHouse type), sort key and partition column."""

    name: str
    description: str
    columns: tuple[tuple[str, str], ...]
    order_by: tuple[str, ...]
    partition: str  # "update_date": a snapshot per export day; "partition_date": the events of a day

    @property
    def model(self) -> str:
        return f"export.export_clickhouse__{self.name}"

    @property
    def target(self) -> str:
        return f"intermediate.{self.name}"

    @property
    def is_snapshot(self) -> bool:
        return self.partition == "update_date"

    def ddl(self, name: str) -> str:
        columns = [("update_date", "Date")] if self.is_snapshot else []
        columns += list(self.columns)
        body = ", ".join(f"`{c}` {t}" for c, t in columns)
        return (
            f"CREATE TABLE IF NOT EXISTS {name} ({body}) ENGINE = MergeTree "
            f"PARTITION BY {self.partition} ORDER BY ({', '.join(self.order_by)})"
        )


INTERMEDIATE_TABLES: tuple[ClickHouseTable, ...] = (
    ClickHouseTable(
        "booking",
        "non-cancelled individual bookings of each venue",
        (
            ("venue_id", "String"),
            ("offerer_id", "String"),
            ("offer_id", "String"),
            ("creation_date", "Date"),
            ("used_date", "Nullable(Date)"),
            ("booking_status", "String"),
            ("deposit_type", "Nullable(String)"),
            ("booking_quantity", "UInt64"),
            ("booking_amount", "Float64"),
        ),
        ("venue_id", "offerer_id", "booking_status", "offer_id"),
        "update_date",
    ),
    ClickHouseTable(
        "collective_booking",
        "non-cancelled school bookings of each venue",
        (
            ("venue_id", "String"),
            ("offerer_id", "String"),
            ("collective_offer_id", "String"),
            ("creation_date", "Date"),
            ("used_date", "Nullable(Date)"),
            ("reimbursement_date", "Nullable(Date)"),
            ("collective_booking_status", "String"),
            ("educational_institution_id", "String"),
            ("number_of_tickets", "UInt64"),
            ("booking_amount", "Float64"),
        ),
        ("venue_id", "offerer_id", "collective_booking_status", "collective_offer_id"),
        "update_date",
    ),
    ClickHouseTable(
        "venue_offer_statistic",
        "active, pending and inactive offers of each venue",
        (
            ("venue_id", "String"),
            ("total_active_offers", "UInt64"),
            ("total_pending_offers", "UInt64"),
            ("total_inactive_non_rejected_offers", "UInt64"),
            ("total_active_collective_offers", "UInt64"),
            ("total_pending_collective_offers", "UInt64"),
            ("total_inactive_non_rejected_collective_offers", "UInt64"),
        ),
        ("venue_id",),
        "update_date",
    ),
    ClickHouseTable(
        "native_event",
        "the app's consultations and favourites of offers, by day",
        (
            ("partition_date", "Date"),
            ("event_name", "String"),
            ("event_timestamp", "Nullable(DateTime64(6))"),
            ("offer_id", "Nullable(String)"),
            ("venue_id", "Nullable(String)"),
            ("origin", "Nullable(String)"),
            ("is_consult_venue", "UInt8"),
            ("is_consult_offer", "UInt8"),
            ("is_add_to_favorites", "UInt8"),
        ),
        ("event_name", "ifNull(venue_id, '')", "ifNull(offer_id, '')"),
        "partition_date",
    ),
)

# What the portal reads: rebuilt from the newest partitions after every export.
ANALYTICS_TABLES: dict[str, str] = {
    "daily_aggregated_venue_offer_consultation": """
        SELECT partition_date AS event_date, assumeNotNull(venue_id) AS venue_id,
               sum(is_consult_offer) AS consultation_cnt
        FROM intermediate.native_event
        WHERE event_name = 'ConsultOffer' AND venue_id IS NOT NULL
        GROUP BY event_date, venue_id""",
    "monthly_aggregated_venue_revenue": """
        WITH
            (SELECT max(update_date) FROM intermediate.booking) AS individual_day,
            (SELECT max(update_date) FROM intermediate.collective_booking) AS collective_day
        SELECT toStartOfMonth(creation_date) AS month, venue_id,
               sumIf(booking_amount, booking_status IN ('USED', 'REIMBURSED')) AS individual_revenue,
               sum(booking_amount) AS individual_expected_revenue,
               0 AS collective_revenue, 0 AS collective_expected_revenue
        FROM intermediate.booking WHERE update_date = individual_day
        GROUP BY month, venue_id
        UNION ALL
        SELECT toStartOfMonth(creation_date) AS month, venue_id, 0, 0,
               sumIf(booking_amount, collective_booking_status IN ('USED', 'REIMBURSED')),
               sum(booking_amount)
        FROM intermediate.collective_booking WHERE update_date = collective_day
        GROUP BY month, venue_id""",
}
ANALYTICS_ORDER_BY = {
    "daily_aggregated_venue_offer_consultation": "(venue_id, event_date)",
    "monthly_aggregated_venue_revenue": "(venue_id, month)",
}


@dataclass(frozen=True)
class WrittenPartition:
    table: str
    day: dt.date
    rows: int


def _day_literal(day: dt.date) -> str:
    return f"'{day.isoformat()}'"


def _conform(spec: ClickHouseTable, data: pa.Table, day: dt.date) -> pa.Table:
    """The rows of `day` with the table's columns in order (the day added to a snapshot table)."""
    names = [c for c, _ in spec.columns]
    missing = sorted(set(names) - set(data.column_names))
    if missing:
        raise ClickHouseExportError(f"{spec.model} lacks the columns {missing}: rebuild it with dbt")
    if spec.is_snapshot:
        data = data.select(names)
        return data.add_column(0, "update_date", pa.array([day] * data.num_rows, pa.date32()))
    dates = pc.cast(data.column(spec.partition), pa.date32())
    return data.filter(pc.equal(dates, pa.scalar(day, pa.date32()))).select(names)


def write_partition(client: ClickHouse, spec: ClickHouseTable, data: pa.Table, day: dt.date) -> int:
    """Replace the table's partition of `day` with `data` (already the day's rows); returns the rows."""
    client.command(spec.ddl(spec.target))
    if data.num_rows == 0:
        client.command(f"ALTER TABLE {spec.target} DROP PARTITION {_day_literal(day)}")
        return 0
    staging = f"tmp.{spec.name}_{day:%Y%m%d}"
    client.command(f"DROP TABLE IF EXISTS {staging}")
    client.command(spec.ddl(staging))
    try:
        client.insert_arrow(staging, data)
        client.command(f"ALTER TABLE {spec.target} REPLACE PARTITION {_day_literal(day)} FROM {staging}")
    finally:
        client.command(f"DROP TABLE IF EXISTS {staging}")
    return data.num_rows


def drop_old_snapshots(client: ClickHouse, spec: ClickHouseTable, keep_days: int) -> None:
    """Keep the newest `keep_days` export days of a snapshot table."""
    days = (
        client.query_arrow(f"SELECT DISTINCT update_date AS d FROM {spec.target} ORDER BY d DESC")
        .column("d")
        .to_pylist()
    )
    for old in days[keep_days:]:
        client.command(f"ALTER TABLE {spec.target} DROP PARTITION {_day_literal(old)}")


def rebuild_analytics(client: ClickHouse) -> None:
    for name, select in ANALYTICS_TABLES.items():
        client.command(
            f"CREATE OR REPLACE TABLE analytics.{name} ENGINE = MergeTree "
            f"ORDER BY {ANALYTICS_ORDER_BY[name]} AS {select}"
        )


def export_pro_statistics(
    day: dt.date | None = None,
    settings: Settings | None = None,
    warehouse: object | None = None,
    client: ClickHouse | None = None,
    keep_days: int = KEEP_DAYS,
) -> list[WrittenPartition]:
    """Write `day` (default: today) of every `intermediate` table, then rebuild the `analytics` ones.

    An event table also rewrites the days before `day` (up to `LATE_DAYS`) that its model holds, so
    the events that arrived late reach ClickHouse."""
    from data_gcp.warehouse import get_warehouse

    if keep_days < 1:
        raise ClickHouseExportError(f"keep_days must be at least 1 (got {keep_days})")
    settings = settings or get_settings()
    day = day or dt.date.today()
    wh = warehouse or get_warehouse(settings)
    frames: dict[ClickHouseTable, list[tuple[dt.date, pa.Table]]] = {}
    for spec in INTERMEDIATE_TABLES:
        if not wh.table_exists(spec.model):
            raise ClickHouseExportError(
                f"{spec.model} does not exist: build the dbt export models first "
                f"(`data-gcp dbt build --select export_clickhouse__{spec.name}`)"
            )
        if spec.is_snapshot:
            frames[spec] = [(day, _conform(spec, wh.query(f"select * from {wh.physical(spec.model)}"), day))]
            continue
        # An event table: the day, and the days before it that the model holds again (late events
        # re-processed by dbt's look-back); only those partitions are read, and a day the model does
        # not hold is left as it is in ClickHouse (the day itself, empty, drops its partition).
        first = day - dt.timedelta(days=LATE_DAYS)
        data = wh.query(
            f"select * from {wh.physical(spec.model)} "
            f"where {spec.partition} between date '{first.isoformat()}' and date '{day.isoformat()}'"
        )
        held = {d for d in data.column(spec.partition).to_pylist() if d is not None}
        days = sorted({d for d in held if d != day}) + [day]
        frames[spec] = [(d, _conform(spec, data, d)) for d in days]
    own = client is None
    ch = client or connect(settings)
    try:
        for database in ("intermediate", "analytics", "tmp"):
            ch.command(f"CREATE DATABASE IF NOT EXISTS {database}")
        written = []
        for spec, parts in frames.items():
            for part_day, data in parts:
                rows = write_partition(ch, spec, data, part_day)
                written.append(WrittenPartition(spec.target, part_day, rows))
                log.info("clickhouse %s: %s rows in the partition of %s", spec.target, rows, part_day)
            if spec.is_snapshot:
                drop_old_snapshots(ch, spec, keep_days)
        rebuild_analytics(ch)
    finally:
        if own:
            ch.close()
    return written
