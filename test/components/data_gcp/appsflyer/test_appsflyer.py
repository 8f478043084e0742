"""AppsFlyer connector against its local Pull API server: four CSV reports per app, strict 429s."""

from __future__ import annotations

import datetime as dt
import logging

import pyarrow.compute as pc
import pytest

from data_gcp.appsflyer import report_window
from data_gcp.etl_core import DateWindow
from data_gcp.http_client import SourceError
from data_gcp.vendor_servers import fake_data
from data_gcp.vendor_servers.appsflyer import LOCAL_TOKEN

DATA = fake_data(n_fake=600)
DAY = "2026-11-30"
TABLES = (
    "appsflyer_daily_report",
    "appsflyer_partner_report",
    "appsflyer_installs",
    "appsflyer_in_app_events",
)
FAULTS = {
    "429 with Retry-After": {"kind": "status", "status": 429, "retry_after": 7},
    "429 without Retry-After": {"kind": "status", "status": 429},
    "5xx burst": {"kind": "status", "status": 500, "times": 2},
    "timeout": {"kind": "timeout", "delay": 2.5},
    "truncated body": {"kind": "truncate"},
    "corrupt body": {"kind": "invalid_json"},
    "empty answer": {"kind": "empty"},
}


HARNESS = {
    "system": "appsflyer",
    "data": DATA,
}  # the shared `connector_server` / `vendor` fixtures (test/conftest.py)


@pytest.fixture
def appsflyer(vendor):
    return vendor


def rows(table):
    table = table.drop_columns(["loaded_at"])
    return sorted(table.to_pylist(), key=lambda r: [str(v) for v in r.values()])


def per_app(table) -> dict[str, int]:
    counts = table.group_by("app").aggregate([([], "count_all")]).to_pylist()
    return {r["app"]: r["count_all"] for r in counts}


def test_window_is_the_last_14_days():
    assert report_window(DateWindow.resolve(DAY)) == DateWindow.resolve("2026-11-17", DAY)
    assert report_window(DateWindow.resolve("2026-10-01", DAY)).n_days == 61


def test_four_reports_per_app_in_the_window_then_one_app_rerun_leaves_the_other(appsflyer):
    first = appsflyer.run(DAY)
    calls = appsflyer.server.requests
    assert len(calls) == 8  # 4 reports x 2 apps
    assert {(r.param("from"), r.param("to")) for r in calls} == {("2026-11-17", DAY)}
    assert {r.header("Authorization") for r in calls} == {f"Bearer {LOCAL_TOKEN}"}
    assert {r.path.split("/")[5] for r in calls} == {"id1557887412", "app.passculture.webapp"}
    for name in TABLES:
        assert set(per_app(appsflyer.table(name))) == {"ios", "android"}, name
    installs = appsflyer.table("appsflyer_installs")
    days = installs.column("install_date").to_pylist()
    assert min(days) >= dt.date(2026, 11, 17) and max(days) <= dt.date(2026, 11, 30)
    # installs come before the user's first booking (the sandbox's), and agree with the daily report
    for r in installs.to_pylist():
        if r["customer_user_id"]:
            user = int(r["customer_user_id"])
            assert r["install_time"].replace(tzinfo=None) < DATA.user_created[user]
            assert (
                user not in DATA.first_booking
                or r["install_time"].replace(tzinfo=None) < DATA.first_booking[user]
            )
    daily = appsflyer.table("appsflyer_daily_report")
    paid = pc.sum(pc.filter(daily["installs"], pc.not_equal(daily["media_source"], "Organic"))).as_py()
    assert paid == installs.num_rows
    # re-running one app replaces that app's days only
    before = {name: rows(appsflyer.table(name)) for name in TABLES}
    again = appsflyer.run(DAY, options={"apps": "ios"})
    assert {r.path.split("/")[5] for r in appsflyer.server.requests[8:]} == {"id1557887412"}
    for name in TABLES:
        assert rows(appsflyer.table(name)) == before[name], name
        assert again.rows[name] == per_app(appsflyer.table(name))["ios"]
    assert sum(first.rows.values()) > sum(again.rows.values())


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_each_fault_is_retried_to_the_same_rows(appsflyer, fault):
    baseline = appsflyer.extract(DAY)
    appsflyer.server.requests.clear()
    appsflyer.server.faults.add(route=r"/installs_report/", **FAULTS[fault])
    tables = appsflyer.extract(DAY)
    for name in TABLES:
        assert rows(tables[name]) == rows(baseline[name]), name
    assert len(appsflyer.server.requests) == 8 + FAULTS[fault].get("times", 1)
    if fault.startswith("429"):  # never less than AppsFlyer's minute, whatever Retry-After says
        assert appsflyer.clock.sleeps == [60.0]


def test_an_empty_raw_report_twice_fails_instead_of_losing_installs(appsflyer):
    appsflyer.server.faults.add("empty", r"/installs_report/", times=-1)
    with pytest.raises(
        SourceError, match=r"installs_report/v5 failed: ios: appsflyer_installs is empty twice"
    ):
        appsflyer.extract(DAY)


