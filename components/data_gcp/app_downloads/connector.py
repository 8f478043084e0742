"""App downloads connector: daily downloads from the App Store (Apple) and Google Play.

Contract (reference `source-systems.md`):
- Apple: App Store Connect `GET /v1/salesReports` (daily SALES SUMMARY), a gzip TSV, authenticated by
  an ES256 JWT (PyJWT) built from the API key id (`kid`), the issuer id (`iss`) and the private key
  (secret `apple-api-private-key`, PEM): `aud` `appstoreconnect-v1`, valid 20 minutes at most (a new
  token every 10 minutes of a run). One report per day.
- Google: the monthly installs CSVs (UTF-16) of the Play Console export bucket, read through the
  `storage` component (the local folder bucket locally, GCS in the cloud): one file per month and
  dimension (`country`, `device`). A Cloud Storage error (a checksum mismatch on download, a 403,
  a 503) is a `SourceError` naming the object, retried when transient (`http_client.call_source`).
Window: from the first day of the month before the run's day to the run's day (the reports of the
last days change while the stores consolidate them), every day of it replaced in both tables.

Assumptions where the reference is silent (Apple's and Google's public documentation):
- Apple query: `filter[frequency]=DAILY`, `filter[reportType]=SALES`, `filter[reportSubType]=SUMMARY`,
  `filter[version]=1_0`, `filter[vendorNumber]`, `filter[reportDate]=YYYY-MM-DD`; the answer
  (`application/a-gzip`) is a TSV with `Provider, ..., SKU, Title, Version, Product Type Identifier,
  Units, ..., Begin Date (MM/DD/YYYY), ..., Country Code, ..., Apple Identifier, ..., Device, ...`;
  downloads are the rows whose product type is a first download (`1`, `1F`, `1T`, `F1`; dbt filters);
  a day without a report answers 404 with `errors[].code` `NOT_FOUND` ("Report is not available
  yet"): the rows already loaded for that day are kept (`RunContext.keep`, never cleared), a warning
  names the days, and the next run reads them again; any other 404 fails the run;
- the report is a gzip file; a server that also sends it with `Content-Encoding: gzip` has it
  decoded by httpx: the body is decompressed only when it starts with gzip's magic bytes;
- a private key that is not a valid EC PEM fails at once, naming the secret (no library traceback);
- a gzip body that does not decompress (cut or corrupt), or a report without any row (Apple answers
  404 for a day without sales), is asked again like a cut body;
- Google files: `stats/installs/installs_<package>_<YYYYMM>_<dimension>.csv`, UTF-16 with a BOM,
  columns `Date, Package Name, Country|Device, Daily Device Installs, Daily Device Uninstalls,
  Daily User Installs, Active Device Installs, ...`; the bucket is option `GOOGLE_PLAY_BUCKET`. A month
  whose files are missing is skipped with a warning; no file at all fails the run (wrong bucket).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpx

from data_gcp.etl_core import Batch, Column, Connector, DateWindow, RunContext, TableSpec
from data_gcp.http_client import HttpClient, RetryableResponse, SourceError, call_source, json_of
from data_gcp.log import get_logger, register_sensitive

log = get_logger(__name__)

APPLE_KEY = "apple-api-private-key"
PLAY_PACKAGE = "app.passculture.webapp"
PLAY_BUCKET = "pubsite_prod_rev_passculture"
PLAY_DIMENSIONS = {"country": "Country", "device": "Device"}
TOKEN_LIFETIME = 20 * 60
TOKEN_RENEW = 10 * 60
APPLE_ENDPOINT = "GET /v1/salesReports"

APPLE = TableSpec(
    name="app_downloads_apple_download_stats",
    object="apple_download_stats",
    description="App Store daily sales summary rows (downloads, re-downloads, updates) per country and device",
    columns=(
        Column("report_date", "date", nullable=False),
        Column("country", "string", "Country Code (ISO 3166-1 alpha-2)"),
        Column("device", "string", "iPhone, iPad, Desktop, ..."),
        Column(
            "product_type",
            "string",
            "Product Type Identifier (1F: first download, 3F: re-download, 7F: update)",
        ),
        Column("units", "int"),
        Column("sku", "string"),
        Column("title", "string"),
        Column("version", "string"),
        Column("apple_identifier", "string"),
        Column("loaded_at", "timestamp", nullable=False),
    ),
    write="window",
    partition="report_date",
)
GOOGLE = TableSpec(
    name="app_downloads_google_download_stats",
    object="google_download_stats",
    description="Google Play daily installs per country and per device (two dimensions, one row each)",
    columns=(
        Column("report_date", "date", nullable=False),
        Column("package_name", "string"),
        Column("dimension", "string", "country or device", nullable=False),
        Column("country", "string", "set on country rows"),
        Column("device", "string", "set on device rows"),
        Column("daily_device_installs", "int"),
        Column("daily_device_uninstalls", "int"),
        Column("daily_user_installs", "int"),
        Column("active_device_installs", "int"),
        Column("loaded_at", "timestamp", nullable=False),
    ),
    write="window",
    partition="report_date",
)
APPLE_COLUMNS = {
    "country": "Country Code",
    "device": "Device",
    "product_type": "Product Type Identifier",
    "units": "Units",
    "sku": "SKU",
    "title": "Title",
    "version": "Version",
    "apple_identifier": "Apple Identifier",
}


# --- pure helpers -----------------------------------------------------------------------------
def downloads_window(window: DateWindow) -> DateWindow:
    """From the first day of the month before the window's end to its end (or the window if longer)."""
    first_this_month = window.end.replace(day=1)
    first_previous = (first_this_month - dt.timedelta(days=1)).replace(day=1)
    return DateWindow(min(window.start, first_previous), window.end)


