"""AppsFlyer Pull API v5: aggregated (daily, partners by date) and raw (installs, in-app events) CSVs.

Installs come from the sandbox users: each user installed one app (ios or android, by a hash of the
id) between 10 minutes and 3 days before creating the account, so before any first booking; half the
users are organic, the others come from a paid media source. Besides, a few people a day install and
never sign up (no customer user id). In-app events: `af_complete_registration` at the account's
creation, `af_complete_book_offer` at the first booking. Raw reports are non-organic only; aggregated
reports count organic installs under `Organic` and agree with the raw installs exactly.
The app ids are those of `appsflyer.APP_IDS`; an unknown app id answers 404.

As AppsFlyer documents (Pull API, report generation quotas): a raw report returns at most
`maximum_rows` rows (200,000 when not given), cut silently; the partners-by-date report has the
campaign column, as the daily report (the original platform's job reads `Campaign (c)` in both);
`app.state["minute_limit"] = clock` (a function giving seconds) enforces one call a minute per
aggregated report and app, answering 429 `Limit reached` without `Retry-After` (off by default so
that tests calling a report twice in a row are not throttled).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
from collections import defaultdict
from typing import Any

from data_gcp.vendor_servers.data import FAKE_LAST_DAY, SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, json_error

LOCAL_TOKEN = "local-appsflyer-token-0006"
APP_IDS = {"id1557887412": "ios", "app.passculture.webapp": "android"}
MEDIA = (
    ("googleadwords_int", "Google Ads"),
    ("Facebook Ads", "Meta"),
    ("tiktokglobal_int", "TikTok"),
    ("snapchat_int", "Snapchat"),
)
CITIES = ("Paris", "Marseille", "Lyon", "Lille", "Nantes", "Toulouse")
RAW_HEADER = (
    "Attributed Touch Type",
    "Attributed Touch Time",
    "Install Time",
    "Event Time",
    "Event Name",
    "Event Value",
    "Event Revenue",
    "Event Revenue Currency",
    "Partner",
    "Media Source",
    "Channel",
    "Campaign",
    "Campaign ID",
    "Country Code",
    "City",
    "Platform",
    "Device Type",
    "OS Version",
    "App Version",
    "App ID",
    "AppsFlyer ID",
    "Customer User ID",
    "Is Primary Attribution",
)
AGG_HEADER = (
    "Date",
    "Agency/PMD (af_prt)",
    "Media Source (pid)",
    "Campaign (c)",
    "Impressions",
    "Clicks",
    "CTR",
    "Installs",
    "Conversion Rate",
    "Sessions",
    "Loyal Users",
    "Loyal Users/Installs",
    "Total Revenue",
    "Total Cost",
    "ROI",
    "ARPU",
    "Average eCPI",
)


def _u(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / 16**12


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def installs(data: SandboxData) -> list[dict[str, Any]]:
    """Every install (organic ones included), oldest first."""
    out = []
    seed = data.seed
    for user_id in data.user_ids:
        created = data.user_created.get(user_id)
        if created is None:
            continue
        app = "ios" if _u(f"{seed}-af-app-{user_id}") < 0.45 else "android"
        install = created - dt.timedelta(minutes=10 + int(_u(f"{seed}-af-lag-{user_id}") * 4310))
        draw = _u(f"{seed}-af-media-{user_id}")
        media = None if draw < 0.5 else MEDIA[int((draw - 0.5) * 2 * len(MEDIA)) % len(MEDIA)]
        out.append(
            _install(seed, app, install, media, str(user_id), data.first_booking.get(user_id), created)
        )
    last = data.last_day or FAKE_LAST_DAY
    first_day = min((i["install_time"].date() for i in out), default=last)
    day = first_day
    while day <= last:  # people who install and never create an account
        for k in range(int(_u(f"{seed}-af-anon-{day}") * 4)):
            rng = random.Random(f"{seed}-af-anon-{day}-{k}")
            app = rng.choice(["ios", "android"])
            at = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86400))
            media = None if rng.random() < 0.5 else rng.choice(MEDIA)
            out.append(_install(seed, app, at, media, None, None, None))
        day += dt.timedelta(days=1)
    return sorted(out, key=lambda i: (i["install_time"], i["appsflyer_id"]))


def _install(seed, app, at, media, user, first_booking, created) -> dict[str, Any]:
    key = f"{seed}-{app}-{at.isoformat()}-{user}"
    return {
        "app": app,
        "install_time": at,
        "media": media,
        "campaign": None
        if media is None
        else f"{media[0][:6]}_pass_{['rentree', 'ete', 'noel'][int(_u(key) * 3)]}",
        "appsflyer_id": f"{int(_u(key) * 10**13):013d}-{int(_u(key + 'b') * 10**19):019d}",
        "customer_user_id": user,
        "created": created,
        "first_booking": first_booking,
        "city": CITIES[int(_u(key + "c") * len(CITIES))],
    }


def _raw_row(i: dict[str, Any], app_id: str, event: str | None, at: dt.datetime | None) -> list[str]:
    media = i["media"]
    return [
        "click",
        _fmt(i["install_time"] - dt.timedelta(minutes=5)),
        _fmt(i["install_time"]),
        _fmt(at or i["install_time"]),
        event or "install",
        json.dumps({"af_content_id": i["customer_user_id"]}) if event else "",
        "",
        "EUR",
        media[1] if media else "",
        media[0] if media else "",
        "Instagram" if media and media[0] == "Facebook Ads" else "",
        i["campaign"] or "",
        str(int(_u(str(i["campaign"])) * 10**9)) if i["campaign"] else "",
        "FR",
        i["city"],
        i["app"],
        "iPhone 13" if i["app"] == "ios" else "Samsung SM-A525F",
        "17.4" if i["app"] == "ios" else "14",
        "1.250.3",
        app_id,
        i["appsflyer_id"],
        i["customer_user_id"] or "",
        "true",
    ]


def _csv(header: tuple[str, ...], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _header_only(response: Response) -> Response:
    body = response.body if isinstance(response.body, bytes) else b""
    return Response(response.status, body.split(b"\n", 1)[0] + b"\n", response.headers, response.content_type)


DEFAULT_MAX_ROWS = 200_000


def build(data: SandboxData, **_: object) -> VendorApp:
    all_installs = installs(data)
    state: dict[str, Any] = {"minute_limit": None, "last_call": {}}

    def auth(request: Request) -> Response | None:
        if request.header("Authorization") != f"Bearer {LOCAL_TOKEN}":
            return Response(
                401, "Unauthorized: the token is missing, wrong or expired", content_type="text/plain"
            )
        return None

    def window(request: Request) -> tuple[dt.date, dt.date] | Response:
        try:
            start = dt.date.fromisoformat(request.param("from") or "")
            end = dt.date.fromisoformat(request.param("to") or "")
        except ValueError:
            return Response(400, "from and to must be dates yyyy-mm-dd", content_type="text/plain")
        if end < start or (end - start).days > 90:
            return Response(400, "the date range must be at most 90 days", content_type="text/plain")
        return start, end

    def route(request: Request) -> Response:
        parts = request.path.strip("/").split("/")  # api, kind, export, app, {id}, report, v5
        app = APP_IDS.get(parts[4])
        if app is None:
            return json_error(404, f"app {parts[4]} not found for this account")
        bounds = window(request)
        if isinstance(bounds, Response):
            return bounds
        start, end = bounds
        report = parts[5]
        clock = state["minute_limit"]
        if clock is not None and parts[1] == "agg-data":
            now, last = clock(), state["last_call"].get((app, report))
            if last is not None and now - last < 60:
                return Response(429, f"Limit reached for {report}", content_type="text/plain")
            state["last_call"][(app, report)] = now
        max_rows = request.int_param("maximum_rows", DEFAULT_MAX_ROWS)
        mine = [i for i in all_installs if i["app"] == app]
        if report == "installs_report":
            rows = [
                _raw_row(i, parts[4], None, None)
                for i in mine
                if i["media"] and start <= i["install_time"].date() <= end
            ]
            return Response(200, _csv(RAW_HEADER, rows[:max_rows]), content_type="text/csv")
        if report == "in_app_events_report":
            events = []
            for i in mine:
                if not i["media"]:
                    continue
                for name, at in (
                    ("af_complete_registration", i["created"]),
                    ("af_complete_book_offer", i["first_booking"]),
                ):
                    if at is not None and start <= at.date() <= end:
                        events.append((at, _raw_row(i, parts[4], name, at)))
            events.sort(key=lambda e: (e[0], e[1][20]))
            return Response(200, _csv(RAW_HEADER, [e[1] for e in events][:max_rows]), content_type="text/csv")
        by_key: dict[tuple, int] = defaultdict(int)
        for i in mine:
            day = i["install_time"].date()
            if start <= day <= end:
                media = i["media"][0] if i["media"] else "Organic"
                campaign = i["campaign"] or "None"
                by_key[(day, media, campaign)] += 1
        rows = []
        for (day, media, campaign), n in sorted(by_key.items()):
            rng = random.Random(f"{data.seed}-af-agg-{app}-{day}-{media}-{campaign}")
            clicks = 0 if media == "Organic" else n * rng.randrange(5, 20)
            impressions = clicks * rng.randrange(20, 60)
            cost = 0.0 if media == "Organic" else round(n * rng.uniform(0.8, 3.5), 2)
            row = [day.isoformat(), "None", media, campaign or "None", impressions, clicks]
            row += [
                f"{clicks / impressions:.4f}" if impressions else "0",
                n,
                f"{n / clicks:.4f}" if clicks else "N/A",
            ]
            row += [
                n * rng.randrange(2, 9),
                int(n * rng.uniform(0.2, 0.6)),
                "0.4",
                "0",
                cost,
                "N/A",
                "0",
                f"{cost / n:.2f}",
            ]
            rows.append(row)
        return Response(200, _csv(AGG_HEADER, rows), content_type="text/csv")

    return VendorApp(
        name="appsflyer",
        base_path="",
        routes=[
            ("GET", r"/api/agg-data/export/app/[^/]+/(daily_report|partners_by_date_report)/v5", route),
            ("GET", r"/api/raw-data/export/app/[^/]+/(installs_report|in_app_events_report)/v5", route),
        ],
        auth=auth,
        env={"DATA_GCP_APPSFLYER_BASE_URL": "{base_url}", "APPSFLYER_API_TOKEN": LOCAL_TOKEN},
        emptied=_header_only,
        state=state,
    )
