"""What a governance run does, computed from one read of Metabase's state (pure: no I/O).

Why one plan: a dry run prints this plan and a real run executes exactly it, so the two cannot differ;
a second real run reads the new state, where nothing matches any more (idempotence).
Order: stale cards first; then dashboards left without any live content (no card at all, or only
question cards that are archived; a text, heading or link card is content: such a dashboard stays,
as in the original platform's governance job); then collections left without a live card, dashboard
or non-empty sub-collection (deepest first). A dashboard's cards are `dashcards` (Metabase >= 0.47)
or `ordered_cards` (older).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from data_gcp.metabase.rules import Rules


@dataclass(frozen=True)
class Action:
    action: str  # archive_card | archive_dashboard | archive_collection
    object_type: str  # card | dashboard | collection
    object_id: int
    object_name: str
    collection_id: int | None
    collection_name: str | None
    last_viewed_at: dt.datetime | None
    reason: str


def parse_ts(value: Any) -> dt.datetime | None:
    """Metabase ISO timestamps; a naive one is UTC (Metabase's API answers with an offset)."""
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _int_id(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def dashcards(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """A dashboard's cards: `dashcards` (Metabase >= 0.47), `ordered_cards` before."""
    items = dashboard.get("dashcards")
    if items is None:
        items = dashboard.get("ordered_cards")
    return [dc for dc in items or [] if isinstance(dc, dict)]


def question_id(dashcard: dict[str, Any]) -> int | None:
    """The question card a dashcard shows (`card_id`, or its embedded `card`); None: a virtual card
    (text, heading, link, iframe), which is content the author added."""
    card_id = dashcard.get("card_id")
    if card_id is None and isinstance(dashcard.get("card"), dict):
        card_id = dashcard["card"].get("id")
    return card_id if isinstance(card_id, int) else None


def _ancestors(collection: dict[str, Any]) -> list[int]:
    """Ids in Metabase's `location` path (`/1/4/`), root first."""
    return [int(p) for p in str(collection.get("location") or "/").split("/") if p.isdigit()]


def plan_actions(
    cards: list[dict[str, Any]],
    dashboards: list[dict[str, Any]],
    collections: list[dict[str, Any]],
    rules: Rules,
    today: dt.date,
) -> list[Action]:
    now = dt.datetime.combine(today, dt.time(23, 59, 59), tzinfo=dt.UTC)
    stale_before = now - dt.timedelta(days=rules.not_viewed_days)
    young_after = now - dt.timedelta(days=rules.min_age_days)
    colls = {c["id"]: c for c in collections if _int_id(c.get("id")) is not None and not c.get("archived")}
    protected_names = set(rules.protected_collections)

    def protected(coll_id: int | None) -> bool:
        if coll_id is None:
            return False
        chain = [*_ancestors(colls.get(coll_id, {})), coll_id]
        return any(
            str(cid) in protected_names or colls.get(cid, {}).get("name") in protected_names for cid in chain
        )

    def personal(coll_id: int | None) -> bool:
        if coll_id is None:
            return False
        chain = [*_ancestors(colls.get(coll_id, {})), coll_id]
        return any(colls.get(cid, {}).get("personal_owner_id") is not None for cid in chain)

    def name_of(coll_id: int | None) -> str | None:
        return colls[coll_id]["name"] if coll_id in colls else None

    def young(obj: dict[str, Any]) -> bool:
        stamps = [parse_ts(obj.get(k)) for k in ("created_at", "updated_at")]
        return any(s is not None and s > young_after for s in stamps)

    actions: list[Action] = []
    live_cards = [c for c in cards if not c.get("archived")]
    archived: set[int] = set()
    for card in sorted(live_cards, key=lambda c: c["id"]):
        coll_id = _int_id(card.get("collection_id"))
        last = parse_ts(card.get("last_used_at")) or parse_ts(card.get("created_at"))
        if last is None or last >= stale_before or protected(coll_id):
            continue
        if rules.skip_personal_collections and personal(coll_id):
            continue
        seen = (
            f"last viewed {last.date()}"
            if card.get("last_used_at")
            else f"never viewed, created {last.date()}"
        )
        archived.add(card["id"])
        actions.append(
            Action(
                "archive_card",
                "card",
                card["id"],
                card.get("name") or "",
                coll_id,
                name_of(coll_id),
                last,
                f"{seen}: not viewed for {rules.not_viewed_days}+ days",
            )
        )

    live_dashboards: set[int] = set()
    for dash in sorted((d for d in dashboards if not d.get("archived")), key=lambda d: d["id"]):
        coll_id = _int_id(dash.get("collection_id"))
        items = dashcards(dash)
        questions = [question_id(dc) for dc in items if question_id(dc) is not None]
        virtual = len(items) - len(questions)
        dead_cards = {
            question_id(dc) for dc in items if isinstance(dc.get("card"), dict) and dc["card"].get("archived")
        }
        remaining = [cid for cid in questions if cid not in archived and cid not in dead_cards]
        removable = (
            rules.remove_empty_dashboards
            and not remaining
            and not virtual  # text, heading or link cards: a page its author keeps, never dead
            and not protected(coll_id)
            and not young(dash)
            and not (rules.skip_personal_collections and personal(coll_id))
        )
        if not removable:
            live_dashboards.add(dash["id"])
            continue
        why = "no card at all" if not questions else "its question cards were all archived"
        actions.append(
            Action(
                "archive_dashboard",
                "dashboard",
                dash["id"],
                dash.get("name") or "",
                coll_id,
                name_of(coll_id),
                parse_ts(dash.get("last_viewed_at")),
                f"empty dashboard: {why}",
            )
        )

    if rules.remove_empty_collections:
        holds: dict[int, int] = dict.fromkeys(colls, 0)  # live things directly inside
        for card in live_cards:
            cid = _int_id(card.get("collection_id"))
            if cid in holds and card["id"] not in archived:
                holds[cid] += 1
        for dash in dashboards:
            cid = _int_id(dash.get("collection_id"))
            if cid in holds and dash["id"] in live_dashboards:
                holds[cid] += 1
        removed: set[int] = set()
        # deepest first, so that a parent emptied by its children's removal goes too
        for coll_id in sorted(colls, key=lambda c: (-len(_ancestors(colls[c])), c)):
            coll = colls[coll_id]
            children = [c for c in colls if _ancestors(colls[c])[-1:] == [coll_id]]
            if holds[coll_id] or any(c not in removed for c in children):
                continue
            if protected(coll_id) or personal(coll_id) or young(coll):
                continue
            removed.add(coll_id)
            parent = (_ancestors(coll) or [None])[-1]
            actions.append(
                Action(
                    "archive_collection",
                    "collection",
                    coll_id,
                    coll.get("name") or "",
                    parent,
                    name_of(parent),
                    None,
                    "empty collection: no live card, dashboard or sub-collection",
                )
            )
    return actions
