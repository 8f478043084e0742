"""The pro portal's statistics, written to a real ClickHouse (embedded, chdb) and read back: a day
replaces its partition, events land in their own day, the analytics tables add up, errors say what
to do."""

from __future__ import annotations

import datetime as dt
import socket

import pyarrow as pa
import pytest

from data_gcp.config import Settings
from data_gcp.pro_clickhouse import (
    INTERMEDIATE_TABLES,
    ClickHouseError,
    ClickHouseExportError,
    EmbeddedClickHouse,
    ServerClickHouse,
    connect,
    export_pro_statistics,
)
from data_gcp.warehouse import get_warehouse

DAY1, DAY2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
SPECS = {s.name: s for s in INTERMEDIATE_TABLES}


def _bookings(amounts: list[float], statuses: list[str]) -> pa.Table:
    n = len(amounts)
    return pa.table(
        {
            "venue_id": ["1" if i % 2 == 0 else "2" for i in range(n)],
            "offerer_id": ["10"] * n,
            "offer_id": [str(100 + i) for i in range(n)],
            "creation_date": pa.array([dt.date(2026, 11, 3 + i) for i in range(n)], pa.date32()),
            "used_date": pa.array([None] * n, pa.date32()),
            "booking_status": statuses,
            "deposit_type": ["GRANT_18"] * n,
            "booking_quantity": [1] * n,
            "booking_amount": amounts,
        }
    )


def _load(settings: Settings, bookings: pa.Table, events_per_day: dict[dt.date, int], skip: str = "") -> None:
    wh = get_warehouse(settings)
    tables = {
        "booking": bookings,
        "collective_booking": pa.table(
            {
                "venue_id": ["1"],
                "offerer_id": ["10"],
                "collective_offer_id": ["7"],
                "creation_date": pa.array([dt.date(2026, 11, 5)], pa.date32()),
                "used_date": pa.array([dt.date(2026, 11, 20)], pa.date32()),
                "reimbursement_date": pa.array([None], pa.date32()),
                "collective_booking_status": ["USED"],
                "educational_institution_id": ["5"],
                "number_of_tickets": [25],
                "booking_amount": [300.0],
            }
        ),
        "venue_offer_statistic": pa.table(
            {
                c: (["1", "2"] if c == "venue_id" else [3, 0])
                for c, _ in SPECS["venue_offer_statistic"].columns
            }
        ),
        "native_event": pa.table(
            {
                "partition_date": pa.array(
                    [d for d, n in events_per_day.items() for _ in range(n)], pa.date32()
                ),
                "event_name": ["ConsultOffer"] * sum(events_per_day.values()),
                "event_timestamp": pa.array(
                    [dt.datetime.combine(d, dt.time(9)) for d, n in events_per_day.items() for _ in range(n)],
                    pa.timestamp("us"),
                ),
                "offer_id": ["100"] * sum(events_per_day.values()),
                "venue_id": ["1"] * sum(events_per_day.values()),
                "origin": [None] * sum(events_per_day.values()),
                "is_consult_venue": [0] * sum(events_per_day.values()),
                "is_consult_offer": [1] * sum(events_per_day.values()),
                "is_add_to_favorites": [0] * sum(events_per_day.values()),
            }
        ),
    }
    for name, data in tables.items():
        if name != skip:
            wh.load(SPECS[name].model, data, mode="replace")


def _read(settings: Settings, sql: str) -> list[dict]:
    client = EmbeddedClickHouse(settings.local_data_dir / "clickhouse")
    try:
        return client.query_arrow(sql).to_pylist()
    finally:
        client.close()


