"""The app's address book: `address` (one geocoded address per physical venue, as the backend keeps
them in its BAN-normalised `address` table) and `offerer_address` (which structure is represented at
which address, under which label).

Why a module of its own: the venues are created by `world`; their addresses follow from them
(deterministic in the venue id and the seed), so they are written after the world, once per venue
that has none yet (`generate` and `advance` alike).
"""

from __future__ import annotations

import random

import pyarrow as pa

from data_gcp.sandbox.db import SourceDB
from data_gcp.sandbox.geo import STREETS

HEAD_OFFICE_SHARE = 0.3  # offerer addresses labelled as the structure's head office


def commune_code(department_code: str) -> str:
    """A plausible INSEE commune code of the department's main city (5 characters)."""
    return (department_code + "056")[:5] if len(department_code) == 2 else department_code + "01"


def write_locations(db: SourceDB, seed: int) -> int:
    """Insert the address and offerer address of every physical venue that has none; returns how many."""
    have = {int(r[0]) for r in db.fetch('SELECT address_id FROM "address"')}
    venues = db.fetch(
        "SELECT venue_id, venue_managing_offerer_id, venue_name, venue_latitude, venue_longitude, "
        'venue_postal_code, venue_city, venue_department_code, venue_creation_date FROM "venue" '
        "WHERE NOT venue_is_virtual AND venue_latitude IS NOT NULL ORDER BY venue_id"
    )
    rows: dict[str, list] = {k: [] for k in ("address", "offerer_address")}
    for vid, offerer, name, lat, lon, postal, city, dept, created in venues:
        if int(vid) in have:
            continue
        rng = random.Random(f"{seed}-venue-address-{vid}")
        street_index = rng.randrange(len(STREETS))
        number = rng.randrange(1, 200)
        insee = commune_code(str(dept))
        rows["address"].append(
            {
                "address_id": int(vid),
                "address_ban_id": f"{insee}_{street_index + 1:04d}_{number:05d}",
                "address_insee_code": insee,
                "address_street": f"{number} {STREETS[street_index]}",
                "address_postal_code": postal,
                "address_city": city,
                "address_latitude": round(float(lat), 6),
                "address_longitude": round(float(lon), 6),
                "address_department_code": dept,
            }
        )
        head_office = rng.random() < HEAD_OFFICE_SHARE
        rows["offerer_address"].append(
            {
                "offerer_address_id": int(vid),
                "offerer_address_label": "Siège social" if head_office else name,
                "address_id": int(vid),
                "offerer_id": int(offerer),
                "offerer_address_creation_date": created,
            }
        )
    for table, items in rows.items():
        if not items:
            continue
        if table == "offerer_address":  # SQLite gives text, PostgreSQL datetimes: one form for both
            for item in items:
                stamp = item["offerer_address_creation_date"]
                item["offerer_address_creation_date"] = None if stamp is None else str(stamp)[:19]
        data = pa.Table.from_pylist(items)
        if table == "offerer_address":
            i = data.column_names.index("offerer_address_creation_date")
            data = data.set_column(
                i, "offerer_address_creation_date", data.column(i).cast(pa.string()).cast(pa.timestamp("us"))
            )
        db.insert(table, data)
    return len(rows["address"])
