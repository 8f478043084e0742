"""Contentful connector against the local Contentful server."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from data_gcp.contentful import links_of
from data_gcp.etl_core import EmptySourceError, get_connector
from data_gcp.http_client import SourceError
from data_gcp.vendor_servers import connector_harness
from data_gcp.vendor_servers.contentful import LOCAL_TOKEN

DAY = "2026-11-20"
ENTRIES = "/entries"


HARNESS = {"system": "contentful", "n_homepages": 50}  # ~1000 entries: 3 pages of 500


def test_links_of_finds_nested_and_listed_entry_links():
    link = {"sys": {"type": "Link", "linkType": "Entry", "id": "b"}}
    asset = {"sys": {"type": "Link", "linkType": "Asset", "id": "img"}}
    fields = {
        "modules": [link, {"sys": {"type": "Link", "linkType": "Entry", "id": "c"}}],
        "image": asset,
        "nested": {"deep": [{"x": link}]},
    }
    assert links_of(fields) == [("modules", "b", 0), ("modules", "c", 1), ("nested", "b", 0)]


def test_snapshot_multi_page_and_rerun_idempotent(vendor):
    result = vendor.run(DAY, DAY)
    n = result.rows["contentful_entry"]
    assert n > 1000
    assert [r.param("skip") for r in vendor.server.requests_to(ENTRIES)] == ["0", "500", "1000"]
    assert {r.param("order") for r in vendor.server.requests_to(ENTRIES)} == {"sys.updatedAt"}
    entries = vendor.table("contentful_entry")
    assert entries.num_rows == n == len(set(entries["entry_id"].to_pylist()))
    homes = [r for r in entries.to_pylist() if r["content_type"] == "homepageNatif"]
    assert len(homes) == 50 and all(json.loads(h["fields"])["modules"] for h in homes)
    links = vendor.table("contentful_relationship")
    assert set(links["child"].to_pylist()) <= set(entries["entry_id"].to_pylist())
    tags = vendor.table("contentful_tag")
    assert tags.num_rows > 0 and None not in tags["tag_name"].to_pylist()

    vendor.run(DAY, DAY)  # same day again: replaced, not duplicated
    for name in ("contentful_entry", "contentful_relationship", "contentful_tag"):
        assert vendor.table(name).equals(
            {"contentful_entry": entries, "contentful_relationship": links, "contentful_tag": tags}[name]
        )
    assert set(entries["snapshot_date"].to_pylist()) == {dt.date(2026, 11, 20)}


def test_rate_limit_reset_header_and_5xx_are_retried(vendor):
    vendor.server.faults.add("status", ENTRIES, status=429, headers={"X-Contentful-RateLimit-Reset": "3"})
    vendor.server.faults.add("status", ENTRIES, status=502, skip=1)
    vendor.server.faults.add("truncate", ENTRIES, skip=2)
    tables = vendor.extract(DAY, DAY)
    assert tables["contentful_entry"].num_rows > 1000
    assert vendor.clock.sleeps[0] == 3
    assert len(vendor.clock.sleeps) == 3


def test_timeout_then_success(vendor):
    vendor.server.faults.add("timeout", ENTRIES, delay=2.5, skip=1)
    assert vendor.extract(DAY, DAY)["contentful_entry"].num_rows > 1000
    assert len(vendor.clock.sleeps) == 1


def test_empty_page_in_the_middle_is_read_again(vendor):
    vendor.server.faults.add("empty", ENTRIES, skip=1)
    tables = vendor.extract(DAY, DAY)
    assert len(set(tables["contentful_entry"]["entry_id"].to_pylist())) > 1000
    assert [r.param("skip") for r in vendor.server.requests_to(ENTRIES)] == ["0", "500", "500", "1000"]


def test_empty_pages_forever_fail_cleanly(vendor):
    vendor.server.faults.add("empty", ENTRIES, skip=1, times=-1)
    with pytest.raises(
        SourceError, match=r"contentful: GET /spaces/localspace/environments/master/entries failed"
    ):
        vendor.run(DAY, DAY)
    assert vendor.table("contentful_entry") is None


def test_expired_token_fails_without_writing_or_leaking(vendor, caplog):
    caplog.set_level(logging.DEBUG)
    vendor.server.faults.add("status", ENTRIES, status=401, skip=1, times=-1)
    with pytest.raises(SourceError, match=r"\(HTTP 401\).*rotate the secret") as info:
        vendor.run(DAY, DAY)
    assert vendor.table("contentful_entry") is None
    assert vendor.table("contentful_relationship") is None
    assert LOCAL_TOKEN not in str(info.value) and LOCAL_TOKEN not in caplog.text


def test_schedule_and_missing_space_is_a_config_error():
    from data_gcp.config import ConfigError
    from data_gcp.etl_core import extract_tables

    assert get_connector("contentful").schedule == "30 1 * * *"
    with pytest.raises(ConfigError, match="DATA_GCP_CONTENTFUL_SPACE_ID"):
        extract_tables("contentful", DAY, DAY, base_url="http://127.0.0.1:9")


def test_empty_space_is_an_error():
    with connector_harness("contentful", n_homepages=0) as h:
        with pytest.raises(EmptySourceError, match="contentful_entry came back empty"):
            h.run(DAY, DAY)


def test_an_edit_during_paging_is_caught_by_the_completeness_check_and_read_again():
    with connector_harness("contentful", n_homepages=50) as h:  # own server: the edits change its data
        edit = h.server.app.controls["edit"]
        # between pages 1 and 2 an editor saves an entry of page 1: it moves to the end of the order,
        # the entries after it shift left and one of them is never served at its old offset
        h.server.faults.add("call", ENTRIES, skip=1, times=1, action=lambda _request: edit(0))
        entries = h.extract(DAY, DAY)["contentful_entry"]
        assert len(h.server.requests_to(ENTRIES)) == 6  # 3 pages read twice: the first read was short
        ids = entries["entry_id"].to_pylist()
        assert len(ids) == len(set(ids)) == _served_total(h)  # every entry of the space, none lost

        # edited on every read: refused, never loaded short
        h.server.faults.clear()
        h.server.faults.add("call", ENTRIES, times=-1, action=lambda request: _edit_on_page_2(request, edit))
        with pytest.raises(SourceError, match=r"contentful: GET .*/entries failed: incomplete snapshot"):
            h.run(DAY, DAY)
        assert h.table("contentful_entry") is None


def _edit_on_page_2(request, edit) -> None:
    if request.param("skip") == "500":
        edit(0)


def _served_total(h) -> int:
    import httpx

    url = f"{h.server.url}/spaces/localspace/environments/master/entries"
    answer = httpx.get(url, params={"limit": 1}, headers={"Authorization": f"Bearer {LOCAL_TOKEN}"})
    return answer.json()["total"]


def test_a_server_ignoring_skip_fails_instead_of_loading_duplicates(vendor):
    vendor.server.faults.add("repeat", ENTRIES, skip=1, times=-1)
    with pytest.raises(SourceError, match=r"the page at skip=500 repeats the page at skip=0"):
        vendor.extract(DAY, DAY)


def test_unknown_fields_are_kept_in_the_fields_json_and_break_nothing(vendor):
    clean = vendor.extract(DAY, DAY)["contentful_entry"]
    vendor.server.faults.add("unknown_fields", ENTRIES, times=-1)
    changed = vendor.extract(DAY, DAY)["contentful_entry"]
    assert changed["entry_id"].to_pylist() == clean["entry_id"].to_pylist()
    assert changed["updated_at"].equals(clean["updated_at"])