def test_a_day_replaces_its_partition_and_the_analytics_add_up(settings) -> None:
    _load(settings, _bookings([10.0, 20.0, 5.0], ["USED", "CONFIRMED", "REIMBURSED"]), {DAY1: 4, DAY2: 2})
    export_pro_statistics(DAY1, settings=settings)
    export_pro_statistics(DAY2, settings=settings)
    # the day is re-run after a fix: one booking less, the partition is replaced, nothing duplicated
    _load(settings, _bookings([10.0, 20.0], ["USED", "CONFIRMED"]), {DAY1: 4, DAY2: 3})
    written = export_pro_statistics(DAY2, settings=settings)
    assert {w.table: w.rows for w in written} == {
        "intermediate.booking": 2,
        "intermediate.collective_booking": 1,
        "intermediate.venue_offer_statistic": 2,
        "intermediate.native_event": 3,
    }
    per_day = _read(
        settings, "SELECT update_date, count() AS n FROM intermediate.booking GROUP BY 1 ORDER BY 1"
    )
    assert per_day == [{"update_date": DAY1, "n": 3}, {"update_date": DAY2, "n": 2}]
    events = _read(
        settings, "SELECT partition_date, count() AS n FROM intermediate.native_event GROUP BY 1 ORDER BY 1"
    )
    assert events == [{"partition_date": DAY1, "n": 4}, {"partition_date": DAY2, "n": 3}]
    # the portal's tables, from the newest partitions: venue 1 used 10 EUR in November, venue 2 has
    # 20 EUR still to come; the school booking (300 EUR, used) is venue 1's
    revenue = _read(
        settings,
        "SELECT venue_id, sum(individual_revenue) AS ir, sum(individual_expected_revenue) AS ie, "
        "sum(collective_revenue) AS cr FROM analytics.monthly_aggregated_venue_revenue "
        "GROUP BY venue_id ORDER BY venue_id",
    )
    assert revenue == [
        {"venue_id": "1", "ir": 10.0, "ie": 10.0, "cr": 300.0},
        {"venue_id": "2", "ir": 0.0, "ie": 20.0, "cr": 0.0},
    ]
    consultations = _read(
        settings,
        "SELECT event_date, consultation_cnt FROM analytics.daily_aggregated_venue_offer_consultation ORDER BY 1",
    )
    assert consultations == [
        {"event_date": DAY1, "consultation_cnt": 4},
        {"event_date": DAY2, "consultation_cnt": 3},
    ]


def test_only_the_newest_snapshots_are_kept_and_an_empty_day_drops_its_events(settings) -> None:
    _load(settings, _bookings([1.0], ["USED"]), {DAY1: 2})
    for day in range(1, 5):
        export_pro_statistics(dt.date(2026, 12, day), settings=settings, keep_days=2)
    days = _read(
        settings, "SELECT DISTINCT update_date AS d FROM intermediate.venue_offer_statistic ORDER BY d"
    )
    assert [r["d"] for r in days] == [dt.date(2026, 12, 3), dt.date(2026, 12, 4)]
    _load(settings, _bookings([1.0], ["USED"]), {})  # the events of the 1st were deleted upstream
    export_pro_statistics(DAY1, settings=settings, keep_days=2)
    assert _read(settings, "SELECT count() AS n FROM intermediate.native_event") == [{"n": 0}]


def test_a_missing_model_or_column_names_what_to_rebuild(settings) -> None:
    _load(settings, _bookings([1.0], ["USED"]), {DAY1: 1}, skip="native_event")
    with pytest.raises(
        ClickHouseExportError, match=r"export_clickhouse__native_event does not exist.*dbt build"
    ):
        export_pro_statistics(DAY1, settings=settings)
    _load(settings, _bookings([1.0], ["USED"]).drop_columns(["deposit_type"]), {DAY1: 1})
    with pytest.raises(
        ClickHouseExportError, match=r"export_clickhouse__booking lacks the columns \['deposit_type'\]"
    ):
        export_pro_statistics(DAY1, settings=settings)


def test_a_server_that_does_not_answer_or_a_cloud_without_one_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(
        ClickHouseError, match=rf"cannot connect to ClickHouse at http://pro@127.0.0.1:{port}"
    ):
        ServerClickHouse(f"http://pro:pw@127.0.0.1:{port}", None)
    with pytest.raises(ClickHouseError, match="must be http"):
        ServerClickHouse("clickhouse.example:9000", None)
    with pytest.raises(ClickHouseError, match="DATA_GCP_CLICKHOUSE_URL is required when DATA_GCP_ENV=prod"):
        connect(Settings(env="prod", project_id="p"))
