"""Addresses connector against its local BAN server: bulk CSV for large batches, single calls else."""

from __future__ import annotations

import csv
import logging

import pyarrow as pa
import pytest

from data_gcp.addresses import LOW_SCORE, address_query
from data_gcp.addresses.connector import context_parts
from data_gcp.http_client import SourceError
from data_gcp.sandbox import user_address
from data_gcp.vendor_servers import fake_data
from data_gcp.warehouse import get_warehouse

DATA = fake_data(n_fake=300)
FAULTS = {
    "429 with Retry-After": {"kind": "status", "status": 429, "retry_after": 7},
    "429 without Retry-After": {"kind": "status", "status": 429},
    "5xx burst": {"kind": "status", "status": 502, "times": 2},
    "timeout": {"kind": "timeout", "delay": 2.5},
    "truncated body": {"kind": "truncate"},
    "corrupt body": {"kind": "invalid_json"},
    "empty answer": {"kind": "empty"},
}


HARNESS = {
    "system": "addresses",
    "data": DATA,
}  # the shared `connector_server` / `vendor` fixtures (test/conftest.py)


@pytest.fixture
def ban(vendor):
    return vendor


def load_users(addresses: list[dict]) -> None:
    get_warehouse().load(
        "raw.applicative_database_user",
        pa.table(
            {
                "user_id": [a["user_id"] for a in addresses],
                "user_address": pa.array([a["address"] for a in addresses], pa.string()),
                "user_postal_code": [a["postal_code"] for a in addresses],
                "user_city": [a["city"] for a in addresses],
            }
        ),
        "replace",
    )


def rows(table):
    return sorted(table.drop_columns(["geocoded_at"]).to_pylist(), key=lambda r: r["user_id"])


def test_query_and_sandbox_addresses():
    assert address_query("12  rue Victor Hugo", "44000", "Nantes") == "12 rue Victor Hugo 44000 Nantes"
    assert address_query(None, "75011", "Paris") == "75011 Paris"
    made = [user_address(u, 42) for u in range(1, 2001)]
    assert 0.02 < sum(a is None for a in made) / 2000 < 0.07  # some incomplete: no street at all
    assert any(a and not a[0].isdigit() for a in made)  # some without a number


def test_bulk_for_a_large_batch_then_single_calls_for_new_users_only(ban):
    load_users(DATA.addresses[:250])
    first = ban.run(options={"bulk_rows": "100"})
    bulk = ban.server.requests_to(r"/search/csv/$")
    assert len(bulk) == 3 and not ban.server.requests_to(r"/search/$")  # 250 users in files of 100
    table = ban.table("addresses_user_address")
    assert first.rows == {"addresses_user_address": 250} and table.num_rows == 250
    by_user = {r["user_id"]: r for r in table.to_pylist()}
    for a in DATA.addresses[:250]:
        r = by_user[a["user_id"]]
        assert r["method"] == "bulk" and r["department_code"] == a["department_code"]
        if a["address"] is None:  # only the town: kept, flagged, never a location
            assert r["result_type"] == "municipality" and r["score"] < LOW_SCORE and r["is_low_score"]
        else:
            assert r["score"] >= LOW_SCORE and not r["is_low_score"] and r["city_code"]
    assert {r["region_name"] for r in by_user.values()} >= {"Île-de-France", "La Réunion"}
    # new users: only they are geocoded, one call each (few: no bulk), through the token bucket
    load_users(DATA.addresses[:262])
    ban.server.requests.clear()
    ban.run(options={"calls_per_second": "5"})
    singles = ban.server.requests_to(r"/search/$")
    assert len(singles) == 12 and not ban.server.requests_to(r"/search/csv/")
    assert {r.param("limit") for r in singles} == {"1"}
    assert ban.clock.total_slept >= (12 - 5) / 5 - 1e-6  # 5 calls a second after a burst of 5
    table = ban.table("addresses_user_address")
    assert table.num_rows == 262 and rows(table)[:250] == rows(pa.Table.from_pylist(list(by_user.values())))
    # nobody left: nothing asked, nothing written
    ban.server.requests.clear()
    assert ban.run().rows == {"addresses_user_address": 0}
    assert ban.table("addresses_user_address").num_rows == 262
    assert not ban.server.requests


def test_at_most_max_users_a_run_lowest_ids_first(ban):
    load_users(DATA.addresses)
    tables = ban.extract(options={"max_users": "120", "bulk_min": "50"})
    assert tables["addresses_user_address"].column("user_id").to_pylist() == list(range(1, 121))


