"""Batch.com connector against the local Batch server: two apps that must never overwrite each other."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pyarrow.compute as pc
import pytest

from data_gcp.batch.connector import campaign_stats_rows, stats_window
from data_gcp.etl_core import DateWindow
from data_gcp.http_client import SourceError
from data_gcp.vendor_servers import fake_data
from data_gcp.vendor_servers.batch import FIRST_PUSH, GROUPS, LOCAL_APP_KEYS, LOCAL_REST_KEY

N_CAMPAIGNS = {"ios": 130, "android": 115}  # > 100: two pages each
START, END = "2025-02-01", "2025-02-03"  # widened to the 7 days 2025-01-28..2025-02-03


HARNESS = {"system": "batch", "data": fake_data(n_fake=100), "campaigns": N_CAMPAIGNS}


def per_app(table, column: str = "app") -> dict[str, int]:
    counts = table.group_by(column).aggregate([([], "count_all")]).to_pylist()
    return {row[column]: row["count_all"] for row in counts}


def test_stats_rows_split_ab_versions():
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    payload = {
        "campaign_token": "t1",
        "detail": [
            {
                "date": "2025-01-01",
                "sent": 10,
                "direct_open": 1,
                "influenced_open": 0,
                "reengaged": 0,
                "errors": 2,
            },
            {"date": "2025-01-02", "errors": 3, "versions": {"a": {"sent": 5}, "b": {"sent": 6}}},
        ],
    }
    rows = campaign_stats_rows(payload, "ios", at)
    assert [(r["stat_date"].day, r["version"], r["sent"], r["errors"]) for r in rows] == [
        (1, "all", 10, 2),
        (2, "a", 5, None),
        (2, "b", 6, None),
        (2, "all", None, 3),  # the day's errors once: a sum over versions no longer doubles them
    ]
    assert sum(r["errors"] or 0 for r in rows if r["stat_date"].day == 2) == 3
    assert stats_window(DateWindow.resolve("2025-02-03")) == DateWindow.resolve("2025-01-28", "2025-02-03")
    assert stats_window(DateWindow.resolve("2025-01-01", "2025-02-03")).n_days == 34


def test_both_apps_pages_window_then_one_app_rerun_through_faults(vendor, monkeypatch):
    result = vendor.run(START, END)
    lists = vendor.server.requests_to(r"/campaigns/list$")
    assert {(r.path.split("/")[2], r.param("from")) for r in lists} >= {
        (key, offset) for key in LOCAL_APP_KEYS.values() for offset in ("0", "100")
    }
    assert {r.header("X-Authorization") for r in vendor.server.requests} == {LOCAL_REST_KEY}
    campaigns = vendor.table("batch_campaigns")
    assert per_app(campaigns) == N_CAMPAIGNS
    assert set(campaigns.column("snapshot_date").to_pylist()) == {dt.date(2025, 2, 3)}
    ios = set(pc.filter(campaigns["campaign_token"], pc.equal(campaigns["app"], "ios")).to_pylist())
    android = set(pc.filter(campaigns["campaign_token"], pc.equal(campaigns["app"], "android")).to_pylist())
    assert len(ios) == 130 and len(android) == 115 and not ios & android
    # incremental window: transactional stats asked for the 7 days ending at --end, every group, each app
    tx = vendor.server.requests_to(r"/transactional/stats/")
    assert {(r.param("since"), r.param("until")) for r in tx} == {("2025-01-28", "2025-02-03")}
    assert len(tx) == 2 * len(GROUPS)
    transactional = vendor.table("batch_transactional")
    assert per_app(transactional) == {"ios": 7 * len(GROUPS), "android": 7 * len(GROUPS)}
    assert set(transactional.column("stat_date").to_pylist()) == set(
        DateWindow.resolve("2025-01-28", END).days()
    )
    # campaign stats: only the campaigns pushed in the window (one a day from FIRST_PUSH), per app
    pushed = {
        i
        for i in range(130)
        if dt.date(2025, 1, 28) <= (FIRST_PUSH + dt.timedelta(days=i)).date() <= dt.date(2025, 2, 3)
    }
    assert len(vendor.server.requests_to(r"/campaigns/stats/")) == 2 * len(pushed)
    stats = vendor.table("batch_campaign_stats")
    assert set(per_app(stats)) == {"ios", "android"}
    assert set(stats.column("version").to_pylist()) == {"all", "a", "b"}
    assert result.rows["batch_campaigns"] == 245

    # an iOS-only re-run of the same window, through every transient fault: each is retried (bounded),
    # then iOS rows come out identical and Android rows untouched
    monkeypatch.setenv("DATA_GCP_BATCH_APPS", "ios")
    vendor.server.requests.clear()
    faults = vendor.server.faults
    plan = [
        faults.add("status", r"/campaigns/list$", status=429, retry_after=7),
        faults.add("status", r"/campaigns/list$", status=500),
        faults.add("timeout", r"/campaigns/list$", delay=vendor.timeout + 0.5),
        faults.add("truncate", r"/campaigns/list$"),
        faults.add("empty", r"/campaigns/list$", skip=1),  # the 2nd page comes back empty once
        faults.add("invalid_json", r"/transactional/stats/"),
        faults.add("status", r"/campaigns/stats/", status=502, times=2),
    ]
    rerun = vendor.run(START, END)
    assert [f.fired for f in plan] == [1, 1, 1, 1, 1, 1, 2]
    assert 7 in vendor.clock.sleeps
    assert rerun.rows["batch_campaigns"] == 130  # the empty page did not cut the snapshot
    assert all(LOCAL_APP_KEYS["android"] not in r.path for r in vendor.server.requests)
    for name, before in (
        ("batch_campaigns", campaigns),
        ("batch_transactional", transactional),
        ("batch_campaign_stats", stats),
    ):
        after = vendor.table(name)
        assert after.drop_columns([c for c in ("loaded_at",) if c in after.column_names]).equals(
            before.drop_columns([c for c in ("loaded_at",) if c in before.column_names])
        ), name


def test_bounded_retries_then_a_clean_failure_that_writes_nothing(vendor):
    vendor.server.faults.add("status", r"/transactional/stats/", status=503, times=-1)
    with pytest.raises(
        SourceError, match=r"batch: GET /1.1/\*\*\*/transactional/stats/\w+ failed \(HTTP 503\) after 5"
    ):
        vendor.run(START, END)
    assert len(vendor.server.requests_to(r"/transactional/stats/")) == 5
    for name in ("batch_campaigns", "batch_campaign_stats", "batch_transactional"):
        assert vendor.table(name) is None  # the campaigns were read, yet nothing is written


def test_expired_key_fails_cleanly_and_no_key_reaches_logs(vendor, caplog):
    vendor.server.faults.add("status", r"/campaigns/list$", status=500)
    vendor.server.faults.add("status", r"/campaigns/list$", status=401, skip=1, times=-1)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        vendor.run(START, END)
    message = str(err.value)
    assert "batch: GET /1.1/***/campaigns/list failed (HTTP 401)" in message
    assert "retrying" in caplog.text and "campaigns/list" in caplog.text
    for secret in (LOCAL_REST_KEY, *LOCAL_APP_KEYS.values()):
        assert secret not in caplog.text and secret not in message
    assert vendor.table("batch_campaigns") is None


def test_the_documented_429_without_retry_after_waits_at_least_5_seconds(vendor, monkeypatch):
    monkeypatch.setenv("DATA_GCP_BATCH_APPS", "ios")
    # Batch: "wait at least 5 seconds", no Retry-After header; refused 4 times in a row
    vendor.server.faults.add("status", r"/campaigns/list$", status=429, times=4)
    tables = vendor.extract(START, END, objects="campaigns")
    assert tables["batch_campaigns"].num_rows == 130
    assert len(vendor.clock.sleeps) == 4 and min(vendor.clock.sleeps) >= 5.0


def test_a_campaign_list_ignoring_from_fails_instead_of_looping(vendor, monkeypatch):
    monkeypatch.setenv("DATA_GCP_BATCH_APPS", "ios")
    vendor.server.faults.add("repeat", r"/campaigns/list$", skip=1, times=40)
    with pytest.raises(
        SourceError, match=r"batch: GET .*campaigns/list failed: the page at from=100 repeats"
    ):
        vendor.extract(START, END, objects="campaigns")
    assert len(vendor.server.requests_to(r"/campaigns/list$")) == 2


def test_ab_stats_count_the_day_errors_once(vendor, monkeypatch):
    monkeypatch.setenv("DATA_GCP_BATCH_APPS", "ios")
    stats = vendor.extract(START, END, objects="campaign_stats")["batch_campaign_stats"].to_pylist()
    ab_days = {(r["campaign_token"], r["stat_date"]) for r in stats if r["version"] in ("a", "b")}
    assert ab_days
    for token, day in ab_days:
        rows = [r for r in stats if (r["campaign_token"], r["stat_date"]) == (token, day)]
        assert sorted(r["version"] for r in rows) == ["a", "all", "b"]
        assert sum(1 for r in rows if r["errors"] is not None) == 1  # only the day's own row


@pytest.mark.parametrize("key", ["Ab:c@d!e f+g/h#k?y=1", "x'y(z)*~%41é;q,r$s"])
def test_a_key_with_special_characters_never_appears_in_any_form(vendor, caplog, monkeypatch, key):
    """The key is a path segment: it must reach Batch intact and never a log or an error, raw,
    percent-encoded (upper or lower case), as httpx writes a path, or as a query value."""
    from urllib.parse import quote, quote_plus

    import data_gcp.vendor_servers.batch as batch_server

    monkeypatch.setitem(batch_server.LOCAL_APP_KEYS, "ios", key)
    monkeypatch.setitem(vendor.server.app.env, "BATCH_API_KEY_IOS", key)
    monkeypatch.setenv("DATA_GCP_BATCH_APPS", "ios")
    tables = vendor.extract(START, END, objects="campaigns")  # the server found its app by the key
    assert tables["batch_campaigns"].num_rows > 0
    vendor.server.faults.add("status", r"/campaigns/list$", status=500)
    vendor.server.faults.add("status", r"/campaigns/list$", status=401, skip=1, times=-1)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        vendor.extract(START, END, objects="campaigns")
    message = str(err.value)
    assert "batch: GET /1.1/***/campaigns/list failed (HTTP 401)" in message
    path_form = quote(key, safe="!$&'()*+,;=:@~")
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(key, safe=""))
    forms = {key, quote(key, safe=""), lower, quote_plus(key), path_form}
    assert "campaigns/list" in caplog.text
    for form in forms:
        assert form not in caplog.text and form not in message, form
