"""Contentful Content Delivery API: entries (skip/limit/total, order=sys.updatedAt) and tags.

Content modelled on the app's home pages: `homepageNatif` entries link to modules (`algolia`,
`business`, `exclusivity`, `recommendation`, `venuesPlaylist`), each linking its `displayParameters`.
"""

from __future__ import annotations

import datetime as dt
import random

from data_gcp.etl_core import utc_timestamp
from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, json_error

LOCAL_TOKEN = "local-contentful-token-0003"
SPACE = "localspace"
ENVIRONMENT = "master"
MODULE_TYPES = ("algolia", "business", "exclusivity", "recommendation", "venuesPlaylist")
TAGS = ("home-jeunes", "home-15-17", "evenement", "livre", "cinema")
BASE_TIME = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


def _link(entry_id: str) -> dict:
    return {"sys": {"type": "Link", "linkType": "Entry", "id": entry_id}}


def _sys(entry_id: str, content_type: str, updated: dt.datetime) -> dict:
    return {
        "space": {"sys": {"type": "Link", "linkType": "Space", "id": SPACE}},
        "id": entry_id,
        "type": "Entry",
        "createdAt": (updated - dt.timedelta(days=30)).isoformat().replace("+00:00", "Z"),
        "updatedAt": updated.isoformat().replace("+00:00", "Z"),
        "revision": 3,
        "contentType": {"sys": {"type": "Link", "linkType": "ContentType", "id": content_type}},
        "locale": "fr-FR",
    }


def generate_entries(seed: int, n_homepages: int) -> list[dict]:
    rng = random.Random(f"{seed}-contentful")
    entries: list[dict] = []
    counter = 0

    def stamp() -> dt.datetime:
        nonlocal counter
        counter += 1
        return BASE_TIME + dt.timedelta(minutes=7 * counter)

    def tags() -> dict:
        chosen = rng.sample(TAGS, rng.randrange(0, 3))
        return {"tags": [{"sys": {"type": "Link", "linkType": "Tag", "id": t}} for t in chosen]}

    for h in range(n_homepages):
        module_ids = []
        for m in range(rng.randrange(6, 14)):
            kind = MODULE_TYPES[rng.randrange(len(MODULE_TYPES))]
            module_id = f"{kind}-{h:03d}-{m:02d}"
            display_id = f"display-{h:03d}-{m:02d}"
            entries.append(
                {
                    "metadata": {"tags": []},
                    "sys": _sys(display_id, "displayParameters", stamp()),
                    "fields": {
                        "title": f"affichage {display_id}",
                        "layout": rng.choice(["one-item-medium", "two-items"]),
                        "minOffers": rng.randrange(1, 5),
                    },
                }
            )
            fields: dict = {"title": f"{kind} module {h}.{m}", "displayParameters": _link(display_id)}
            if kind == "algolia":
                fields["algoliaParameters"] = [
                    {"query": rng.choice(["concert", "manga", "cinéma", ""]), "hitsPerPage": 20}
                ]
            entries.append({"metadata": tags(), "sys": _sys(module_id, kind, stamp()), "fields": fields})
            module_ids.append(module_id)
        entries.append(
            {
                "metadata": tags(),
                "sys": _sys(f"home-{h:03d}", "homepageNatif", stamp()),
                "fields": {"title": f"Accueil {h}", "modules": [_link(i) for i in module_ids]},
            }
        )
    entries.sort(key=lambda e: (e["sys"]["updatedAt"], e["sys"]["id"]))
    return entries


def build(data: SandboxData, n_homepages: int = 50, **_: object) -> VendorApp:
    entries = generate_entries(data.seed, n_homepages)
    tag_items = [
        {"sys": {"id": t, "type": "Tag", "visibility": "public"}, "name": t.replace("-", " ").title()}
        for t in TAGS
    ]

    def auth(request: Request) -> Response | None:
        if request.header("authorization") != f"Bearer {LOCAL_TOKEN}":
            return json_error(401, "The access token you sent could not be found or is invalid.")
        return None

    def page(items: list[dict], request: Request, max_limit: int = 1000) -> Response:
        limit = request.int_param("limit", 100)
        if limit > max_limit:
            return json_error(400, f"limit must be at most {max_limit}")
        skip = request.int_param("skip", 0)
        return Response(
            200,
            {
                "sys": {"type": "Array"},
                "total": len(items),
                "skip": skip,
                "limit": limit,
                "items": items[skip : skip + limit],
            },
            {"x-contentful-ratelimit-second-remaining": "50"},
        )

    def list_entries(request: Request) -> Response:
        if request.param("order") not in (None, "sys.updatedAt"):
            return json_error(400, "unsupported order")
        return page(entries, request)

    def list_tags(request: Request) -> Response:
        return page(tag_items, request)

    def edit(position: int = 0) -> str:
        """An editor saves the entry at `position` now: it moves to the end of the updatedAt order."""
        entry = entries.pop(position)
        latest = utc_timestamp(entries[-1]["sys"]["updatedAt"])
        entry = {
            **entry,
            "sys": {**entry["sys"], "updatedAt": (latest + dt.timedelta(seconds=1)).isoformat()},
        }
        entries.append(entry)
        return entry["sys"]["id"]

    return VendorApp(
        name="contentful",
        routes=[
            ("GET", rf"/spaces/{SPACE}/environments/{ENVIRONMENT}/entries", list_entries),
            ("GET", rf"/spaces/{SPACE}/environments/{ENVIRONMENT}/tags", list_tags),
        ],
        auth=auth,
        controls={"edit": edit},
        env={
            "DATA_GCP_CONTENTFUL_BASE_URL": "{base_url}",
            "DATA_GCP_CONTENTFUL_SPACE_ID": SPACE,
            "DATA_GCP_CONTENTFUL_ENVIRONMENT": ENVIRONMENT,
            "CONTENTFUL_ACCESS_TOKEN": LOCAL_TOKEN,
        },
    )
