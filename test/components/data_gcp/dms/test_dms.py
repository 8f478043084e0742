"""Démarches Simplifiées connector against the local GraphQL server."""

from __future__ import annotations

import datetime as dt
import json
import logging
import types

import pytest

from data_gcp.dms import dossier_row
from data_gcp.http_client import SourceError
from data_gcp.sandbox import generate as generate_sandbox
from data_gcp.vendor_servers import connector_harness, email_hash, load_sandbox_data, user_email
from data_gcp.vendor_servers import dms as dms_server
from data_gcp.vendor_servers.dms import LOCAL_TOKEN

GQL = "/api/v2/graphql"
DAY = "2026-11-20"


HARNESS = {"system": "dms", "dossiers_per_procedure": 800, "first_day": "2026-09-01"}


def test_dossier_row_flattens_a_node():
    node = {
        "id": "RG9zc2llci0x",
        "number": 1,
        "state": "accepte",
        "dateDepot": "2026-11-02T10:00:00+01:00",
        "datePassageEnInstruction": None,
        "dateTraitement": None,
        "dateDerniereModification": "2026-11-03T10:00:00Z",
        "instructeurs": [{"email": "b@x"}, {"email": "a@x"}],
        "usager": {"email": " User7@Sandbox.passculture.local "},
        "demandeur": {"__typename": "PersonnePhysique"},
        "champs": [{"label": "Statut", "stringValue": "Étudiant"}],
    }
    row = dossier_row(node, 47380, dt.date(2026, 11, 20))
    assert row["deposit_at"] == dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    assert row["instructor_emails"] == '["a@x", "b@x"]'
    assert row["applicant_email_hash"] == email_hash(user_email(7))
    assert json.loads(row["fields"]) == {"Statut": "Étudiant"}


def test_cursor_pages_window_and_upsert_idempotence(vendor):
    result = vendor.run(DAY, DAY)
    young, pro = result.rows["dms_young"], result.rows["dms_pro"]
    assert young > 100 and pro > 0
    bodies = [r.json() for r in vendor.server.requests_to(GQL)]
    assert {b["variables"]["updatedSince"] for b in bodies} == {"2026-11-20T00:00:00+00:00"}
    assert {b["variables"]["demarcheNumber"] for b in bodies} == {47380, 47480, 44675}
    assert sum(1 for b in bodies if b["variables"]["after"]) >= 1  # followed at least one cursor
    table = vendor.table("dms_young")
    assert min(table["last_modified_at"].to_pylist()) >= dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    assert table.num_rows == len(set(table["dossier_id"].to_pylist()))
    assert set(vendor.table("dms_pro")["applicant_siret"].to_pylist()) != {None}

    vendor.run(DAY, DAY)  # re-run: same rows
    assert vendor.table("dms_young").equals(table)
    vendor.run("2026-11-10", "2026-11-10")  # a wider window upserts: older dossiers added, none duplicated
    wider = vendor.table("dms_young")
    assert wider.num_rows > table.num_rows
    assert wider.num_rows == len(set(wider["dossier_id"].to_pylist()))


def test_429_500_timeout_truncate_are_retried(vendor):
    clean = vendor.extract(DAY, DAY)
    vendor.server.faults.add("status", GQL, status=429, retry_after=4)
    vendor.server.faults.add("status", GQL, status=500, skip=1)
    vendor.server.faults.add("timeout", GQL, delay=2.5, skip=2)
    vendor.server.faults.add("truncate", GQL, skip=3)
    again = vendor.extract(DAY, DAY)
    assert all(again[t].equals(clean[t]) for t in clean)
    assert vendor.clock.sleeps[0] == 4 and len(vendor.clock.sleeps) == 4


def test_empty_page_announcing_more_is_read_again(vendor):
    clean = vendor.extract(DAY, DAY)
    vendor.server.faults.add("empty", GQL, skip=1)
    again = vendor.extract(DAY, DAY)
    assert again["dms_young"].equals(clean["dms_young"])
    assert len(vendor.clock.sleeps) == 1


def test_graphql_error_fails_the_run(vendor, monkeypatch):
    monkeypatch.setitem(vendor.server.app.env, "DATA_GCP_DMS_PROCEDURES_PRO", "99999")
    with pytest.raises(
        SourceError, match=r"dms: POST /api/v2/graphql failed: GraphQL error for démarche 99999"
    ):
        vendor.run(DAY, DAY)
    assert vendor.table("dms_young") is None  # young pages were read, nothing was written


def test_bounded_retries_then_clean_failure_without_secret(vendor, caplog):
    caplog.set_level(logging.DEBUG)
    vendor.server.faults.add("status", GQL, status=503, times=-1)
    with pytest.raises(SourceError, match=r"\(HTTP 503\) after 5 attempt") as info:
        vendor.run(DAY, DAY)
    assert len(vendor.server.requests_to(GQL)) == 5
    assert vendor.table("dms_young") is None
    assert LOCAL_TOKEN not in str(info.value) and LOCAL_TOKEN not in caplog.text


