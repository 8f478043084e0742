"""The incremental models, night after night with late data, give the rows a full refresh gives.

On a copy of the session's built warehouse: the last days of app events are taken out of the raw
layer and the incremental models rebuilt as of the day before them; then each night puts back its
day's events plus events of earlier days arriving late (within the look-back), and cancels a booking
made weeks before (outside the look-back: the booking models rebuild the days such a change moves),
and runs the incremental models for that day only. Their rows are then compared, row for row, with a
full refresh over the same raw data. Only the incremental models and the booking model they read are
run (a few seconds per dbt invocation at the session's scale). Last, a backfill of one of the days
(`data-gcp dbt backfill`) over the full refresh must change no row.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from data_gcp.config import Settings, reset_settings
from data_gcp.warehouse import get_warehouse

SELECT = "config.materialized:incremental int_applicative__booking"
EVENTS = "raw.firebase_events"
BOOKINGS = "raw.applicative_database_booking"


def _incremental_models(target_path: Path) -> dict[str, str]:
    """Name -> relation (schema.table) of every incremental model of the manifest."""
    import json

    manifest = json.loads((target_path / "manifest.json").read_text(encoding="utf-8"))
    return {
        n["name"]: f"{n['schema']}.{n['alias']}"
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("materialized") == "incremental"
    }


def differences(wh, left: str, right: str) -> int:  # noqa: ANN001 - a Warehouse
    """Rows of `left` not in `right` plus rows of `right` not in `left` (multisets; floats to 9
    decimals, so that summation order cannot tell two equal results apart)."""
    schema = wh.query(f"select * from {left} limit 0").schema
    cols = ", ".join(
        f'round("{f.name}", 9) as "{f.name}"' if str(f.type) in ("double", "float") else f'"{f.name}"'
        for f in schema
    )
    sql = (
        f"select (select count(*) from (select {cols} from {left} except all select {cols} from {right})) "
        f"+ (select count(*) from (select {cols} from {right} except all select {cols} from {left})) as n"
    )
    return int(wh.query(sql).column("n")[0].as_py())


@pytest.fixture()
def warehouse_copy(built_project, tmp_path, monkeypatch) -> Settings:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    get_warehouse(built_project.settings).execute("checkpoint")  # the file alone then holds every table
    shutil.copy(built_project.settings.duckdb_path, data_dir / built_project.settings.duckdb_path.name)
    monkeypatch.setenv("DATA_GCP_ENV", "local")
    monkeypatch.setenv("DATA_GCP_DATA_DIR", str(data_dir))
    reset_settings()
    yield Settings(env="local", data_dir=data_dir)
    reset_settings()


def test_incremental_nights_with_late_events_equal_a_full_refresh(built_project, warehouse_copy) -> None:
    from data_gcp import dbt_runner

    settings = warehouse_copy
    wh = get_warehouse(settings)

    def dbt(last: dt.date, full_refresh: bool = False) -> None:
        dbt_runner.run(
            select=SELECT,
            target="ci",
            settings=settings,
            target_path=built_project.target_path,
            full_refresh=full_refresh,
            vars=dbt_runner.run_day_vars(last, last),
        )

    last = wh.query(f"select max(event_date) as d from {EVENTS}").column("d")[0].as_py()
    nights = [last - dt.timedelta(days=2), last - dt.timedelta(days=1), last]
    start = nights[0] - dt.timedelta(days=1)
    # Held back: the nights' days, and one event in four of the two days before them, which arrive
    # late: those of start-1 on the first night (2 days late), of start on the last (3 days late).
    wh.execute(
        f"create table raw.held as select *, case "
        f"when event_date > '{start}' then event_date "
        f"when event_date = '{start - dt.timedelta(days=1)}' then cast('{nights[0]}' as date) "
        f"else cast('{nights[2]}' as date) end as arrives "
        f"from {EVENTS} where event_date > '{start}' "
        f"or (event_date >= '{start - dt.timedelta(days=1)}' and hash(event_timestamp, user_pseudo_id) % 4 = 0)"
    )
    late = wh.query("select count(*) as n from raw.held where arrives > event_date").column("n")[0].as_py()
    assert late > 0, "the sandbox has no events on the days before the nights: nothing arrives late"
    wh.execute(
        f"delete from {EVENTS} where event_date > '{start}' or (event_date >= '{start - dt.timedelta(days=1)}' "
        "and hash(event_timestamp, user_pseudo_id) % 4 = 0)"
    )
    # a booking made weeks before the nights, not cancelled: cancelled on the second night
    old = (
        wh.query(
            f"select booking_id from {BOOKINGS} where booking_status <> 'CANCELLED' and "
            f"cast(booking_creation_date as date) < '{start - dt.timedelta(days=10)}' order by booking_id limit 1"
        )
        .column("booking_id")[0]
        .as_py()
    )

    dbt(start, full_refresh=True)
    columns = ", ".join(f'"{f.name}"' for f in wh.schema(EVENTS))
    for night in nights:
        wh.execute(f"insert into {EVENTS} select {columns} from raw.held where arrives = '{night}'")
        if night == nights[1]:
            wh.execute(
                f"update {BOOKINGS} set booking_status = 'CANCELLED', "
                f"booking_cancellation_date = cast('{night}' as timestamp) + interval 9 hour where booking_id = {old}"
            )
        dbt(night)

    models = _incremental_models(built_project.target_path)
    assert {"int_firebase__event", "int_firebase__session", "mrt_global__daily_booking_kpi"} <= set(models)
    wh.execute("create schema if not exists tmp")
    for name, relation in models.items():
        wh.execute(f"create or replace table tmp.{name} as select * from {relation}")
    dbt(last, full_refresh=True)

    differing = {name: differences(wh, f"tmp.{name}", rel) for name, rel in models.items()}
    assert {name: n for name, n in differing.items() if n} == {}
    assert all(
        wh.query(f"select count(*) as n from tmp.{name}").column("n")[0].as_py() > 0 for name in models
    )
    # a backfill of a day over the full refresh (`data-gcp dbt backfill`) changes no row: idempotent
    dbt_runner.backfill(
        nights[1],
        nights[1],
        select=SELECT,
        target="ci",
        settings=settings,
        target_path=built_project.target_path,
    )
    assert {name: n for name, rel in models.items() if (n := differences(wh, f"tmp.{name}", rel))} == {}
    # the comparison sees a single changed row (the check can fail)
    wh.execute(
        "update tmp.mrt_global__daily_booking_kpi set booking_count = booking_count + 1 "
        "where kpi_id = (select min(kpi_id) from tmp.mrt_global__daily_booking_kpi)"
    )
    assert differences(wh, "tmp.mrt_global__daily_booking_kpi", models["mrt_global__daily_booking_kpi"]) == 2
