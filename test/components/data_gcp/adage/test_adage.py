"""Adage connector against its local Omogen server: partners merged on id, school-year statistics."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from data_gcp.adage import school_year_id, school_year_of
from data_gcp.http_client import SourceError
from data_gcp.vendor_servers import fake_data
from data_gcp.vendor_servers.adage import LEVELS, LOCAL_KEY
from data_gcp.vendor_servers.addresses import AREAS
from data_gcp.vendor_servers.framework import Response

DATA = fake_data(n_fake=200)
DAY = "2026-11-30"
FAULTS = {
    "429 with Retry-After": {"kind": "status", "status": 429, "retry_after": 7},
    "429 without Retry-After": {"kind": "status", "status": 429},
    "5xx burst": {"kind": "status", "status": 503, "times": 3},
    "timeout": {"kind": "timeout", "delay": 2.5},
    "truncated body": {"kind": "truncate"},
    "corrupt body": {"kind": "invalid_json"},
}


HARNESS = {
    "system": "adage",
    "data": DATA,
}  # the shared `connector_server` / `vendor` fixtures (test/conftest.py)


@pytest.fixture
def adage(vendor):
    vendor.server.app.state["renamed"].clear()
    return vendor


REGIONS = {AREAS.get(d, (None, "Autre", None))[1] for d in DATA.school_departments}
STATS_ROWS = len(LEVELS) * len(DATA.school_departments) + len(REGIONS)  # regions: one ALL row


def rows(table, drop=("loaded_at",)):
    table = table.drop_columns([c for c in drop if c in table.column_names])
    return table.sort_by([(c, "ascending") for c in table.column_names[:3]]).to_pylist()


def test_school_year_is_computed_from_the_day_not_a_table():
    assert school_year_of(dt.date(2026, 8, 31)) == "2025-2026"
    assert school_year_of(dt.date(2026, 9, 1)) == "2026-2027"  # where the hard-coded table stopped
    assert school_year_of(dt.date(2041, 1, 15)) == "2040-2041"
    assert school_year_id("2021-2022") == 7 and school_year_id("2040-2041") == 26
    assert school_year_id("2026-2027", offset=2000) == 26


def test_partners_of_the_last_30_days_and_statistics_then_rerun_replaces(adage):
    first = adage.run(DAY)
    partners = adage.table("adage_partner")
    since = dt.datetime(2026, 12, 1) - dt.timedelta(days=30)
    expected = {
        p["id"]
        for p in adage.server.app.partners
        if dt.datetime.strptime(p["dateModification"], "%Y-%m-%d %H:%M:%S") >= since
    }
    assert set(partners.column("partner_id").to_pylist()) == expected and expected
    assert len(expected) < len(adage.server.app.partners)  # older modifications were not asked for
    (listing,) = adage.server.requests_to(r"/partenaire-culturel$")
    assert listing.param("dateModificationMin") == "2026-11-01 00:00:00"
    # partners are real sandbox venues, with their SIRET
    venues = {v["venue_id"]: v["siret"] for v in DATA.venues}
    assert all(venues[r["venue_id"]] == r["siret"] for r in partners.to_pylist())
    (stats,) = adage.server.requests_to(r"/stats-pass-culture/")
    assert stats.path.endswith("/12")  # 2026-2027
    involved = adage.table("adage_involved_student")
    assert involved.num_rows == STATS_ROWS
    assert set(involved.column("school_year").to_pylist()) == {"2026-2027"}
    assert {r.header("X-omogen-api-key") for r in adage.server.requests} == {LOCAL_KEY}
    # an update replaces, a re-run never duplicates
    renamed = sorted(expected)[0]
    adage.server.app.state["renamed"][renamed] = "Théâtre renommé"
    second = adage.run(DAY)
    assert second.rows == first.rows
    again = adage.table("adage_partner")
    assert again.num_rows == partners.num_rows
    names = dict(
        zip(again.column("partner_id").to_pylist(), again.column("partner_name").to_pylist(), strict=True)
    )
    assert names[renamed] == "Théâtre renommé"
    assert rows(adage.table("adage_involved_student")) == rows(involved)


def test_statistics_keyed_by_department_academy_and_region_ids(adage):
    """The answer the original platform's job reads: objects keyed by ids, `[]` for an empty group."""
    tables = adage.extract(DAY, objects="involved_student")
    got = tables["adage_involved_student"].to_pylist()
    depts = [r for r in got if r["scope"] == "departement"]
    assert {r["department_code"] for r in depts} == set(DATA.school_departments)
    assert {r["level"] for r in depts} == set(LEVELS)
    assert all(r["involved_students"] <= r["total_students"] for r in depts)
    regions = [r for r in got if r["scope"] == "region"]
    assert {r["region_name"] for r in regions} == REGIONS and {r["level"] for r in regions} == {"ALL"}
    # the region figures are the sum of their departments' levels
    total = sum(r["involved_students"] for r in depts)
    assert sum(r["involved_students"] for r in regions) == total


