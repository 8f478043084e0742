"""The simulation behind the sandbox: a synthetic pass Culture whose behaviour has a planted signal.

How it works, and why:
- Each user has a latent taste over K topics (sparse Dirichlet); each item (product, else offer)
  belongs to one or two topics, drawn half of the time from its category's usual topics and half of
  the time at random, so categories carry only part of the signal and a model of taste beats one of
  categories or popularity. The truth lives in `sandbox_truth_*`, never in the app tables.
- A day is simulated in numpy: sessions (users drawn by activity), a recommendation call on part of
  them (logged in `reco_display_log`), consultations chosen among candidates by taste x distance
  (Gumbel-max, i.e. probability ~ proposal x (0.1 + affinity)^TASTE_WEIGHT x exp(-distance)).
  Half of the candidates are drawn by item popularity (log-normal, moderate spread), half by
  category popularity only (search and venue pages reach the long tail), so that at every scale
  clicks spread over most of the catalogue and taste, not popularity, decides most of them (a
  pure-taste oracle beats popularity on recall; popularity x taste beats both),
  favourites and bookings following consultations with a probability growing with affinity, credit
  checked so that a booking never exceeds what the deposit has left.
- Each session's events reach the analytics export in one upload, hashed from the day and the
  session: most within the hour, some 1 to 3 days after their day (`LATE_SHARES`). An event is
  written to `app_event` when its upload comes by the end of the simulated window, else to the
  late-event table that `advance` empties as the days come.
- Speed: the simulation is linear in the scale. Hashed properties are computed once per id,
  candidates are drawn in O(1) each (`WeightedSampler`) and scored in float32 from one packed row
  per offer, a block of consultations at a time (their rows stay in the CPU's cache), rows are
  built in Arrow and written by a background thread while the next days are computed
  (`SourceDB.submit`), and a large generation hands the catalogue's texts and the pro portal's days
  to a second process (`Sidecar`), so that both cores work: the same database either way.
- What happens to a booking later (cancelled, used, reimbursed, and when) is a pure function of its
  id and seed, so `advance` moves existing bookings forward exactly as a longer generation would;
  users' activity, item popularity and coordinates are likewise hashed from ids, so `advance` only
  reloads tastes, credits and the catalogue from the database.
- The catalogue's arrays are indexed by id - 1, so venues and offers the backend deleted
  (`removals`) are reloaded from `sandbox_removed_*` and closed (`v_open`, inactive offers with
  nothing left to book): no id shifts and no new offer, booking, favourite or event points at them.
  A few abandoned registrations (a venue never used) are closed from the start.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.applicative_schema import table_spec
from data_gcp.offer_categories import CATEGORY_BOOKING_WEIGHTS, SUBCATEGORIES
from data_gcp.sandbox.db import ARRIVAL_COLUMN, LATE_EVENT_TABLE, SandboxError, SourceDB, removed_table
from data_gcp.sandbox.geo import DEPARTMENTS, user_address
from data_gcp.sandbox.hashing import hash_uniform
from data_gcp.sandbox.sidecar import Sidecar
from data_gcp.sandbox.texts import (
    author_name,
    descriptions,
    family,
    noisy_author,
    noisy_name,
    person_field,
    work_title,
)

K_TOPICS = 12
REFORM_17_18 = np.datetime64("2025-03-01")  # 15-16 no longer granted; 50 EUR at 17, 150 at 18
GRANT_18_300_FROM = np.datetime64("2023-03-01")  # the 18-year-old grant went from 500 to 300 EUR
ROLES = np.array(["USER", "UNDERAGE_BENEFICIARY", "BENEFICIARY"])
DEPOSIT_TYPES = np.array(["GRANT_15_17", "GRANT_18", "GRANT_17_18"])
STATUSES = np.array(["CONFIRMED", "USED", "CANCELLED", "REIMBURSED"])
CANCEL_REASONS = np.array(["BENEFICIARY", "OFFERER", "EXPIRED"])
FLUSH_ROWS = 400_000  # rows buffered before a background write
CHUNK_ROWS = 16_384  # consultations drawn at a time (bounds the candidates' memory)
BLOCK_ROWS = 512  # consultations scored at a time: their candidates' rows stay in the CPU's cache
GUIDE_BUCKETS = 4096  # `WeightedSampler`'s guide table
SESSION_RATE = 0.05  # sessions per registered user per day, before seasonality
DISPLAY_SIZE = 8
CANDIDATES = 48
EXPLORE_SHARE = 0.5  # organic candidates drawn by category popularity only (search, venues: long tail)
POP_SIGMA_PRODUCT = 1.0  # log-normal spread of item popularity (products, then other offers)
POP_SIGMA_OFFER = 0.8
PRODUCT_ZIPF_SCALE = 0.25  # offers of a product: Lomax(1.2) x this share of the products
TASTE_WEIGHT = 2.0
DISTANCE_WEIGHT = 0.9
DIGITAL_PENALTY = 1.3
EARTH_KM = np.float32(6371.0)
YEAR_S = 365 * 86400
WORK_PRODUCT = 10**9  # work keys: product id + WORK_PRODUCT, shared works from WORK_SHARED, else offer id
WORK_SHARED = 2 * 10**9
PRO_DAY = ""  # a sidecar job whose result is a pro portal day's rows (`World._collect_side`)
SIDE_LAG = 16  # sidecar jobs (two a day) the world may be ahead of before it waits for them

CATEGORY_TOPICS: dict[str, tuple[int, ...]] = {
    "LIVRE": (0, 1, 2),
    "CINEMA": (3, 4),
    "MUSIQUE_LIVE": (5, 6),
    "MUSIQUE_ENREGISTREE": (5, 6),
    "INSTRUMENT": (6, 10),
    "SPECTACLE": (7, 8),
    "MUSEE": (9, 2),
    "PRATIQUE_ART": (10, 8),
    "FILM": (3, 4),
    "MEDIA": (11, 1),
    "JEU": (11, 4),
    "CONFERENCE_RENCONTRE": (9, 1),
}
SEARCH_WORDS = np.array(
    "manga|roman|concert|cinéma|théâtre|musée|vinyle|guitare|bd|festival|danse|jazz|rap|photo|atelier".split(
        "|"
    )
)
ORIGINS = np.array(["search", "venue", "similar_offers", "deeplink", "home"])
ORIGIN_SEARCH, ORIGIN_VENUE, ORIGIN_HOME = 0, 1, 4  # events carry codes into ORIGINS
ORIGIN_P = np.array([0.45, 0.15, 0.15, 0.05, 0.20])
PLATFORMS = np.array(["ios", "android", "web"])
APP_VERSIONS = np.array(["1.300.2", "1.299.0"])
EVENT_NAMES = [
    "ScreenView",
    "ModuleDisplayedOnHomePage",
    "Search",
    "ConsultVenue",
    "ConsultOffer",
    "HasAddedOfferToFavorites",
    "BookingConfirmation",
]
# Upload of a session's events: about an hour after it starts (its events span at most 40 min), and
# for these shares of sessions 1, 2 or 3 days after its day (GA4 keeps events up to 3 days late).
SESSION_SPAN = np.timedelta64(2700, "s")
LATE_SHARES = np.array([0.05, 0.015, 0.005])

SUB_IDS = np.array([s.id for s in SUBCATEGORIES])
SUB_CAT = np.array([s.category_id for s in SUBCATEGORIES])
SUB_EVENT = np.array([s.is_event for s in SUBCATEGORIES])
SUB_DIGITAL = np.array([s.is_digital for s in SUBCATEGORIES])
SUB_DUO = np.array([s.can_be_duo for s in SUBCATEGORIES])
SUB_VTYPE = np.array([s.venue_type_code for s in SUBCATEGORIES])
SUB_PMIN = np.array([s.price_min for s in SUBCATEGORIES], dtype=float)
SUB_PMAX = np.array([s.price_max for s in SUBCATEGORIES], dtype=float)
SUB_PRODUCT = np.isin(
    SUB_IDS,
    [
        "LIVRE_PAPIER",
        "LIVRE_AUDIO_PHYSIQUE",
        "SUPPORT_PHYSIQUE_MUSIQUE_CD",
        "SUPPORT_PHYSIQUE_MUSIQUE_VINYLE",
        "SUPPORT_PHYSIQUE_FILM",
    ],
)
_cat_w = np.array([CATEGORY_BOOKING_WEIGHTS[c] for c in SUB_CAT])
# share of a category's bookings per subcategory (equal unless said here: paper books, cinema seats)
_WITHIN = {
    "LIVRE_PAPIER": 0.8,
    "LIVRE_NUMERIQUE": 0.1,
    "LIVRE_AUDIO_PHYSIQUE": 0.1,
    "SEANCE_CINE": 0.85,
    "CARTE_CINE_ILLIMITE": 0.15,
    "CONCERT": 0.75,
    "FESTIVAL_MUSIQUE": 0.25,
    "SUPPORT_PHYSIQUE_MUSIQUE_CD": 0.3,
    "SUPPORT_PHYSIQUE_MUSIQUE_VINYLE": 0.45,
    "ABO_PLATEFORME_MUSIQUE": 0.25,
}
_share = np.array([_WITHIN.get(i, 0.0) for i in SUB_IDS])
for _c in set(SUB_CAT):
    _m = (SUB_CAT == _c) & (_share == 0)
    _share[_m] = (1 - _share[(SUB_CAT == _c) & ~_m].sum()) / max(_m.sum(), 1)
_cat_n = 1 / _share
# offers per subcategory ~ weight^0.6, and a popularity factor making bookings follow the weights
SUB_OFFER_P = (_cat_w**0.6) / _cat_n
SUB_OFFER_P /= SUB_OFFER_P.sum()
SUB_POP = (_cat_w / _cat_n) / SUB_OFFER_P
SUB_POP = np.where(SUB_DIGITAL, 0.6, 1.0) * SUB_POP
SUB_POP /= SUB_POP.mean()

SUB_FAMILY = [family(c) for c in SUB_CAT]

DEPT_CODE = np.array([d[0] for d in DEPARTMENTS])
DEPT_CITY = np.array([d[1] for d in DEPARTMENTS])
DEPT_POSTAL = np.array([d[2] for d in DEPARTMENTS])
DEPT_LAT = np.array([d[3] for d in DEPARTMENTS])
DEPT_LON = np.array([d[4] for d in DEPARTMENTS])
DEPT_P = np.array([d[5] for d in DEPARTMENTS])
DEPT_P = DEPT_P / DEPT_P.sum()
NAT = np.datetime64("NaT", "s")


# --- deterministic helpers ---------------------------------------------------------------------
def hash_normal(ids: np.ndarray, salt: int, seed: int) -> np.ndarray:
    u1 = np.clip(hash_uniform(ids, salt, seed), 1e-12, 1)
    u2 = hash_uniform(ids, salt + 1, seed)
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)


def item_topics(item_ids: np.ndarray, sub_idx: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """Primary and secondary topic of items, half of the time from the category's usual topics."""
    u = hash_uniform(item_ids, 11, seed)
    pick = hash_uniform(item_ids, 12, seed)
    t_any = (hash_uniform(item_ids, 13, seed) * K_TOPICS).astype(np.int64)
    pref = [CATEGORY_TOPICS[c] for c in SUB_CAT[sub_idx]]
    t_pref = np.array([p[int(x * len(p))] for p, x in zip(pref, pick, strict=True)], dtype=np.int64)
    t1 = np.where(u < 0.55, t_pref, t_any)
    t2 = (t1 + 1 + (hash_uniform(item_ids, 14, seed) * (K_TOPICS - 1)).astype(np.int64)) % K_TOPICS
    has2 = hash_uniform(item_ids, 15, seed) < 0.3
    w1 = np.where(has2, 0.7, 1.0)
    return t1, t2, w1


def season(day: np.datetime64) -> float:
    """Activity multiplier: September back-to-school, December, summer, and weekends."""
    d = day.astype(dt.date)
    doy = d.timetuple().tm_yday
    s = 1 + 0.45 * np.exp(-(((doy - 258) / 18) ** 2)) + 0.35 * np.exp(-(((doy - 350) / 10) ** 2))
    s += 0.2 * np.exp(-(((doy - 195) / 25) ** 2))
    return float(s * (1.15 if d.weekday() >= 5 else 1.0))


