"""App usage beyond the offer funnel: the venue map of the young people's app, and the pro portal.

Why a module of its own: the world's sessions (`World._sessions`) plant the taste signal the models
learn; what is generated here reads the world's state (users, venues, offers, credit) and only adds to
it, from random streams of its own, so the planted signal and the offer funnel stay as they were.

- **Venue map sessions** (`venue_map_day`): a share of the app's users open the map, look at pins
  (`ConsultVenueMap`, `PinMapPressed`), open venues near them (`ConsultVenue`, origin `venueMap`),
  consult an offer of that venue (`ConsultOffer`, origin `venueMap`) and book some of them (through
  the world's booking rules: credit, stock); `VenueMapSeenDuration` closes each map visit with its
  duration. Rows go to `app_event` (raw `firebase_events`), with `venue_id` and `duration_seconds`.
- **Pro portal** (`pro_portal_day`): the portal's web events in the shape of its Firebase export
  (`page_view` with the page title and location, clicks such as `hasClickedOffer`,
  `hasClickedShowBooking`, `hasClickedDownloadBooking`), one session per visit of a venue's pro
  user, and the backend's log of pro actions (`pro_log`: offers created that day, reviews submitted,
  structures searched). Pro accounts are the `user` rows with role `PRO` that
  `data_gcp.sandbox.derived` writes (ids from `PRO_USER_BASE`); only visitors who accepted cookies are tracked, as in production.

Everything is vectorised over the day's sessions; the cost is linear in the events written.
"""

from __future__ import annotations

from string import Formatter
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.sandbox.world import PLATFORMS, _prefixed, _ts_arrow, hash_uniform, sample_weighted, season

if TYPE_CHECKING:
    from data_gcp.sandbox.world import World

MAP_RATE = 0.006  # venue map sessions per registered user per day, before seasonality
PRO_RATE = 0.5  # pro portal sessions per venue per day, before seasonality
PRO_USER_BASE = 100_000_000  # pro account ids: PRO_USER_BASE + offerer_id * 4 + (0..2)
PRO_TRACKED = 0.8  # share of pro visitors who accept analytics cookies
MAP_SALT, PRO_SALT = 7_001, 7_002

# the venue map's events, by code
MAP_EVENTS = (
    "ConsultVenueMap",
    "PinMapPressed",
    "ConsultVenue",
    "ConsultOffer",
    "BookingConfirmation",
    "VenueMapSeenDuration",
)

