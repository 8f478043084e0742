"""`generate` and `advance`: the public entry points of the sandbox.

Default window: the `days` (365) days ending yesterday (UTC), so that `data-gcp run` for yesterday
finds events; `--start-date D --days N` picks another window. Everything a call writes is one
transaction: a failure leaves the previous database as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from data_gcp.applicative_schema import TABLES
from data_gcp.config import Settings, get_settings
from data_gcp.log import get_logger
from data_gcp.sandbox.db import LATE_EVENT_TABLE, SandboxError, SourceDB
from data_gcp.sandbox.derived import derive
from data_gcp.sandbox.locations import write_locations
from data_gcp.sandbox.removals import Removals, remove_deleted
from data_gcp.sandbox.seeds import write_seed_files
from data_gcp.sandbox.world import World

log = get_logger(__name__)
DEFAULT_DAYS = 365
# scale x days from which a generation starts the sidecar process (`World.start_sidecar`): below,
# its start (about a second of imports) costs more than the second core gives back
SIDECAR_MIN_WORK = 20.0


@dataclass
class SandboxResult:
    """What a run wrote: the database (password-free), window, row counts per table, duration."""

    database: str
    start_date: dt.date
    end_date: dt.date
    seed: int
    scale: float
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    simulated_days: int = 0  # days this call simulated (0: `advance` to a day already there)
    removed: Removals = field(default_factory=Removals)  # what the backend deleted (`advance`)


def default_window(
    start_date: dt.date | None, days: int | None, today: dt.date | None = None
) -> tuple[dt.date, int]:
    """(first day, number of days): by default the 365 days ending yesterday (UTC)."""
    days = DEFAULT_DAYS if days is None else days
    if days < 1:
        raise SandboxError(f"--days must be at least 1 (got {days})")
    if start_date is None:
        yesterday = (today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=1)
        start_date = yesterday - dt.timedelta(days=days - 1)
    return start_date, days


def _safe_url(url: str) -> str:
    """The URL without credentials, for messages."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@contextmanager
def _progress(label: str, total: int, show: bool) -> Iterator:
    console = Console(stderr=True)
    if not (show and console.is_terminal):  # off a terminal a bar would only leave a blank line
        yield None
        return
    with Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda done: progress.update(task, completed=done)


def _counts(db: SourceDB) -> dict[str, int]:
    return {t.name: int(db.fetch(f'SELECT count(*) FROM "{t.name}"')[0][0]) for t in TABLES}


def generate(
    scale: float = 0.01,
    seed: int = 42,
    database_url: str | None = None,
    start_date: dt.date | None = None,
    days: int | None = None,
    progress: bool = False,
    settings: Settings | None = None,
) -> SandboxResult:
    """(Re)create the synthetic app database: catalogue, users, a window of activity, planted truth."""
    if scale <= 0:
        raise SandboxError(f"--scale must be positive (got {scale})")
    settings = settings or get_settings()
    url = database_url or settings.source_url
    start, days = default_window(start_date, days)
    t0 = time.perf_counter()
    with SourceDB(url, new=True) as db, _progress("generating", days, progress) as tick:
        db.create_schema(indexes=False)
        world = World(db, seed, scale)
        first = np.datetime64(start, "D")
        world.horizon = (first + np.timedelta64(days, "D")).astype("datetime64[s]") - np.timedelta64(1, "s")
        if scale * days >= SIDECAR_MIN_WORK:
            world.start_sidecar()
        try:
            world.create_initial(first, np.random.default_rng([seed, 1]))
            world.simulate(first, days, tick)
            world.finish()
        except BaseException:
            world.stop_sidecar()
            raise
        write_locations(db, seed)  # the venues' addresses (app tables address, offerer_address)
        db.create_indexes()
        end = start + dt.timedelta(days=days - 1)
        db.set_meta(
            {"seed": seed, "scale": scale, "start_date": start.isoformat(), "end_date": end.isoformat()}
        )
        derive(db, seed, world.horizon)  # the tables hanging off the world (data_gcp.sandbox.derived)
        db.commit()
        counts = _counts(db)
    if not settings.is_cloud:
        write_seed_files(settings)  # the reference tables the models join (local import bucket)
    result = SandboxResult(_safe_url(url), start, end, seed, scale, counts, time.perf_counter() - t0, days)
    log.info(
        "sandbox generated: %s, %s to %s, %s bookings (a warehouse already imported from an earlier "
        "sandbox needs `data-gcp import applicative --full`: incremental watermarks do not apply)",
        result.database,
        start,
        end,
        counts.get("booking"),
    )
    return result


def advance(
    days: int | None = None,
    database_url: str | None = None,
    progress: bool = False,
    settings: Settings | None = None,
    to: dt.date | None = None,
) -> SandboxResult:
    """Simulate the days after the last simulated one: new users, offers, bookings, updates, and the
    app events that arrive on those days (late ones of the 3 days before included), after the
    deletions the backend makes as of the last new day (`removals`).

    `to`: simulate up to that day; a day already simulated changes nothing (idempotent). `days`:
    that many more days (default 1). Give one or the other.
    """
    if days is not None and to is not None:
        raise SandboxError("give the number of days to add or the day to reach (--days or --to), not both")
    if days is not None and days < 1:
        raise SandboxError(f"--days must be at least 1 (got {days})")
    settings = settings or get_settings()
    url = database_url or settings.source_url
    t0 = time.perf_counter()
    with SourceDB(url) as db:
        if not db.has_schema():
            raise SandboxError(
                f"no sandbox database at {_safe_url(url)}: run `data-gcp sandbox generate` first"
            )
        if not db.has_table(LATE_EVENT_TABLE):
            raise SandboxError(
                f"the sandbox at {_safe_url(url)} was generated by an older version (no late app events): "
                "regenerate it with `data-gcp sandbox generate`"
            )
        meta = db.get_meta()
        seed, scale = int(meta["seed"]), float(meta["scale"])
        last = dt.date.fromisoformat(meta["end_date"])
        first = last + dt.timedelta(days=1)
        n_days = (days or 1) if to is None else (to - last).days
        if n_days < 1:
            log.info("sandbox already simulated up to %s (asked for %s): nothing to do", last, to)
            return SandboxResult(
                _safe_url(url), first, last, seed, scale, _counts(db), time.perf_counter() - t0
            )
        end = first + dt.timedelta(days=n_days - 1)
        # the backend's deletions (the `*_removed` exports), before the world is loaded: it marks
        # the deleted venues and offers so that the new days give them no activity
        removed = remove_deleted(db, end)
        with _progress("advancing", n_days, progress) as tick:
            world = World(db, seed, scale)
            world.load()
            first_d = np.datetime64(first, "D")
            horizon = (first_d + np.timedelta64(n_days, "D")).astype("datetime64[s]") - np.timedelta64(1, "s")
            world.arrive_late_events(horizon)
            world.move_open_bookings(horizon)
            world.simulate(first_d, n_days, tick)
            world.finish()
            write_locations(db, seed)  # the venues' addresses (app tables address, offerer_address)
        db.set_meta({"end_date": end.isoformat()})
        derive(db, seed, world.horizon)  # the tables hanging off the world (data_gcp.sandbox.derived)
        db.commit()
        counts = _counts(db)
    return SandboxResult(
        _safe_url(url),
        first,
        end,
        seed,
        scale,
        counts,
        time.perf_counter() - t0,
        simulated_days=n_days,
        removed=removed,
    )
