"""INSEE Sirene connector against the local Sirene server (real HTTP, fake clock, own DuckDB per test)."""

from __future__ import annotations

import datetime as dt
import logging

import pyarrow as pa
import pytest

from data_gcp.http_client import FakeClock, RateLimiter, SourceError
from data_gcp.siren.connector import batch_rows, legal_name, search_query, unit_row
from data_gcp.vendor_servers import fake_data
from data_gcp.vendor_servers.siren import LOCAL_KEY, is_known, unite_legale
from data_gcp.warehouse import get_warehouse

DATA = fake_data(seed=11, n_fake=150)  # 30 offerer SIRENs
SIRENS = DATA.offerer_sirens
UNKNOWN = [s for s in (f"{n:09d}" for n in range(100000000, 100000400)) if not is_known(s)][:3]
FAST = {"batch_size": "7", "calls_per_minute": "6000"}  # 5 calls a run; the limiter barely waits


HARNESS = {"system": "siren", "data": DATA}


def load_offerers(sirens: list[str | None]) -> None:
    get_warehouse().load(
        "raw.applicative_database_offerer",
        pa.table({"offerer_id": list(range(len(sirens))), "offerer_siren": pa.array(sirens, pa.string())}),
        "replace",
    )


def asked_sirens(harness) -> list[str]:
    return [
        s.removeprefix("siren:")
        for r in harness.server.requests_to(r"/siren$")
        for s in r.param("q").split(" OR ")
    ]


# --- parsing ----------------------------------------------------------------------------------
def test_unit_row_follows_the_current_period():
    unit = {
        "siren": "123456789",
        "dateCreationUniteLegale": "1990-05-02",
        "trancheEffectifsUniteLegale": "11",
        "categorieEntreprise": "PME",
        "prenomUsuelUniteLegale": "Camille",
        "periodesUniteLegale": [
            {
                "dateFin": None,
                "dateDebut": "2024-03-01",
                "etatAdministratifUniteLegale": "C",
                "denominationUniteLegale": None,
                "nomUniteLegale": "MARTIN",
                "categorieJuridiqueUniteLegale": "1000",
                "activitePrincipaleUniteLegale": "90.03A",
                "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
            },
            {
                "dateFin": "2024-02-29",
                "dateDebut": "1990-05-02",
                "etatAdministratifUniteLegale": "A",
                "nomUniteLegale": "DURAND",
                "activitePrincipaleUniteLegale": "47.61Z",
            },
        ],
    }
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    row = unit_row(unit, at)
    assert row["legal_name"] == "Camille MARTIN"  # sole trader: first + last name of the open period
    assert (row["naf_code"], row["legal_category_code"], row["employee_band"]) == ("90.03A", "1000", "11")
    assert row["closing_date"] == dt.date(2024, 3, 1) and row["creation_date"] == dt.date(1990, 5, 2)
    assert legal_name({}, {"denominationUniteLegale": "[ND]"}) is None  # non-diffusible -> null
    rows = batch_rows([unit], ["123456789", "987654321"], at)
    assert [(r["siren"], r["found_in_sirene"]) for r in rows] == [("123456789", True), ("987654321", False)]
    with pytest.raises(ValueError, match="9 digits"):
        search_query(["12345678) OR siren:*"])


def test_rate_limiter_spaces_calls_even_with_a_fake_clock_far_from_zero():
    # regression: float rounding once left 0.99999... tokens and a 2e-16 s wait the clock could not add
    clock = FakeClock(start=5.101380514788434)  # a start where the old check looped forever
    limiter = RateLimiter(100, per=1.0, burst=1, clock=clock)
    for _ in range(50):
        limiter.acquire()
    assert clock.sleeps == pytest.approx([0.01] * 49)