def test_429_budget_exhausted_stops_the_run_cleanly(appsflyer, caplog):
    appsflyer.server.faults.add("status", r"/daily_report/", status=429, retry_after=1, times=-1)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        appsflyer.run(DAY)
    message = str(err.value)
    assert message.startswith(
        "appsflyer: GET /api/agg-data/export/app/id1557887412/daily_report/v5 failed (HTTP 429)"
    )
    assert "quota is exhausted" in message and "nothing was written" in message
    assert len(appsflyer.server.requests) == 4  # the 3 tolerated 429s, then the one over budget
    assert all(appsflyer.table(name) is None for name in TABLES)
    assert LOCAL_TOKEN not in caplog.text and LOCAL_TOKEN not in message


def test_bounded_retries_and_refused_token_fail_naming_the_system(appsflyer, caplog):
    appsflyer.server.faults.add("status", r"/in_app_events_report/", status=500, times=-1)
    with pytest.raises(
        SourceError, match=r"appsflyer: .*in_app_events_report/v5 failed \(HTTP 500\) after 5"
    ):
        appsflyer.extract(DAY)
    appsflyer.server.faults.clear()
    appsflyer.server.faults.add("status", None, status=401, times=-1)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError, match=r"\(HTTP 401\)") as err:
        appsflyer.run(DAY)
    assert LOCAL_TOKEN not in caplog.text and LOCAL_TOKEN not in str(err.value)
    assert appsflyer.table("appsflyer_installs") is None


def _by_day(table, column) -> dict:
    out: dict = {}
    for r in table.to_pylist():
        out[(r["app"], r[column])] = out.get((r["app"], r[column]), 0) + 1
    return out


def test_a_capped_raw_report_keeps_the_loaded_days_and_warns(appsflyer, caplog):
    appsflyer.run(DAY)
    before = _by_day(appsflyer.table("appsflyer_installs"), "install_date")
    n_ios = sum(n for (app, _), n in before.items() if app == "ios")
    # AppsFlyer cuts a raw report at maximum_rows without saying so
    with caplog.at_level(logging.WARNING):
        appsflyer.run(DAY, options={"raw_max_rows": str(n_ios // 2)})
    assert _by_day(appsflyer.table("appsflyer_installs"), "install_date") == before
    assert {r.param("maximum_rows") for r in appsflyer.server.requests_to("/installs_report/")} >= {
        str(n_ios // 2)
    }
    assert "capped" in caplog.text and "kept as loaded" in caplog.text


def test_raw_installs_short_of_the_daily_report_keep_that_day(appsflyer, caplog):
    appsflyer.run(DAY)
    before = _by_day(appsflyer.table("appsflyer_installs"), "install_date")
    (app, day), n = max(before.items(), key=lambda kv: kv[1])

    def drop_day(body: bytes) -> bytes:  # the raw report silently misses most of one day
        lines = body.decode().splitlines(keepends=True)
        head, rest = lines[0], lines[1:]
        on_day = [
            line for line in rest if f",{day.isoformat()} " in line or line.startswith(f"{day.isoformat()} ")
        ]
        keep = set(on_day[: len(on_day) // 3])
        return (head + "".join(line for line in rest if line not in on_day or line in keep)).encode()

    app_id = {"ios": "id1557887412", "android": "app.passculture.webapp"}[app]
    appsflyer.server.faults.add("transform", rf"/{app_id}/installs_report/", times=-1, transform=drop_day)
    appsflyer.server.requests.clear()
    with caplog.at_level(logging.WARNING):
        appsflyer.run(DAY)
    assert _by_day(appsflyer.table("appsflyer_installs"), "install_date") == before
    assert len(appsflyer.server.requests_to(rf"/{app_id}/installs_report/")) == 2  # read once more
    assert "fewer raw installs than the daily report" in caplog.text


def test_the_partner_report_keeps_the_campaign_so_keys_are_unique(appsflyer):
    tables = appsflyer.extract(DAY, objects="partner_report")
    partner = tables["appsflyer_partner_report"].to_pylist()
    keys = [(r["app"], r["report_date"], r["agency"], r["media_source"], r["campaign"]) for r in partner]
    assert len(keys) == len(set(keys)) and any(r["campaign"] for r in partner)


def test_a_rerun_within_the_minute_waits_for_the_aggregated_reports(appsflyer):
    appsflyer.server.app.state["minute_limit"] = appsflyer.clock.monotonic
    appsflyer.server.app.state["last_call"].clear()
    try:
        appsflyer.run(DAY)
        appsflyer.clock.sleeps.clear()
        result = appsflyer.run(DAY)  # at once: each aggregated report answers 429 "Limit reached"
    finally:
        appsflyer.server.app.state["minute_limit"] = None
    assert result.rows["appsflyer_daily_report"] > 0
    assert 60.0 in appsflyer.clock.sleeps
    assert appsflyer.clock.sleeps.count(60.0) == 1  # one wait of a minute, then every report answers
