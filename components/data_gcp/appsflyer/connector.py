"""AppsFlyer connector: aggregated daily and partners-by-date reports, raw installs and in-app events.

Contract (reference `source-systems.md`): `https://hq1.appsflyer.com/api/agg-data/export/app/{app_id}/
{daily_report|partners_by_date_report}/v5` and `.../raw-data/export/app/{app_id}/{installs_report|
in_app_events_report}/v5` with `from`/`to` dates, header `Authorization: Bearer <token>`; CSV answers;
strict rate limits (429). Each of the two apps (ios, android) is read separately and every row carries
`app`: each table is written per day x app, so one app's run never touches the other's rows. The
window is the last 14 days ending at the run's day (`DAYS`), each day replaced.

Few calls allowed: calls are spaced by a token bucket (`CALLS_PER_MINUTE`, default 20, bursts of 10)
and the run has a budget of 429 answers (`MAX_429`, default 3, counted over every call of the run by
`http_client.StatusBudget`): past it the run stops with a clean `SourceError` (nothing written) rather
than spend the day's quota on retries. A 429's `Retry-After` sets the wait (shared client).

AppsFlyer allows one call a minute per aggregated report and app (its report generation quotas):
a 429 is waited for at least `retry_min_wait` (60 s) before the next try, so a re-run within the
minute waits instead of spending the 429 budget.

Checks, because a CSV has no total: an answer without even its header line, a last line without a
line break or a row with too few / too many fields is a cut body and is asked again; rows outside the
window fail the run. A raw report is capped by AppsFlyer at `maximum_rows` rows, silently: the run
asks for `RAW_MAX_ROWS` (default 1,000,000, the documented maximum) and an answer of that many rows is
capped: that app's days of that table are kept as loaded (`RunContext.keep`, never shortened) and the
run warns. The raw installs and the daily report cross-check each other per day: a day whose raw
installs are fewer than the daily report's non-organic installs (by more than
`CROSS_CHECK_TOLERANCE`, default 5 %) is read again, then kept as loaded with a warning; one side
empty while the other counts installs is read again, then the run fails.

Assumptions where the reference is silent (AppsFlyer Pull API v5 public documentation):
- CSV with a header line, UTF-8 (BOM tolerated), columns named as in the AppsFlyer UI
  (`Date`, `Media Source (pid)`, `Install Time`, `Customer User ID`, ...); unknown columns ignored;
- raw reports are non-organic only (the organic ones are other endpoints); aggregated reports count
  organic installs under media source `Organic`;
- times are `YYYY-MM-DD HH:MM:SS` in the app's report timezone, read as UTC;
- limits: about 20 calls a minute for the account (assumed; AppsFlyer documents per-report daily
  quotas that vary by contract).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from data_gcp.etl_core import Batch, Column, Connector, DateWindow, RunContext, TableSpec
from data_gcp.http_client import HttpClient, RateLimiter, RetryableResponse, SourceError, StatusBudget
from data_gcp.log import get_logger

log = get_logger(__name__)

DAYS = 14
RAW_MAX_ROWS = 1_000_000  # AppsFlyer's documented maximum of `maximum_rows` for raw reports
CROSS_CHECK_TOLERANCE = 0.05
APP_IDS = {"ios": "id1557887412", "android": "app.passculture.webapp"}
ORGANIC = "Organic"


def _int(value: str | None) -> int | None:
    return None if value in (None, "", "N/A") else int(float(value))


def _float(value: str | None) -> float | None:
    return None if value in (None, "", "N/A") else float(value)


def _str(value: str | None) -> str | None:
    return None if value in (None, "", "N/A", "None") else value


def _time(value: str | None) -> dt.datetime | None:
    value = _str(value)
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _date(value: str | None) -> dt.date | None:
    value = _str(value)
    return dt.date.fromisoformat(value[:10]) if value else None


def _json(value: str | None) -> str | None:
    value = _str(value)
    if value is None:
        return None
    try:
        return json.dumps(json.loads(value), ensure_ascii=False)
    except ValueError:
        return json.dumps(value, ensure_ascii=False)


# Each table: (report path, date column of the CSV, {column: (CSV header, parser)})
_COMMON_RAW = {
    "install_time": ("Install Time", _time),
    "attributed_touch_type": ("Attributed Touch Type", _str),
    "attributed_touch_time": ("Attributed Touch Time", _time),
    "media_source": ("Media Source", _str),
    "channel": ("Channel", _str),
    "campaign": ("Campaign", _str),
    "campaign_id": ("Campaign ID", _str),
    "country_code": ("Country Code", _str),
    "city": ("City", _str),
    "platform": ("Platform", _str),
    "device_type": ("Device Type", _str),
    "os_version": ("OS Version", _str),
    "app_version": ("App Version", _str),
    "appsflyer_id": ("AppsFlyer ID", _str),
    "customer_user_id": ("Customer User ID", _str),
}
# The two aggregated reports share their keys and metrics; the daily one adds the campaign.
_AGG_KEYS = {
    "report_date": ("Date", _date),
    "agency": ("Agency/PMD (af_prt)", _str),
    "media_source": ("Media Source (pid)", _str),
}
_AGG_METRICS = {
    "impressions": ("Impressions", _int),
    "clicks": ("Clicks", _int),
    "installs": ("Installs", _int),
    "sessions": ("Sessions", _int),
    "loyal_users": ("Loyal Users", _int),
    "total_revenue": ("Total Revenue", _float),
    "total_cost": ("Total Cost", _float),
}
REPORTS: dict[str, tuple[str, str, str, dict[str, tuple[str, Callable[[str | None], Any]]]]] = {
    "appsflyer_daily_report": (
        "agg-data",
        "daily_report",
        "Date",
        {**_AGG_KEYS, "campaign": ("Campaign (c)", _str), **_AGG_METRICS},
    ),
    "appsflyer_partner_report": (
        "agg-data",
        "partners_by_date_report",
        "Date",
        {**_AGG_KEYS, "campaign": ("Campaign (c)", _str), **_AGG_METRICS},
    ),
    "appsflyer_installs": (
        "raw-data",
        "installs_report",
        "Install Time",
        {"install_date": ("Install Time", _date), **_COMMON_RAW},
    ),
    "appsflyer_in_app_events": (
        "raw-data",
        "in_app_events_report",
        "Event Time",
        {
            "event_date": ("Event Time", _date),
            "event_time": ("Event Time", _time),
            "event_name": ("Event Name", _str),
            "event_value": ("Event Value", _json),
            "event_revenue": ("Event Revenue", _float),
            **_COMMON_RAW,
        },
    ),
}
_TYPES = {_int: "int", _float: "float", _str: "string", _time: "timestamp", _date: "date", _json: "json"}


def _spec(name: str, obj: str, description: str, partition: str) -> TableSpec:
    _, _, _, columns = REPORTS[name]
    cols = [Column("app", "string", "ios or android", nullable=False)]
    for column, (header, parse) in columns.items():
        cols.append(Column(column, _TYPES[parse], header, nullable=column != partition))
    cols.append(Column("loaded_at", "timestamp", nullable=False))
    return TableSpec(
        name=name,
        object=obj,
        description=description,
        columns=tuple(cols),
        write="window",
        partition=partition,
        scope=("app",),
    )


DAILY = _spec(
    "appsflyer_daily_report",
    "daily_report",
    "daily aggregated report per media source and campaign",
    "report_date",
)
PARTNERS = _spec(
    "appsflyer_partner_report", "partner_report", "partners-by-date aggregated report", "report_date"
)
INSTALLS = _spec(
    "appsflyer_installs", "installs", "raw non-organic installs, one row per install", "install_date"
)
EVENTS = _spec("appsflyer_in_app_events", "in_app_events", "raw non-organic in-app events", "event_date")


def report_window(window: DateWindow) -> DateWindow:
    """The `DAYS` days ending at the window's end (or the whole window when longer)."""
    return window.at_least(DAYS)