def sample_weighted(rng: np.random.Generator, weights: np.ndarray, size: tuple | int) -> np.ndarray:
    cum = np.cumsum(weights)
    return np.minimum(np.searchsorted(cum, rng.random(size) * cum[-1], side="right"), len(weights) - 1)


class WeightedSampler:
    """Indices drawn with probability proportional to `weights`, in O(1) per draw.

    Why: a day's candidates are millions of draws among up to 400k offers, where a binary search per
    draw dominated generation. Items are grouped in classes (`classes`, by default weights within a
    factor 2 of each other); a draw picks a class by its total weight (a search among a few dozen),
    then an item of the class uniformly, kept with probability weight / the class's largest weight
    (redrawn in the same class otherwise: at least half are kept). Each item comes out with
    probability weight / total, exactly. One uniform number serves the three steps: where it falls
    in the class's share of the total is itself uniform, and so on.
    """

    def __init__(self, weights: np.ndarray, classes: np.ndarray | None = None) -> None:
        weights = np.asarray(weights, float)
        if classes is None:
            classes = np.floor(np.log2(np.maximum(weights, 1e-300))).astype(np.int64)
        self.order = np.argsort(classes, kind="stable")
        weights = weights[self.order]
        sorted_classes = np.asarray(classes)[self.order]
        self.start = np.flatnonzero(np.r_[True, sorted_classes[1:] != sorted_classes[:-1]])
        self.size = np.diff(np.r_[self.start, len(weights)])
        top = np.maximum.reduceat(weights, self.start)
        self.keep = weights / np.repeat(top, self.size)  # chance an item is kept once picked
        share = np.add.reduceat(weights, self.start)
        self.cum = np.cumsum(share) / share.sum()
        self.base = self.cum - share / share.sum()
        self.stretch = self.size / (share / share.sum())
        self.top = self.size - 1e-9  # the largest offset into a class
        # the class of a uniform number without a binary search per draw: its bucket's first class,
        # then the few draws whose bucket holds a class boundary step on (the same classes as
        # `searchsorted(cum, u, side="right")`, clipped to the last class)
        self.guide = np.searchsorted(self.cum, np.arange(GUIDE_BUCKETS) / GUIDE_BUCKETS, side="right")
        self.bound = np.append(self.cum, np.inf)  # a class's upper bound, then a sentinel

    def sample(self, rng: np.random.Generator, size: tuple | int) -> np.ndarray:
        """Indices into `weights`."""
        return self.order[self.positions(rng, size)]

    def positions(self, rng: np.random.Generator, size: tuple | int) -> np.ndarray:
        """Draws as positions in `order` (the items sorted by class)."""
        n = int(np.prod(size))
        u = rng.random(n)
        cls = self._classes(u)
        t = np.take(self.base, cls)
        np.subtract(u, t, out=t)
        t *= np.take(self.stretch, cls)
        np.minimum(t, np.take(self.top, cls), out=t)
        at = t.astype(np.int64)
        at += np.take(self.start, cls)
        u = np.floor(t, out=u)  # u is not needed any more: t's fraction, kept when below keep
        np.subtract(t, u, out=t)
        todo = np.flatnonzero(t >= np.take(self.keep, at))
        while len(todo):  # redraw in the same class
            c = np.take(cls, todo)
            t = rng.random(len(todo))
            t *= np.take(self.size, c)
            redo = t.astype(np.int64)
            redo += np.take(self.start, c)
            ok = t - np.floor(t) < np.take(self.keep, redo)
            at[todo[ok]] = redo[ok]
            todo = todo[~ok]
        return at.reshape(size)

    def _classes(self, u: np.ndarray) -> np.ndarray:
        """The class of each uniform number: `searchsorted(cum, u, side="right")` clipped to the
        last class, from the guide table (a few gathers instead of a branchy search per draw)."""
        cls = np.take(self.guide, (u * GUIDE_BUCKETS).astype(np.intp))
        todo = np.flatnonzero(np.take(self.bound, cls) <= u)
        while len(todo):  # a boundary inside the bucket: step on to the class holding u
            cls[todo] += 1
            todo = todo[np.take(self.bound, cls[todo]) <= u[todo]]
        np.minimum(cls, len(self.cum) - 1, out=cls)
        return cls


