"""App downloads against a local App Store Connect (JWT checked with the tests' key pair) and bucket."""

from __future__ import annotations

import datetime as dt
import gzip
import logging

import jwt
import pyarrow.compute as pc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from data_gcp.app_downloads import apple_token, downloads_window, play_export_key
from data_gcp.etl_core import DateWindow
from data_gcp.http_client import SourceError
from data_gcp.storage import get_storage
from data_gcp.vendor_servers import fake_data
from data_gcp.vendor_servers.app_downloads import (
    LOCAL_ISSUER_ID,
    LOCAL_KEY_ID,
    PLAY_BUCKET,
    PLAY_PACKAGE,
    daily_installs,
    write_play_exports,
)

DATA = fake_data(n_fake=300)
DAY = "2026-11-15"  # window 2026-10-01 .. 2026-11-15
FAULTS = {
    "429 with Retry-After": {"kind": "status", "status": 429, "retry_after": 7},
    "429 without Retry-After": {"kind": "status", "status": 429},
    "5xx burst": {"kind": "status", "status": 500, "times": 3},
    "timeout": {"kind": "timeout", "delay": 2.5},
    "truncated body": {"kind": "truncate"},
    "corrupt gzip": {"kind": "invalid_json"},
    "empty report": {"kind": "empty"},
}


def pem_pair() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


KEYS = pem_pair()


HARNESS = {
    "system": "app_downloads",
    "data": DATA,
    "keys": KEYS,
}  # the shared `connector_server` / `vendor` fixtures (test/conftest.py)


@pytest.fixture
def stores(vendor, isolated_env):
    write_play_exports(get_storage(bucket=PLAY_BUCKET), DATA)
    return vendor


def rows(table):
    return sorted(table.drop_columns(["loaded_at"]).to_pylist(), key=lambda r: [str(v) for v in r.values()])


def test_window_from_the_first_day_of_the_previous_month():
    assert downloads_window(DateWindow.resolve(DAY)) == DateWindow.resolve("2026-10-01", DAY)
    assert downloads_window(DateWindow.resolve("2026-01-01")) == DateWindow.resolve(
        "2025-12-01", "2026-01-01"
    )
    assert downloads_window(DateWindow.resolve("2026-03-31")).start == dt.date(2026, 2, 1)


def test_token_is_an_es256_jwt_of_at_most_20_minutes():
    private, public = KEYS
    token = apple_token("KEY1", "issuer", private, now=1_800_000_000)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "KEY1", "typ": "JWT"}
    claims = jwt.decode(
        token,
        public,
        algorithms=["ES256"],
        audience="appstoreconnect-v1",
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": "issuer",
        "iat": 1_800_000_000,
        "exp": 1_800_001_200,
        "aud": "appstoreconnect-v1",
    }


def test_one_report_a_day_and_the_play_months_then_rerun_gives_the_same_rows(stores, caplog):
    with caplog.at_level(logging.DEBUG):
        first = stores.run(DAY)
    reports = stores.server.requests_to(r"/v1/salesReports$")
    days = sorted(r.param("filter[reportDate]") for r in reports)
    assert days[0] == "2026-10-01" and days[-1] == DAY and len(days) == 46
    assert {r.param("filter[reportType]") for r in reports} == {"SALES"}
    apple = stores.table("app_downloads_apple_download_stats")
    google = stores.table("app_downloads_google_download_stats")
    for table in (apple, google):
        dates = table.column("report_date").to_pylist()
        assert min(dates) == dt.date(2026, 10, 1) and max(dates) == dt.date(2026, 11, 15)
    # the stores agree with attribution: first downloads = iOS installs, Play user installs = Android
    installs = daily_installs(DATA)
    firsts = pc.filter(apple, pc.equal(apple["product_type"], "1F"))
    for day in (dt.date(2026, 10, 3), dt.date(2026, 11, 14)):
        on_day = pc.filter(firsts, pc.equal(firsts["report_date"], day))
        assert pc.sum(on_day["units"]).as_py() or 0 == installs.get(("ios", day), 0)
        country = pc.filter(
            google, pc.and_(pc.equal(google["report_date"], day), pc.equal(google["dimension"], "country"))
        )
        assert pc.sum(country["daily_user_installs"]).as_py() == installs.get(("android", day), 0)
    assert set(pc.unique(google["dimension"]).to_pylist()) == {"country", "device"}
    second = stores.run(DAY)
    assert second.rows == first.rows
    assert rows(stores.table("app_downloads_apple_download_stats")) == rows(apple)
    assert rows(stores.table("app_downloads_google_download_stats")) == rows(google)
    # neither the private key nor a token reaches a log
    tokens = {r.header("Authorization").removeprefix("Bearer ") for r in reports}
    assert KEYS[0] not in caplog.text and not any(t in caplog.text for t in tokens)


