"""Brevo connector against the local Brevo server: pages, window, faults, idempotence, secrets."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pytest

from data_gcp.etl_core import EmptySourceError, get_connector
from data_gcp.http_client import SourceError
from data_gcp.vendor_servers import connector_harness, email_hash, fake_data, user_email
from data_gcp.vendor_servers.brevo import LOCAL_KEYS

DAY = "2026-11-20"
EVENTS_PER_DAY = 5000  # native: ~3000 "delivered" a day -> 2 pages of 2500 per day


HARNESS = {"system": "brevo", "events_per_day": EVENTS_PER_DAY}


def test_registry_entry_is_importable_without_io():
    connector = get_connector("brevo")
    assert connector.schedule == "0 3 * * *"
    assert {t.name for t in connector.tables} == {"brevo_newsletters", "brevo_transactional"}
    assert connector.secrets == ("brevo-api-key-native", "brevo-api-key-pro")


def test_multi_page_happy_path_and_window(vendor):
    result = vendor.run(DAY, "2026-11-21")
    assert result.rows["brevo_newsletters"] == 150  # 120 native (3 pages of 50) + 30 pro
    campaign_offsets = {r.param("offset") for r in vendor.server.requests_to("/emailCampaigns")}
    assert campaign_offsets == {"0", "50", "100"}
    event_calls = vendor.server.requests_to("/smtp/statistics/events")
    assert {r.param("offset") for r in event_calls if r.param("event") == "delivered"} >= {"0", "2500"}
    # one day at a time (memory bounded by a day, never over Brevo's 90-day limit)
    assert {(r.param("startDate"), r.param("endDate")) for r in event_calls} == {
        (DAY, DAY),
        ("2026-11-21", "2026-11-21"),
    }

    news = vendor.table("brevo_newsletters")
    assert set(news["snapshot_date"].to_pylist()) == {dt.date(2026, 11, 21)}
    assert news["audience"].to_pylist().count("native") == 120

    trans = vendor.table("brevo_transactional")
    assert set(trans["event_date"].to_pylist()) == {dt.date(2026, 11, 20), dt.date(2026, 11, 21)}
    assert set(trans["audience"].to_pylist()) == {"native", "pro"}
    # every event was counted: totals equal the vendor's own aggregated report
    totals = {c: sum(trans[f"{c}_count"].to_pylist()) for c in ("delivered", "opened", "unsubscribed")}
    report = [
        httpx.get(
            f"{vendor.server.url}/smtp/statistics/aggregatedReport",
            params={"startDate": DAY, "endDate": "2026-11-21"},
            headers={"api-key": key},
        ).json()
        for key in LOCAL_KEYS
    ]
    assert totals == {
        "delivered": sum(r["delivered"] for r in report),
        "opened": sum(r["opens"] for r in report),
        "unsubscribed": sum(r["unsubscribed"] for r in report),
    }
    assert totals["delivered"] > 2500  # more than one page

    # re-run of one day of the window: same rows, the other day untouched
    vendor.run(DAY, DAY, objects="transactional")
    assert vendor.table("brevo_transactional").equals(trans)
    # e-mails are stored hashed, and they are the sandbox users' e-mails
    known = {email_hash(user_email(u)) for u in fake_data().user_ids + fake_data().pro_user_ids}
    assert set(trans["email_hash"].to_pylist()) <= known
    assert not any("@" in h for h in trans["email_hash"].to_pylist())


def test_429_with_retry_after_is_honoured_then_succeeds(vendor):
    vendor.server.faults.add("status", r"/smtp/statistics/events", status=429, retry_after=7, times=2)
    tables = vendor.extract(DAY, DAY, objects="transactional")
    assert tables["brevo_transactional"].num_rows > 0
    assert vendor.clock.sleeps.count(7) == 2


def test_500_then_success_and_timeout_then_success(vendor):
    vendor.server.faults.add("status", r"/emailCampaigns", status=500, times=1)
    vendor.server.faults.add("timeout", r"/emailCampaigns", delay=2.5, skip=1, times=1)
    tables = vendor.extract(DAY, DAY, objects="newsletters")
    assert tables["brevo_newsletters"].num_rows == 150
    assert len(vendor.clock.sleeps) == 2  # two backoffs, bounded


def test_truncated_body_and_invalid_json_are_retried(vendor):
    clean = vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"]
    vendor.server.faults.add("truncate", r"/smtp/statistics/events", skip=1)
    vendor.server.faults.add("invalid_json", r"/smtp/statistics/events", skip=2)
    assert vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"].equals(clean)
    assert len(vendor.clock.sleeps) == 2


def test_empty_page_in_the_middle_is_detected_and_reread(vendor):
    expected = vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"]
    vendor.server.faults.add("empty", r"/smtp/statistics/events", skip=1)  # 2nd "delivered" page
    again = vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"]
    assert again.equals(expected)
    assert vendor.server.faults.faults[0].fired == 1


def test_persistently_incomplete_listing_fails_and_writes_nothing(vendor):
    vendor.server.faults.add("empty", r"/smtp/statistics/events", skip=1, times=-1)
    with pytest.raises(SourceError, match="aggregated report counts"):
        vendor.run(DAY, DAY, objects="transactional")
    assert vendor.table("brevo_transactional") is None


def test_report_check_can_be_relaxed_to_a_warning(vendor, caplog):
    vendor.server.faults.add("empty", r"/smtp/statistics/events", skip=1, times=-1)
    tables = vendor.extract(DAY, DAY, objects="transactional", options={"report_check": "warn"})
    assert "aggregated report counts" in caplog.text
    assert tables["brevo_transactional"].num_rows > 0


def test_retries_are_bounded_then_fail_naming_system_endpoint_status(vendor):
    vendor.server.faults.add("status", r"/emailCampaigns", status=503, times=-1)
    with pytest.raises(SourceError) as info:
        vendor.run(DAY, DAY, objects="newsletters")
    message = str(info.value)
    assert "brevo: GET /v3/emailCampaigns failed (HTTP 503) after 5 attempt(s)" in message
    assert len(vendor.server.requests_to("/emailCampaigns")) == 5
    assert vendor.table("brevo_newsletters") is None


def test_expired_key_fails_cleanly_without_leaking_it(vendor, caplog):
    # pro's key expires: native pages already read must not be written either
    vendor.server.faults.add("status", r"/emailCampaigns", status=401, skip=3, times=-1)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as info:
        vendor.run(DAY, DAY)
    assert "(HTTP 401)" in str(info.value) and "GET /v3/emailCampaigns" in str(info.value)
    assert vendor.table("brevo_newsletters") is None and vendor.table("brevo_transactional") is None
    for key in LOCAL_KEYS:
        assert key not in str(info.value)
        assert key not in caplog.text


def test_no_secret_in_logs_of_a_run_with_retries(vendor, caplog):
    caplog.set_level(logging.DEBUG)
    vendor.server.faults.add("status", r"/emailCampaigns", status=500)
    vendor.extract(DAY, DAY, objects="newsletters")
    assert "retrying" in caplog.text
    for key in LOCAL_KEYS:
        assert key not in caplog.text


def test_empty_snapshot_is_an_error_not_a_success(tmp_path):
    with connector_harness("brevo", campaigns={"native": 0, "pro": 0}) as h:
        with pytest.raises(EmptySourceError, match="brevo_newsletters came back empty"):
            h.run(DAY, DAY, objects="newsletters")
        assert h.table("brevo_newsletters") is None


def test_event_dates_with_an_offset_belong_to_their_utc_day(vendor):
    # the server renders times in Europe/Paris (+01:00): 23:xx UTC reads as the next day's 00:xx
    events = vendor.server.requests
    trans = vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"]
    assert set(trans["event_date"].to_pylist()) == {dt.date(2026, 11, 20)}
    page = httpx.get(
        f"{vendor.server.url}/smtp/statistics/events",
        params={"startDate": DAY, "endDate": DAY, "event": "delivered", "limit": 5000},
        headers={"api-key": next(iter(LOCAL_KEYS))},
    ).json()["events"]
    assert page[-1]["date"].startswith("2026-11-21T00:") and page[-1]["date"].endswith("+01:00")
    assert events  # the listing was read through the server


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_brevo_days_read_as_utc_or_paris_days_both_load(vendor, zone):
    """Brevo does not document whose days startDate/endDate select: both readings load the day."""
    vendor.server.app.state["day_zone"] = zone
    try:
        result = vendor.run(DAY, DAY, objects="transactional")
        trans = vendor.table("brevo_transactional")
    finally:
        vendor.server.app.state["day_zone"] = "UTC"
    assert set(trans["event_date"].to_pylist()) == {dt.date(2026, 11, 20)}
    page = vendor.server.requests_to("/smtp/statistics/events")
    assert page and result.rows["brevo_transactional"] == trans.num_rows
    delivered = sum(trans["delivered_count"].to_pylist())
    assert delivered > 0  # the cross-check against the aggregated report held for every event type


def test_an_event_of_neither_reading_of_the_day_is_skipped_with_a_warning(vendor, caplog):
    clean = vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"]

    def stray(body):  # the last event of the page is dated five days later
        events = [dict(e) for e in body["events"]]
        events[-1]["date"] = "2026-11-25T10:00:00.000+01:00"
        return {**body, "events": events}

    vendor.server.faults.add("transform", r"/smtp/statistics/events", times=-1, transform=stray)
    with caplog.at_level("WARNING"):
        got = vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"]
    events = sum(sum(clean[c].to_pylist()) for c in ("delivered_count", "opened_count", "unsubscribed_count"))
    kept = sum(sum(got[c].to_pylist()) for c in ("delivered_count", "opened_count", "unsubscribed_count"))
    pages = len(
        {
            (r.header("api-key"), r.param("event"), r.param("offset"))
            for r in vendor.server.requests_to("/smtp/statistics/events")
        }
    )
    assert kept == events - pages  # one event a page skipped, every other one loaded
    assert "dated 2026-11-25T10:00:00.000+01:00" in caplog.text


def test_a_corrupt_compressed_answer_is_retried_then_fails_naming_brevo(vendor):
    clean = vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"]
    vendor.server.faults.add("corrupt_gzip", r"/smtp/statistics/events", skip=1)
    assert vendor.extract(DAY, DAY, objects="transactional")["brevo_transactional"].equals(clean)
    vendor.server.faults.add("corrupt_gzip", r"/smtp/statistics/events", times=-1)
    with pytest.raises(
        SourceError, match=r"^brevo: GET /v3/smtp/statistics/events failed after 5.*undecodable"
    ):
        vendor.extract(DAY, DAY, objects="transactional")


def test_an_event_listing_whose_server_ignores_the_offset_fails_instead_of_looping(vendor):
    vendor.server.faults.add("repeat", r"/smtp/statistics/events", skip=1, times=30)
    with pytest.raises(SourceError, match=r"the page at offset=2500 repeats the page at offset=0"):
        vendor.extract(DAY, DAY, objects="transactional")


def test_unknown_fields_and_gzip_answers_change_nothing(vendor):
    clean = vendor.extract(DAY, DAY)
    vendor.server.faults.add("unknown_fields", r"/(emailCampaigns|smtp/statistics/events)", times=-1)
    assert all(vendor.extract(DAY, DAY)[name].equals(clean[name]) for name in clean)
    vendor.server.faults.clear()
    vendor.server.faults.add("gzip", None, times=-1)
    assert all(vendor.extract(DAY, DAY)[name].equals(clean[name]) for name in clean)


def test_a_backfill_longer_than_90_days_is_split_and_streamed(tmp_path):
    with connector_harness("brevo", events_per_day=20, campaigns={"native": 1, "pro": 1}) as h:
        result = h.run("2026-08-01", "2026-11-01", objects="transactional")  # 93 days
        ranges = {(r.param("startDate"), r.param("endDate")) for r in h.server.requests_to("/events")}
        assert all(
            (dt.date.fromisoformat(end) - dt.date.fromisoformat(start)).days < 90 for start, end in ranges
        )
        days = set(h.table("brevo_transactional")["event_date"].to_pylist())
        assert len(days) == 93 and result.rows["brevo_transactional"] > 0
        # a re-run of a day where the vendor now has nothing clears that day (both audiences)
        h.server.faults.add("empty", r"/smtp/statistics/events", times=-1)
        h.server.faults.add("transform", r"/aggregatedReport", times=-1, transform=_no_events)
        h.run("2026-08-01", "2026-08-01", objects="transactional")
        days_after = set(h.table("brevo_transactional")["event_date"].to_pylist())
        assert days_after == days - {dt.date(2026, 8, 1)}


def _no_events(report):
    return {**report, "delivered": 0, "opens": 0, "unsubscribed": 0}
