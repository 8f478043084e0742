"""Batch.com connector: push campaigns, their stats and transactional push stats, per app.

Contract (reference `source-systems.md`): `https://api.batch.com/1.1/{app_api_key}/...`, header
`X-Authorization: <rest key>`; `campaigns/list?limit=100&from=N`; campaigns are a snapshot;
`transactional/stats/{group}?since&until` over the last 7 days. Two apps, `ios` and `android`: every
row carries `app` and every write is scoped by it (snapshot day x app, stats key starting with app,
transactional days x app), so a run of one app never touches the other's rows, even when the two
run in parallel (option `APPS`).

Assumptions where the reference is silent (Batch's public API conventions and the previous job):
- `campaigns/list` answers a bare JSON list of `{campaign_token, name, created_date, push_time, live,
  dev_only, from_api}` (naive UTC timestamps), newest first; a page shorter than `limit` is the last.
  A short page is read a second time before it is taken as the end, so an empty page in the middle of
  the listing (a vendor hiccup) does not silently cut the snapshot;
- `campaigns/stats/{token}` answers `{"campaign_token", "detail": [{"date", "sent", "direct_open",
  "influenced_open", "reengaged", "errors"}]}`; an A/B test gives per-version counts in
  `versions: {"a": {...}, "b": {...}}` (rows `version` = a / b with the version's own counters; the
  day's `errors`, not split per version, go on a `version` = all row of their own with the other
  counters null, so a sum over versions counts them once); else one row `version` = all. Stats are
  fetched for the campaigns pushed in the stats window;
- `transactional/stats/{group}` answers `{"detail": [{"date", "sent", ...}]}` with `since`/`until`
  inclusive; the groups are option `GROUPS`;
- the stats window is the run's window, widened to the 7 days ending at its end when shorter.

Batch documents its 429 as "wait at least 5 seconds" and sends no `Retry-After`: `retry_min_wait`
makes every wait after a 429 at least 5 s. A `campaigns/list` page repeated (a server ignoring
`from`) fails the run instead of looping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from data_gcp.etl_core import Batch, Column, Connector, DateWindow, RunContext, TableSpec, utc_timestamp
from data_gcp.http_client import HttpClient, PageGuard, SourceError
from data_gcp.log import get_logger

log = get_logger(__name__)

APPS = {"ios": "batch-api-key-ios", "android": "batch-api-key-android"}
REST_KEY = "batch-rest-key"
DEFAULT_GROUPS = "Cancel_booking,Offer_link,Soon_expiring_bookings,Today_stock,Favorites_not_booked"
LIST_LIMIT = 100
STATS_DAYS = 7
COUNTERS = ("sent", "direct_open", "influenced_open", "reengaged", "errors")
_COUNTER_COLUMNS = tuple(Column(c, "int") for c in COUNTERS)

CAMPAIGNS = TableSpec(
    name="batch_campaigns",
    object="campaigns",
    description="push campaigns of each app, one snapshot a day per app",
    columns=(
        Column("snapshot_date", "date", "day of the snapshot (the run's window end)", nullable=False),
        Column("app", "string", "ios or android", nullable=False),
        Column("campaign_token", "string", nullable=False),
        Column("campaign_name"),
        Column("created_at", "timestamp"),
        Column("push_time", "timestamp"),
        Column("is_live", "bool"),
        Column("is_dev_only", "bool"),
        Column("is_from_api", "bool"),
    ),
    write="snapshot_day",
    partition="snapshot_date",
    scope=("app",),
    primary_key=("snapshot_date", "app", "campaign_token"),
    allow_empty=False,
)
CAMPAIGN_STATS = TableSpec(
    name="batch_campaign_stats",
    object="campaign_stats",
    description="daily stats of the campaigns pushed in the stats window, per app and A/B version",
    columns=(
        Column("app", "string", "ios or android", nullable=False),
        Column("campaign_token", "string", nullable=False),
        Column("stat_date", "date", nullable=False),
        Column("version", "string", "a / b for an A/B test, else all", nullable=False),
        *_COUNTER_COLUMNS,
        Column("loaded_at", "timestamp", "when the stats were read", nullable=False),
    ),
    write="upsert",
    primary_key=("app", "campaign_token", "stat_date", "version"),
)
TRANSACTIONAL = TableSpec(
    name="batch_transactional",
    object="transactional",
    description="daily transactional push stats per app and group, the 7 days ending at the window's end",
    columns=(
        Column("stat_date", "date", nullable=False),
        Column("app", "string", "ios or android", nullable=False),
        Column("group_id", "string", nullable=False),
        *_COUNTER_COLUMNS,
        Column("loaded_at", "timestamp", nullable=False),
    ),
    write="window",
    partition="stat_date",
    scope=("app",),
    primary_key=("stat_date", "app", "group_id"),
    allow_empty=False,
)


# --- parsing (pure) ---------------------------------------------------------------------------
def _counters(values: dict[str, Any]) -> dict[str, int | None]:
    return {c: None if values.get(c) is None else int(values[c]) for c in COUNTERS}


def campaign_row(item: dict[str, Any], app: str, snapshot_date: dt.date) -> dict[str, Any]:
    return {
        "snapshot_date": snapshot_date,
        "app": app,
        "campaign_token": item["campaign_token"],
        "campaign_name": item.get("name"),
        "created_at": utc_timestamp(item.get("created_date")),
        "push_time": utc_timestamp(item.get("push_time")),
        "is_live": item.get("live"),
        "is_dev_only": item.get("dev_only"),
        "is_from_api": item.get("from_api"),
    }


def campaign_stats_rows(payload: dict[str, Any], app: str, loaded_at: dt.datetime) -> list[dict[str, Any]]:
    """One row per day (and per A/B version) of one campaign's stats."""
    token = payload["campaign_token"]
    rows = []
    for day in payload["detail"]:
        base = {"app": app, "campaign_token": token, "stat_date": dt.date.fromisoformat(day["date"][:10])}
        versions = day.get("versions")
        if versions:
            for name, counts in sorted(versions.items()):
                rows.append({**base, "version": name, **_counters(counts)})
            if day.get("errors") is not None and not any("errors" in c for c in versions.values()):
                rows.append({**base, "version": "all", **_counters({"errors": day["errors"]})})
        else:
            rows.append({**base, "version": "all", **_counters(day)})
    for row in rows:
        row["loaded_at"] = loaded_at
    return rows