def test_an_unreadable_statistics_answer_fails_that_table_alone_partners_load(adage, monkeypatch):
    from data_gcp.etl_core import PartialRunError

    old_shape = {"annee": "2026-2027", "stats": [{"niveau": "6e", "departement": "75"}]}
    monkeypatch.setattr(adage.server.app, "routes", [
        (m, p, (lambda request: Response(200, old_shape)) if "stats" in p else h)
        for m, p, h in adage.server.app.routes
    ])  # fmt: skip
    with pytest.raises(PartialRunError, match=r"raw.adage_involved_student: .*no departements"):
        adage.run(DAY)
    assert adage.table("adage_partner").num_rows > 0
    assert adage.table("adage_involved_student") is None


def test_one_unreadable_statistics_entry_is_skipped(adage, monkeypatch, caplog):
    method, pattern, handler = next(r for r in adage.server.app.routes if "stats" in r[1])

    def one_bad(request):
        response = handler(request)
        first = next(iter(response.body["departements"]))
        response.body["departements"][first] = "corrompu"
        return response

    routes = [r for r in adage.server.app.routes if r[1] != pattern] + [(method, pattern, one_bad)]
    monkeypatch.setattr(adage.server.app, "routes", routes)
    with caplog.at_level("WARNING"):
        tables = adage.extract(DAY, objects="involved_student")
    assert tables["adage_involved_student"].num_rows == STATS_ROWS - len(LEVELS)
    assert "departements/100" in caplog.text


def test_a_window_over_the_school_year_change_reads_both_years(adage):
    tables = adage.extract("2026-08-30", "2026-09-02", objects="involved_student")
    assert sorted(r.path.rsplit("/", 1)[-1] for r in adage.server.requests) == ["11", "12"]
    assert set(tables["adage_involved_student"].column("school_year").to_pylist()) == {
        "2025-2026",
        "2026-2027",
    }


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_each_fault_is_retried_to_the_same_rows(adage, fault):
    baseline = adage.extract(DAY)
    adage.server.requests.clear()
    adage.server.faults.add(route=r"/(partenaire-culturel|stats-pass-culture)", **FAULTS[fault])
    tables = adage.extract(DAY)
    for name, table in baseline.items():
        assert rows(tables[name]) == rows(table), name
    assert len(adage.server.requests) == 2 + FAULTS[fault].get("times", 1)  # bounded retries
    if fault == "429 with Retry-After":
        assert 7 in adage.clock.sleeps


def test_empty_statistics_are_read_again(adage):
    adage.server.faults.add("empty", r"/stats-pass-culture/")
    tables = adage.extract(DAY, objects="involved_student")
    assert tables["adage_involved_student"].num_rows == STATS_ROWS
    assert len(adage.server.requests_to(r"/stats-pass-culture/")) == 2


def test_bounded_retries_then_clean_failure_writing_nothing(adage, caplog):
    adage.server.faults.add("status", r"/stats-pass-culture/", status=502, times=-1)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        adage.run(DAY)
    assert "adage: GET /adage-api/v1/stats-pass-culture/12 failed (HTTP 502) after 5 attempt(s)" in str(
        err.value
    )
    assert len(adage.server.requests_to(r"/stats-pass-culture/")) == 5
    assert adage.table("adage_partner") is None and adage.table("adage_involved_student") is None
    assert LOCAL_KEY not in caplog.text and LOCAL_KEY not in str(err.value)


def test_refused_key_fails_at_once_without_leaking_it(adage, caplog):
    adage.server.faults.add("status", r"/partenaire-culturel", status=401, times=-1)
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(SourceError, match=r"adage: GET .*partenaire-culturel failed \(HTTP 401\)") as err,
    ):
        adage.run(DAY)
    assert len(adage.server.requests) == 1
    assert LOCAL_KEY not in caplog.text and LOCAL_KEY not in str(err.value)
    assert adage.table("adage_partner") is None
