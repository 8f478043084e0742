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
            )
    return fake_data(seed, n_fake)


def fake_data(seed: int = 7, n_fake: int = 500) -> SandboxData:
    """Generated users and offerers (tests and benchmarks: independent of any local sandbox)."""
    rng = random.Random(seed)
    return SandboxData(
        user_ids=list(range(1, n_fake + 1)),
        pro_user_ids=list(range(n_fake + 1, n_fake + 1 + n_fake // 10)),
        offerer_sirens=sorted({f"{rng.randrange(100_000_000, 999_999_999)}" for _ in range(n_fake // 5)}),
        seed=seed,
    )