def transactional_rows(
    payload: dict[str, Any], app: str, group_id: str, loaded_at: dt.datetime
) -> list[dict[str, Any]]:
    return [
        {
            "stat_date": dt.date.fromisoformat(day["date"][:10]),
            "app": app,
            "group_id": group_id,
            **_counters(day),
            "loaded_at": loaded_at,
        }
        for day in payload["detail"]
    ]


def stats_window(window: DateWindow) -> DateWindow:
    """The run's window, widened to the `STATS_DAYS` days ending at its end when shorter."""
    return window.at_least(STATS_DAYS)


# --- the connector ----------------------------------------------------------------------------
class BatchConnector(Connector):
    name = "batch"
    description = (
        "Batch.com push campaigns, campaign stats and transactional push stats, apps ios and android"
    )
    schedule = "0 0 * * *"
    default_base_url = "https://api.batch.com/1.1"
    secrets = (REST_KEY, *APPS.values())
    tables = (CAMPAIGNS, CAMPAIGN_STATS, TRANSACTIONAL)
    retry_min_wait = {429: 5.0}  # "wait at least 5 seconds" (Batch's documentation of its 429)
    settings_help = {
        "APPS": "apps to read, comma-separated (default ios,android); one app's run leaves the other's rows",
        "GROUPS": f"transactional group ids (default {DEFAULT_GROUPS})",
    }

    def apps(self, ctx: RunContext) -> list[str]:
        apps = [a.strip() for a in ctx.option("apps", ",".join(APPS)).split(",") if a.strip()]
        unknown = [a for a in apps if a not in APPS]
        if unknown or not apps:
            raise SourceError("batch", "option APPS", f"unknown app(s) {unknown}: expected {', '.join(APPS)}")
        return apps

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        rest_key = ctx.secret(REST_KEY)
        window = stats_window(ctx.window)
        loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for app in self.apps(ctx):
            api_key = ctx.secret(APPS[app])
            # the key is one path segment, percent-encoded whole: a `/`, `?` or `#` in it never
            # changes the URL, and that encoded form is masked in logs like the raw one
            base_url = f"{ctx.base_url.rstrip('/')}/{quote(api_key, safe='')}"
            with ctx.http(base_url=base_url, secret_headers={"X-Authorization": rest_key}) as http:
                campaigns: list[dict[str, Any]] = []
                if ctx.wants("campaigns") or ctx.wants("campaign_stats"):
                    campaigns = self.list_campaigns(http, app)
                if ctx.wants("campaigns"):
                    rows = [campaign_row(c, app, ctx.window.end) for c in campaigns]
                    yield CAMPAIGNS.name, CAMPAIGNS.to_arrow(rows)
                if ctx.wants("campaign_stats"):
                    yield CAMPAIGN_STATS.name, self.campaign_stats(http, app, campaigns, window, loaded_at)
                if ctx.wants("transactional"):
                    yield TRANSACTIONAL.name, self.transactional(http, ctx, app, window, loaded_at)
                    ctx.covers(TRANSACTIONAL.name, window.days(), app=app)

    def list_campaigns(self, http: HttpClient, app: str) -> list[dict[str, Any]]:
        """Every campaign of the app; a short page is read twice before it ends the listing."""
        items: list[dict[str, Any]] = []
        offset = 0
        guard = PageGuard("batch", "GET /1.1/{api_key}/campaigns/list")
        while True:
            page = self._campaign_page(http, offset)
            guard.page(page, f"from={offset}")
            if len(page) < LIST_LIMIT:
                again = self._campaign_page(http, offset)
                if len(again) != len(page):
                    log.warning(
                        "batch %s: campaigns page at from=%d changed on a second read (%d -> %d)",
                        app,
                        offset,
                        len(page),
                        len(again),
                    )
                page = max(page, again, key=len)
            items.extend(page)
            if len(page) < LIST_LIMIT:
                break
            offset += len(page)
        tokens = [c.get("campaign_token") for c in items]
        if len(set(tokens)) != len(tokens):
            raise SourceError(
                "batch",
                "GET /1.1/{api_key}/campaigns/list",
                f"{app}: the listing repeats campaigns (it changed while read)",
            )
        log.info("batch %s: %d campaign(s)", app, len(items))
        return items

    def _campaign_page(self, http: HttpClient, offset: int) -> list[dict[str, Any]]:
        page = http.get_json("campaigns/list", {"limit": LIST_LIMIT, "from": offset})
        if not isinstance(page, list):
            raise SourceError(
                "batch", "GET /1.1/{api_key}/campaigns/list", "the answer is not a list of campaigns"
            )
        return page

    def campaign_stats(
        self,
        http: HttpClient,
        app: str,
        campaigns: list[dict[str, Any]],
        window: DateWindow,
        loaded_at: dt.datetime,
    ):
        pushed = [
            c["campaign_token"]
            for c in campaigns
            if (push := utc_timestamp(c.get("push_time"))) is not None
            and window.start <= push.date() <= window.end
        ]
        rows: list[dict[str, Any]] = []
        for token in pushed:
            payload = http.get_json(f"campaigns/stats/{token}")
            if payload.get("campaign_token") != token or not isinstance(payload.get("detail"), list):
                raise SourceError(
                    "batch",
                    "GET /1.1/{api_key}/campaigns/stats/{token}",
                    f"{app}: unexpected answer for a campaign",
                )
            if not payload["detail"]:
                payload = http.get_json(f"campaigns/stats/{token}")  # an empty answer is read once more
                if not payload.get("detail"):
                    log.warning("batch %s: campaign %s has no stats yet", app, token)
            rows.extend(campaign_stats_rows(payload, app, loaded_at))
        log.info("batch %s: stats of %d campaign(s) pushed in %s", app, len(pushed), window)
        return CAMPAIGN_STATS.to_arrow(rows)

    def transactional(
        self, http: HttpClient, ctx: RunContext, app: str, window: DateWindow, loaded_at: dt.datetime
    ):
        groups = [g.strip() for g in ctx.option("groups", DEFAULT_GROUPS).split(",") if g.strip()]
        params = {"since": window.start.isoformat(), "until": window.end.isoformat()}
        rows: list[dict[str, Any]] = []
        for group in groups:
            payload = http.get_json(f"transactional/stats/{group}", params)
            if not isinstance(payload.get("detail"), list):
                raise SourceError(
                    "batch",
                    "GET /1.1/{api_key}/transactional/stats/{group}",
                    f"{app}: no `detail` list in the answer",
                )
            if not payload["detail"]:
                payload = http.get_json(f"transactional/stats/{group}", params)  # read an empty answer again
            group_rows = transactional_rows(payload, app, group, loaded_at)
            outside = [r["stat_date"] for r in group_rows if not window.start <= r["stat_date"] <= window.end]
            if outside:
                raise SourceError(
                    "batch",
                    "GET /1.1/{api_key}/transactional/stats/{group}",
                    f"{app} {group}: days outside {window}: {outside[:3]}",
                )
            if not group_rows:
                log.warning("batch %s: transactional group %s has no stats in %s", app, group, window)
            rows.extend(group_rows)
        return TRANSACTIONAL.to_arrow(rows)


CONNECTOR = BatchConnector