# --- against the server -----------------------------------------------------------------------
def test_happy_path_pages_rate_limit_and_unknown_sirens(vendor):
    load_offerers([*SIRENS, *UNKNOWN, SIRENS[0], None])  # a duplicate and a missing SIREN
    result = vendor.run(options={"batch_size": "3"})
    expected = sorted(SIRENS + UNKNOWN)
    assert result.rows == {"siren_data": len(expected)}
    calls = vendor.server.requests_to(r"/siren$")
    assert len(calls) == 11  # 33 SIRENs by 3; the first batch (the 3 unknown SIRENs) answers 404 "no result"
    assert sorted(asked_sirens(vendor)) == expected
    assert {r.header("X-INSEE-Api-Key-Integration") for r in calls} == {LOCAL_KEY}
    # 30 calls a minute, evenly spaced: the limiter makes each call after the first wait 2 s
    assert vendor.clock.sleeps == pytest.approx([2.0] * 10)
    table = vendor.table("siren_data", order_by="siren")
    assert table.column("siren").to_pylist() == expected
    assert table.column("found_in_sirene").to_pylist() == [is_known(s) for s in expected]
    assert sum(is_known(s) for s in expected) == len(SIRENS)
    for row in table.filter(pa.compute.field("found_in_sirene")).to_pylist():
        unit = unite_legale(row["siren"])
        period = unit["periodesUniteLegale"][0]
        assert row["naf_code"] == period["activitePrincipaleUniteLegale"]
        assert row["legal_category_code"] == period["categorieJuridiqueUniteLegale"]
        assert row["creation_date"].isoformat() == unit["dateCreationUniteLegale"]
        assert (row["closing_date"] is not None) == (period["etatAdministratifUniteLegale"] == "C")


def test_a_404_that_is_not_sirene_no_result_fails(vendor):
    load_offerers(SIRENS)
    with pytest.raises(SourceError, match=r"siren: GET /api-sirene/3.11/nowhere/siren failed \(HTTP 404\)"):
        vendor.run(options=FAST, base_url=vendor.server.url + "/nowhere")
    assert vendor.table("siren_data") is None


def test_incremental_refresh_oldest_first_capped_then_the_rest_through_faults(vendor):
    load_offerers(SIRENS)
    now = dt.datetime.now(dt.UTC)
    fresh, stale = SIRENS[:10], SIRENS[10:15]
    get_warehouse().load(
        "raw.siren_data",
        pa.table(
            {
                "siren": fresh + stale,
                "found_in_sirene": [True] * 15,
                "refreshed_at": pa.array(
                    [now - dt.timedelta(days=2)] * 10 + [now - dt.timedelta(days=10)] * 5,
                    pa.timestamp("us", tz="UTC"),
                ),
            }
        ),
        "replace",
    )
    vendor.run(options={**FAST, "max_sirens": "18"})
    asked = asked_sirens(vendor)
    never = SIRENS[15:]  # 15 never fetched: all first, then the 3 oldest stale ones
    assert sorted(asked[:15]) == never and set(asked[15:]) <= set(stale) and len(asked) == 18
    assert not set(asked) & set(fresh)
    first = vendor.table("siren_data", order_by="siren")
    assert first.num_rows == 30 and len(set(first.column("siren").to_pylist())) == 30
    # the next run asks only the 2 stale SIRENs left (one a call), never duplicating a row; it goes
    # through every transient fault: the 1st call fails 4 times (its 5th and last attempt passes),
    # the 2nd twice (a plan hands each request its first live fault; skip=1 lets one request by)
    vendor.server.requests.clear()
    faults = vendor.server.faults
    plan = [
        faults.add("status", r"/siren$", status=429, retry_after=7),
        faults.add("status", r"/siren$", status=500),
        faults.add("timeout", r"/siren$", delay=vendor.timeout + 0.5),
        faults.add("invalid_json", r"/siren$"),
        faults.add("truncate", r"/siren$", skip=1),
        faults.add("empty", r"/siren$", skip=1),  # a page announcing a unit but holding none
    ]
    vendor.run(options={**FAST, "batch_size": "1"})
    assert [f.fired for f in plan] == [1] * 6 and 7 in vendor.clock.sleeps
    assert sorted(set(asked_sirens(vendor))) == sorted(set(stale) - set(asked[15:]))
    second = vendor.table("siren_data", order_by="siren")
    assert second.num_rows == 30
    unchanged = pa.compute.is_in(second["siren"], pa.array(fresh))
    assert second.filter(unchanged).equals(first.filter(pa.compute.is_in(first["siren"], pa.array(fresh))))


