"""Data the vendor servers serve, consistent with the sandbox when there is one.

The sandbox SQLite (`Settings.source_url`) gives real user ids and offerers' SIRENs, and its last
simulated day (the data folder's "today", which servers anchoring data in time must use instead of
the wall clock: a re-start after midnight must serve the same data); without it the data is generated
from a seed, so tests and benchmarks are deterministic either way.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from data_gcp.config import Settings, get_settings


def user_email(user_id: int | str) -> str:
    """The e-mail the vendors know a sandbox user by (the app database copy holds no e-mail)."""
    return f"user{user_id}@sandbox.passculture.local"


@dataclass
class SandboxData:
    user_ids: list[int] = field(default_factory=list)
    pro_user_ids: list[int] = field(default_factory=list)
    offerer_sirens: list[str] = field(default_factory=list)
    seed: int = 7
    from_sandbox: bool = False
    last_day: dt.date | None = None  # the sandbox's last simulated day (`sandbox_meta.end_date`)
    # sandbox venues: {venue_id, siret, name, venue_type_code, postal_code, department_code, city,
    # latitude, longitude} (Adage partners are real venues)
    venues: list[dict] = field(default_factory=list)
    # users' postal addresses: {user_id, address, postal_code, city, department_code} (geocoding)
    addresses: list[dict] = field(default_factory=list)
    # user id -> account creation time, and -> first booking time (installs come before both)
    user_created: dict[int, dt.datetime] = field(default_factory=dict)
    first_booking: dict[int, dt.datetime] = field(default_factory=dict)
    # departments of the schools (`educational_institution.institution_department_code`)
    school_departments: list[str] = field(default_factory=list)

    @property
    def rng(self) -> random.Random:
        return random.Random(self.seed)


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url.removeprefix("sqlite:///"))
    return path if path.is_file() else None


def _query(con: sqlite3.Connection, sql: str) -> list[tuple]:
    try:
        return con.execute(sql).fetchall()
    except sqlite3.Error:
        return []


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _ts(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)[:19])
    except ValueError:
        return None


def _extra(con: sqlite3.Connection) -> dict:
    """Venues, addresses, creation and first booking times, school departments (empty if absent)."""
    venue_cols = (
        "venue_id, venue_siret, venue_name, venue_type_code, venue_postal_code, venue_department_code, "
        "venue_city, venue_latitude, venue_longitude"
    )
    venues = [
        dict(zip(_VENUE_KEYS, row, strict=True))
        for row in _query(con, f"SELECT {venue_cols} FROM venue WHERE NOT venue_is_virtual ORDER BY venue_id")
    ]
    addresses = [
        dict(zip(("user_id", "address", "postal_code", "city", "department_code"), row, strict=True))
        for row in _query(
            con,
            'SELECT user_id, user_address, user_postal_code, user_city, user_department_code FROM "user" '
            "ORDER BY user_id LIMIT 50000",
        )
    ]
    created = {
        int(u): t
        for u, c in _query(con, 'SELECT user_id, user_creation_date FROM "user" LIMIT 50000')
        if (t := _ts(c)) is not None
    }
    first = {
        int(u): t
        for u, c in _query(con, "SELECT user_id, MIN(booking_creation_date) FROM booking GROUP BY user_id")
        if (t := _ts(c)) is not None
    }
    schools = [
        str(d[0])
        for d in _query(
            con,
            "SELECT DISTINCT institution_department_code FROM educational_institution "
            "WHERE institution_department_code IS NOT NULL ORDER BY 1",
        )
    ]
    return {
        "venues": venues,
        "addresses": addresses,
        "user_created": created,
        "first_booking": first,
        "school_departments": schools,
    }


_VENUE_KEYS = (
    "venue_id",
    "siret",
    "name",
    "venue_type_code",
    "postal_code",
    "department_code",
    "city",
    "latitude",
    "longitude",
)


def load_sandbox_data(settings: Settings | None = None, seed: int = 7, n_fake: int = 500) -> SandboxData:
    """Users and offerers from the sandbox if it exists, else `n_fake` generated ones."""
    settings = settings or get_settings()
    path = _sqlite_path(settings.source_url)
    if path is not None:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            users = _query(con, 'SELECT user_id, user_role FROM "user" ORDER BY user_id LIMIT 50000')
            sirens = _query(
                con,
                "SELECT DISTINCT offerer_siren FROM offerer WHERE offerer_siren IS NOT NULL ORDER BY 1 LIMIT 20000",
            )
            meta = _query(con, "SELECT value FROM sandbox_meta WHERE key = 'end_date'")
            extra = _extra(con)
        finally:
            con.close()
        if users:
            young = [int(u) for u, role in users if str(role or "").upper() != "PRO"]
            pro = [int(u) for u, role in users if str(role or "").upper() == "PRO"]
            return SandboxData(
                user_ids=young or [int(u) for u, _ in users],
                pro_user_ids=pro or [int(u) for u, _ in users[:50]],
                offerer_sirens=[str(s[0]) for s in sirens],
                seed=seed,
                from_sandbox=True,
                last_day=_date(meta[0][0]) if meta else None,
                **extra,
            )
    return fake_data(seed, n_fake)


FAKE_LAST_DAY = dt.date(2026, 11, 30)
_FAKE_CITIES = (
    ("75", "75011", "Paris", 48.8566, 2.3522),
    ("13", "13001", "Marseille", 43.2965, 5.3698),
    ("69", "69001", "Lyon", 45.7640, 4.8357),
    ("59", "59000", "Lille", 50.6292, 3.0573),
    ("44", "44000", "Nantes", 47.2184, -1.5536),
    ("974", "97400", "Saint-Denis", -20.8821, 55.4507),
)
_FAKE_STREETS = ("rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta")


def fake_data(seed: int = 7, n_fake: int = 500) -> SandboxData:
    """Generated users and offerers (tests and benchmarks: independent of any local sandbox).

    Users are created over the year ending `FAKE_LAST_DAY` (last_day stays None, like a data folder
    without a sandbox); two thirds book, 1 to 20 days after their creation.
    """
    rng = random.Random(seed)
    extra = random.Random(f"{seed}-extra")  # its own stream: the SIRENs stay those of earlier versions
    user_ids = list(range(1, n_fake + 1))
    start = dt.datetime.combine(FAKE_LAST_DAY - dt.timedelta(days=364), dt.time(8))
    created = {u: start + dt.timedelta(minutes=int(525_600 * (u - 0.5) / n_fake)) for u in user_ids}
    first = {
        u: t + dt.timedelta(days=extra.randrange(1, 21), minutes=extra.randrange(0, 600))
        for u, t in created.items()
        if extra.random() < 0.67
    }
    addresses = []
    for u in user_ids:
        dept, postal, city, _, _ = _FAKE_CITIES[u % len(_FAKE_CITIES)]
        street = _FAKE_STREETS[u % len(_FAKE_STREETS)]
        address = f"{1 + u % 40} {street}" if u % 10 else None  # every tenth: no street address
        addresses.append(
            {"user_id": u, "address": address, "postal_code": postal, "city": city, "department_code": dept}
        )
    venues = []
    for v in range(1, max(4, n_fake // 20) + 1):
        dept, postal, city, lat, lon = _FAKE_CITIES[v % len(_FAKE_CITIES)]
        venues.append(
            {
                "venue_id": v,
                "siret": f"{extra.randrange(10**13, 10**14)}",
                "name": f"Lieu {v}",
                "venue_type_code": ("MUSEUM", "PERFORMING_ARTS", "LIBRARY", "MOVIE")[v % 4],
                "postal_code": postal,
                "department_code": dept,
                "city": city,
                "latitude": lat,
                "longitude": lon,
            }
        )
    return SandboxData(
        user_ids=user_ids,
        pro_user_ids=list(range(n_fake + 1, n_fake + 1 + n_fake // 10)),
        offerer_sirens=sorted({f"{rng.randrange(100_000_000, 999_999_999)}" for _ in range(n_fake // 5)}),
        seed=seed,
        venues=venues,
        addresses=addresses,
        user_created=created,
        first_booking=first,
        school_departments=sorted({c[0] for c in _FAKE_CITIES}),
    )
