"""Contentful connector.

Contract (reference `source-systems.md`): Content Delivery API `https://cdn.contentful.com` (drafts:
`https://preview.contentful.com`, set `DATA_GCP_CONTENTFUL_PREVIEW=true`),
`/spaces/{space}/environments/{env}/entries`, `Authorization: Bearer <token>`, `skip` + `limit` (500)
with `total`, `order=sys.updatedAt`; a full snapshot per day.

Tables (one snapshot a day, `snapshot_date` = the window's end, that day replaced on a re-run):
- `contentful_entry`: id, content type, title, fields as JSON, created/updated at;
- `contentful_relationship`: parent entry -> child entry for every entry link in the fields;
- `contentful_tag`: tag id, name, entry id (tag names from `/tags`).

Settings: `DATA_GCP_CONTENTFUL_SPACE_ID` (required), `DATA_GCP_CONTENTFUL_ENVIRONMENT` (default
`master`). Secret: `contentful-access-token`. Contentful's `X-Contentful-RateLimit-Reset` header is
honoured on 429. An entry edited while the pages are read moves to a later page (the order is
`sys.updatedAt`): it shows up twice and the entry that took its place is skipped. So the snapshot
checks its completeness: the distinct entry ids read must equal the `total` announced, else the
whole listing is read again (at most 3 times), then the run fails; never loaded short.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from data_gcp.etl_core import Batch, Column, Connector, RunContext, TableSpec, utc_timestamp
from data_gcp.http_client import SourceError

PAGE_SIZE = 500
PREVIEW_URL = "https://preview.contentful.com"
RESET_HEADERS = ("x-contentful-ratelimit-reset", "x-ratelimit-reset")

ENTRY = TableSpec(
    name="contentful_entry",
    object="entries",
    description="every published entry of the space, one snapshot a day",
    columns=(
        Column("snapshot_date", "date", nullable=False),
        Column("entry_id", "string", nullable=False),
        Column("content_type"),
        Column("title"),
        Column("fields", "json", "the entry's fields as JSON (links kept as Contentful Link objects)"),
        Column("created_at", "timestamp"),
        Column("updated_at", "timestamp"),
    ),
    write="snapshot_day",
    partition="snapshot_date",
    primary_key=("snapshot_date", "entry_id"),
    allow_empty=False,
)
RELATIONSHIP = TableSpec(
    name="contentful_relationship",
    object="entries",
    description="entry links: parent entry -> child entry, through field `field_name`",
    columns=(
        Column("snapshot_date", "date", nullable=False),
        Column("parent", "string", nullable=False),
        Column("child", "string", nullable=False),
        Column("field_name"),
        Column("position", "int", "order of the child in a list field"),
    ),
    write="snapshot_day",
    partition="snapshot_date",
)
TAG = TableSpec(
    name="contentful_tag",
    object="entries",
    description="tags on entries",
    columns=(
        Column("snapshot_date", "date", nullable=False),
        Column("tag_id", "string", nullable=False),
        Column("tag_name"),
        Column("entry_id", "string", nullable=False),
    ),
    write="snapshot_day",
    partition="snapshot_date",
)


def links_of(fields: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(field name, linked entry id, position) for every Entry link in the fields, nested or not."""
    out: list[tuple[str, str, int]] = []

    def walk(value: Any, field: str, position: int) -> None:
        if isinstance(value, dict):
            sys = value.get("sys")
            if isinstance(sys, dict) and sys.get("type") == "Link" and sys.get("linkType") == "Entry":
                out.append((field, str(sys["id"]), position))
                return
            for child in value.values():
                walk(child, field, position)
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(child, field, i)

    for name, value in fields.items():
        walk(value, name, 0)
    return out


def _sys_id(item: dict[str, Any]) -> str:
    return str(item["sys"]["id"])


class ContentfulConnector(Connector):
    name = "contentful"
    description = "Contentful home-page CMS: entries, entry links and tags (daily snapshot)"
    schedule = "30 1 * * *"
    default_base_url = "https://cdn.contentful.com"
    secrets = ("contentful-access-token",)
    tables = (ENTRY, RELATIONSHIP, TAG)
    settings_help = {
        "SPACE_ID": "Contentful space id (required)",
        "ENVIRONMENT": "Contentful environment (default master)",
        "PREVIEW": "true to read drafts from the Preview API",
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        space = ctx.option("space_id")
        environment = ctx.option("environment", "master")
        base_url = ctx.base_url
        if ctx.option("preview", "false").lower() == "true" and base_url == self.default_base_url:
            base_url = PREVIEW_URL
        token = ctx.secret("contentful-access-token")
        prefix = f"spaces/{space}/environments/{environment}"
        snapshot = ctx.window.end
        with ctx.http(
            base_url=base_url,
            secret_headers={"Authorization": f"Bearer {token}"},
            reset_headers=RESET_HEADERS,
        ) as http:
            tags = http.snapshot_offset(
                f"{prefix}/tags",
                "items",
                id_of=_sys_id,
                limit=1000,
                offset_param="skip",
                total_key="total",
            )
            tag_names: dict[str, str] = {t["sys"]["id"]: t.get("name") for t in tags}
            listed = http.snapshot_offset(
                f"{prefix}/entries",
                "items",
                id_of=_sys_id,
                params={"order": "sys.updatedAt"},
                limit=PAGE_SIZE,
                offset_param="skip",
                total_key="total",
            )
            entries: dict[str, dict[str, Any]] = {_sys_id(item): item for item in listed}
        entry_rows, link_rows, tag_rows = [], [], []
        for entry_id, item in sorted(entries.items()):
            sys = item.get("sys") or {}
            fields = item.get("fields") or {}
            content_type = ((sys.get("contentType") or {}).get("sys") or {}).get("id")
            title = fields.get("title")
            entry_rows.append(
                {
                    "snapshot_date": snapshot,
                    "entry_id": entry_id,
                    "content_type": content_type,
                    "title": title if isinstance(title, str) else None,
                    "fields": json.dumps(fields, ensure_ascii=False, sort_keys=True),
                    "created_at": utc_timestamp(sys.get("createdAt")),
                    "updated_at": utc_timestamp(sys.get("updatedAt")),
                }
            )
            for field, child, position in links_of(fields):
                link_rows.append(
                    {
                        "snapshot_date": snapshot,
                        "parent": entry_id,
                        "child": child,
                        "field_name": field,
                        "position": position,
                    }
                )
            for tag in (item.get("metadata") or {}).get("tags") or []:
                tag_id = tag["sys"]["id"]
                tag_rows.append(
                    {
                        "snapshot_date": snapshot,
                        "tag_id": tag_id,
                        "tag_name": tag_names.get(tag_id),
                        "entry_id": entry_id,
                    }
                )
        if tag_rows and not tag_names:
            raise SourceError(
                "contentful", f"GET /{prefix}/tags", "entries carry tags but the tag list is empty"
            )
        yield ENTRY.name, ENTRY.to_arrow(entry_rows)
        yield RELATIONSHIP.name, RELATIONSHIP.to_arrow(link_rows)
        yield TAG.name, TAG.to_arrow(tag_rows)


CONNECTOR = ContentfulConnector