def test_misspelt_addresses_still_match_with_a_lower_score(ban):
    load_users(
        [
            {"user_id": 1, "address": "12 rue Victor Hugo", "postal_code": "44000", "city": "Nantes"},
            {"user_id": 2, "address": "12 rue Vcitor Hugo", "postal_code": "44000", "city": "Nantes"},
            {"user_id": 3, "address": "rue Victor Hugo", "postal_code": "44000", "city": "Nantes"},
            {"user_id": 4, "address": "12 rue Inconnue", "postal_code": "99999", "city": "Nulle Part"},
            {"user_id": 5, "address": None, "postal_code": None, "city": None},
        ]
    )
    by_user = {r["user_id"]: r for r in ban.extract()["addresses_user_address"].to_pylist()}
    assert by_user[1]["label"] == by_user[2]["label"] == "12 Rue Victor Hugo 44000 Nantes"
    assert by_user[1]["score"] > by_user[2]["score"] > by_user[3]["score"] > LOW_SCORE
    assert by_user[4]["score"] is None and by_user[4]["is_low_score"]  # no answer (asked twice)
    assert len(ban.server.requests_to(r"/search/$")) == 5
    assert by_user[5]["method"] == "none" and by_user[5]["is_low_score"]  # nothing to ask


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_each_fault_on_the_bulk_endpoint_is_retried_to_the_same_rows(ban, fault):
    load_users(DATA.addresses[:220])
    baseline = ban.extract()
    ban.server.requests.clear()
    ban.server.faults.add(route=r"/search/csv/", **FAULTS[fault])
    tables = ban.extract()
    assert rows(tables["addresses_user_address"]) == rows(baseline["addresses_user_address"])
    assert len(ban.server.requests) == 1 + FAULTS[fault].get("times", 1)
    if fault == "429 with Retry-After":
        assert 7 in ban.clock.sleeps


def test_bounded_retries_then_clean_failure_writing_nothing(ban, caplog):
    load_users(DATA.addresses[:10])
    ban.server.faults.add("status", r"/search/", status=503, times=-1)
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(SourceError, match=r"addresses: GET /search/ failed \(HTTP 503\) after 5") as err,
    ):
        ban.run()
    assert len(ban.server.requests) == 5
    assert ban.table("addresses_user_address") is None
    assert "12" not in str(err.value).split("failed")[0]  # no query string (addresses) in the error


def test_no_user_table_is_an_error_not_an_empty_success(ban):
    with pytest.raises(SourceError, match="applicative_database_user"):
        ban.run()


def test_a_user_table_without_addresses_says_what_to_do(ban):
    get_warehouse().load("raw.applicative_database_user", pa.table({"user_id": [1]}), "replace")
    with pytest.raises(SourceError, match="no user_address column.*sandbox generate"):
        ban.extract()


def test_an_address_starting_with_a_quote_is_asked_without_it():
    assert address_query('"12 rue Victor Hugo', "44000", "Nantes") == "12 rue Victor Hugo 44000 Nantes"
    assert address_query("« 3, place du marché »", None, "Lyon") == "3, place du marché » Lyon"


def test_one_refused_address_skips_that_user_and_the_run_goes_on(ban, caplog):
    load_users(DATA.addresses[:12])
    ban.server.faults.add("status", r"/search/$", status=400, times=1)  # the lowest id's query refused
    with caplog.at_level(logging.WARNING):
        result = ban.run()
    stored = ban.table("addresses_user_address").column("user_id").to_pylist()
    first = min(
        a["user_id"] for a in DATA.addresses[:12] if address_query(a["address"], a["postal_code"], a["city"])
    )
    assert first not in stored and len(stored) == 11 and result.rows == {"addresses_user_address": 11}
    assert f"user {first} skipped" in caplog.text
    # the next run asks that user again
    ban.server.requests.clear()
    ban.run()
    assert first in ban.table("addresses_user_address").column("user_id").to_pylist()


def _all_not_found(body: bytes) -> bytes:
    from data_gcp.vendor_servers.addresses import CSV_RESULT_COLUMNS

    lines = body.decode().splitlines()
    header = lines[0].split(",")
    n_input = len(header) - len(CSV_RESULT_COLUMNS)
    out = [lines[0]]
    for line in lines[1:]:
        values = next(csv.reader([line]))[:n_input]
        empty = ["" if c != "result_status" else "not-found" for c in CSV_RESULT_COLUMNS]
        out.append(",".join([*values, *empty]))
    return ("\n".join(out) + "\n").encode()


def test_a_bulk_answer_all_not_found_flags_nobody(ban, caplog):
    load_users(DATA.addresses[:230])
    ban.server.faults.add("transform", r"/search/csv/", times=2, transform=_all_not_found)
    with caplog.at_level(logging.WARNING):
        result = ban.run(options={"bulk_rows": "100"})
    stored = ban.table("addresses_user_address")
    assert result.rows == {"addresses_user_address": 130}  # the first file's 100 users: not stored
    assert not any(r["user_id"] <= 100 for r in stored.to_pylist()) and "not believed" in caplog.text
    assert len(ban.server.requests_to(r"/search/csv/")) == 4  # the suspect file asked twice
    ban.run(options={"bulk_rows": "100"})
    assert ban.table("addresses_user_address").num_rows == 230


def test_overseas_contexts_have_their_region():
    assert context_parts("974, La Réunion") == ("974", "La Réunion")
    assert context_parts("977, Saint-Barthélemy") == ("977", "Saint-Barthélemy")
    assert context_parts("978, Saint-Martin") == ("978", "Saint-Martin")
    assert context_parts("75, Paris, Île-de-France") == ("75", "Île-de-France")