def months(window: DateWindow) -> list[str]:
    return sorted({d.strftime("%Y%m") for d in window.days()})


def play_export_key(package: str, month: str, dimension: str) -> str:
    return f"stats/installs/installs_{package}_{month}_{dimension}.csv"


def apple_token(key_id: str, issuer_id: str, private_key: str, now: int | None = None) -> str:
    """An App Store Connect API token: ES256 JWT, `kid` header, 20 minutes of validity."""
    import jwt

    issued = int(now if now is not None else time.time())
    payload = {"iss": issuer_id, "iat": issued, "exp": issued + TOKEN_LIFETIME, "aud": "appstoreconnect-v1"}
    try:
        token = jwt.encode(payload, private_key, algorithm="ES256", headers={"kid": key_id, "typ": "JWT"})
    except (ValueError, TypeError, jwt.PyJWTError) as err:
        raise SourceError(
            "app_downloads",
            "sign the App Store Connect token",
            f"the secret {APPLE_KEY} is not a valid EC private key in PEM ({type(err).__name__}): "
            "store the .p8 file App Store Connect gave, BEGIN/END lines included",
        ) from None
    register_sensitive(token)
    return token


def report_text(content: bytes) -> str:
    """The TSV of a sales report: a gzip file (`application/a-gzip`), or already plain text when the
    server also sent it with `Content-Encoding: gzip` (httpx then decoded it): never decompressed twice."""
    if content[:2] == b"\x1f\x8b":
        return gzip.decompress(content).decode("utf-8")
    return content.decode("utf-8")


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(float(value)) if value else None


def parse_sales_tsv(text: str, day: dt.date, loaded_at: dt.datetime) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    missing = [h for h in APPLE_COLUMNS.values() if h not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"columns {missing} missing from the report")
    rows = []
    for raw in reader:
        if None in raw or any(v is None for v in raw.values()):
            raise ValueError(f"line {reader.line_num} has a wrong number of fields")
        begin = raw.get("Begin Date")
        if begin and dt.datetime.strptime(begin, "%m/%d/%Y").date() != day:
            raise ValueError(f"a row of {begin} in the report of {day}")
        row: dict[str, Any] = {k: (raw[h] or None) for k, h in APPLE_COLUMNS.items()}
        row["units"] = _int(raw["Units"])
        rows.append({"report_date": day, **row, "loaded_at": loaded_at})
    return rows


def parse_play_csv(
    data: bytes, dimension: str, window: DateWindow, loaded_at: dt.datetime
) -> list[dict[str, Any]]:
    """A Play export file (UTF-16) -> rows of the window's days."""
    text = data.decode("utf-16")
    reader = csv.DictReader(io.StringIO(text))
    column = PLAY_DIMENSIONS[dimension]
    missing = [c for c in ("Date", column, "Daily User Installs") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"columns {missing} missing from the header")
    rows = []
    for raw in reader:
        if None in raw or any(v is None for v in raw.values()):
            raise ValueError(f"line {reader.line_num} has a wrong number of fields")
        day = dt.date.fromisoformat(raw["Date"])
        if not window.start <= day <= window.end:
            continue
        rows.append(
            {
                "report_date": day,
                "package_name": raw.get("Package Name"),
                "dimension": dimension,
                "country": raw[column] if dimension == "country" else None,
                "device": raw[column] if dimension == "device" else None,
                "daily_device_installs": _int(raw.get("Daily Device Installs")),
                "daily_device_uninstalls": _int(raw.get("Daily Device Uninstalls")),
                "daily_user_installs": _int(raw.get("Daily User Installs")),
                "active_device_installs": _int(raw.get("Active Device Installs")),
                "loaded_at": loaded_at,
            }
        )
    return rows