SUFFIX = " - pass Culture Pro"
# (page title, path, weight among a session's pages, click event some views lead to, its probability)
PRO_PAGES: tuple[tuple[str, str, float, str | None, float], ...] = (
    ("Offres individuelles", "/offres", 0.18, "hasClickedOffer", 0.6),
    ("Consulter une offre individuelle", "/offre/individuelle/{offer}/recapitulatif", 0.12, None, 0.0),
    ("Modifier une offre individuelle", "/offre/individuelle/{offer}/edition", 0.06, None, 0.0),
    ("Créer une offre", "/offre/creation", 0.05, None, 0.0),
    (
        "Confirmation - Offre individuelle publiée",
        "/offre/individuelle/{offer}/creation/confirmation",
        0.03,
        None,
        0.0,
    ),
    ("Réservations individuelles", "/reservations", 0.16, "hasClickedShowBooking", 0.5),
    ("Réservations collectives", "/reservations/collectives", 0.04, None, 0.0),
    ("Offres collectives", "/offres/collectives", 0.05, None, 0.0),
    ("Guichet", "/guichet", 0.1, None, 0.0),
    ("Justificatifs", "/remboursements", 0.06, None, 0.0),
    (
        "Informations bancaires",
        "/remboursements/informations-bancaires",
        0.03,
        "hasClickedAddBankAccount",
        0.3,
    ),
    ("Statistiques", "/statistiques", 0.07, None, 0.0),
    ("Collaborateurs", "/collaborateurs", 0.02, "hasClickedInviteCollaborator", 0.4),
    ("Partenaire culturel", "/structures/{offerer}/lieux/{venue}", 0.03, None, 0.0),
)
HOME = ("Espace acteurs culturels", "/accueil")
PRO_HOST = "https://passculture.pro"
# the pages by code (0: the home page, then PRO_PAGES): what a page view writes, picked by code
PAGE_TITLES = pa.array([f"{p[0]}{SUFFIX}" for p in (HOME, *PRO_PAGES)])
PAGE_LOCATIONS = [PRO_HOST + p[1] for p in (HOME, *PRO_PAGES)]
PAGE_NAMES_OFFER = np.array(["{offer}" in p for p in PAGE_LOCATIONS])
PAGE_WEIGHTS = np.array([p[2] for p in PRO_PAGES])
PAGE_CLICKS = np.array([None, *(p[3] for p in PRO_PAGES)], dtype=object)
PAGE_CLICK_P = np.array([0.0, *(p[4] for p in PRO_PAGES)])
CATALOGUE = 1  # "Offres individuelles": the page an offer page falls back to
DOWNLOAD_FORMATS = pa.array(["excel", "csv"])
DEVICES = pa.array(["desktop", "mobile"])
BROWSERS = np.array(["Chrome", "Firefox", "Safari", "Edge"])
BROWSER_P = np.array([0.6, 0.15, 0.18, 0.07])
SOURCES = np.array(["(direct)", "google", "brevo", "passculture.app"])
MEDIUMS = np.array(["(none)", "organic", "email", "referral"])
SOURCE_P = np.array([0.55, 0.2, 0.15, 0.1])
CAMPAIGNS = pa.array(["newsletter_pro" if s == "brevo" else None for s in SOURCES])  # by source
REVIEW_SATISFACTION = np.array(["Excellente", "Bonne", "Moyenne", "Mauvaise"])
REVIEW_COMMENTS = np.array(
    [
        "Très pratique pour suivre les réservations",
        "La création d'offre est longue",
        "Le guichet fonctionne bien",
        "Difficile de trouver les remboursements",
        None,
    ],
    dtype=object,
)


def _day_rng(world: World, day: np.datetime64, salt: int) -> np.random.Generator:
    return np.random.default_rng([world.seed, int(day.astype(np.int64)) + 1_000_000, salt])