def read_csv(response: httpx.Response, required: list[str]) -> list[dict[str, str]]:
    """Rows of a CSV answer; a cut or unreadable body raises `RetryableResponse` (asked again)."""
    text = response.content.decode("utf-8-sig", errors="strict") if response.content else ""
    if not text.strip():
        raise RetryableResponse("empty answer: a report always has its header line")
    if not text.endswith("\n"):
        raise RetryableResponse("the CSV answer is cut (no final line break)")
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise RetryableResponse(f"columns {missing} missing from the CSV header")
    rows = []
    for row in reader:
        if None in row or any(v is None for v in row.values()):
            raise RetryableResponse(f"line {reader.line_num} has a wrong number of fields (cut or corrupt)")
        rows.append(row)
    return rows


class AppsFlyerConnector(Connector):
    name = "appsflyer"
    description = "AppsFlyer daily / partners reports, raw installs and in-app events, apps ios and android"
    schedule = "30 1 * * *"
    default_base_url = "https://hq1.appsflyer.com"
    secrets = ("appsflyer-api-token",)
    tables = (DAILY, PARTNERS, INSTALLS, EVENTS)
    settings_help = {
        "APPS": "apps to read, comma-separated (default ios,android)",
        "APP_ID_IOS": f"AppsFlyer id of the iOS app (default {APP_IDS['ios']})",
        "APP_ID_ANDROID": f"AppsFlyer id of the Android app (default {APP_IDS['android']})",
        "CALLS_PER_MINUTE": "calls a minute allowed (default 20)",
        "MAX_429": "HTTP 429 answers tolerated in one run before it stops (default 3)",
        "RAW_MAX_ROWS": f"maximum_rows asked of raw reports; an answer that long is capped (default {RAW_MAX_ROWS})",
        "CROSS_CHECK_TOLERANCE": f"raw installs may be this share under the daily report (default {CROSS_CHECK_TOLERANCE})",
    }
    # one call a minute per aggregated report and app: a 429 is waited for a minute at least
    retry_min_wait = {429: 60.0}

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        window = report_window(ctx.window)
        apps = [a.strip() for a in ctx.option("apps", ",".join(APP_IDS)).split(",") if a.strip()]
        unknown = [a for a in apps if a not in APP_IDS]
        if unknown or not apps:
            raise SourceError("appsflyer", "option APPS", f"unknown app(s) {unknown}: expected ios, android")
        loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        limiter = RateLimiter(
            float(ctx.option("calls_per_minute", "20")), per=60.0, burst=10, clock=ctx.clock
        )
        budget = StatusBudget("appsflyer", int(ctx.option("max_429", "3")))
        token = ctx.secret("appsflyer-api-token")
        specs = [s for s in self.tables if ctx.wants(s.object)]
        with ctx.http(
            secret_headers={"Authorization": f"Bearer {token}"},
            headers={"Accept": "text/csv"},
            rate_limiter=limiter,
            transport=budget,
        ) as http:
            max_rows = int(ctx.option("raw_max_rows", str(RAW_MAX_ROWS)))
            tolerance = float(ctx.option("cross_check_tolerance", str(CROSS_CHECK_TOLERANCE)))
            for app in apps:
                app_id = ctx.option(f"app_id_{app}", APP_IDS[app])
                read = {}
                for spec in specs:
                    read[spec.name] = self.report(http, app, app_id, spec, window, loaded_at, max_rows)
                    if REPORTS[spec.name][0] == "raw-data" and len(read[spec.name]) >= max_rows:
                        ctx.keep(
                            spec.name,
                            list(window.days()),
                            f"{app}: the raw report came back with {len(read[spec.name])} rows, AppsFlyer's "
                            f"cap (maximum_rows): capped, not loaded (raise RAW_MAX_ROWS or shorten the window)",
                            app=app,
                        )
                if INSTALLS.name in read and DAILY.name in read:
                    self.cross_check(http, app, app_id, window, loaded_at, read, max_rows)
                    if self.short_days(read, tolerance):  # read the raw installs once more
                        read[INSTALLS.name] = self.report(
                            http, app, app_id, INSTALLS, window, loaded_at, max_rows
                        )
                    short = self.short_days(read, tolerance)
                    if short:
                        ctx.keep(
                            INSTALLS.name,
                            short,
                            f"{app}: fewer raw installs than the daily report's non-organic installs "
                            f"(more than {tolerance:.0%} under), twice",
                            app=app,
                        )
                for name, rows in read.items():
                    log.info("appsflyer %s: %d row(s) in %s for %s", app, len(rows), name, window)
                    yield name, self.table(name).to_arrow(rows)

    def report(
        self,
        http: HttpClient,
        app: str,
        app_id: str,
        spec: TableSpec,
        window: DateWindow,
        loaded_at: dt.datetime,
        max_rows: int = RAW_MAX_ROWS,
    ) -> list[dict[str, Any]]:
        kind, report, date_header, columns = REPORTS[spec.name]
        path = f"api/{kind}/export/app/{app_id}/{report}/v5"
        endpoint = f"GET /api/{kind}/export/app/{{app_id}}/{report}/v5"
        required = [header for header, _ in columns.values()]
        parsed: list[dict[str, str]] = []

        def check(response: httpx.Response) -> None:
            parsed[:] = read_csv(response, required)

        params: dict[str, Any] = {"from": window.start.isoformat(), "to": window.end.isoformat()}
        if kind == "raw-data":
            params["maximum_rows"] = max_rows
        http.request("GET", path, params=params, check=check)
        rows = []
        for raw in parsed:
            try:
                row = {column: parse(raw[header]) for column, (header, parse) in columns.items()}
            except ValueError as err:
                raise SourceError("appsflyer", endpoint, f"{app}: unreadable value ({err})") from None
            day = row[spec.partition or ""]
            if day is None or not window.start <= day <= window.end:
                raise SourceError("appsflyer", endpoint, f"{app}: a row of {day} is outside {window}")
            rows.append({"app": app, **row, "loaded_at": loaded_at})
        return rows

    def cross_check(
        self,
        http: HttpClient,
        app: str,
        app_id: str,
        window: DateWindow,
        loaded_at: dt.datetime,
        read: dict[str, list[dict[str, Any]]],
        max_rows: int = RAW_MAX_ROWS,
    ) -> None:
        """Raw installs vs the daily report's non-organic installs: an empty side is read again."""

        def paid() -> int:
            return sum(r["installs"] or 0 for r in read[DAILY.name] if r["media_source"] != ORGANIC)

        for empty, other, count in (
            (INSTALLS, DAILY, paid),
            (DAILY, INSTALLS, lambda: len(read[INSTALLS.name])),
        ):
            if not read[empty.name] and count():
                read[empty.name] = self.report(http, app, app_id, empty, window, loaded_at, max_rows)
                if not read[empty.name]:
                    kind, report, _, _ = REPORTS[empty.name]
                    raise SourceError(
                        "appsflyer",
                        f"GET /api/{kind}/export/app/{{app_id}}/{report}/v5",
                        f"{app}: {empty.name} is empty twice for {window} while {other.name} counts "
                        f"{count()} non-organic install(s): nothing was written",
                    )

    @staticmethod
    def short_days(read: dict[str, list[dict[str, Any]]], tolerance: float) -> list[dt.date]:
        """Days whose raw installs are fewer than the daily report's non-organic installs (beyond tolerance)."""
        paid: dict[dt.date, int] = {}
        for r in read[DAILY.name]:
            if r["media_source"] != ORGANIC:
                paid[r["report_date"]] = paid.get(r["report_date"], 0) + (r["installs"] or 0)
        raw: dict[dt.date, int] = {}
        for r in read[INSTALLS.name]:
            raw[r["install_date"]] = raw.get(r["install_date"], 0) + 1
        return sorted(d for d, n in paid.items() if raw.get(d, 0) < n * (1 - tolerance))


CONNECTOR = AppsFlyerConnector