# --- the connector ----------------------------------------------------------------------------
class AppDownloadsConnector(Connector):
    name = "app_downloads"
    description = "daily app downloads: App Store Connect sales reports and Google Play install exports"
    schedule = "0 2 * * *"
    default_base_url = "https://api.appstoreconnect.apple.com"
    secrets = (APPLE_KEY,)
    tables = (APPLE, GOOGLE)
    settings_help = {
        "APPLE_KEY_ID": "App Store Connect API key id (the JWT's kid)",
        "APPLE_ISSUER_ID": "App Store Connect issuer id (the JWT's iss)",
        "APPLE_VENDOR_NUMBER": "vendor number of the sales reports",
        "GOOGLE_PLAY_BUCKET": f"Play Console export bucket (default {PLAY_BUCKET})",
        "GOOGLE_PLAY_PACKAGE": f"Android package name (default {PLAY_PACKAGE})",
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        window = downloads_window(ctx.window)
        loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        if ctx.wants("apple_download_stats"):
            yield APPLE.name, APPLE.to_arrow(self.apple(ctx, window, loaded_at))
        if ctx.wants("google_download_stats"):
            yield GOOGLE.name, GOOGLE.to_arrow(self.google(ctx, window, loaded_at))

    # --- Apple ------------------------------------------------------------------------------
    def apple(self, ctx: RunContext, window: DateWindow, loaded_at: dt.datetime) -> list[dict[str, Any]]:
        key_id, issuer = ctx.option("apple_key_id"), ctx.option("apple_issuer_id")
        vendor = ctx.option("apple_vendor_number")
        private_key = ctx.secret(APPLE_KEY)
        token: tuple[float, str] | None = None
        rows: list[dict[str, Any]] = []
        missing = []
        with ctx.http(headers={"Accept": "application/a-gzip"}) as http:
            for day in window.days():
                if token is None or time.time() - token[0] > TOKEN_RENEW:
                    token = (time.time(), apple_token(key_id, issuer, private_key))
                day_rows = self.apple_day(http, token[1], vendor, day, loaded_at)
                if day_rows is None:
                    missing.append(day)
                else:
                    rows.extend(day_rows)
        if missing:
            ctx.keep(APPLE.name, missing, "App Store report not available yet (404 NOT_FOUND)")
            log.warning("app_downloads: no App Store report for %d day(s): %s", len(missing), missing[:5])
        log.info("app_downloads: %d App Store row(s) for %s", len(rows), window)
        return rows

    def apple_day(
        self, http: HttpClient, token: str, vendor: str, day: dt.date, loaded_at: dt.datetime
    ) -> list[dict[str, Any]] | None:
        parsed: list[list[dict[str, Any]]] = []

        def check(response: httpx.Response) -> None:
            if response.status_code == 404:
                return
            try:
                text = report_text(response.content)
            except (OSError, EOFError, zlib.error, UnicodeDecodeError) as err:
                raise RetryableResponse(f"the gzip report does not decompress ({err})") from None
            try:
                parsed[:] = [parse_sales_tsv(text, day, loaded_at)]
            except ValueError as err:
                raise RetryableResponse(f"unreadable report ({err})") from None
            if not parsed[0]:  # a day without sales is a 404, never an empty report
                raise RetryableResponse("a report without any row")

        params = {
            "filter[frequency]": "DAILY",
            "filter[reportType]": "SALES",
            "filter[reportSubType]": "SUMMARY",
            "filter[version]": "1_0",
            "filter[vendorNumber]": vendor,
            "filter[reportDate]": day.isoformat(),
        }
        response = http.request(
            "GET",
            "v1/salesReports",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            check=check,
            accept=(404,),
        )
        if response.status_code == 404:
            try:
                errors = json_of(response).get("errors") or []
            except ValueError:
                errors = []
            if not any(e.get("code") == "NOT_FOUND" for e in errors):
                raise SourceError(
                    "app_downloads",
                    APPLE_ENDPOINT,
                    "not found, and not Apple's 'no report' answer: check the base URL",
                    404,
                )
            return None
        return parsed[0]

    # --- Google -----------------------------------------------------------------------------
    def google(self, ctx: RunContext, window: DateWindow, loaded_at: dt.datetime) -> list[dict[str, Any]]:
        from data_gcp.storage import StorageError, get_storage

        bucket = ctx.option("google_play_bucket", PLAY_BUCKET)
        package = ctx.option("google_play_package", PLAY_PACKAGE)
        storage = get_storage(ctx.settings, bucket=bucket)
        rows: list[dict[str, Any]] = []
        found = 0
        for month in months(window):
            for dimension in PLAY_DIMENSIONS:
                key = play_export_key(package, month, dimension)
                try:
                    data = call_source(
                        "app_downloads",
                        f"read {storage.uri(key)}",
                        lambda key=key: storage.get_bytes(key),
                        policy=ctx.policy,
                        clock=ctx.clock,
                        passthrough=(StorageError,),
                    )
                except StorageError:
                    log.warning("app_downloads: no Play export %s in %s", key, storage.uri(""))
                    continue
                found += 1
                try:
                    rows.extend(parse_play_csv(data, dimension, window, loaded_at))
                except (UnicodeDecodeError, UnicodeError, ValueError, KeyError) as err:
                    raise SourceError(
                        "app_downloads",
                        f"read {storage.uri(key)}",
                        f"not a UTF-16 Play installs CSV ({type(err).__name__}: {err}); nothing was written",
                    ) from None
        if not found:
            raise SourceError(
                "app_downloads",
                f"read {storage.uri('stats/installs/')}",
                f"no Play installs export for {package} in {', '.join(months(window))}: check "
                "GOOGLE_PLAY_BUCKET / GOOGLE_PLAY_PACKAGE and the bucket's access",
            )
        log.info("app_downloads: %d Google Play row(s) for %s", len(rows), window)
        return rows


CONNECTOR = AppDownloadsConnector
