"""Batch.com REST API 1.1: campaigns list, campaign stats, transactional stats, per app.

The app is the API key in the path (`/1.1/{app_api_key}/...`); the REST key goes in `X-Authorization`.
Each app has its own campaigns (different tokens and names), so a connector that mixed the two
apps' rows would be caught by the tests. One campaign is pushed a day from `FIRST_PUSH`; a campaign has
stats for the 3 days from its push; every third one is an A/B test (`versions.a` / `versions.b`).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any
from urllib.parse import unquote

from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp

LOCAL_REST_KEY = "local-batch-rest-key-0003"
LOCAL_APP_KEYS = {"ios": "LOCALBATCHIOSAPIKEY0001", "android": "LOCALBATCHANDROIDKEY0002"}
FIRST_PUSH = dt.datetime(2025, 1, 6, 18, 0)
GROUPS = ("Cancel_booking", "Offer_link", "Soon_expiring_bookings", "Today_stock", "Favorites_not_booked")
MAX_LIMIT = 100


def _error(status: int, code: str, message: str) -> Response:
    return Response(status, {"code": code, "message": message})


def _counts(rng: random.Random, scale: int) -> dict[str, int]:
    sent = rng.randrange(scale // 2, scale)
    return {
        "sent": sent,
        "direct_open": int(sent * rng.uniform(0.02, 0.08)),
        "influenced_open": int(sent * rng.uniform(0.01, 0.04)),
        "reengaged": int(sent * rng.uniform(0.0, 0.01)),
        "errors": rng.randrange(0, 20),
    }


def build(data: SandboxData, campaigns: dict[str, int] | None = None, **_: object) -> VendorApp:
    n_campaigns = campaigns or {"ios": 130, "android": 115}
    audience = max(1000, len(data.user_ids) * 5)

    def campaign(app: str, i: int) -> dict[str, Any]:
        rng = random.Random(f"{data.seed}-batch-{app}-{i}")
        push = FIRST_PUSH + dt.timedelta(days=i, minutes=rng.randrange(0, 120))
        return {
            "campaign_token": f"{app[:3]}{rng.getrandbits(64):016x}",
            "dev_only": i % 17 == 0,
            "created_date": (push - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"),
            "name": f"[{app}] push {i + 1}: {rng.choice(['nouveautés', 'expiration crédit', 'concerts', 'livres'])}",
            "live": i % 11 != 0,
            "from_api": i % 5 == 0,
            "push_time": push.strftime("%Y-%m-%dT%H:%M:%S"),
        }

    tokens = {
        app: {campaign(app, i)["campaign_token"]: i for i in range(n)} for app, n in n_campaigns.items()
    }

    def app_of(request: Request) -> tuple[str | None, str]:
        match = re.match(r"^/1\.1/([^/]+)/", request.path)
        key = unquote(match.group(1)) if match else ""
        return next((a for a, k in LOCAL_APP_KEYS.items() if k == key), None), key

    def auth(request: Request) -> Response | None:
        if request.header("X-Authorization") != LOCAL_REST_KEY:
            return _error(401, "AUTHENTICATION_INVALID", "Authentication invalid: check the REST API key")
        if app_of(request)[0] is None:
            return _error(404, "ROUTE_NOT_FOUND", "Unknown API key")
        return None

    def campaigns_list(request: Request) -> Response:
        app, _ = app_of(request)
        limit = request.int_param("limit", 10)
        start = request.int_param("from", 0)
        if not 0 < limit <= MAX_LIMIT:
            return _error(400, "MISSING_PARAMETER", f"limit must be between 1 and {MAX_LIMIT}")
        total = n_campaigns.get(app or "", 0)
        # newest first, like the dashboard
        order = list(range(total - 1, -1, -1))
        return Response(200, [campaign(app or "", i) for i in order[start : start + limit]])

    def campaign_stats(request: Request) -> Response:
        app, _ = app_of(request)
        token = request.path.rsplit("/", 1)[-1]
        index = tokens[app or ""].get(token)
        if index is None:
            return _error(404, "CAMPAIGN_NOT_FOUND", "Campaign not found")
        push = dt.datetime.fromisoformat(campaign(app or "", index)["push_time"]).date()
        rng = random.Random(f"{data.seed}-batch-stats-{app}-{index}")
        detail = []
        for offset in range(3):
            day = {"date": (push + dt.timedelta(days=offset)).isoformat()}
            if index % 3 == 0:
                a, b = _counts(rng, audience // (offset + 1)), _counts(rng, audience // (offset + 1))
                day["errors"] = a.pop("errors") + b.pop("errors")
                day["versions"] = {"a": a, "b": b}
            else:
                day.update(_counts(rng, audience // (offset + 1)))
            detail.append(day)
        return Response(200, {"campaign_token": token, "detail": detail})

    def transactional_stats(request: Request) -> Response:
        app, _ = app_of(request)
        group = request.path.rsplit("/", 1)[-1]
        if group not in GROUPS:
            return _error(404, "GROUP_NOT_FOUND", f"Unknown group id {group}")
        try:
            since = dt.date.fromisoformat(request.param("since") or "")
            until = dt.date.fromisoformat(request.param("until") or "")
        except ValueError:
            return _error(400, "MISSING_PARAMETER", "since and until must be dates YYYY-MM-DD")
        if until < since or (until - since).days > 30:
            return _error(400, "INVALID_PARAMETER", "until must be after since, at most 30 days")
        detail = []
        day = since
        while day <= until:
            rng = random.Random(f"{data.seed}-batch-tx-{app}-{group}-{day}")
            detail.append({"date": day.isoformat(), **_counts(rng, audience // 10)})
            day += dt.timedelta(days=1)
        return Response(200, {"detail": detail})

    return VendorApp(
        name="batch",
        base_path="/1.1",
        routes=[
            ("GET", r"/[^/]+/campaigns/list", campaigns_list),
            ("GET", r"/[^/]+/campaigns/stats/[^/]+", campaign_stats),
            ("GET", r"/[^/]+/transactional/stats/[^/]+", transactional_stats),
        ],
        auth=auth,
        env={
            "DATA_GCP_BATCH_BASE_URL": "{base_url}",
            "BATCH_REST_KEY": LOCAL_REST_KEY,
            "BATCH_API_KEY_IOS": LOCAL_APP_KEYS["ios"],
            "BATCH_API_KEY_ANDROID": LOCAL_APP_KEYS["android"],
        },
    )
