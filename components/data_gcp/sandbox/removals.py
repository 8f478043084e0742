"""Deletions the backend makes, run by `advance` before the day's simulation:

- pros and the fraud team delete offers that were never booked: a REJECTED offer without booking,
  created more than `REJECTED_OFFER_AFTER_DAYS` days before the simulated day, goes with its stock,
  its favourites and its tags;
- the back office deletes abandoned registrations: a venue that never had an offer, a school offer or
  a booking, created more than `ABANDONED_AFTER_DAYS` days before, goes with its address, offerer
  address, synchronisations and labels; then an offerer left without venue or address goes too.

Why only in `advance`: a deletion is seen by the warehouse as a row that was imported one night and
is gone the next (the dbt snapshots close its version, the ministry's `*_removed` files list it), so
it needs a night before it; `generate` writes a database no warehouse has seen yet.

Deleted venues, offers, stocks and favourites move to the local `sandbox_removed_*` tables (never
imported): the simulation keeps its arrays indexed by id - 1 and reloads them from live and removed
rows, marking the removed ones so that nothing new points at them (see `World.load`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from data_gcp.sandbox.db import SourceDB, removed_table

ABANDONED_AFTER_DAYS = 90
REJECTED_OFFER_AFTER_DAYS = 30


@dataclass
class Removals:
    """The ids deleted by one `advance`."""

    offers: list[int] = field(default_factory=list)
    venues: list[int] = field(default_factory=list)
    offerers: list[int] = field(default_factory=list)


def _ids(db: SourceDB, sql: str, params: tuple = ()) -> list[int]:
    return [int(r[0]) for r in db.fetch(sql, params)]


def _in(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def _move(db: SourceDB, table: str, where: str) -> None:
    """Move the rows of `table` matching `where` to its `sandbox_removed_*` table."""
    db.execute(f'INSERT INTO "{removed_table(table)}" SELECT * FROM "{table}" WHERE {where}')
    db.execute(f'DELETE FROM "{table}" WHERE {where}')


def remove_rejected_offers(db: SourceDB, day: dt.date) -> list[int]:
    """Delete the REJECTED offers without any booking created more than 30 days before `day`; ids."""
    cutoff = (day - dt.timedelta(days=REJECTED_OFFER_AFTER_DAYS)).isoformat()
    ids = _ids(
        db,
        "SELECT o.offer_id FROM \"offer\" o WHERE o.offer_validation = 'REJECTED' AND o.offer_creation_date < ? "
        'AND NOT EXISTS (SELECT 1 FROM "stock" s JOIN "booking" b ON b.stock_id = s.stock_id '
        "WHERE s.offer_id = o.offer_id) ORDER BY o.offer_id",
        (cutoff,),
    )
    if ids:
        inside = f"offer_id IN ({_in(ids)})"
        for table in ("offer_criterion", "offer_reminder"):
            db.execute(f'DELETE FROM "{table}" WHERE {inside}')
        for table in ("favorite", "stock", "offer"):
            _move(db, table, inside)
    return ids


def remove_abandoned_venues(db: SourceDB, day: dt.date) -> list[int]:
    """Delete the venues created more than 90 days before `day` that never had an offer, a school
    offer or a booking; their ids."""
    cutoff = (day - dt.timedelta(days=ABANDONED_AFTER_DAYS)).isoformat()
    ids = _ids(
        db,
        'SELECT v.venue_id FROM "venue" v WHERE v.venue_creation_date < ? '
        + "".join(
            # one pass over each table (SQLite builds the set once), not a scan of the bookings per
            # venue: `booking.venue_id` has no index, and at scale 10 that took minutes
            f'AND v.venue_id NOT IN (SELECT venue_id FROM "{table}" WHERE venue_id IS NOT NULL) '
            for table in (
                "offer",
                removed_table("offer"),
                "collective_offer",
                "booking",
                "collective_booking",
            )
        )
        + "ORDER BY v.venue_id",
        (cutoff,),
    )
    if ids:
        inside = f"venue_id IN ({_in(ids)})"
        for table in ("venue_provider", "venue_criterion"):
            db.execute(f'DELETE FROM "{table}" WHERE {inside}')
        # a venue's address and offerer address carry its id (`locations`)
        db.execute(f'DELETE FROM "offerer_address" WHERE offerer_address_id IN ({_in(ids)})')
        db.execute(f'DELETE FROM "address" WHERE address_id IN ({_in(ids)})')
        _move(db, "venue", inside)
    return ids


def remove_abandoned_offerers(db: SourceDB, day: dt.date) -> list[int]:
    """Delete the offerers without any venue created more than 90 days before `day`; their ids."""
    cutoff = (day - dt.timedelta(days=ABANDONED_AFTER_DAYS)).isoformat()
    ids = _ids(
        db,
        'SELECT offerer_id FROM "offerer" o WHERE o.offerer_creation_date < ? AND NOT EXISTS '
        '(SELECT 1 FROM "venue" v WHERE v.venue_managing_offerer_id = o.offerer_id) '
        'AND NOT EXISTS (SELECT 1 FROM "offerer_address" a WHERE a.offerer_id = o.offerer_id) '
        "ORDER BY offerer_id",
        (cutoff,),
    )
    if ids:
        db.execute(f'DELETE FROM "offerer" WHERE offerer_id IN ({_in(ids)})')
    return ids


def remove_deleted(db: SourceDB, day: dt.date) -> Removals:
    """Everything the backend deletes as of `day`, in the order its cascades allow."""
    db.create_removed_tables()
    offers = remove_rejected_offers(db, day)
    venues = remove_abandoned_venues(db, day)
    return Removals(offers, venues, remove_abandoned_offerers(db, day))