def test_retries_are_bounded_and_a_failed_run_writes_nothing(vendor):
    load_offerers(SIRENS)
    vendor.server.faults.add("status", r"/siren$", status=503, times=-1, skip=2)
    with pytest.raises(
        SourceError, match=r"siren: GET /api-sirene/3.11/siren failed \(HTTP 503\) after 5 attempt"
    ):
        vendor.run(options=FAST)
    assert len(vendor.server.requests_to(r"/siren$")) == 2 + 5
    assert vendor.table("siren_data") is None  # two good batches, none written


def test_expired_key_fails_cleanly_without_leaking_it(vendor, caplog):
    load_offerers(SIRENS)
    vendor.server.faults.add("status", r"/siren$", status=500)  # one retry logged on the way
    vendor.server.faults.add("status", r"/siren$", status=401, skip=2, times=-1)
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        vendor.run(options=FAST)
    assert "siren: GET /api-sirene/3.11/siren failed (HTTP 401)" in str(err.value)
    assert "retrying" in caplog.text
    assert LOCAL_KEY not in caplog.text and LOCAL_KEY not in str(err.value)
    assert vendor.table("siren_data") is None


def test_no_offerer_table_is_an_error_not_an_empty_success(vendor):
    with pytest.raises(SourceError, match="applicative_database_offerer"):
        vendor.run(options=FAST)
    assert vendor.server.requests == []


NO_RESULT = {"header": {"statut": 404, "message": "Aucun élément trouvé pour q=siren:..."}}


def test_a_no_result_answer_never_erases_known_good_data(vendor):
    load_offerers(SIRENS)
    vendor.run(options=FAST)
    good = vendor.table("siren_data", order_by="siren")
    assert good.num_rows == 30 and all(good["found_in_sirene"].to_pylist())
    # Sirene has a bad day: every query answers 404 "no result"; a refresh is forced
    vendor.server.faults.add("status", r"/siren$", status=404, body=NO_RESULT, times=-1)
    vendor.run(options={**FAST, "refresh_days": "0"})
    after = vendor.table("siren_data", order_by="siren")
    assert after.num_rows == 30
    for column in ("found_in_sirene", "legal_name", "naf_code", "legal_category_code", "creation_date"):
        assert after[column].equals(good[column]), column  # the last good data is kept
    assert after["not_found_at"].null_count == 0  # flagged for review
    assert min(after["refreshed_at"].to_pylist()) >= max(good["refreshed_at"].to_pylist())
    # Sirene finds them again: the flag clears
    vendor.server.faults.clear()
    vendor.run(options={**FAST, "refresh_days": "0"})
    assert vendor.table("siren_data")["not_found_at"].null_count == 30


def test_identifiers_are_validated_never_truncated(vendor, caplog):
    caplog.set_level("WARNING")
    load_offerers([SIRENS[0], "1234567890", "12345678", "12A456789"])  # 10 digits, 8 digits, a letter
    vendor.run(options=FAST)
    asked = asked_sirens(vendor)
    assert "123456789" not in asked  # the 10-digit value was not cut to another company's SIREN
    assert sorted(asked) == sorted([SIRENS[0], "012345678"])  # lost leading zero restored
    assert "2 offerer SIREN(s) are not 9 digits and are skipped" in caplog.text


def test_a_permanent_404_is_not_retried(vendor):
    load_offerers(SIRENS)
    vendor.server.faults.add("status", r"/siren$", status=404, body="<html>Not Found</html>", times=-1)
    with pytest.raises(SourceError, match=r"siren: GET /api-sirene/3.11/siren failed \(HTTP 404\)"):
        vendor.run(options=FAST)
    assert len(vendor.server.requests_to(r"/siren$")) == 1
    assert vendor.table("siren_data") is None
