"""Brevo (Sendinblue) API v3: e-mail campaigns, transactional events, aggregated report.

Two accounts (audiences), told apart by the `api-key` header: `native` (young users) and `pro`.
Events are for sandbox users' e-mails; the connector stores their sha256 only. Event dates are
rendered in the account's time zone with their offset (`2026-11-20T00:30:00.000+01:00` is
2026-11-19 23:30 UTC), as Brevo does. Brevo's documentation does not say whose days
`startDate`/`endDate` select: `app.state["day_zone"]` is `UTC` (default) or `Europe/Paris` (the
account's days, as the original platform's job read each event's local date), so tests run both. A range over 90 days is
refused (400), as documented.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache
from zoneinfo import ZoneInfo

from data_gcp.vendor_servers.data import SandboxData, user_email
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, json_error

LOCAL_KEYS = {"local-brevo-native-key-0001": "native", "local-brevo-pro-key-0002": "pro"}
EVENT_SHARES = (("delivered", 0.6), ("opened", 0.33), ("unsubscribed", 0.02), ("clicks", 0.05))
TEMPLATES = {
    "native": [(11, "welcome"), (12, "booking_confirmation"), (13, "credit_expiry")],
    "pro": [(41, "offer_validated"), (42, "booking_notification")],
}
FIRST_CAMPAIGN = dt.date(2025, 1, 6)
ACCOUNT_TZ = ZoneInfo("Europe/Paris")
MAX_RANGE_DAYS = 90
RATE_HEADERS = {
    "x-sib-ratelimit-limit": "1000",
    "x-sib-ratelimit-remaining": "999",
    "x-sib-ratelimit-reset": "1",
}


def build(
    data: SandboxData,
    events_per_day: int = 300,
    campaigns: dict[str, int] | None = None,
    **_: object,
) -> VendorApp:
    n_campaigns = campaigns or {"native": 120, "pro": 30}
    emails = {
        "native": [user_email(u) for u in data.user_ids] or ["nobody@sandbox.passculture.local"],
        "pro": [user_email(u) for u in data.pro_user_ids] or ["pro@sandbox.passculture.local"],
    }

    def audience_of(request: Request) -> str:
        return LOCAL_KEYS[request.header("api-key") or ""]

    def auth(request: Request) -> Response | None:
        if request.header("api-key") not in LOCAL_KEYS:
            return json_error(401, "Key not found", **{"content-type": "application/json"})
        return None

    state: dict[str, object] = {"day_zone": "UTC"}

    def day_events(audience: str, day: dt.date) -> tuple[dict, ...]:
        return _day_events(audience, day, str(state["day_zone"]))

    @lru_cache(maxsize=64)
    def _day_events(audience: str, day: dt.date, zone: str) -> tuple[dict, ...]:
        rng = random.Random(f"{data.seed}-{audience}-{day.isoformat()}")
        names = [name for name, _ in EVENT_SHARES]
        weights = [share for _, share in EVENT_SHARES]
        pool = emails[audience]
        templates = TEMPLATES[audience]
        n = events_per_day if audience == "native" else max(1, events_per_day // 10)
        out = []
        for i in range(n):
            template_id, tag = templates[rng.randrange(len(templates))]
            seconds = int(i * 86_399 / max(n, 1))
            stamp = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)) + dt.timedelta(seconds=seconds)
            local = stamp.astimezone(ACCOUNT_TZ).isoformat(timespec="milliseconds")
            out.append(
                {
                    "email": pool[rng.randrange(len(pool))],
                    "date": local,
                    "messageId": f"<{day:%Y%m%d}{i:07d}.{audience}@smtp-relay.mailin.fr>",
                    "event": rng.choices(names, weights)[0],
                    "tag": tag,
                    "templateId": template_id,
                    "from": "no-reply@passculture.local",
                    "subject": tag.replace("_", " "),
                }
            )
        return tuple(out)

    def window_events(request: Request) -> list[dict]:
        return list(
            _window_events(
                audience_of(request),
                dt.date.fromisoformat(request.param("startDate") or ""),
                dt.date.fromisoformat(request.param("endDate") or ""),
                request.param("event"),
            )
        )

    def _window_events(audience: str, start: dt.date, end: dt.date, event: str | None) -> tuple[dict, ...]:
        return _zone_window_events(audience, start, end, event, str(state["day_zone"]))

    @lru_cache(maxsize=64)
    def _zone_window_events(
        audience: str, start: dt.date, end: dt.date, event: str | None, zone: str
    ) -> tuple[dict, ...]:
        out: list[dict] = []
        day = start
        while day <= end:
            out.extend(e for e in _day_events(audience, day, zone) if event is None or e["event"] == event)
            day += dt.timedelta(days=1)
        return tuple(out)

    def events(request: Request) -> Response:
        if not request.param("startDate") or not request.param("endDate"):
            return json_error(400, "startDate and endDate are required together")
        span = dt.date.fromisoformat(request.param("endDate") or "") - dt.date.fromisoformat(
            request.param("startDate") or ""
        )
        if span.days >= MAX_RANGE_DAYS:
            return json_error(400, "The date range can not exceed 90 days")
        limit = request.int_param("limit", 2500)
        if limit > 5000:
            return json_error(400, "limit must be at most 5000")
        offset = request.int_param("offset", 0)
        rows = window_events(request)
        if request.param("sort") == "desc":
            rows = rows[::-1]
        return Response(200, {"events": rows[offset : offset + limit]}, dict(RATE_HEADERS))

    def report(request: Request) -> Response:
        request.query.pop("event", None)
        rows = window_events(request)
        counts = {name: 0 for name, _ in EVENT_SHARES}
        for row in rows:
            counts[row["event"]] += 1
        return Response(
            200,
            {
                "range": f"{request.param('startDate')}|{request.param('endDate')}",
                "requests": len(rows),
                "delivered": counts["delivered"],
                "opens": counts["opened"],
                "uniqueOpens": counts["opened"],
                "clicks": counts["clicks"],
                "unsubscribed": counts["unsubscribed"],
                "hardBounces": 0,
                "softBounces": 0,
            },
            dict(RATE_HEADERS),
        )

    def campaign(audience: str, i: int) -> dict:
        rng = random.Random(f"{data.seed}-campaign-{audience}-{i}")
        sent = dt.datetime.combine(FIRST_CAMPAIGN + dt.timedelta(days=3 * i), dt.time(9, 30))
        delivered = rng.randrange(1_000, 50_000)
        return {
            "id": (1 if audience == "native" else 5001) + i,
            "name": f"{audience} newsletter {i + 1}",
            "subject": f"Newsletter {i + 1}",
            "type": "classic",
            "status": "sent",
            "tag": f"newsletter_{audience}",
            "utmCampaignValue": f"{audience}_nl_{i + 1}",
            "sentDate": sent.strftime("%Y-%m-%dT%H:%M:%S.000+01:00"),
            "shareLink": f"https://sendibt3.com/{audience}{i:05d}",
            "statistics": {
                "globalStats": {
                    "sent": delivered + rng.randrange(0, 100),
                    "delivered": delivered,
                    "uniqueViews": int(delivered * rng.uniform(0.2, 0.5)),
                    "viewed": int(delivered * 0.6),
                    "uniqueClicks": int(delivered * 0.05),
                    "unsubscriptions": rng.randrange(0, 200),
                    "hardBounces": 0,
                    "softBounces": 0,
                }
            },
        }

    def campaigns_route(request: Request) -> Response:
        limit = request.int_param("limit", 50)
        if limit > 100:
            return json_error(400, "limit must be at most 100")
        offset = request.int_param("offset", 0)
        audience = audience_of(request)
        status = request.param("status")
        total = n_campaigns.get(audience, 0) if status in (None, "sent") else 0
        items = [campaign(audience, i) for i in range(offset, min(offset + limit, total))]
        return Response(200, {"campaigns": items, "count": total}, dict(RATE_HEADERS))

    return VendorApp(
        name="brevo",
        base_path="/v3",
        routes=[
            ("GET", "/emailCampaigns", campaigns_route),
            ("GET", "/smtp/statistics/events", events),
            ("GET", "/smtp/statistics/aggregatedReport", report),
        ],
        auth=auth,
        env={
            "DATA_GCP_BREVO_BASE_URL": "{base_url}",
            "BREVO_API_KEY_NATIVE": "local-brevo-native-key-0001",
            "BREVO_API_KEY_PRO": "local-brevo-pro-key-0002",
        },
        state=state,
    )