def test_a_day_without_report_is_not_an_error_but_another_404_is(stores):
    tables = stores.extract("2026-12-03", objects="apple_download_stats")  # after the data's last day
    dates = set(tables["app_downloads_apple_download_stats"].column("report_date").to_pylist())
    assert max(dates) == dt.date(2026, 11, 30)
    stores.server.faults.add("status", r"/v1/salesReports", status=404, times=1)  # not Apple's answer
    with pytest.raises(SourceError, match=r"app_downloads: GET /v1/salesReports failed \(HTTP 404\)"):
        stores.extract(DAY, objects="apple_download_stats")


@pytest.fixture(scope="module")
def apple_baseline(connector_server):
    return connector_server.extract(DAY, objects="apple_download_stats")


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
def test_each_fault_is_retried_to_the_same_rows(stores, apple_baseline, fault):
    baseline = apple_baseline
    stores.server.faults.add(route=r"/v1/salesReports", skip=3, **FAULTS[fault])
    tables = stores.extract(DAY, objects="apple_download_stats")
    name = "app_downloads_apple_download_stats"
    assert rows(tables[name]) == rows(baseline[name])
    assert len(stores.server.requests) == 46 + FAULTS[fault].get("times", 1)
    if fault == "429 with Retry-After":
        assert 7 in stores.clock.sleeps


def test_a_token_signed_by_another_key_is_refused_and_nothing_written(stores, monkeypatch, caplog):
    other = pem_pair()[0]
    monkeypatch.setitem(stores.server.app.env, "APPLE_API_PRIVATE_KEY", other)
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(SourceError, match=r"app_downloads: GET /v1/salesReports failed \(HTTP 401\)") as err,
    ):
        stores.run(DAY)
    assert len(stores.server.requests) == 1
    assert other not in caplog.text and other not in str(err.value)
    assert stores.table("app_downloads_apple_download_stats") is None
    assert stores.table("app_downloads_google_download_stats") is None


def test_bounded_retries_then_clean_failure(stores):
    stores.server.faults.add("status", r"/v1/salesReports", status=503, times=-1)
    with pytest.raises(SourceError, match=r"app_downloads: GET /v1/salesReports failed \(HTTP 503\) after 5"):
        stores.run(DAY)
    assert len(stores.server.requests) == 5
    assert stores.table("app_downloads_apple_download_stats") is None


def test_play_files_utf16_corrupt_or_missing_fail_cleanly(stores):
    bucket = get_storage(bucket=PLAY_BUCKET)
    key = play_export_key(PLAY_PACKAGE, "202611", "country")
    assert bucket.get_bytes(key)[:2] == b"\xff\xfe"  # UTF-16 with its byte order mark
    bucket.put_bytes(key, b"Date,Package Name,Country\n2026-11-01,x\xff")  # UTF-8, not UTF-16
    with pytest.raises(SourceError, match=r"app_downloads: read .*_202611_country.csv failed: not a UTF-16"):
        stores.run(DAY, objects="google_download_stats")
    assert stores.table("app_downloads_google_download_stats") is None
    for info in bucket.list("stats/"):
        bucket.delete(info.key)
    with pytest.raises(SourceError, match="no Play installs export"):
        stores.extract(DAY, objects="google_download_stats")