def _strings(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


# --- the venue map ---------------------------------------------------------------------------------
def venue_map_day(world: World, day: np.datetime64) -> None:
    """The day's venue map sessions of the app's users (events, and the bookings they lead to)."""
    rng = _day_rng(world, day, MAP_SALT)
    day_s = day.astype("datetime64[s]")
    eligible = np.flatnonzero(world.u_created < day_s)
    n = rng.poisson(MAP_RATE * len(eligible) * season(day)) if len(eligible) else 0
    end_s = day_s + np.timedelta64(86400, "s")
    bookable = np.flatnonzero(
        world.o_active & (world.o_created < day_s) & (np.isnat(world.o_begin) | (world.o_begin > end_s))
    )
    if not n or not len(bookable):
        return
    ulat, ulon, prop = world._user_geo()
    users = eligible[sample_weighted(rng, prop[eligible], n)]
    t0 = day_s + rng.normal(18 * 3600, 3 * 3600, n).clip(0, 80000).astype("timedelta64[s]")
    # texts once per session, picked per event by Arrow (no Python or numpy string per event)
    sid = _prefixed(f"{day.astype(object):%Y%m%d}-m", np.arange(n))
    pseudo = _prefixed("dev-", (hash_uniform(users + 1, 71, world.seed) * 1e12).astype(np.int64))
    platform = sample_weighted(rng, np.array([0.48, 0.48, 0.04]), n)
    ev: list[tuple] = []

    def events(idx, ts, name, offer=None, origin=None, call=None, venue=None, duration=None) -> None:
        """A batch of events of sessions `idx` (all from the map: origin `venueMap`, no call)."""
        m = len(idx)
        none = np.full(m, -1, np.int64)
        ev.append(
            (
                ts,
                np.full(m, MAP_EVENTS.index(name), np.int64),
                idx,
                none if offer is None else offer + 1,
                none if venue is None else venue + 1,
                none if duration is None else duration,
            )
        )

    all_s = np.arange(n)
    events(all_s, t0, "ConsultVenueMap")
    # pins pressed: venues with something to book, the nearest of a few drawn, 0 to 4 per session
    b_venue = world.o_venue[bookable]
    venues = np.unique(b_venue)
    k = rng.poisson(1.6, n)
    s_idx = np.repeat(all_s, k)
    m = len(s_idx)
    seen = np.maximum(20, 40 * k + rng.integers(5, 90, n))
    if m:
        cand = venues[rng.integers(0, len(venues), (m, 6))]
        la, lo = ulat[users[s_idx]][:, None], ulon[users[s_idx]][:, None]
        d = np.hypot((world.v_lon[cand] - lo) * 0.7, world.v_lat[cand] - la)
        pin_venue = cand[np.arange(m), np.argmin(np.nan_to_num(d, nan=1e9), axis=1)]
        rank = np.arange(m) - np.repeat(np.cumsum(k) - k, k)
        pin_t = t0[s_idx] + (8 + 40 * rank).astype("timedelta64[s]")
        events(s_idx, pin_t, "PinMapPressed", venue=pin_venue)
        # some pins lead to the venue's page, and some of those to one of its offers
        opened = np.flatnonzero(rng.random(m) < 0.55)
        events(s_idx[opened], pin_t[opened] + np.timedelta64(4, "s"), "ConsultVenue", venue=pin_venue[opened])
        order = np.argsort(b_venue, kind="stable")
        sorted_venue = b_venue[order]
        lo_i = np.searchsorted(sorted_venue, pin_venue[opened], side="left")
        hi_i = np.searchsorted(sorted_venue, pin_venue[opened], side="right")
        cons = np.flatnonzero(rng.random(len(opened)) < 0.6)
        if len(cons):
            pick = lo_i[cons] + (rng.random(len(cons)) * (hi_i[cons] - lo_i[cons])).astype(np.int64)
            co = bookable[order[pick]]
            oi = opened[cons]
            cs, ct = s_idx[oi], pin_t[oi] + np.timedelta64(15, "s")
            corig = np.full(len(cs), -1, np.int64)  # the map's (`events` writes it)
            events(cs, ct, "ConsultOffer", offer=co, venue=pin_venue[oi], origin=corig)
            cu = users[cs]
            aff = world._affinity(cu, co)
            want = np.flatnonzero(rng.random(len(cs)) < np.clip(0.25 * (0.3 + aff) ** 0.8, 0, 0.9))
            world._book(want, cs, cu, co, ct, corig, np.full(len(cs), -1, np.int64), events, rng)
    events(all_s, t0 + seen.astype("timedelta64[s]"), "VenueMapSeenDuration", duration=seen)
    # the batches in time order (a stable sort of their concatenation)
    ts, name, s, offer, venue, duration = (np.concatenate(c) for c in zip(*ev, strict=True))
    order = np.argsort(ts, kind="stable")
    ts, name, s, offer, venue, duration = (c[order] for c in (ts, name, s, offer, venue, duration))
    m = len(ts)
    world.emit(
        "app_event",
        pa.table(
            {
                **_time_columns(ts),
                "event_name": pa.array(MAP_EVENTS).take(name),
                "user_id": users[s] + 1,
                "user_pseudo_id": pseudo.take(s),
                "session_id": sid.take(s),
                "platform": pa.array(PLATFORMS).take(platform[s]),
                "app_version": pa.repeat(pa.scalar("1.300.2"), m),
                "offer_id": pa.array(offer, mask=offer < 0),
                "origin": pa.repeat(pa.scalar("venueMap"), m),
                "reco_call_id": pa.nulls(m, pa.string()),
                "search_query": pa.nulls(m, pa.string()),
                "venue_id": pa.array(venue, mask=venue < 0),
                "duration_seconds": pa.array(duration, mask=duration < 0),
                # the map's events upload with their session, within the minute (never late)
                "event_server_timestamp_offset": (ts.astype(np.int64) % 60 + 1) * 1_000_000,
            }
        ),
    )


def _time_columns(ts: np.ndarray) -> dict[str, pa.Array]:
    """An event table's day and time columns."""
    return {"event_date": pa.array(ts.astype("datetime64[D]"), pa.date32()), "event_timestamp": _ts_arrow(ts)}


# --- the pro portal --------------------------------------------------------------------------------
def pro_portal_day(world: World, day: np.datetime64) -> None:
    """The day's pro portal visits (tracked events) and the backend's log of pro actions."""
    rng = _day_rng(world, day, PRO_SALT)
    day_s = day.astype("datetime64[s]")
    end_s = day_s + np.timedelta64(86400, "s")
    n_venues = len(world.v_offerer)
    live = world.o_active & (world.o_created < day_s)
    offers_per_venue = np.bincount(world.o_venue[live], minlength=n_venues)
    n = rng.poisson(PRO_RATE * n_venues * season(day) * (0.6 if day.astype(object).weekday() >= 5 else 1.0))
    created_today = np.flatnonzero((world.o_created >= day_s) & (world.o_created < end_s))
    logs: list[dict] = []
    if created_today.size:
        venue = world.o_venue[created_today]
        off = world.v_offerer[venue]
        logs.append(
            {
                "ts": world.o_created[created_today],
                "message": np.full(len(venue), "Offer has been created"),
                "source": _strings(len(venue)),
                "user": PRO_USER_BASE
                + off * 4
                + (hash_uniform(created_today, 91, world.seed) * 3).astype(int),
                "offerer": off,
                "venue": venue + 1,
                "offer": created_today + 1,
                "satisfaction": _strings(len(venue)),
                "comment": _strings(len(venue)),
            }
        )
    if n:
        venue = sample_weighted(rng, (1.0 + offers_per_venue) * world.v_open, n)  # not deleted venues
        offerer = world.v_offerer[venue]
        seat = rng.choice(3, n, p=[0.6, 0.3, 0.1])
        user = PRO_USER_BASE + offerer * 4 + seat
        tracked = rng.random(n) < PRO_TRACKED
        t0 = day_s + rng.normal(11 * 3600, 3.5 * 3600, n).clip(6 * 3600, 82000).astype("timedelta64[s]")
        _pro_events(world, day, rng, np.flatnonzero(tracked), venue, offerer, user, t0)
        review = np.flatnonzero(rng.random(n) < 0.02)
        search = np.flatnonzero(rng.random(n) < 0.01)
        for idx, message, source in (
            (review, "User submitting review", "app-pro"),
            (search, "Searching for structure", None),
        ):
            m = len(idx)
            logs.append(
                {
                    "ts": t0[idx] + rng.integers(60, 900, m).astype("timedelta64[s]"),
                    "message": np.full(m, message),
                    "source": np.full(m, source, dtype=object),
                    "user": user[idx],
                    "offerer": offerer[idx],
                    "venue": venue[idx] + 1,
                    "offer": np.full(m, -1),
                    "satisfaction": REVIEW_SATISFACTION[
                        sample_weighted(rng, np.array([0.3, 0.4, 0.2, 0.1]), m)
                    ].astype(object)
                    if source
                    else _strings(m),
                    "comment": REVIEW_COMMENTS[rng.integers(0, len(REVIEW_COMMENTS), m)]
                    if source
                    else _strings(m),
                }
            )
    _emit_log(world, day, logs)


def _pro_events(world, day, rng, tracked, venue, offerer, user, t0) -> None:
    """The tracked visits' events (`pro_app_event`): page views, then the clicks some pages lead to.

    Why Arrow: these are the most numerous rows after the app's own events; their text is built
    with Arrow's string kernels and picked from small tables by code (page, browser, source), with
    no Python or numpy string per row.
    """
    n = len(tracked)
    if not n:
        return
    venue, offerer, user, t0 = venue[tracked], offerer[tracked], user[tracked], t0[tracked]
    sid = (hash_uniform(np.arange(n) + int(day.astype(np.int64)) * 100_000, 93, world.seed) * 1e10).astype(
        np.int64
    )
    session_number = (
        1
        + (hash_uniform(user, 95, world.seed) * 40).astype(np.int64)
        + (int(day.astype(np.int64)) % 365) // 9
    )
    pseudo = (hash_uniform(user * 7 + rng.integers(0, 2, n), 97, world.seed) * 1e9).astype(np.int64)
    browser = sample_weighted(rng, BROWSER_P, n)
    mobile = rng.random(n) >= 0.92
    src = sample_weighted(rng, SOURCE_P, n)
    # a session: the home page, then 1 + Poisson(4) pages drawn by weight
    k = 1 + rng.poisson(4, n)
    s_idx = np.concatenate([np.arange(n), np.repeat(np.arange(n), k)])
    rank = np.concatenate([np.zeros(n, np.int64), np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k) + 1])
    page = np.concatenate([np.full(n, -1), sample_weighted(rng, PAGE_WEIGHTS, int(k.sum()))]) + 1  # 0: home
    ts = t0[s_idx] + (rank * 45 + rng.integers(0, 40, len(s_idx))).astype("timedelta64[s]")
    # the venue's offers: an offer page names one of them
    offers = np.flatnonzero(world.o_created < t0.max())
    o_order = np.argsort(world.o_venue[offers], kind="stable")
    sorted_venue = world.o_venue[offers][o_order]
    v = venue[s_idx]
    lo, hi = np.searchsorted(sorted_venue, v, "left"), np.searchsorted(sorted_venue, v, "right")
    has = hi > lo
    pick = lo + (rng.random(len(v)) * np.maximum(hi - lo, 1)).astype(np.int64)
    offer = np.where(has, offers[o_order[np.minimum(pick, len(offers) - 1)]] if len(offers) else -1, -1)
    # an offer page of a venue without offers is the catalogue instead
    shown = np.where(PAGE_NAMES_OFFER[page] & (offer < 0), CATALOGUE, page)
    offer = np.where(PAGE_NAMES_OFFER[shown], offer, -1)
    loc = _fill(
        PAGE_LOCATIONS, shown, {"offer": offer + 1, "offerer": offerer[s_idx], "venue": venue[s_idx] + 1}
    )
    # the referrer: the session's previous page (none for its first)
    order = np.lexsort((rank, s_idx))
    before = np.empty(len(order), np.int64)
    before[order] = np.r_[-1, order[:-1]]
    before[order[np.r_[True, s_idx[order][1:] != s_idx[order][:-1]]]] = -1
    # (views, time, event, referrer's view, offer): the page views, then the clicks some lead to
    batches = [(np.arange(len(page)), ts, "page_view", before, offer)]
    clicked = np.flatnonzero(rng.random(len(page)) < PAGE_CLICK_P[page])
    for name in sorted({PAGE_CLICKS[p] for p in np.unique(page[clicked])}):
        c = clicked[PAGE_CLICKS[page[clicked]] == name]
        c_offer = offer[c]
        if name == "hasClickedOffer":  # a catalogue click names an offer of the venue
            c_offer = np.where(
                has[c], offers[o_order[np.minimum(pick[c], len(offers) - 1)]] if len(offers) else -1, -1
            )
        batches.append((c, ts[c] + np.timedelta64(10, "s"), name, c, c_offer))
    dl = np.flatnonzero((PAGE_CLICKS[page] == "hasClickedShowBooking") & (rng.random(len(page)) < 0.25))
    fmt = [np.full(sum(len(b[0]) for b in batches), -1)]
    if len(dl):
        fmt.append(np.where(rng.random(len(dl)) < 0.6, 0, 1))  # DOWNLOAD_FORMATS
        batches.append(
            (dl, ts[dl] + np.timedelta64(20, "s"), "hasClickedDownloadBooking", dl, np.full(len(dl), -1))
        )
    # in time order (a stable sort of the batches' concatenation, as the venue map's)
    when = np.concatenate([b[1] for b in batches])
    order = np.argsort(when, kind="stable")
    view, referrer, ev_offer = (np.concatenate([b[i] for b in batches])[order] for i in (0, 3, 4))
    event = np.repeat(np.arange(len(batches)), [len(b[0]) for b in batches])[order]
    fmt = np.concatenate(fmt)[order]
    s = s_idx[view]
    world.emit(
        "pro_app_event",
        pa.table(
            {
                **_time_columns(when[order]),
                "event_name": pa.array([b[2] for b in batches]).take(event),
                "page_title": PAGE_TITLES.take(shown[view]),
                "page_location": loc.take(view),
                "page_referrer": loc.take(pa.array(referrer, mask=referrer < 0)),
                "origin": pa.nulls(len(view), pa.string()),
                "offer_id": pa.array(ev_offer + 1, mask=ev_offer < 0),
                "download_format": DOWNLOAD_FORMATS.take(pa.array(fmt, mask=fmt < 0)),
                "user_id": user[s],
                "user_pseudo_id": _prefixed("pro-", pseudo).take(s),
                "session_id": pa.array(sid).cast(pa.string()).take(s),
                "session_number": session_number[s],
                "offerer_id": offerer[s],
                "venue_id": venue[s] + 1,
                "traffic_source": pa.array(SOURCES).take(src[s]),
                "traffic_medium": pa.array(MEDIUMS).take(src[s]),
                "traffic_campaign": CAMPAIGNS.take(src[s]),
                "user_device_category": DEVICES.take(mobile[s].astype(np.int64)),
                "user_web_browser": pa.array(BROWSERS).take(browser[s]),
            }
        ),
    )