def test_expired_token(vendor):
    vendor.server.faults.add("status", GQL, status=401, times=-1)
    with pytest.raises(SourceError, match=r"dms: POST /api/v2/graphql failed \(HTTP 401\)"):
        vendor.extract(DAY, DAY, objects="young")
    assert len(vendor.server.requests_to(GQL)) == 1  # never retried


def _wall_clock(day: dt.date) -> types.SimpleNamespace:
    """The `datetime` module as the DMS server sees it, with the wall clock on `day` (00:05 UTC)."""

    class _Date(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            return day

    class _DateTime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(0, 5), tzinfo=dt.UTC).astimezone(tz)

    names = {k: v for k, v in vars(dt).items() if not k.startswith("__")}
    return types.SimpleNamespace(**{**names, "date": _Date, "datetime": _DateTime})


def test_a_rerun_after_midnight_gives_the_same_rows(settings, monkeypatch):
    """Regression: `data-gcp run` twice for one date, the first server start just before midnight,
    grew raw.dms_young 97 -> 107 (the server dated its dossiers from the wall clock). The server's
    "today" comes from the data folder's sandbox, so two starts answer the same request the same way
    and a re-run of the same window gives the same rows."""
    generate_sandbox(scale=0.001, start_date=dt.date(2026, 11, 19), days=2, settings=settings)
    data = load_sandbox_data(settings)
    assert data.last_day == dt.date(2026, 11, 20)
    runs = []
    for wall_day in (dt.date(2026, 11, 21), dt.date(2026, 11, 22)):  # either side of a midnight
        monkeypatch.setattr(dms_server, "dt", _wall_clock(wall_day))
        with connector_harness("dms", data=data) as h:  # a separate server start each time
            result = h.run(DAY, DAY)
            runs.append((result.rows, h.table("dms_young"), h.table("dms_pro")))
    (rows1, young1, pro1), (rows2, young2, pro2) = runs
    assert rows1["dms_young"] > 50 and rows1["dms_pro"] > 0
    assert rows2 == rows1  # the second server answered the same request with the same dossiers
    assert young2.equals(young1) and pro2.equals(pro1)  # the whole tables, not just their counts


def _cycle_after_three_pages(body):
    """Page 3 of a démarche points back at page 1's cursor: a cursor cycle three pages long."""
    dossiers = ((body.get("data") or {}).get("demarche") or {}).get("dossiers") or {}
    info = dossiers.get("pageInfo") or {}
    if info.get("hasNextPage") and info.get("endCursor") == dms_server._cursor(300):
        info["endCursor"] = dms_server._cursor(100)
    return body


def test_a_cursor_cycle_longer_than_one_page_fails_instead_of_looping(vendor):
    # bounded so that a client without the guard ends (with duplicates) rather than hang the suite
    vendor.server.faults.add("transform", GQL, transform=_cycle_after_three_pages, times=60)
    with pytest.raises(
        SourceError, match=r"dms: POST /api/v2/graphql \(démarche \d+\) failed: pagination cycles"
    ):
        vendor.extract("2026-09-01", "2026-09-01", objects="young")
    assert len(vendor.server.requests_to(GQL)) < 10


def test_legal_entities_keep_their_siret_even_when_incomplete(vendor):
    pro = vendor.extract("2026-09-01", "2026-09-01", objects="pro")["dms_pro"]
    assert pro.num_rows > 0
    assert None not in pro["applicant_siret"].to_pylist()  # PersonneMoraleIncomplete included
    assert set(pro["applicant_email_hash"].to_pylist()) == {None}  # a legal entity has no person's e-mail
    node = {
        "id": "RG9zc2llci0x",
        "number": 1,
        "demandeur": {"__typename": "PersonneMoraleIncomplete", "siret": "12345678900011"},
        "usager": {"email": "pro@example.org"},
    }
    row = dossier_row(node, 44675, dt.date(2026, 11, 20))
    assert row["applicant_siret"] == "12345678900011" and row["applicant_email_hash"] is None


def test_a_corrupt_compressed_answer_is_retried_then_fails_naming_dms(vendor):
    clean = vendor.extract(DAY, DAY, objects="young")["dms_young"]
    vendor.server.faults.add("corrupt_gzip", GQL, skip=1)
    assert vendor.extract(DAY, DAY, objects="young")["dms_young"].equals(clean)
    vendor.server.faults.add("corrupt_gzip", GQL, times=-1)
    with pytest.raises(
        SourceError, match=r"^dms: POST /api/v2/graphql failed after 5 attempt\(s\).*undecodable"
    ):
        vendor.extract(DAY, DAY, objects="young")


def test_unknown_fields_and_gzip_answers_change_nothing(vendor):
    clean = vendor.extract(DAY, DAY, objects="young")["dms_young"]
    vendor.server.faults.add("unknown_fields", GQL, times=-1)
    assert vendor.extract(DAY, DAY, objects="young")["dms_young"].equals(clean)
    vendor.server.faults.clear()
    vendor.server.faults.add("gzip", GQL, times=-1)
    assert vendor.extract(DAY, DAY, objects="young")["dms_young"].equals(clean)