def test_gzip_report_is_really_gzip(stores):
    # what the server sends is a gzip file (application/a-gzip), not a transfer encoding
    import httpx

    token = apple_token(LOCAL_KEY_ID, LOCAL_ISSUER_ID, KEYS[0])
    response = httpx.get(
        stores.server.url + "/v1/salesReports",
        params={
            "filter[frequency]": "DAILY",
            "filter[reportType]": "SALES",
            "filter[reportSubType]": "SUMMARY",
            "filter[vendorNumber]": stores.server.env["DATA_GCP_APP_DOWNLOADS_APPLE_VENDOR_NUMBER"],
            "filter[reportDate]": DAY,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.headers["content-type"] == "application/a-gzip"
    assert gzip.decompress(response.content).startswith(b"Provider\tProvider Country")


def _apple_counts(stores) -> dict:
    table = stores.table("app_downloads_apple_download_stats")
    out: dict = {}
    for day in table.column("report_date").to_pylist():
        out[day] = out.get(day, 0) + 1
    return out


def test_a_report_not_available_yet_keeps_the_loaded_day(stores, caplog):
    stores.run(DAY, objects="apple_download_stats")
    before = _apple_counts(stores)
    late = dt.date(2026, 11, 14)
    assert before[late] > 0
    stores.server.app.state["not_yet"].add(late)
    try:
        with caplog.at_level(logging.WARNING):
            stores.run(DAY, objects="apple_download_stats")
    finally:
        stores.server.app.state["not_yet"].clear()
    assert _apple_counts(stores) == before  # the day loaded earlier is still there
    assert "kept as loaded" in caplog.text and "2026-11-14" in caplog.text


def test_a_report_also_sent_with_content_encoding_gzip_is_decompressed_once(stores, apple_baseline):
    stores.server.app.state["content_encoding"] = True
    try:
        tables = stores.extract(DAY, objects="apple_download_stats")
    finally:
        stores.server.app.state["content_encoding"] = False
    name = "app_downloads_apple_download_stats"
    assert rows(tables[name]) == rows(apple_baseline[name])
    assert len(stores.server.requests) == 46  # no attempt failed


def test_a_key_that_is_not_an_ec_pem_names_the_system_and_the_secret(stores, monkeypatch):
    monkeypatch.setitem(stores.server.app.env, "APPLE_API_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nnope\n")
    with pytest.raises(SourceError) as err:
        stores.extract(DAY, objects="apple_download_stats")
    text = str(err.value)
    assert text.startswith("app_downloads: sign the App Store Connect token failed")
    assert "apple-api-private-key is not a valid EC private key" in text and "nope" not in text
    assert err.value.__cause__ is None and err.value.__suppress_context__


def _gcs_errors(stores, monkeypatch, errors):
    import data_gcp.storage as storage_mod
    from data_gcp.storage import GCSStorage
    from data_gcp.vendor_servers import FakeGcsClient

    local = get_storage(bucket=PLAY_BUCKET)
    gcs = GCSStorage(PLAY_BUCKET, client=FakeGcsClient(local, errors))
    monkeypatch.setattr(storage_mod, "get_storage", lambda settings=None, bucket=None: gcs)


def test_cloud_storage_sdk_errors_are_source_errors_retried_when_transient(stores, monkeypatch):
    from google.api_core.exceptions import Forbidden, ServiceUnavailable
    from google.resumable_media.common import DataCorruption

    baseline = stores.extract(DAY, objects="google_download_stats")
    name = "app_downloads_google_download_stats"
    errors = [DataCorruption(None, "Checksum mismatch while downloading"), ServiceUnavailable("busy")]
    _gcs_errors(stores, monkeypatch, errors)
    tables = stores.extract(DAY, objects="google_download_stats")
    assert rows(tables[name]) == rows(baseline[name]) and not errors  # both retried
    assert len(stores.clock.sleeps) == 2
    _gcs_errors(stores, monkeypatch, [Forbidden("caller does not have storage.objects.get access")])
    stores.clock.sleeps.clear()
    with pytest.raises(SourceError) as err:
        stores.extract(DAY, objects="google_download_stats")
    assert str(err.value).startswith(f"app_downloads: read gs://{PLAY_BUCKET}/stats/installs/")
    assert "(HTTP 403)" in str(err.value) and "IAM" in str(err.value)
    assert not stores.clock.sleeps  # a 403 is not retried