def gumbel32(rng: np.random.Generator, size: tuple) -> np.ndarray:
    """Standard Gumbel noise in float32 (the Gumbel-max choice among candidates)."""
    with np.errstate(divide="ignore"):
        return -np.log(-np.log(rng.random(size, dtype=np.float32)))


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, ...]:
    """Points on the unit sphere (float32; 0 where there is no place): distances without a cosine
    per pair, the chord x EARTH_KM being the great-circle distance at the sandbox's scales."""
    la, lo = np.radians(np.nan_to_num(lat)), np.radians(np.nan_to_num(lon))
    return tuple(a.astype(np.float32) for a in (np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def _within(
    idx: np.ndarray, at: np.ndarray, group: np.ndarray, amount: np.ndarray, left: np.ndarray
) -> np.ndarray:
    """The requests of `idx` granted in time order while each group's running total stays within
    what it has left (`left[group]`): a deposit's credit, a stock's quantity."""
    if not len(idx):
        return idx
    order = idx[np.lexsort((at[idx], group[idx]))]
    g_sorted, a_sorted = group[order], amount[order]
    cum = np.cumsum(a_sorted)
    start = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    base = np.maximum.accumulate(np.where(start, cum - a_sorted, 0))
    return order[(cum - base) <= left[g_sorted] + 1e-9]


def _ts(values: list) -> np.ndarray:
    """Python datetimes (or None) as a datetime64[s] array (NaT for None)."""
    return np.array([np.datetime64(v, "s") if v is not None else NAT for v in values], dtype="datetime64[s]")


def _ts_arrow(a: np.ndarray) -> pa.Array:
    return pa.array(a.astype("datetime64[us]"), type=pa.timestamp("us"), from_pandas=True)


def _np_int(col: pa.ChunkedArray) -> np.ndarray:
    """A writable copy (Arrow's own buffers are read-only, and the simulation updates its arrays)."""
    return np.array(col.cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _np_float(col: pa.ChunkedArray) -> np.ndarray:
    return np.array(col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False), float)


def _np_ts(col: pa.ChunkedArray) -> np.ndarray:
    """Timestamps (or dates) read back, as text ('' for NULL) or as timestamps: datetime64[s], NaT."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col)
        col = pc.utf8_slice_codeunits(col, 0, 19)  # second resolution; a date alone reads as midnight
    elif pa.types.is_date(col.type):
        col = col.cast(pa.timestamp("s"))
    return np.array(col.cast(pa.timestamp("s")).to_numpy(zero_copy_only=False), "datetime64[s]")


def _codes_of(col: pa.ChunkedArray, values: np.ndarray) -> np.ndarray:
    """The index of each value in `values` (a table's text column back to the simulation's codes)."""
    codes = pc.index_in(col, value_set=pa.array(values.tolist())).to_numpy(zero_copy_only=False)
    if np.isnan(codes.astype(float)).any():
        unknown = set(col.to_pylist()) - set(values.tolist())
        raise SandboxError(f"unexpected values {sorted(map(str, unknown))[:5]} in the sandbox: regenerate it")
    return np.array(codes, np.int64)


def _addresses(ids: list[int], seed: int) -> list[str | None]:
    return [user_address(u, seed) for u in ids]


def _prefixed(prefix: str, numbers: np.ndarray) -> pa.Array:
    """`prefix` followed by each number in decimal (as numpy's `astype(str)` writes it)."""
    return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), "")


def _labels(values: np.ndarray | list[str], codes: np.ndarray) -> pa.Array:
    """Strings from codes into `values` (-1: NULL), built in Arrow."""
    return pa.array(values, pa.string()).take(pa.array(codes, mask=codes < 0))


@dataclass
class CandidatePools:
    """Where a day's candidates come from: offers drawn by popularity (`by_pop`) and by category
    popularity only (`by_sub`); `offers` holds each sampler's offers in its order (the popularity
    pool's, then the category pool's), `rows` their packed rows (`World._pack`)."""

    by_pop: WeightedSampler
    by_sub: WeightedSampler
    offers: np.ndarray
    rows: np.ndarray


@dataclass
class Sessions:
    """A day's sessions, by index: who, on what, and when their events reach the export."""

    day_key: str  # "20261201-": session ids are the day and the index, `20261201-000042`
    users: np.ndarray
    platform: np.ndarray
    version: np.ndarray
    upload: np.ndarray

    # Each text is built once per session and picked per event (`take`): a session has several events.
    def ids(self, idx: np.ndarray) -> pa.Array:
        """The sessions' ids (-1: NULL)."""
        return self._ids.take(pa.array(idx, mask=idx < 0))

    def call_ids(self, idx: np.ndarray) -> pa.Array:
        """The recommendation call of a session (-1: none): its id with `-r`."""
        return self._call_ids.take(pa.array(idx, mask=idx < 0))

    def pseudo_ids(self, idx: np.ndarray, seed: int) -> pa.Array:
        device = (hash_uniform(self.users + 1, 71, seed) * 1e12).astype(np.int64)
        return _prefixed("dev-", device).take(idx)

    @cached_property
    def _ids(self) -> pa.Array:
        padded = pc.utf8_lpad(pa.array(np.arange(len(self.users))).cast(pa.string()), 6, "0")
        return pc.binary_join_element_wise(self.day_key, padded, "")

    @cached_property
    def _call_ids(self) -> pa.Array:
        return pc.binary_join_element_wise(self._ids, "-r", "")


def _offerers(ids: np.ndarray, status: np.ndarray, created: np.ndarray) -> pa.Table:
    """Offerer rows: a name and SIREN from the id; validated 3 days after creation when VALIDATED."""
    return pa.table(
        {
            "offerer_id": ids,
            "offerer_name": [f"Structure culturelle {i}" for i in ids],
            "offerer_siren": [f"{100000000 + i * 7919 % 899999999:09d}" for i in ids],
            "offerer_is_active": status != "REJECTED",
            "offerer_validation_status": status,
            "offerer_creation_date": _ts_arrow(created),
            "offerer_validation_date": _ts_arrow(
                np.where(status == "VALIDATED", created + np.timedelta64(3, "D"), NAT)
            ),
        }
    )


def _venues(ids, offerer, types, virtual, permanent, dept, lat, lon, created) -> pa.Table:  # noqa: ANN001
    """Venue rows: name and SIRET from the id; a virtual venue has no SIRET, no place, no coordinates."""
    return pa.table(
        {
            "venue_id": ids,
            "venue_managing_offerer_id": offerer,
            "venue_name": [f"Lieu {i} ({t.lower()})" for i, t in zip(ids, types, strict=True)],
            "venue_public_name": [f"Lieu {i}" for i in ids],
            "venue_siret": [
                None if v else f"{i * 104729 % 10**14:014d}" for i, v in zip(ids, virtual, strict=True)
            ],
            "venue_type_code": types,
            "venue_is_permanent": permanent,
            "venue_is_open_to_public": ~virtual,
            "venue_is_virtual": virtual,
            "venue_latitude": pa.array(lat, from_pandas=True),
            "venue_longitude": pa.array(lon, from_pandas=True),
            "venue_postal_code": np.where(virtual, None, DEPT_POSTAL[dept]),
            "venue_department_code": np.where(virtual, None, DEPT_CODE[dept]),
            "venue_city": np.where(virtual, None, DEPT_CITY[dept]),
            "venue_creation_date": _ts_arrow(created),
        }
    )


def _age(birth: np.ndarray, at: np.ndarray | np.datetime64) -> np.ndarray:
    """Age in whole years at a date (scalar or one per birth date)."""
    at = np.broadcast_to(np.asarray(at).astype("datetime64[D]"), birth.shape)

    def parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        months = d.astype("datetime64[M]")
        return d.astype("datetime64[Y]").astype(int), months.astype(int) % 12, (d - months).astype(int)

    by, bm, bd = parts(birth)
    ay, am, ad = parts(at)
    before = (bm > am) | ((bm == am) & (bd > ad))
    return ay - by - before.astype(int)


def booking_fates(
    booking_ids: np.ndarray,
    created: np.ndarray,
    kind: np.ndarray,
    beginning: np.ndarray,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """When each booking gets cancelled / used / reimbursed (NaT when never), from its id alone.

    kind: 0 physical good, 1 event, 2 digital. About 15% of bookings end cancelled.
    """
    u = hash_uniform(booking_ids, 21, seed)
    e1 = -np.log(np.clip(hash_uniform(booking_ids, 22, seed), 1e-9, 1))
    e2 = -np.log(np.clip(hash_uniform(booking_ids, 23, seed), 1e-9, 1))
    reason = (hash_uniform(booking_ids, 24, seed) * 3).astype(int).clip(0, 2)
    reimb_delay = (14 + hash_uniform(booking_ids, 25, seed) * 21) * 86400
    cancelled = (kind != 2) & (u < np.where(kind == 1, 0.2, 0.19))
    reason = np.where(cancelled, np.where(reason == 2, np.where(kind == 0, 2, 0), reason), -1)
    cancel_delay = np.where(reason == 2, 30 * 86400, (0.2 + e1 * 3) * 86400)
    begin_s = np.where(np.isnat(beginning), created + np.timedelta64(3650, "D"), beginning)
    cancel_at = created + np.minimum(cancel_delay.astype("timedelta64[s]"), (begin_s - created) // 2)
    used_at = np.where(
        kind == 2,
        created + np.timedelta64(60, "s"),
        np.where(kind == 1, begin_s, created + ((0.1 + e2 * 2) * 86400).astype("timedelta64[s]")),
    )
    cancel = np.where(cancelled, cancel_at, NAT)
    used = np.where(cancelled, NAT, used_at)
    reimb = np.where(cancelled, NAT, used + reimb_delay.astype("timedelta64[s]"))
    return cancel, used, reimb, reason


def status_at(
    horizon: np.datetime64, cancel: np.ndarray, used: np.ndarray, reimb: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Booking status and the dates already reached at `horizon` (later dates are not known yet)."""
    c = np.where(cancel <= horizon, cancel, NAT)
    us = np.where(used <= horizon, used, NAT)
    r = np.where(reimb <= horizon, reimb, NAT)
    status = np.where(~np.isnat(c), 2, np.where(~np.isnat(r), 3, np.where(~np.isnat(us), 1, 0)))
    return status, c, us, r


class CatalogueTexts:
    """Names, descriptions and extra data of products and offers: pure functions of ids and the seed
    (a work's title and person are computed once per work, offers of a product share them).

    Why a class of its own: the sidecar process builds them while the world simulates (`Sidecar`),
    the world itself when there is none; the texts are the same."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.works: dict[tuple[int, int, str], tuple[str, str | None]] = {}  # title, person of a work

    def work(self, key: int, topic: int, fam: str) -> tuple[str, str | None]:
        """A work's canonical title and person (None where its family names none), once per work."""
        work = self.works.get((key, topic, fam))
        if work is None:
            who = author_name(topic, key, self.seed) if person_field(fam) else None
            work = self.works[(key, topic, fam)] = (work_title(topic, key, self.seed, fam), who)
        return work

    def products(self, ids: np.ndarray, sub: np.ndarray, topic: np.ndarray) -> dict[str, pa.Array]:
        """Product names and extra data: the work's canonical title and person, a genre."""
        names, extras = [], []
        for i, sb, t in zip(ids.tolist(), sub.tolist(), topic.tolist(), strict=True):
            fam = SUB_FAMILY[sb]
            field = person_field(fam)
            title, who = self.work(i + WORK_PRODUCT, t, fam)
            names.append(title)
            extras.append(json.dumps({**({field: who} if field else {}), "genre": f"genre-{i % 13}"}))
        return {
            "product_name": pa.array(names, pa.string()),
            "product_extra_data": pa.array(extras, pa.string()),
        }

    def offers(
        self, ids: np.ndarray, work: np.ndarray, topic: np.ndarray, sub: np.ndarray, product: np.ndarray
    ) -> dict[str, pa.Array]:
        """Name, description and extra data of new offers: canonical for product offers, noisy otherwise."""
        descriptions_ = descriptions(topic, ids, self.seed, SUB_IDS[sub])
        names, extras = [], []
        for oid, key, t, sb, prod in zip(
            ids.tolist(), work.tolist(), topic.tolist(), sub.tolist(), product.tolist(), strict=True
        ):
            fam = SUB_FAMILY[sb]
            field = person_field(fam)
            title, who = self.work(key, t, fam)
            extra: dict[str, object] = {}  # what a venue types: never a field derived from the truth
            if prod > 0:
                names.append(title)
                if field:
                    extra[field] = who
            else:
                names.append(noisy_name(title, who, oid, self.seed, fam))
                typed = noisy_author(who, oid, self.seed)
                if field and typed:
                    extra[field] = typed
            extras.append(json.dumps(extra, ensure_ascii=False))
        return {
            "offer_name": pa.array(names, pa.string()),
            "offer_description": descriptions_,
            "offer_extra_data": pa.array(extras, pa.string()),
        }


# --- the world ---------------------------------------------------------------------------------
class World:
    """All state a day of simulation needs, as numpy arrays indexed by id - 1."""

    def __init__(self, db: SourceDB, seed: int, scale: float) -> None:
        self.db = db
        self.seed = seed
        self.scale = scale
        self.out: dict[str, list[pa.Table]] = {}
        self.out_rows = 0
        self.updates: list[tuple[str, pa.Table]] = []
        self.counts: dict[str, int] = {}
        self.refunds = (np.zeros(0, "datetime64[D]"), np.zeros(0, np.int64), np.zeros(0))
        self.favorites: set[int] = set()
        self.n_users_loaded = 0
        self.n_deposits_loaded = 0
        self.next_booking_id = 1
        self.next_favorite_id = 1
        self.next_recredit_id = 1
        self.next_collective_id = 1
        self.horizon = NAT
        self._texts = CatalogueTexts(seed)
        self.side: Sidecar | None = None  # the second process, when `start_sidecar` started it
        self._side_jobs: list[tuple[str, dict]] = []  # the sidecar's jobs not yet collected, in order
        self._side_offers = 0  # offers the sidecar knows
        self._text_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-texts")
        self._addresses: list[Future] = []  # addresses of the users created by this run, in id order

    # rates per day, from the scale (scale 1: ~100k users and 40k offers after a year)
    @property
    def new_users_per_day(self) -> float:
        return 0.6 * 100_000 * self.scale / 365

    @property
    def new_offers_per_day(self) -> float:
        return 0.4 * 40_000 * self.scale / 365

    # --- output buffering --------------------------------------------------------------------
    def emit(self, table: str, data: pa.Table) -> None:
        if not data.num_rows:
            return
        self.out.setdefault(table, []).append(data)
        self.out_rows += data.num_rows
        self.counts[table] = self.counts.get(table, 0) + data.num_rows
        if self.out_rows > FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows, then the buffered updates (which may touch those rows), to the
        database's background writer. The updates of a table whose rows still wait for the
        sidecar's texts wait with them (in order), so that they never reach the rows first."""
        waiting = {table for table, _ in self._side_jobs}
        writes = [("insert", table, parts) for table, parts in self.out.items()]
        writes += [("update", table, [data]) for table, data in self.updates if table not in waiting]
        if writes:
            self.db.submit(writes)
        self.out = {}
        self.updates = [(table, data) for table, data in self.updates if table in waiting]
        self.out_rows = 0

    def _new_user_addresses(self, n: int) -> list[str | None]:
        out = [a for job in self._addresses for a in job.result()]
        self._text_pool.shutdown()
        if len(out) != n:
            raise SandboxError(f"internal error: {len(out)} addresses for {n} new users")
        return out

    # --- initial catalogue (generate only) -----------------------------------------------------
    def create_initial(self, start: np.datetime64, rng: np.random.Generator) -> None:
        s = self.scale
        n_offerers = max(8, round(2000 * s))
        n_venues = max(len(set(SUB_VTYPE)) * 2, round(3000 * s))
        n_products = max(30, round(20_000 * s))
        n_inst = max(10, round(500 * s))
        start_s = start.astype("datetime64[s]")
        # offerers
        off_ids = np.arange(1, n_offerers + 1)
        off_created = start_s - (rng.random(n_offerers) * 4 * YEAR_S).astype("timedelta64[s]")
        status = rng.choice(["VALIDATED", "NEW", "REJECTED"], n_offerers, p=[0.93, 0.05, 0.02])
        self.db.insert("offerer", _offerers(off_ids, status, off_created))
        # venues: types in proportion to the offers they will carry, at least two of each
        vtypes = np.unique(SUB_VTYPE)
        type_p = np.array([SUB_OFFER_P[SUB_VTYPE == t].sum() for t in vtypes])
        v_type = np.concatenate(
            [np.repeat(vtypes, 2), vtypes[sample_weighted(rng, type_p, n_venues - 2 * len(vtypes))]]
        )
        rng.shuffle(v_type)
        virtual = v_type == "DIGITAL"
        dept = sample_weighted(rng, DEPT_P, n_venues)
        lat = np.where(virtual, np.nan, DEPT_LAT[dept] + rng.normal(0, 0.12, n_venues))
        lon = np.where(virtual, np.nan, DEPT_LON[dept] + rng.normal(0, 0.16, n_venues))
        v_ids = np.arange(1, n_venues + 1)
        v_offerer = rng.integers(1, n_offerers + 1, n_venues)
        permanent = ~virtual & (rng.random(n_venues) < 0.8)
        created = off_created[v_offerer - 1] + np.timedelta64(1, "D")
        self.db.insert(
            "venue", _venues(v_ids, v_offerer, v_type, virtual, permanent, dept, lat, lon, created)
        )
        extra = self._abandoned_registrations(start_s, n_offerers, n_venues, vtypes[vtypes != "DIGITAL"])
        v_ids, v_offerer, v_type, lat, lon = (
            np.concatenate([a, b]) for a, b in zip((v_ids, v_offerer, v_type, lat, lon), extra, strict=True)
        )
        v_open = np.arange(len(v_ids)) < n_venues
        # products (books, records, films share a product by EAN)
        prod_sub = np.flatnonzero(SUB_PRODUCT)[sample_weighted(rng, SUB_OFFER_P[SUB_PRODUCT], n_products)]
        p_ids = np.arange(1, n_products + 1)
        p_topic = item_topics(p_ids + WORK_PRODUCT, prod_sub, self.seed)[0]
        columns = {
            "product_id": p_ids,
            "product_subcategory_id": SUB_IDS[prod_sub],
            "product_ean": [f"978{i:010d}" for i in p_ids],
            "product_last_30_days_booking": np.zeros(n_products, np.int64),
        }
        self._with_texts("product", columns, "products", (p_ids, prod_sub, p_topic))
        # educational institutions
        i_ids = np.arange(1, n_inst + 1)
        idept = sample_weighted(rng, DEPT_P, n_inst)
        self.db.insert(
            "educational_institution",
            pa.table(
                {
                    "educational_institution_id": i_ids,
                    "institution_uai": [f"0{i:06d}X" for i in i_ids],
                    "institution_name": [f"Établissement {i}" for i in i_ids],
                    "institution_type": rng.choice(
                        ["COLLEGE", "LYCEE GENERAL", "LYCEE PROFESSIONNEL"], n_inst
                    ),
                    "institution_city": DEPT_CITY[idept],
                    "institution_department_code": DEPT_CODE[idept],
                }
            ),
        )
        self._set_static(v_ids, v_offerer, v_type, lat, lon, prod_sub, n_inst, v_open)
        self._init_arrays()
        # 60% of the catalogue and 40% of the users exist before the window starts
        n0 = max(20, round(0.6 * 40_000 * s))
        created = start_s - (rng.random(n0) * 180 * 86400).astype("timedelta64[s]")
        self._new_offers(np.sort(created), rng, start_s)
        u0 = max(20, round(0.4 * 100_000 * s))
        ucreated = np.sort(start_s - (rng.random(u0) * 700 * 86400).astype("timedelta64[s]"))
        self._new_users(ucreated, rng, initial_at=start_s)

    def _abandoned_registrations(
        self, start: np.datetime64, n_offerers: int, n_venues: int, types: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """A few structures that registered, created a venue and went no further (the back office
        deletes such venues after a while, `removals`): one new offerer and venue each, months before
        the window; never given activity. Their own random stream, so the rest of the world is the
        same with or without them. Returns the venues' ids, offerers, types, latitudes, longitudes."""
        rng = np.random.default_rng([self.seed, 2])
        n = max(2, round(60 * self.scale))
        off_ids = np.arange(n_offerers + 1, n_offerers + n + 1)
        created = start - ((120 + rng.random(n) * 240) * 86400).astype("timedelta64[s]")
        self.db.insert("offerer", _offerers(off_ids, np.full(n, "NEW"), created))
        v_ids = np.arange(n_venues + 1, n_venues + n + 1)
        v_type = types[rng.integers(0, len(types), n)]
        dept = sample_weighted(rng, DEPT_P, n)
        lat = DEPT_LAT[dept] + rng.normal(0, 0.12, n)
        lon = DEPT_LON[dept] + rng.normal(0, 0.16, n)
        physical = np.zeros(n, bool)
        self.db.insert(
            "venue",
            _venues(
                v_ids, off_ids, v_type, physical, ~physical, dept, lat, lon, created + np.timedelta64(1, "D")
            ),
        )
        return v_ids, off_ids, v_type, lat, lon

    def _set_static(self, v_ids, v_offerer, v_type, lat, lon, prod_sub, n_inst, v_open=None) -> None:
        """The catalogue's fixed arrays. `v_open`: the venues that may get new offers and activity
        (not the deleted ones, nor the abandoned registrations); default all."""
        self.v_offerer = np.asarray(v_offerer, np.int64)
        self.v_type = np.asarray(v_type)
        self.v_open = np.ones(len(self.v_type), bool) if v_open is None else np.asarray(v_open, bool)
        self.v_lat = np.asarray(lat, float)
        self.v_lon = np.asarray(lon, float)
        self.v_xyz = unit_vectors(self.v_lat, self.v_lon)
        self.p_sub = np.asarray(prod_sub, np.int64)
        self.n_inst = int(n_inst)
        self.venues_by_type = {
            t: np.flatnonzero((self.v_type == t) & self.v_open) for t in np.unique(self.v_type[self.v_open])
        }
        physical = np.flatnonzero((self.v_type != "DIGITAL") & self.v_open)
        self.physical_venues = physical
        self.products_by_sub = {int(t): np.flatnonzero(self.p_sub == t) + 1 for t in np.unique(self.p_sub)}

    def _init_arrays(self) -> None:
        z = np.zeros
        self.u_created = z(0, "datetime64[s]")
        self.u_birth = z(0, "datetime64[D]")
        self.u_dept = z(0, np.int64)
        self.u_role = z(0, np.int64)
        self.u_last = z(0, "datetime64[s]")
        self.u_dep = z(0, np.int64)
        self.u_taste = z((0, K_TOPICS), np.float32)
        self.u_dirty = z(0, bool)
        self.d_user = z(0, np.int64)
        self.d_amount = z(0)
        self.d_type = z(0, np.int64)
        self.d_created = z(0, "datetime64[s]")
        self.d_updated = z(0, "datetime64[s]")
        self.d_expire = z(0, "datetime64[s]")
        self.d_remaining = z(0)
        self.d_dirty = z(0, bool)
        self.o_venue = z(0, np.int64)
        self.o_sub = z(0, np.int64)
        self.o_product = z(0, np.int64)
        self.o_created = z(0, "datetime64[s]")
        self.o_active = z(0, bool)
        self.o_duo = z(0, bool)
        self.o_price = z(0)
        self.o_left = z(0)
        self.o_begin = z(0, "datetime64[s]")
        self._derive_offers()

    def _derive_offers(self) -> None:
        """Hashed properties of the offers added since the last call: popularity and topics (items
        share them through products). Pure functions of ids, so computing them once per offer gives
        the same arrays as recomputing them all."""
        done = len(self.o_work) if hasattr(self, "o_work") else 0
        ids = np.arange(done + 1, len(self.o_sub) + 1)
        sub = self.o_sub[done:]
        item = self._work_keys(ids)
        sigma = np.where(item > WORK_PRODUCT, POP_SIGMA_PRODUCT, POP_SIGMA_OFFER)
        pop = np.exp(sigma * hash_normal(item, 41, self.seed)) * SUB_POP[sub]
        t1, t2, w1 = item_topics(item, sub, self.seed)
        kind = np.where(SUB_DIGITAL[sub], 2, np.where(SUB_EVENT[sub], 1, 0))
        # distance term = a x log(1 + km / 5) + b: trips matter for events, less for goods, not for
        # digital offers, which most young people still like less than a book or a seat
        dist_a = -DISTANCE_WEIGHT * np.where(kind == 1, 1.0, np.where(kind == 0, 0.6, 0.0))
        dist_b = np.where(kind == 2, -DIGITAL_PENALTY, 0.0)
        f32 = np.float32
        new = {
            "o_work": item,
            "o_pop": pop,
            "o_t1": t1,
            "o_t2": t2,
            "o_w1": w1,
            "o_kind": kind,
            "o_w1f": w1.astype(f32),
            "o_dist_a": dist_a.astype(f32),
            "o_dist_b": dist_b.astype(f32),
        }
        for name, values in new.items():
            setattr(self, name, np.concatenate([getattr(self, name), values]) if done else values)

    def _work_keys(self, ids: np.ndarray) -> np.ndarray:
        """The work each offer sells (planted truth for record linkage), a pure function of ids and seed.

        Offers with a product sell the product's work. 70% of the offers of product subcategories
        sold without their product are another copy of a product (zipf-like choice); half of the other
        offers are one of a few shared works per subcategory (a tour, a film in several cinemas). The
        rest are works of their own. Keys: product + WORK_PRODUCT, shared WORK_SHARED + sub * 1e6 + rank,
        else the offer id.
        """
        i = ids - 1
        sub, prod = self.o_sub[i], self.o_product[i]
        key = np.where(prod > 0, prod + WORK_PRODUCT, ids).astype(np.int64)
        u = hash_uniform(ids, 51, self.seed)
        pareto = (1 - hash_uniform(ids, 52, self.seed)) ** (-1 / 1.2) - 1
        for t in np.unique(sub[(prod == 0) & SUB_PRODUCT[sub]]):
            pool = self.products_by_sub.get(int(t))
            m = (sub == t) & (prod == 0) & (u < 0.7)
            if pool is not None and m.any():
                rank = (pareto[m] * len(pool) * PRODUCT_ZIPF_SCALE).astype(np.int64) % len(pool)
                key[m] = pool[rank] + WORK_PRODUCT
        shared = ~SUB_PRODUCT[sub] & (u < 0.5)
        size = np.maximum(3, np.round(40_000 * self.scale * SUB_OFFER_P[sub] * 0.25)).astype(np.int64)
        rank = (pareto * size * 0.3).astype(np.int64) % size
        key[shared] = WORK_SHARED + sub[shared] * 1_000_000 + rank[shared]
        return key

    def _with_texts(self, table: str, columns: dict, job: str, args: tuple) -> None:
        """Emit rows once their texts are built: here, or by the sidecar process (`Sidecar`) while
        this one simulates, then emitted by `_collect_side` (the same texts either way)."""
        if self.side is None:
            self.emit(table, pa.table({**columns, **getattr(self._texts, job)(*args)}))
        else:
            self.side.send(job, args)
            self._side_jobs.append((table, columns))

    def _collect_side(self, wait: bool = True) -> None:
        """Emit what the sidecar has made, in order: rows with their texts, the pro portal's days.
        `wait=False`: only what is ready, unless more than SIDE_LAG jobs are (memory stays
        bounded); the world simulates on meanwhile (`flush` holds back the updates of the rows
        still waiting)."""
        while self._side_jobs and (wait or len(self._side_jobs) > SIDE_LAG or self.side.ready()):
            table, columns = self._side_jobs.pop(0)
            result = self.side.receive()
            if table == PRO_DAY:
                for name, data in result:
                    self.emit(name, data)
            else:
                self.emit(table, pa.table({**columns, **result}))

    def _user_geo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Users' coordinates and activity, hashed from ids (computed once per user)."""
        done = len(self._geo[0]) if hasattr(self, "_geo") else 0
        n = len(self.u_dept)
        if done != n:
            ids = np.arange(done + 1, n + 1)
            dept = self.u_dept[done:]
            new = (
                DEPT_LAT[dept] + 0.12 * hash_normal(ids, 51, self.seed),
                DEPT_LON[dept] + 0.16 * hash_normal(ids, 53, self.seed),
                np.exp(0.9 * hash_normal(ids, 55, self.seed)),
                (self.u_birth[done:].astype("datetime64[M]").astype(int) % 12 + 1) * 100
                + (self.u_birth[done:] - self.u_birth[done:].astype("datetime64[M]")).astype(int)
                + 1,
            )
            new = (*new, *unit_vectors(new[0], new[1]))
            self._geo = (
                new if not done else tuple(np.concatenate(p) for p in zip(self._geo, new, strict=True))
            )
        return self._geo[:3]

    def _user_xyz(self) -> tuple[np.ndarray, ...]:
        self._user_geo()
        return self._geo[4:7]

    def _birth_month_days(self) -> np.ndarray:
        """Month x 100 + day of each user's birth date (computed once per user)."""
        self._user_geo()
        return self._geo[3]

    # --- users and deposits --------------------------------------------------------------------
    def _new_users(
        self, created: np.ndarray, rng: np.random.Generator, initial_at: np.datetime64 | None = None
    ) -> None:
        n = len(created)
        if not n:
            return
        first = len(self.u_created) + 1
        ids = np.arange(first, first + n)
        post = created >= REFORM_17_18
        age_pre = rng.choice([15, 16, 17, 18], n, p=[0.1, 0.1, 0.2, 0.6])
        age_post = rng.choice([15, 16, 17, 18], n, p=[0.05, 0.05, 0.3, 0.6])
        age = np.where(post, age_post, age_pre)
        birth = created.astype("datetime64[D]") - (age * 365.25 + rng.random(n) * 364).astype(
            "timedelta64[D]"
        )
        taste = rng.dirichlet(np.full(K_TOPICS, 0.25), n)
        taste[taste < 0.02] = 0
        taste = (taste / taste.sum(axis=1, keepdims=True)).astype(np.float32)
        self.u_created = np.concatenate([self.u_created, created])
        self.u_birth = np.concatenate([self.u_birth, birth])
        self.u_dept = np.concatenate([self.u_dept, sample_weighted(rng, DEPT_P, n)])
        self.u_role = np.concatenate([self.u_role, np.zeros(n, np.int64)])
        self.u_last = np.concatenate([self.u_last, created])
        self.u_dep = np.concatenate([self.u_dep, np.full(n, -1)])
        self.u_taste = np.concatenate([self.u_taste, taste])
        self.u_dirty = np.concatenate([self.u_dirty, np.ones(n, bool)])
        # addresses are built one by one in Python: in a thread, while this one computes in numpy
        self._addresses.append(self._text_pool.submit(_addresses, ids.tolist(), self.seed))
        uu, tt = np.nonzero(taste)
        self.emit(
            "sandbox_truth_user_taste",
            pa.table({"user_id": ids[uu], "topic_id": tt, "weight": taste[uu, tt].astype(float)}),
        )
        idx = ids - 1
        if initial_at is None:
            self._grant(idx, created)
        else:
            # users registered before the window: one deposit matching their age at the start
            age_now = _age(birth, initial_at.astype("datetime64[D]"))
            at18 = (birth + np.timedelta64(6575, "D")).astype("datetime64[s]")  # ~18th birthday
            grant_at = np.where((age_now >= 18) & (at18 > created), at18, created)
            self._grant(idx, grant_at)

    def _grant(self, users: np.ndarray, at: np.ndarray) -> None:
        """Open the deposit a user is entitled to at `at` (by age and by the rules of that date)."""
        age = _age(self.u_birth[users], at)
        post = at >= REFORM_17_18
        dtype = np.where(post, 2, np.where(age >= 18, 1, 0))
        amount = np.where(
            post,
            np.where(age >= 18, 150.0, np.where(age == 17, 50.0, 0.0)),
            np.where(
                age >= 18,
                np.where(at < GRANT_18_300_FROM, 500.0, 300.0),
                np.where(age == 15, 20.0, np.where(age >= 16, 30.0, 0.0)),  # nothing before 15
            ),
        )
        ok = (amount > 0) & (age <= 20)
        users, at, dtype, amount, age = users[ok], at[ok], dtype[ok], amount[ok], age[ok]
        if not len(users):
            return
        birth = self.u_birth[users]
        expire = np.where(
            age >= 18,
            at + np.timedelta64(730, "D"),
            (birth + np.timedelta64(int(18 * 365.25), "D")).astype("datetime64[s]"),
        )
        expire = np.where(
            (dtype == 2) & (age < 18),
            (birth + np.timedelta64(int(20 * 365.25), "D")).astype("datetime64[s]"),
            expire,
        )
        self._open_deposits(users, at, dtype, amount, expire)
        self.u_role[users] = np.where(age >= 18, 2, 1)
        self.u_dirty[users] = True

    def _open_deposits(self, users, at, dtype, amount, expire) -> None:
        first = len(self.d_user)
        n = len(users)
        self.d_user = np.concatenate([self.d_user, users])
        self.d_amount = np.concatenate([self.d_amount, amount])
        self.d_type = np.concatenate([self.d_type, dtype])
        self.d_created = np.concatenate([self.d_created, at])
        self.d_updated = np.concatenate([self.d_updated, at])
        self.d_expire = np.concatenate([self.d_expire, expire])
        self.d_remaining = np.concatenate([self.d_remaining, amount])
        self.d_dirty = np.concatenate([self.d_dirty, np.ones(n, bool)])
        old = self.u_dep[users]
        ended = old >= 0
        self.d_expire[old[ended]] = np.minimum(self.d_expire[old[ended]], at[ended])
        self.d_dirty[old[ended]] = True
        self.u_dep[users] = np.arange(first, first + n)

    def _birthdays(self, day: np.datetime64, rng: np.random.Generator) -> None:
        d = day.astype(dt.date)
        today = np.flatnonzero(self._birth_month_days() == d.month * 100 + d.day)
        if not len(today):
            return
        age = d.year - (self.u_birth[today].astype("datetime64[Y]").astype(int) + 1970)
        at = (day.astype("datetime64[s]") + np.timedelta64(8 * 3600, "s")) + np.zeros(
            len(today), "timedelta64[s]"
        )
        dep = self.u_dep[today]
        dtype = np.where(dep >= 0, self.d_type[np.maximum(dep, 0)], -1)
        post = day >= REFORM_17_18
        # recredits: legacy 15-17 grant at 16 and 17 (before the reform), 17-18 grant at 18
        rec = ((dtype == 0) & np.isin(age, [16, 17]) & (not post)) | ((dtype == 2) & (age == 18))
        # a credit opened on the birthday itself (a user registering that day, before or after the
        # recredit's hour) is already the new age's: only a credit opened before the birthday is topped up
        rec &= self.d_created[np.maximum(dep, 0)] < day.astype("datetime64[s]")
        if rec.any():
            r_dep = dep[rec]
            r_amount = np.where(age[rec] == 18, 150.0, 30.0)
            self.d_amount[r_dep] += r_amount
            self.d_remaining[r_dep] += r_amount
            self.d_updated[r_dep] = at[rec]
            adult = age[rec] == 18
            self.d_expire[r_dep] = np.where(adult, at[rec] + np.timedelta64(730, "D"), self.d_expire[r_dep])
            self.d_dirty[r_dep] = True
            self.u_role[today[rec][adult]] = 2
            self.u_dirty[today[rec][adult]] = True
            n = int(rec.sum())
            ids = np.arange(self.next_recredit_id, self.next_recredit_id + n)
            self.next_recredit_id += n
            self.emit(
                "recredit",
                pa.table(
                    {
                        "recredit_id": ids,
                        "deposit_id": r_dep + 1,
                        "recredit_amount": r_amount,
                        "recredit_type": np.array([f"RECREDIT_{a}" for a in age[rec]]),
                        "recredit_creation_date": _ts_arrow(at[rec]),
                    }
                ),
            )
        # new grants: legacy 15-17 turning 18, and users without credit turning 17 after the reform
        new = ((dtype == 0) & (age == 18)) | ((dtype == -1) & (age == 17) & post)
        if new.any():
            self._grant(today[new], at[new])

    def _apply_refunds(self, day: np.datetime64) -> None:
        days, deps, amounts = self.refunds
        due = days <= day
        if due.any():
            np.add.at(self.d_remaining, deps[due], amounts[due])
            self.refunds = (days[~due], deps[~due], amounts[~due])

    # --- catalogue -------------------------------------------------------------------------------
    def _new_offers(self, created: np.ndarray, rng: np.random.Generator, now: np.datetime64) -> None:
        n = len(created)
        if not n:
            return
        first = len(self.o_sub) + 1
        ids = np.arange(first, first + n)
        sub = sample_weighted(rng, SUB_OFFER_P, n)
        venue = np.empty(n, np.int64)
        for t in np.unique(SUB_VTYPE[sub]):
            m = SUB_VTYPE[sub] == t
            pool = self.venues_by_type.get(t, self.physical_venues)
            venue[m] = pool[rng.integers(0, len(pool), m.sum())]
        product = np.zeros(n, np.int64)
        for t in np.flatnonzero(SUB_PRODUCT):
            m = (sub == t) & (rng.random(n) < 0.8)
            pool = self.products_by_sub.get(int(t))
            if pool is not None and m.any():
                # a few products are sold by many venues (zipf-like; the rare far tail wraps around
                # instead of piling onto the last product)
                rank = (rng.pareto(1.2, m.sum()) * len(pool) * PRODUCT_ZIPF_SCALE).astype(np.int64)
                product[m] = pool[rank % len(pool)]
        price = np.round(SUB_PMIN[sub] + rng.random(n) * (SUB_PMAX[sub] - SUB_PMIN[sub]), 0)
        price = np.where(rng.random(n) < 0.05, 0.0, price)
        is_event = SUB_EVENT[sub]
        begin = np.where(
            is_event, created + (rng.integers(3, 90, n) * 86400 + 20 * 3600).astype("timedelta64[s]"), NAT
        )
        duo = SUB_DUO[sub] & (rng.random(n) < 0.6)
        validation = rng.choice(["APPROVED", "PENDING", "REJECTED"], n, p=[0.96, 0.02, 0.02])
        active = validation == "APPROVED"
        self.o_venue = np.concatenate([self.o_venue, venue])
        self.o_sub = np.concatenate([self.o_sub, sub])
        self.o_product = np.concatenate([self.o_product, product])
        self.o_created = np.concatenate([self.o_created, created])
        self.o_active = np.concatenate([self.o_active, active])
        self.o_duo = np.concatenate([self.o_duo, duo])
        self.o_price = np.concatenate([self.o_price, price])
        self.o_begin = np.concatenate([self.o_begin, begin])
        self._derive_offers()
        columns = {
            "offer_id": ids,
            "offer_product_id": pa.array(np.where(product > 0, product, 0), mask=product == 0),
            "venue_id": venue + 1,
            "offer_subcategory_id": SUB_IDS[sub],
            "offer_is_active": active,
            "offer_validation": validation,
            "offer_is_duo": duo,
            "offer_ean": [f"978{p:010d}" if p else None for p in product],
            "offer_creation_date": _ts_arrow(created),
            "offer_updated_date": _ts_arrow(created),
            "offer_publication_date": _ts_arrow(created + np.timedelta64(600, "s")),
        }
        i = ids - 1
        self._with_texts("offer", columns, "offers", (ids, self.o_work[i], self.o_t1[i], sub, product))
        qty = np.where(
            is_event, rng.integers(20, 500, n), np.where(rng.random(n) < 0.5, rng.integers(1, 30, n), 0)
        )
        # what is left to book (the backend refuses a booking beyond the stock's quantity; 0 = unlimited)
        self.o_left = np.concatenate([self.o_left, np.where(qty == 0, np.inf, qty.astype(float))])
        self.emit(
            "stock",
            pa.table(
                {
                    "stock_id": ids,
                    "offer_id": ids,
                    "stock_price": price,
                    "stock_quantity": pa.array(qty, mask=qty == 0),
                    "stock_beginning_date": _ts_arrow(begin),
                    "stock_booking_limit_date": _ts_arrow(begin - np.timedelta64(3600, "s")),
                    "stock_creation_date": _ts_arrow(created),
                    "stock_modified_date": _ts_arrow(created),
                    "stock_is_soft_deleted": np.zeros(n, bool),
                    "price_category_id": pa.array(np.where(is_event, 1, 0), mask=~is_event),
                }
            ),
        )
        topics = self._offer_topic_rows(ids)
        self.emit("sandbox_truth_offer_topic", topics)
        self.emit(
            "sandbox_truth_offer_work",
            pa.table({"offer_id": ids, "work_id": [f"work-{k}" for k in self.o_work[ids - 1]]}),
        )

    def _offer_topic_rows(self, ids: np.ndarray) -> pa.Table:
        i = ids - 1
        two = self.o_w1[i] < 1
        return pa.table(
            {
                "offer_id": np.concatenate([ids, ids[two]]),
                "topic_id": np.concatenate([self.o_t1[i], self.o_t2[i][two]]),
                "weight": np.concatenate([self.o_w1[i], 1 - self.o_w1[i][two]]),
            }
        )

    def _offer_updates(self, day: np.datetime64, rng: np.random.Generator) -> None:
        """A few offers are deactivated and a few prices change each day (exercises incremental imports)."""
        live = np.flatnonzero(self.o_active & (self.o_created < day))
        if not len(live):
            return
        at = day.astype("datetime64[s]") + np.timedelta64(10 * 3600, "s")
        off = live[rng.random(len(live)) < 0.0015]
        if len(off):
            self.o_active[off] = False
            self.updates.append(
                (
                    "offer",
                    pa.table(
                        {
                            "offer_id": off + 1,
                            "offer_is_active": np.zeros(len(off), bool),
                            "offer_updated_date": _ts_arrow(np.full(len(off), at)),
                        }
                    ),
                )
            )
        rep = live[rng.random(len(live)) < 0.0015]
        if len(rep):
            self.o_price[rep] = np.round(self.o_price[rep] * rng.uniform(0.8, 1.2, len(rep)), 0)
            self.updates.append(
                (
                    "stock",
                    pa.table(
                        {
                            "stock_id": rep + 1,
                            "stock_price": self.o_price[rep],
                            "stock_modified_date": _ts_arrow(np.full(len(rep), at)),
                        }
                    ),
                )
            )

    def _collective(self, day: np.datetime64, rng: np.random.Generator) -> None:
        n = rng.poisson(2000 * self.scale / 365 * season(day))
        if not n:
            return
        ids = np.arange(self.next_collective_id, self.next_collective_id + n)
        self.next_collective_id += n
        created = day.astype("datetime64[s]") + rng.integers(8 * 3600, 18 * 3600, n).astype("timedelta64[s]")
        venue = self.physical_venues[rng.integers(0, len(self.physical_venues), n)]
        inst = rng.integers(1, self.n_inst + 1, n)
        begin = created + (rng.integers(10, 90, n) * 86400).astype("timedelta64[s]")
        price = np.round(rng.uniform(100, 1500, n), 0)
        self.emit(
            "collective_offer",
            pa.table(
                {
                    "collective_offer_id": ids,
                    "venue_id": venue + 1,
                    "collective_offer_name": [f"Sortie scolaire {i}" for i in ids],
                    "collective_offer_students": rng.choice(
                        ["Collège - 4e", "Collège - 3e", "Lycée - Seconde", "Lycée - Terminale"], n
                    ),
                    "collective_offer_format": rng.choice(
                        ["Visite", "Atelier de pratique", "Représentation", "Rencontre"], n
                    ),
                    "collective_offer_is_active": np.ones(n, bool),
                    "collective_offer_validation": np.full(n, "APPROVED"),
                    "educational_institution_id": pa.array(inst, mask=rng.random(n) < 0.7),
                    "collective_offer_creation_date": _ts_arrow(created),
                    "collective_offer_updated_date": _ts_arrow(created),
                }
            ),
        )
        self.emit(
            "collective_stock",
            pa.table(
                {
                    "collective_stock_id": ids,
                    "collective_offer_id": ids,
                    "collective_stock_price": price,
                    "collective_stock_number_of_tickets": rng.integers(15, 36, n),
                    "collective_stock_beginning_date": _ts_arrow(begin),
                    "collective_stock_booking_limit_date": _ts_arrow(begin - np.timedelta64(7, "D")),
                    "collective_stock_creation_date": _ts_arrow(created),
                    "collective_stock_modification_date": _ts_arrow(created),
                }
            ),
        )
        booked = rng.random(n) < 0.6
        b = np.flatnonzero(booked)
        if not len(b):
            return
        b_created = created[b] + np.timedelta64(3600, "s")
        u = hash_uniform(ids[b], 61, self.seed)
        confirm = b_created + ((1 + 6 * hash_uniform(ids[b], 62, self.seed)) * 86400).astype("timedelta64[s]")
        cancelled = u < 0.1
        cancel = np.where(cancelled, confirm, NAT)
        used = np.where(cancelled, NAT, begin[b])
        reimb = np.where(cancelled, NAT, begin[b] + np.timedelta64(20, "D"))
        h = self.horizon
        status = np.where(
            cancel <= h,
            "CANCELLED",
            np.where(
                reimb <= h,
                "REIMBURSED",
                np.where(used <= h, "USED", np.where(confirm <= h, "CONFIRMED", "PENDING")),
            ),
        )
        year = begin[b].astype("datetime64[M]").astype(int)
        school_year = np.where(year % 12 >= 8, year // 12 + 1970, year // 12 + 1969)
        self.emit(
            "collective_booking",
            pa.table(
                {
                    "collective_booking_id": ids[b],
                    "collective_stock_id": ids[b],
                    "venue_id": venue[b] + 1,
                    "offerer_id": self.v_offerer[venue[b]],
                    "educational_institution_id": inst[b],
                    "educational_year_id": [f"{y}-{y + 1}" for y in school_year],
                    "collective_booking_status": status,
                    "collective_booking_creation_date": _ts_arrow(b_created),
                    "collective_booking_confirmation_date": _ts_arrow(np.where(confirm <= h, confirm, NAT)),
                    "collective_booking_used_date": _ts_arrow(np.where(used <= h, used, NAT)),
                    "collective_booking_cancellation_date": _ts_arrow(np.where(cancel <= h, cancel, NAT)),
                    "collective_booking_cancellation_reason": np.where(cancel <= h, "OFFERER", None),
                    "collective_booking_reimbursement_date": _ts_arrow(np.where(reimb <= h, reimb, NAT)),
                }
            ),
        )

    # --- behaviour -------------------------------------------------------------------------------
    def _affinity(self, users: np.ndarray, offers: np.ndarray) -> np.ndarray:
        """K x <taste, topics>: 1 on average, up to K for a perfect match."""
        t = self.u_taste
        a = (
            self.o_w1[offers] * t[users, self.o_t1[offers]]
            + (1 - self.o_w1[offers]) * t[users, self.o_t2[offers]]
        )
        return K_TOPICS * a

    def _pack(self, offers: np.ndarray) -> np.ndarray:
        """What scoring reads of each offer, one float32 row per offer (one cache line per candidate):
        topic weight, topics, venue position, distance weights."""
        venue = self.o_venue[offers]
        cols = (self.o_w1[offers], self.o_t1[offers], self.o_t2[offers], *(v[venue] for v in self.v_xyz))
        return np.stack([*cols, self.o_dist_a[offers], self.o_dist_b[offers]], axis=1).astype(np.float32)

    def _candidate_terms(self, users: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Affinity (as `_affinity`) and distance term of each user's candidates (`_pack` rows, one
        line of candidates per user), in float32.

        In place where it can be (the same operations in the same order: the same floats): these
        are the largest arrays of a day."""
        taste = self.u_taste.reshape(-1)  # user u's topic t at u * K_TOPICS + t
        at = users[:, None] * K_TOPICS
        w1 = rows[..., 0]
        aff = np.take(taste, at + rows[..., 1].astype(np.intp))
        aff *= w1
        other = np.take(taste, at + rows[..., 2].astype(np.intp))
        other *= 1 - w1
        aff += other
        aff *= np.float32(K_TOPICS)
        km = np.zeros(rows.shape[:2], np.float32)
        for k, u_axis in enumerate(self._user_xyz()):
            diff = rows[..., 3 + k] - u_axis[users][:, None]
            diff *= diff
            km += diff
        np.sqrt(km, out=km)
        km *= EARTH_KM
        km *= np.float32(0.2)
        dterm = np.log1p(km, out=km)
        dterm *= rows[..., 6]
        dterm += rows[..., 7]
        return aff, dterm

    def _organic_choices(
        self, users: np.ndarray, rng: np.random.Generator, pools: CandidatePools
    ) -> np.ndarray:
        """The offer each consultation picks: CANDIDATES drawn from the pools, one chosen by taste x
        distance (Gumbel-max).

        A chunk's random numbers are drawn first (the draws of each pool, then the noise), then its
        candidates are gathered and scored BLOCK_ROWS consultations at a time, so that their rows
        and scores stay in the CPU's cache (the same floats as scoring the chunk at once)."""
        n_pop = CANDIDATES - round(CANDIDATES * EXPLORE_SHARE)
        n_first = len(pools.offers) // 2  # the popularity pool's rows, then the category pool's
        chosen = np.empty(len(users), np.int64)
        for lo in range(0, len(users), CHUNK_ROWS):
            part = users[lo : lo + CHUNK_ROWS]
            m = len(part)
            drawn = np.empty((m, CANDIDATES), np.int64)
            drawn[:, :n_pop] = pools.by_pop.positions(rng, (m, n_pop))
            drawn[:, n_pop:] = pools.by_sub.positions(rng, (m, CANDIDATES - n_pop))
            drawn[:, n_pop:] += n_first
            noise = gumbel32(rng, (m, CANDIDATES))
            for b in range(0, m, BLOCK_ROWS):
                d = drawn[b : b + BLOCK_ROWS]
                # np.take: rows gathered whole, several times faster than `table[d]` here
                aff, score = self._candidate_terms(part[b : b + BLOCK_ROWS], np.take(pools.rows, d, axis=0))
                aff += np.float32(0.1)
                np.log(aff, out=aff)
                aff *= np.float32(TASTE_WEIGHT)
                score += aff  # the distance term plus the taste term, as taste + distance (commutes)
                score += noise[b : b + BLOCK_ROWS]
                pick = np.argmax(score, axis=1)
                chosen[lo + b : lo + b + len(d)] = pools.offers[d[np.arange(len(d)), pick]]
        return chosen

    def _sessions(self, day: np.datetime64, rng: np.random.Generator) -> None:
        day_s = day.astype("datetime64[s]")
        eligible = np.flatnonzero(self.u_created < day_s)
        if not len(eligible):
            return
        n = rng.poisson(SESSION_RATE * len(eligible) * season(day))
        if not n:
            return
        end_s = day_s + np.timedelta64(86400, "s")
        bookable = np.flatnonzero(
            self.o_active & (self.o_created < day_s) & (np.isnat(self.o_begin) | (self.o_begin > end_s))
        )
        if not len(bookable):
            return
        prop = self._user_geo()[2]
        users = eligible[sample_weighted(rng, prop[eligible], n)]
        tod = np.where(rng.random(n) < 0.2, rng.random(n) * 86400, rng.normal(19 * 3600, 3 * 3600, n)).clip(
            0, 80000
        )
        t0 = day_s + tod.astype("timedelta64[s]")
        day_key = f"{day.astype(dt.date):%Y%m%d}-"  # session ids: day and index, `20261201-000042`
        platform = sample_weighted(rng, np.array([0.45, 0.45, 0.1]), n)
        version = np.where(rng.random(n) < 0.7, 0, 1)
        sessions = Sessions(day_key, users, platform, version, self._upload_times(day, t0))
        by_pop = WeightedSampler(self.o_pop[bookable])
        sub = self.o_sub[bookable]  # category popularity only: the long tail
        by_sub = WeightedSampler(SUB_POP[sub], classes=sub)
        offers = np.concatenate([bookable[by_pop.order], bookable[by_sub.order]])
        pools = CandidatePools(by_pop, by_sub, offers, self._pack(offers))
        ev: list[tuple] = []

        def events(
            idx: np.ndarray, ts: np.ndarray, name: str, offer=None, origin=None, call=None, query=None
        ) -> None:
            """Events of sessions `idx`: origin, query as codes (-1 none), call as the session index."""
            m = len(idx)
            none = np.full(m, -1, np.int64)
            ev.append(
                (
                    ts,
                    np.full(m, EVENT_NAMES.index(name), np.int64),
                    idx,
                    none if offer is None else offer + 1,
                    none if origin is None else origin,
                    none if call is None else call,
                    none if query is None else query,
                )
            )

        all_s = np.arange(n)
        events(all_s, t0, "ScreenView")
        # recommendation calls: a weak production model (popularity + a little taste), 8 offers shown
        reco = np.flatnonzero(rng.random(n) < 0.22)
        cons_s, cons_o, cons_t, cons_origin, cons_call = [], [], [], [], []
        if len(reco):
            m = len(reco)
            events(
                reco,
                t0[reco] + np.timedelta64(3, "s"),
                "ModuleDisplayedOnHomePage",
                origin=np.full(m, ORIGIN_HOME),
                call=reco,
            )
            drawn = by_pop.positions(rng, (m, CANDIDATES))
            aff, dterm = self._candidate_terms(users[reco], np.take(pools.rows, drawn, axis=0))
            score = 0.5 * np.log(np.float32(0.1) + aff) + 0.5 * dterm + gumbel32(rng, (m, CANDIDATES))
            order = np.argsort(-score, axis=1)[:, :DISPLAY_SIZE]
            shown = pools.offers[np.take_along_axis(drawn, order, axis=1)]
            a_shown = np.take_along_axis(aff, order, axis=1)
            d_shown = np.take_along_axis(dterm, order, axis=1)
            pos = np.tile(np.arange(DISPLAY_SIZE), (m, 1))
            disp_at = np.repeat(t0[reco] + np.timedelta64(3, "s"), DISPLAY_SIZE)
            self.emit(
                "reco_display_log",
                pa.table(
                    {
                        "call_id": sessions.call_ids(np.repeat(reco, DISPLAY_SIZE)),
                        "user_id": np.repeat(users[reco] + 1, DISPLAY_SIZE),
                        "offer_id": shown.ravel() + 1,
                        "position": pos.ravel(),
                        "context": pa.repeat(pa.scalar("home"), m * DISPLAY_SIZE),
                        "model_version": pa.repeat(pa.scalar("popularity-v3"), m * DISPLAY_SIZE),
                        "displayed_at": _ts_arrow(disp_at),
                    }
                ),
            )
            logit = -2.0 + 1.3 * np.log(0.1 + a_shown) - 0.12 * pos + 0.5 * d_shown
            clicked = rng.random((m, DISPLAY_SIZE)) < 1 / (1 + np.exp(-logit))
            ci, cj = np.nonzero(clicked)
            cons_s.append(reco[ci])
            cons_o.append(shown[ci, cj])
            cons_t.append(t0[reco[ci]] + (10 + 40 * cj).astype("timedelta64[s]"))
            cons_origin.append(np.full(len(ci), ORIGIN_HOME))
            cons_call.append(reco[ci])
        # searches, venue pages
        srch = np.flatnonzero(rng.random(n) < 0.3)
        events(
            srch,
            t0[srch] + np.timedelta64(20, "s"),
            "Search",
            origin=np.full(len(srch), ORIGIN_SEARCH),
            query=rng.integers(0, len(SEARCH_WORDS), len(srch)),
        )
        ven = np.flatnonzero(rng.random(n) < 0.1)
        events(ven, t0[ven] + np.timedelta64(25, "s"), "ConsultVenue", origin=np.full(len(ven), ORIGIN_VENUE))
        # organic consultations: popularity-sampled candidates, chosen by taste x distance
        k = rng.poisson(1.3, n)
        s_idx = np.repeat(all_s, k)
        if len(s_idx):
            m = len(s_idx)
            chosen = self._organic_choices(users[s_idx], rng, pools)
            cons_s.append(s_idx)
            cons_o.append(chosen)
            cons_t.append(t0[s_idx] + rng.integers(30, 1500, m).astype("timedelta64[s]"))
            cons_origin.append(sample_weighted(rng, ORIGIN_P, m))
            cons_call.append(np.full(m, -1, np.int64))
        if not cons_s:
            self._touch_users(users, t0)
            self._emit_events(ev, sessions)
            return
        cs, co, ct = np.concatenate(cons_s), np.concatenate(cons_o), np.concatenate(cons_t)
        corig, ccall = np.concatenate(cons_origin), np.concatenate(cons_call)
        events(cs, ct, "ConsultOffer", offer=co, origin=corig, call=ccall)
        cu = users[cs]
        aff = self._affinity(cu, co)
        # favourites
        fav = np.flatnonzero(rng.random(len(cs)) < 0.03 * (0.3 + aff) ** 0.8)
        keys = (cu[fav] + 1) * (1 << 32) + co[fav] + 1
        keep = [
            i
            for i, key in zip(fav, keys.tolist(), strict=True)
            if key not in self.favorites and not self.favorites.add(key)
        ]
        fav = np.array(keep, dtype=np.int64)
        if len(fav):
            fts = ct[fav] + np.timedelta64(15, "s")
            events(
                cs[fav], fts, "HasAddedOfferToFavorites", offer=co[fav], origin=corig[fav], call=ccall[fav]
            )
            fid = np.arange(self.next_favorite_id, self.next_favorite_id + len(fav))
            self.next_favorite_id += len(fav)
            self.emit(
                "favorite",
                pa.table(
                    {
                        "favorite_id": fid,
                        "user_id": cu[fav] + 1,
                        "offer_id": co[fav] + 1,
                        "favorite_creation_date": _ts_arrow(fts),
                    }
                ),
            )
        # bookings, within the credit left
        want = np.flatnonzero(rng.random(len(cs)) < np.clip(0.3 * (0.3 + aff) ** 0.8, 0, 0.9))
        self._book(want, cs, cu, co, ct, corig, ccall, events, rng)
        self._touch_users(users, t0)
        self._emit_events(ev, sessions)

    def _upload_times(self, day: np.datetime64, t0: np.ndarray) -> np.ndarray:
        """When each session's events reach the analytics export (hashed from day and session).

        The app uploads a session's events in one batch: most within the hour after the session
        (a late evening session's batch arrives the next day), LATE_SHARES of them 1, 2 or 3 days
        after the session's day (a phone offline), never later (the export drops later events).
        """
        n = len(t0)
        keys = int(day.astype(np.int64)) * (1 << 24) + np.arange(n)
        u = hash_uniform(keys, 91, self.seed)
        soon = (
            t0
            + SESSION_SPAN
            + (-600 * np.log(1 - hash_uniform(keys, 92, self.seed))).astype("timedelta64[s]")
        )
        bucket = np.searchsorted(np.cumsum(LATE_SHARES), u, side="right")  # 0: a day late, 1: two...
        days_late = np.where(bucket < len(LATE_SHARES), bucket + 1, 0)
        later = (
            day.astype("datetime64[s]")
            + (days_late * 86400).astype("timedelta64[s]")
            + (hash_uniform(keys, 93, self.seed) * 86400).astype("timedelta64[s]")
        )
        return np.where(days_late > 0, np.maximum(later, soon), soon)

    def _book(self, want, cs, cu, co, ct, corig, ccall, events: Callable, rng: np.random.Generator) -> None:
        if not len(want):
            return
        bts = ct[want] + rng.integers(30, 900, len(want)).astype("timedelta64[s]")
        users, offers = cu[want], co[want]
        dep = self.u_dep[users]
        ok = dep >= 0
        depc = np.maximum(dep, 0)
        ok &= (self.d_created[depc] <= bts) & (self.d_expire[depc] > bts)
        ok &= np.isnat(self.o_begin[offers]) | (self.o_begin[offers] > bts + np.timedelta64(3600, "s"))
        qty = np.where(self.o_duo[offers] & (rng.random(len(want)) < 0.35), 2, 1)
        amount = self.o_price[offers] * qty
        idx = np.flatnonzero(ok)
        if not len(idx):
            return
        accepted = _within(idx, bts, dep, amount, self.d_remaining)
        # then within the stock's quantity left (cancellations do not give it back: conservative)
        accepted = _within(accepted, bts, offers, qty.astype(float), self.o_left)
        if not len(accepted):
            return
        accepted = np.sort(accepted)
        np.subtract.at(self.o_left, offers[accepted], qty[accepted])
        np.subtract.at(self.d_remaining, dep[accepted], amount[accepted])
        n = len(accepted)
        ids = np.arange(self.next_booking_id, self.next_booking_id + n)
        self.next_booking_id += n
        o = offers[accepted]
        created = bts[accepted]
        cancel, used, reimb, reason = booking_fates(ids, created, self.o_kind[o], self.o_begin[o], self.seed)
        status, c, us, r = status_at(self.horizon, cancel, used, reimb)
        refund = ~np.isnat(c)
        if refund.any():
            days, deps, amts = self.refunds
            self.refunds = (
                np.concatenate([days, c[refund].astype("datetime64[D]") + np.timedelta64(1, "D")]),
                np.concatenate([deps, dep[accepted][refund]]),
                np.concatenate([amts, amount[accepted][refund]]),
            )
        self.emit(
            "booking",
            pa.table(
                {
                    "booking_id": ids,
                    "user_id": users[accepted] + 1,
                    "stock_id": o + 1,
                    "deposit_id": dep[accepted] + 1,
                    "venue_id": self.o_venue[o] + 1,
                    "offerer_id": self.v_offerer[self.o_venue[o]],
                    # the unit price, as the backend stores it (the total is amount x quantity)
                    "booking_amount": self.o_price[o],
                    "booking_quantity": qty[accepted],
                    "booking_status": STATUSES[status],
                    "booking_creation_date": _ts_arrow(created),
                    "booking_used_date": _ts_arrow(us),
                    "booking_cancellation_date": _ts_arrow(c),
                    "booking_cancellation_reason": np.where(
                        refund, CANCEL_REASONS[np.maximum(reason, 0)], None
                    ),
                    "booking_reimbursement_date": _ts_arrow(r),
                }
            ),
        )
        w = want[accepted]
        events(cs[w], created, "BookingConfirmation", offer=o, origin=corig[w], call=ccall[w])

    def _touch_users(self, users: np.ndarray, t0: np.ndarray) -> None:
        np.maximum.at(self.u_last.view(np.int64), users, t0.view(np.int64))
        self.u_dirty[users] = True

    def _emit_events(self, ev: list[tuple], sessions: Sessions) -> None:
        """The day's events in time order: those uploaded by the horizon to `app_event`, the others
        to the late-event table that `advance` empties as their upload day comes."""
        if not ev:
            return
        cols = [np.concatenate(c) for c in zip(*ev, strict=True)]
        order = np.argsort(cols[0], kind="stable")
        ts, name, s, offer, origin, call, query = (c[order] for c in cols)
        arrival = sessions.upload[s]
        table = pa.table(
            {
                "event_date": pa.array(ts.astype("datetime64[D]"), pa.date32()),
                "event_timestamp": _ts_arrow(ts),
                "event_name": _labels(EVENT_NAMES, name),
                "user_id": sessions.users[s] + 1,
                "user_pseudo_id": sessions.pseudo_ids(s, self.seed),
                "session_id": sessions.ids(s),
                "platform": _labels(PLATFORMS, sessions.platform[s]),
                "app_version": _labels(APP_VERSIONS, sessions.version[s]),
                "offer_id": pa.array(offer, mask=offer < 0),
                "origin": _labels(ORIGINS, origin),
                "reco_call_id": sessions.call_ids(call),
                "search_query": _labels(SEARCH_WORDS, query),
                "event_server_timestamp_offset": (arrival - ts).astype(np.int64) * 1_000_000,
            }
        )
        late = arrival > self.horizon
        if not late.any():
            self.emit("app_event", table)
            return
        self.emit("app_event", table.filter(pa.array(~late)))
        pending = table.filter(pa.array(late)).append_column(ARRIVAL_COLUMN, _ts_arrow(arrival[late]))
        self.emit(LATE_EVENT_TABLE, pending)

    # --- a run -------------------------------------------------------------------------------------
    def simulate(
        self, first_day: np.datetime64, days: int, progress: Callable[[int], None] | None = None
    ) -> None:
        self.horizon = (first_day + np.timedelta64(days, "D")).astype("datetime64[s]") - np.timedelta64(
            1, "s"
        )
        from data_gcp.sandbox.app_usage import pro_portal_day, venue_map_day  # it imports this module

        for i in range(days):
            day = first_day + np.timedelta64(i, "D")
            rng = np.random.default_rng([self.seed, int(day.astype(np.int64)) + 1_000_000])
            self._apply_refunds(day)
            n_new = rng.poisson(self.new_users_per_day * season(day))
            created = np.sort(
                day.astype("datetime64[s]") + rng.integers(0, 86400, n_new).astype("timedelta64[s]")
            )
            self._new_users(created, rng)
            self._birthdays(day, rng)
            n_off = rng.poisson(self.new_offers_per_day * season(day))
            ocreated = np.sort(
                day.astype("datetime64[s]")
                + rng.integers(6 * 3600, 20 * 3600, n_off).astype("timedelta64[s]")
            )
            self._collect_side(wait=False)  # what the sidecar has made so far
            self._new_offers(ocreated, rng, day)
            self._offer_updates(day, rng)
            self._collective(day, rng)
            if self.side is not None:  # the pro portal's day, from its own stream, in the sidecar
                self._send_pro_day(day)
            self._sessions(day, rng)
            venue_map_day(self, day)  # app usage beyond the offer funnel, from streams of its own
            if self.side is None:
                pro_portal_day(self, day)
            if progress:
                progress(i + 1)
        self._collect_side()
        self.flush()

    def start_sidecar(self) -> None:
        """Hand the texts and the pro portal's days to a second process (`Sidecar`): the same
        database, built on both cores."""
        self.side = Sidecar(self.seed)

    def stop_sidecar(self) -> None:
        """Stop the sidecar without its work (a failed generation)."""
        if self.side is not None:
            self.side.kill()
            self.side = None

    def _send_pro_day(self, day: np.datetime64) -> None:
        """What the pro portal's day reads of the world: the venues once, then the offers' state."""
        assert self.side is not None
        if not self._side_offers:
            self.side.send("static", (self.v_offerer, self.v_open))
        done, self._side_offers = self._side_offers, len(self.o_created)
        self.side.send("pro_day", (day, self.o_active, self.o_created[done:], self.o_venue[done:]))
        self._side_jobs.append((PRO_DAY, {}))

    def finish(self) -> None:
        """Write users and deposits (new rows inserted, changed rows updated) and product popularity."""
        self._collect_side()
        if self.side is not None:
            side, self.side = self.side, None
            side.close()
        self.flush()
        n_old = self.n_users_loaded
        ids = np.arange(1, len(self.u_created) + 1)
        new = ids > n_old
        hm = hash_uniform(ids, 81, self.seed)
        if new.any():
            i = np.flatnonzero(new)
            self.db.insert(
                "user",
                pa.table(
                    {
                        "user_id": ids[i],
                        "user_creation_date": _ts_arrow(self.u_created[i]),
                        "user_role": ROLES[self.u_role[i]],
                        "user_birth_date": pa.array(self.u_birth[i], pa.date32()),
                        "user_department_code": DEPT_CODE[self.u_dept[i]],
                        "user_address": pa.array(self._new_user_addresses(len(i)), pa.string()),
                        "user_postal_code": DEPT_POSTAL[self.u_dept[i]],
                        "user_city": DEPT_CITY[self.u_dept[i]],
                        "user_is_active": hm[i] > 0.01,
                        "user_last_connection_date": _ts_arrow(self.u_last[i]),
                        "user_has_enabled_marketing_email": hm[i] > 0.4,
                        "user_has_enabled_marketing_push": hm[i] > 0.3,
                    }
                ),
            )
        upd = np.flatnonzero(~new & self.u_dirty)
        if len(upd):
            self.db.update(
                "user",
                pa.table(
                    {
                        "user_id": ids[upd],
                        "user_role": ROLES[self.u_role[upd]],
                        "user_last_connection_date": _ts_arrow(self.u_last[upd]),
                    }
                ),
            )
        d_ids = np.arange(1, len(self.d_user) + 1)
        dnew = d_ids > self.n_deposits_loaded
        i = np.flatnonzero(dnew)
        if len(i):
            self.db.insert(
                "deposit",
                pa.table(
                    {
                        "deposit_id": d_ids[i],
                        "user_id": self.d_user[i] + 1,
                        "deposit_amount": self.d_amount[i],
                        "deposit_source": np.where(self.d_type[i] == 0, "educonnect", "ubble"),
                        "deposit_type": DEPOSIT_TYPES[self.d_type[i]],
                        "deposit_creation_date": _ts_arrow(self.d_created[i]),
                        "deposit_update_date": _ts_arrow(self.d_updated[i]),
                        "deposit_expiration_date": _ts_arrow(self.d_expire[i]),
                    }
                ),
            )
        upd = np.flatnonzero(~dnew & self.d_dirty)
        if len(upd):
            self.db.update(
                "deposit",
                pa.table(
                    {
                        "deposit_id": d_ids[upd],
                        "deposit_amount": self.d_amount[upd],
                        "deposit_update_date": _ts_arrow(self.d_updated[upd]),
                        "deposit_expiration_date": _ts_arrow(self.d_expire[upd]),
                    }
                ),
            )
        since = str((self.horizon - np.timedelta64(30, "D")).astype(dt.datetime))
        rows = self.db.fetch(
            'SELECT o.offer_product_id, count(*) FROM "booking" b JOIN "stock" s ON s.stock_id = b.stock_id '
            'JOIN "offer" o ON o.offer_id = s.offer_id '
            "WHERE o.offer_product_id IS NOT NULL AND b.booking_creation_date >= ? GROUP BY o.offer_product_id",
            (since,),
        )
        counts = np.zeros(len(self.p_sub) + 1, np.int64)
        for pid, c in rows:
            counts[int(pid)] = c
        self.db.update(
            "product",
            pa.table(
                {"product_id": np.arange(1, len(self.p_sub) + 1), "product_last_30_days_booking": counts[1:]}
            ),
        )

    # --- reload (advance) --------------------------------------------------------------------------
    def load(self) -> None:
        """Rebuild the arrays from the database (what ids and the seed cannot give back).

        Large tables come back as Arrow columns (one type per column: timestamps as text, NULL
        text as '', see `SourceDB.fetch_arrow`), so a scale-10 sandbox loads in seconds."""
        db = self.db
        real = db.float_type
        db.create_removed_tables()
        cols = "venue_id, venue_managing_offerer_id, venue_type_code, venue_latitude, venue_longitude"
        # deleted venues too (`removals`): the arrays are indexed by id - 1; they are closed
        v = db.fetch(
            f'SELECT {cols}, 1 AS open FROM "venue" UNION ALL '
            f'SELECT {cols}, 0 AS open FROM "{removed_table("venue")}" ORDER BY venue_id'
        )
        if [r[0] for r in v] != list(range(1, len(v) + 1)):
            raise SandboxError(
                "venue ids of the sandbox are not 1..n: regenerate it with `data-gcp sandbox generate`"
            )
        p = db.fetch('SELECT product_id, product_subcategory_id FROM "product" ORDER BY product_id')
        sub_index = {s: i for i, s in enumerate(SUB_IDS)}
        n_inst = db.fetch('SELECT count(*) FROM "educational_institution"')[0][0]
        self._set_static(
            [r[0] for r in v],
            [r[1] for r in v],
            [r[2] for r in v],
            [np.nan if r[3] is None else r[3] for r in v],
            [np.nan if r[4] is None else r[4] for r in v],
            [sub_index[r[1]] for r in p],
            n_inst,
            [bool(r[5]) for r in v],
        )
        u = db.fetch_arrow(
            f"SELECT user_id, {db.text('user_creation_date')} AS created, {db.text('user_birth_date')} AS birth, "
            f"{db.text('user_department_code')} AS dept, user_role AS role, "
            f'{db.text("user_last_connection_date")} AS last FROM "user" '
            "WHERE user_role <> 'PRO' ORDER BY user_id"
        )
        n = u.num_rows
        if not np.array_equal(_np_int(u["user_id"]), np.arange(1, n + 1)):
            raise SandboxError(
                "user ids of the sandbox are not 1..n: regenerate it with `data-gcp sandbox generate`"
            )
        self.u_created = _np_ts(u["created"])
        self.u_birth = _np_ts(u["birth"]).astype("datetime64[D]")
        self.u_dept = _codes_of(u["dept"], DEPT_CODE)
        self.u_role = _codes_of(u["role"], ROLES)
        self.u_last = _np_ts(u["last"])
        self.u_dirty = np.zeros(n, bool)
        self.n_users_loaded = n
        self.u_taste = np.zeros((n, K_TOPICS), np.float32)
        t = db.fetch_arrow(
            f'SELECT user_id, topic_id, CAST(weight AS {real}) AS w FROM "sandbox_truth_user_taste"'
        )
        self.u_taste[_np_int(t["user_id"]) - 1, _np_int(t["topic_id"])] = _np_float(t["w"])
        d = db.fetch_arrow(
            f"SELECT d.deposit_id, d.user_id, CAST(d.deposit_amount AS {real}) AS amount, d.deposit_type AS type, "
            f"{db.text('d.deposit_creation_date')} AS created, {db.text('d.deposit_update_date')} AS updated, "
            f"{db.text('d.deposit_expiration_date')} AS expire, CAST(coalesce(s.spent, 0) AS {real}) AS spent "
            'FROM "deposit" d LEFT JOIN (SELECT deposit_id, sum(booking_amount * booking_quantity) AS spent '
            "FROM \"booking\" WHERE booking_status <> 'CANCELLED' AND deposit_id IS NOT NULL GROUP BY deposit_id) s "
            "ON s.deposit_id = d.deposit_id ORDER BY d.deposit_id"
        )
        self.d_user = _np_int(d["user_id"]) - 1
        self.d_amount = _np_float(d["amount"])
        self.d_type = _codes_of(d["type"], DEPOSIT_TYPES)
        self.d_created = _np_ts(d["created"])
        self.d_updated = _np_ts(d["updated"])
        self.d_expire = _np_ts(d["expire"])
        self.d_remaining = self.d_amount - _np_float(d["spent"])
        self.d_dirty = np.zeros(d.num_rows, bool)
        self.n_deposits_loaded = d.num_rows
        self.u_dep = np.full(n, -1, np.int64)
        order = np.lexsort((self.d_created, self.d_user))
        self.u_dep[self.d_user[order]] = order  # the latest deposit of each user wins
        o = db.fetch_arrow(
            "SELECT o.offer_id, o.venue_id, o.offer_subcategory_id AS sub, coalesce(o.offer_product_id, 0) AS product, "
            f"{db.text('o.offer_creation_date')} AS created, CAST(o.offer_is_active AS INTEGER) AS active, "
            f"CAST(o.offer_is_duo AS INTEGER) AS duo, CAST(s.stock_price AS {real}) AS price, "
            f"{db.text('s.stock_beginning_date')} AS begin, coalesce(s.stock_quantity, -1) AS quantity, "
            "coalesce(b.booked, 0) AS booked, o.live "
            f'FROM (SELECT *, 1 AS live FROM "offer" UNION ALL SELECT *, 0 AS live FROM "{removed_table("offer")}") o '
            f'JOIN (SELECT * FROM "stock" UNION ALL SELECT * FROM "{removed_table("stock")}") s '
            "ON s.stock_id = o.offer_id "
            'LEFT JOIN (SELECT stock_id, sum(booking_quantity) AS booked FROM "booking" '
            "WHERE booking_status <> 'CANCELLED' GROUP BY stock_id) b ON b.stock_id = s.stock_id "
            "ORDER BY o.offer_id"
        )
        self.o_venue = _np_int(o["venue_id"]) - 1
        self.o_sub = _codes_of(o["sub"], SUB_IDS)
        self.o_product = _np_int(o["product"])
        self.o_created = _np_ts(o["created"])
        if not np.array_equal(_np_int(o["offer_id"]), np.arange(1, o.num_rows + 1)):
            raise SandboxError(
                "offer ids of the sandbox are not 1..n: regenerate it with `data-gcp sandbox generate`"
            )
        live = _np_int(o["live"]).astype(bool)  # a deleted offer (`removals`) gets no new activity
        self.o_active = _np_int(o["active"]).astype(bool) & live
        self.o_duo = _np_int(o["duo"]).astype(bool)
        self.o_price = _np_float(o["price"])
        self.o_begin = _np_ts(o["begin"])
        quantity = _np_int(o["quantity"])
        left = np.where(quantity < 0, np.inf, (quantity - _np_int(o["booked"])).astype(float))
        self.o_left = np.where(live, left, 0.0)
        self._derive_offers()
        f = db.fetch_arrow('SELECT user_id, offer_id FROM "favorite"')
        self.favorites = set((_np_int(f["user_id"]) * (1 << 32) + _np_int(f["offer_id"])).tolist())

        def next_id(sql: str) -> int:
            return int(db.fetch(sql)[0][0] or 0) + 1

        self.next_booking_id = next_id('SELECT max(booking_id) FROM "booking"')
        self.next_favorite_id = next_id(  # a deleted favourite's id is not given again
            f'SELECT max(m) FROM (SELECT max(favorite_id) AS m FROM "favorite" UNION ALL '
            f'SELECT max(favorite_id) FROM "{removed_table("favorite")}") t'
        )
        self.next_recredit_id = next_id('SELECT max(recredit_id) FROM "recredit"')
        self.next_collective_id = next_id('SELECT max(collective_offer_id) FROM "collective_offer"')

    def arrive_late_events(self, new_horizon: np.datetime64) -> int:
        """App events uploaded by the new horizon leave the late-event table for `app_event`."""
        cols = ", ".join(f'"{c}"' for c in table_spec("app_event").column_names)
        at = (f'"{LATE_EVENT_TABLE}"', f'"{ARRIVAL_COLUMN}"', str(new_horizon.astype(dt.datetime)))
        n = int(self.db.fetch(f"SELECT count(*) FROM {at[0]} WHERE {at[1]} <= ?", (at[2],))[0][0])
        if n:
            self.db.execute(
                f'INSERT INTO "app_event" ({cols}) SELECT {cols} FROM {at[0]} WHERE {at[1]} <= ? '
                "ORDER BY event_timestamp",
                (at[2],),
            )
            self.db.execute(f"DELETE FROM {at[0]} WHERE {at[1]} <= ?", (at[2],))
        return n

    def move_open_bookings(self, new_horizon: np.datetime64) -> int:
        """Bookings still open in the database take the steps their fate gives up to the new horizon."""
        rows = self.db.fetch_arrow(
            "SELECT booking_id, stock_id, coalesce(deposit_id, 0) AS deposit_id, "
            f"CAST(booking_amount * booking_quantity AS {self.db.float_type}) AS amount, "
            f"{self.db.text('booking_creation_date')} AS created, booking_status AS status "
            "FROM \"booking\" WHERE booking_status IN ('CONFIRMED', 'USED')"
        )
        if not rows.num_rows:
            return 0
        ids = _np_int(rows["booking_id"])
        o = _np_int(rows["stock_id"]) - 1
        dep = _np_int(rows["deposit_id"]) - 1
        amount = _np_float(rows["amount"])
        created = _np_ts(rows["created"])
        old = _codes_of(rows["status"], STATUSES)
        cancel, used, reimb, reason = booking_fates(ids, created, self.o_kind[o], self.o_begin[o], self.seed)
        status, c, us, r = status_at(new_horizon, cancel, used, reimb)
        changed = status != old
        refund = changed & ~np.isnat(c) & (dep >= 0)
        if refund.any():
            days, deps, amts = self.refunds
            self.refunds = (
                np.concatenate([days, c[refund].astype("datetime64[D]") + np.timedelta64(1, "D")]),
                np.concatenate([deps, dep[refund]]),
                np.concatenate([amts, amount[refund]]),
            )
        i = np.flatnonzero(changed)
        self.db.update(
            "booking",
            pa.table(
                {
                    "booking_id": ids[i],
                    "booking_status": STATUSES[status[i]],
                    "booking_used_date": _ts_arrow(us[i]),
                    "booking_cancellation_date": _ts_arrow(c[i]),
                    "booking_cancellation_reason": np.where(
                        ~np.isnat(c[i]), CANCEL_REASONS[np.maximum(reason[i], 0)], None
                    ),
                    "booking_reimbursement_date": _ts_arrow(r[i]),
                }
            ),
        )
        return len(i)
