"""Deletions the backend makes: abandoned registrations (an offerer with no venue, created more than
`ABANDONED_AFTER_DAYS` days before the simulated day) are deleted by the back office.

Why only in `advance`: a deletion is seen by the warehouse as a row that was imported one night and
is gone the next (the dbt snapshots close its version, the ministry's `*_removed` files list it), so
it needs a night before it; `generate` writes a database no warehouse has seen yet.
"""

from __future__ import annotations

import datetime as dt

from data_gcp.sandbox.db import SourceDB

ABANDONED_AFTER_DAYS = 90


def remove_abandoned_offerers(db: SourceDB, day: dt.date) -> list[int]:
    """Delete the offerers without any venue created more than 90 days before `day`; their ids."""
    cutoff = (day - dt.timedelta(days=ABANDONED_AFTER_DAYS)).isoformat()
    ids = [
        int(r[0])
        for r in db.fetch(
            'SELECT offerer_id FROM "offerer" o WHERE o.offerer_creation_date < ? AND NOT EXISTS '
            '(SELECT 1 FROM "venue" v WHERE v.venue_managing_offerer_id = o.offerer_id) '
            'AND NOT EXISTS (SELECT 1 FROM "offerer_address" a WHERE a.offerer_id = o.offerer_id) '
            "ORDER BY offerer_id",
            (cutoff,),
        )
    ]
    cur = db.raw.cursor()
    mark = "?" if db.dialect == "sqlite" else "%s"
    for offerer_id in ids:
        cur.execute(f'DELETE FROM "offerer" WHERE offerer_id = {mark}', (offerer_id,))
    return ids