def _fill(templates: list[str], code: np.ndarray, values: dict[str, np.ndarray]) -> pa.Array:
    """Each row's template (`templates[code]`) with its `{name}` fields replaced by the row's
    `values[name]` in decimal: the rows of one template at a time, with Arrow's string kernels."""
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(templates) + 1))
    parts = []
    for t, template in enumerate(templates):
        rows = order[bounds[t] : bounds[t + 1]]
        if not len(rows):
            continue
        pieces: list = []
        for literal, field, _, _ in Formatter().parse(template):
            pieces.append(literal)
            if field is not None:
                pieces.append(pa.array(values[field][rows]).cast(pa.string()))
        if len(pieces) == 1:
            parts.append(pa.array([template]).take(np.zeros(len(rows), np.int64)))
        else:
            parts.append(pc.binary_join_element_wise(*pieces, ""))
    back = np.empty(len(order), np.int64)
    back[order] = np.arange(len(order))
    return pa.concat_arrays(parts).take(back) if parts else pa.array([], pa.string())


def _emit_log(world: World, day: np.datetime64, logs: list[dict]) -> None:
    logs = [lg for lg in logs if len(lg["ts"])]
    if not logs:
        return
    cols = {key: np.concatenate([lg[key] for lg in logs]) for key in logs[0]}
    order = np.argsort(cols["ts"], kind="stable")
    ts = cols["ts"][order]
    offer = cols["offer"][order]
    world.emit(
        "pro_log",
        pa.table(
            {
                "log_id": np.char.add(f"{day.astype(object):%Y%m%d}-", np.arange(len(ts)).astype(str)),
                "log_timestamp": _ts_arrow(ts),
                "partition_date": pa.array(ts.astype("datetime64[D]"), pa.date32()),
                "message": cols["message"][order],
                "analytics_source": pa.array(cols["source"][order].tolist(), pa.string()),
                "user_id": cols["user"][order],
                "offerer_id": cols["offerer"][order],
                "venue_id": cols["venue"][order],
                "offer_id": pa.array(np.maximum(offer, 0), mask=offer < 0),
                "user_satisfaction": pa.array(cols["satisfaction"][order].tolist(), pa.string()),
                "user_comment": pa.array(cols["comment"][order].tolist(), pa.string()),
            }
        ),
    )
