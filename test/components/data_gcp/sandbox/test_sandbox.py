"""The synthetic app database: shape, business rules, planted signal, determinism, advance."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from data_gcp.applicative_schema import APP_TABLES, TABLES
from data_gcp.offer_categories import subcategory
from data_gcp.sandbox import K_TOPICS, TOPIC_WORDS, SandboxError, advance, default_window, generate

from .conftest import DAYS, SCALE, SEED, START


def one(con: sqlite3.Connection, sql: str):
    return con.execute(sql).fetchone()[0]


def test_every_table_is_filled_with_unique_keys(sq: sqlite3.Connection) -> None:
    for spec in TABLES:
        n = one(sq, f'SELECT count(*) FROM "{spec.name}"')
        assert n > 0, spec.name
        if spec.primary_key:
            keys = ", ".join(spec.primary_key)
            assert one(sq, f'SELECT count(*) FROM (SELECT DISTINCT {keys} FROM "{spec.name}")') == n


@pytest.mark.parametrize(
    ("child", "column", "parent", "key"),
    [
        ("deposit", "user_id", "user", "user_id"),
        ("recredit", "deposit_id", "deposit", "deposit_id"),
        ("venue", "venue_managing_offerer_id", "offerer", "offerer_id"),
        ("offer", "venue_id", "venue", "venue_id"),
        ("offer", "offer_product_id", "product", "product_id"),
        ("stock", "offer_id", "offer", "offer_id"),
        ("booking", "user_id", "user", "user_id"),
        ("booking", "stock_id", "stock", "stock_id"),
        ("booking", "deposit_id", "deposit", "deposit_id"),
        ("booking", "venue_id", "venue", "venue_id"),
        ("booking", "offerer_id", "offerer", "offerer_id"),
        ("favorite", "offer_id", "offer", "offer_id"),
        ("favorite", "user_id", "user", "user_id"),
        ("collective_stock", "collective_offer_id", "collective_offer", "collective_offer_id"),
        ("collective_booking", "collective_stock_id", "collective_stock", "collective_stock_id"),
        (
            "collective_booking",
            "educational_institution_id",
            "educational_institution",
            "educational_institution_id",
        ),
        ("reco_display_log", "offer_id", "offer", "offer_id"),
        ("app_event", "offer_id", "offer", "offer_id"),
        ("app_event", "user_id", "user", "user_id"),
        ("app_event", "venue_id", "venue", "venue_id"),
        ("pro_app_event", "venue_id", "venue", "venue_id"),
        ("pro_app_event", "offerer_id", "offerer", "offerer_id"),
        ("pro_app_event", "offer_id", "offer", "offer_id"),
        ("pro_log", "offer_id", "offer", "offer_id"),
        ("sandbox_truth_offer_topic", "offer_id", "offer", "offer_id"),
        ("sandbox_truth_offer_work", "offer_id", "offer", "offer_id"),
        ("fraudulent_booking_tag", "booking_id", "booking", "booking_id"),
        ("offer_reminder", "offer_id", "offer", "offer_id"),
        ("offer_reminder", "user_id", "user", "user_id"),
        ("user_offerer", "user_id", "user", "user_id"),
        ("user_offerer", "offerer_id", "offerer", "offerer_id"),
        ("venue_provider", "venue_id", "venue", "venue_id"),
        ("venue_provider", "provider_id", "provider", "provider_id"),
        ("special_event_response", "special_event_id", "special_event", "special_event_id"),
        ("special_event_response", "user_id", "user", "user_id"),
        ("product_artist_link", "artist_id", "artist", "artist_id"),
        ("product_artist_link", "product_id", "product", "product_id"),
        ("offer_criterion", "offer_id", "offer", "offer_id"),
        ("venue_criterion", "venue_id", "venue", "venue_id"),
        ("offerer_tag_mapping", "offerer_id", "offerer", "offerer_id"),
        ("collective_offer_domain", "collective_offer_id", "collective_offer", "collective_offer_id"),
        ("pricing", "booking_id", "booking", "booking_id"),
        ("pricing", "collective_booking_id", "collective_booking", "collective_booking_id"),
        ("pricing_line", "pricing_id", "pricing", "pricing_id"),
        ("cashflow_pricing", "pricing_id", "pricing", "pricing_id"),
        ("cashflow_pricing", "cashflow_id", "cashflow", "cashflow_id"),
        ("cashflow", "cashflow_batch_id", "cashflow_batch", "cashflow_batch_id"),
        ("invoice_cashflow", "cashflow_id", "cashflow", "cashflow_id"),
        ("invoice_cashflow", "invoice_id", "invoice", "invoice_id"),
        ("adage_log", "collective_offer_id", "collective_offer", "collective_offer_id"),
        ("adage_log", "collective_booking_id", "collective_booking", "collective_booking_id"),
    ],
)
def test_references_resolve(sq: sqlite3.Connection, child: str, column: str, parent: str, key: str) -> None:
    orphans = one(
        sq,
        f'SELECT count(*) FROM "{child}" c WHERE c.{column} IS NOT NULL '
        f'AND NOT EXISTS (SELECT 1 FROM "{parent}" p WHERE p.{key} = c.{column})',
    )
    assert orphans == 0


def test_credit_is_never_exceeded(sq: sqlite3.Connection) -> None:
    # final state: what is spent (not cancelled) never exceeds the deposit
    over = one(
        sq,
        "SELECT count(*) FROM deposit d WHERE d.deposit_amount + 1e-6 < (SELECT coalesce(sum(b.booking_amount * b.booking_quantity), 0) "
        "FROM booking b WHERE b.deposit_id = d.deposit_id AND b.booking_status <> 'CANCELLED')",
    )
    assert over == 0
    # and at every booking: spent so far (bookings not cancelled before it) <= deposit
    rows = sq.execute(
        "SELECT b.deposit_id, b.booking_creation_date, b.booking_amount * b.booking_quantity, b.booking_cancellation_date, d.deposit_amount "
        "FROM booking b JOIN deposit d USING (deposit_id) ORDER BY b.deposit_id, b.booking_creation_date"
    ).fetchall()
    by_dep: dict[int, list] = {}
    for dep, created, amount, cancelled, total in rows:
        prior = by_dep.setdefault(dep, [])
        spent = sum(a for c, a, x in prior if x is None or x >= created) + amount
        assert spent <= total + 1e-6, (dep, created)
        prior.append((created, amount, cancelled))
    assert one(sq, "SELECT count(*) FROM booking WHERE deposit_id IS NULL") == 0


def test_booking_amount_is_the_unit_price_and_stocks_are_not_overbooked(sq: sqlite3.Connection) -> None:
    # the backend stores the unit price in booking_amount (the total is amount x quantity)
    wrong_price = one(
        sq,
        "SELECT count(*) FROM booking b JOIN stock s USING (stock_id) "
        "WHERE b.booking_quantity = 2 AND b.booking_amount > s.stock_price * 1.25",
    )
    assert one(sq, "SELECT count(*) FROM booking WHERE booking_quantity = 2") > 0
    assert wrong_price == 0
    # a stock with a quantity is never booked beyond it
    over = one(
        sq,
        "SELECT count(*) FROM stock s WHERE s.stock_quantity IS NOT NULL AND s.stock_quantity < "
        "(SELECT coalesce(sum(b.booking_quantity), 0) FROM booking b WHERE b.stock_id = s.stock_id "
        "AND b.booking_status <> 'CANCELLED')",
    )
    assert over == 0


def test_business_rules(sq: sqlite3.Connection) -> None:
    ages = [
        r[0]
        for r in sq.execute(
            "SELECT (julianday(user_creation_date) - julianday(user_birth_date)) / 365.25 FROM user "
            "WHERE user_role <> 'PRO'"
        )
    ]
    assert 15 <= min(ages) and max(ages) < 22
    # pro accounts are adults working for an offerer, each attached to at least one
    pro_ages = [
        r[0]
        for r in sq.execute(
            "SELECT (julianday(user_creation_date) - julianday(user_birth_date)) / 365.25 FROM user "
            "WHERE user_role = 'PRO'"
        )
    ]
    assert pro_ages and min(pro_ages) >= 18
    assert (
        one(
            sq,
            "SELECT count(*) FROM user u WHERE user_role = 'PRO' AND NOT EXISTS "
            "(SELECT 1 FROM user_offerer uo WHERE uo.user_id = u.user_id)",
        )
        == 0
    )
    types = dict(sq.execute("SELECT deposit_type, max(deposit_amount) FROM deposit GROUP BY 1").fetchall())
    assert set(types) <= {"GRANT_15_17", "GRANT_18", "GRANT_17_18"} and types
    assert all(v <= 500 for v in types.values())
    for sub_id, begin, is_duo, qty in sq.execute(
        "SELECT o.offer_subcategory_id, s.stock_beginning_date, o.offer_is_duo, max(coalesce(b.booking_quantity, 1)) "
        "FROM offer o JOIN stock s USING (offer_id) LEFT JOIN booking b USING (stock_id) GROUP BY o.offer_id"
    ):
        sub = subcategory(sub_id)
        assert (begin is not None) == sub.is_event
        assert qty == 1 or (is_duo and qty == 2)
    # digital offers sit in virtual venues without coordinates; others have French coordinates
    for digital, virtual, lat in sq.execute(
        "SELECT o.offer_subcategory_id, v.venue_is_virtual, v.venue_latitude FROM offer o JOIN venue v USING (venue_id)"
    ):
        assert bool(virtual) == subcategory(digital).is_digital
        assert (lat is None) == bool(virtual)
    cancelled = one(
        sq, "SELECT avg(booking_status = 'CANCELLED') FROM booking WHERE booking_creation_date < '2026-08-25'"
    )
    assert 0.07 < cancelled < 0.25
    top = sq.execute(
        "SELECT o.offer_subcategory_id, count(*) FROM booking b JOIN stock s USING (stock_id) JOIN offer o USING (offer_id) "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchone()[0]
    assert subcategory(top).category_id == "LIVRE"
    assert one(sq, "SELECT count(DISTINCT event_name) FROM app_event") >= 6
    assert one(sq, "SELECT count(*) FROM app_event WHERE event_date <> date(event_timestamp)") == 0


def test_truth_is_separate_and_the_signal_is_planted(sq: sqlite3.Connection) -> None:
    for spec in APP_TABLES:
        assert not any("topic" in c or "taste" in c for c in spec.column_names), spec.name
    n_users = one(sq, "SELECT max(user_id) FROM user WHERE user_role <> 'PRO'")
    taste = np.zeros((n_users + 1, K_TOPICS))
    for u, t, w in sq.execute("SELECT user_id, topic_id, weight FROM sandbox_truth_user_taste"):
        taste[u, t] = w
    assert np.allclose(taste[1:].sum(axis=1), 1, atol=1e-4)
    n_offers = one(sq, "SELECT max(offer_id) FROM offer")
    topics = np.zeros((n_offers + 1, K_TOPICS))
    for o, t, w in sq.execute("SELECT offer_id, topic_id, weight FROM sandbox_truth_offer_topic"):
        topics[o, t] = w

    def affinity(pairs: list[tuple[int, int]]) -> float:
        u, o = np.array(pairs).T
        return float((taste[u] * topics[o]).sum(axis=1).mean() * K_TOPICS)

    booked = sq.execute(
        "SELECT b.user_id, s.offer_id FROM booking b JOIN stock s USING (stock_id)"
    ).fetchall()
    consulted = sq.execute(
        "SELECT user_id, offer_id FROM app_event WHERE event_name = 'ConsultOffer'"
    ).fetchall()
    rng = np.random.default_rng(0)
    random_pairs = list(
        zip(rng.integers(1, n_users + 1, 5000), rng.integers(1, n_offers + 1, 5000), strict=True)
    )
    base = affinity(random_pairs)
    assert affinity(consulted) > 1.8 * base
    assert affinity(booked) > affinity(consulted)
    # the display log: consulted displays match taste better than ignored ones (rankers can learn it)
    shown = sq.execute(
        "SELECT r.user_id, r.offer_id, EXISTS (SELECT 1 FROM app_event e WHERE e.reco_call_id = r.call_id "
        "AND e.offer_id = r.offer_id AND e.event_name = 'ConsultOffer') FROM reco_display_log r"
    ).fetchall()
    hit = [(u, o) for u, o, c in shown if c]
    miss = [(u, o) for u, o, c in shown if not c]
    assert hit and affinity(hit) > 1.5 * affinity(miss)
    # categories carry only part of the taste: users' bookings spread over several categories
    spread = one(
        sq,
        "SELECT avg(n) FROM (SELECT b.user_id, count(DISTINCT o.offer_subcategory_id) n FROM booking b "
        "JOIN stock s USING (stock_id) JOIN offer o USING (offer_id) GROUP BY 1 HAVING count(*) >= 5)",
    )
    assert spread > 1.5


def test_venue_map_events_follow_the_map_and_its_bookings_are_real(sq: sqlite3.Connection) -> None:
    m = "FROM app_event WHERE origin = 'venueMap'"
    # every map session opens the map first and closes it with how long it was looked at
    assert one(sq, f"SELECT count(DISTINCT session_id) {m}") == one(
        sq, f"SELECT count(*) {m} AND event_name = 'ConsultVenueMap'"
    )
    assert one(
        sq, f"SELECT count(*) {m} AND event_name = 'VenueMapSeenDuration' AND duration_seconds > 0"
    ) == one(sq, f"SELECT count(*) {m} AND event_name = 'ConsultVenueMap'")
    assert (
        one(
            sq,
            f"SELECT count(*) {m} AND event_name IN ('PinMapPressed', 'ConsultVenue') AND venue_id IS NULL",
        )
        == 0
    )
    # an offer consulted from the map is one of the venue's; a booking from the map is in the booking table
    assert one(sq, f"SELECT count(*) {m} AND event_name = 'ConsultOffer'") > 0
    assert (
        one(
            sq,
            f"SELECT count(*) {m} AND event_name = 'ConsultOffer' AND NOT EXISTS "
            "(SELECT 1 FROM offer o WHERE o.offer_id = app_event.offer_id AND o.venue_id = app_event.venue_id)",
        )
        == 0
    )
    booked = one(sq, f"SELECT count(*) {m} AND event_name = 'BookingConfirmation'")
    assert booked > 0
    matched = one(
        sq,
        f"SELECT count(*) {m} AND event_name = 'BookingConfirmation' AND EXISTS (SELECT 1 FROM booking b "
        "WHERE b.user_id = app_event.user_id AND b.stock_id = app_event.offer_id "
        "AND b.booking_creation_date = app_event.event_timestamp)",
    )
    assert matched == booked


def test_pro_portal_visits_and_the_backend_log(sq: sqlite3.Connection) -> None:
    # a visit is one pro user on one venue of their structure, and begins on the portal's home page
    assert one(sq, "SELECT count(*) FROM pro_app_event") > 0
    per_visit = sq.execute(
        "SELECT count(DISTINCT user_id), count(DISTINCT venue_id), count(DISTINCT offerer_id) "
        "FROM pro_app_event GROUP BY user_pseudo_id, session_id"
    ).fetchall()
    assert {row for row in per_visit} == {(1, 1, 1)}
    assert (
        one(
            sq,
            "SELECT count(*) FROM pro_app_event e JOIN venue v ON v.venue_id = e.venue_id "
            "WHERE v.venue_managing_offerer_id <> e.offerer_id",
        )
        == 0
    )
    first_pages = sq.execute(
        "SELECT DISTINCT event_name, page_title FROM pro_app_event e WHERE event_timestamp = "
        "(SELECT min(event_timestamp) FROM pro_app_event f WHERE f.user_pseudo_id = e.user_pseudo_id "
        "AND f.session_id = e.session_id)"
    ).fetchall()
    assert first_pages == [("page_view", "Espace acteurs culturels - pass Culture Pro")]
    assert one(sq, "SELECT count(*) FROM pro_app_event WHERE page_title NOT LIKE '% - pass Culture Pro'") == 0
    # an offer page or click names an offer of the visit's venue
    assert (
        one(
            sq,
            "SELECT count(*) FROM pro_app_event e JOIN offer o ON o.offer_id = e.offer_id "
            "WHERE o.venue_id <> e.venue_id",
        )
        == 0
    )
    assert (
        one(
            sq, "SELECT count(*) FROM pro_app_event WHERE event_name = 'hasClickedOffer' AND offer_id IS NULL"
        )
        == 0
    )
    # the backend logs every offer created in the window, when and where it was created
    created = one(sq, f"SELECT count(*) FROM offer WHERE offer_creation_date >= '{START}'")
    assert created > 0
    assert (
        one(
            sq,
            "SELECT count(*) FROM pro_log l JOIN offer o ON o.offer_id = l.offer_id "
            "WHERE l.message = 'Offer has been created' AND l.log_timestamp = o.offer_creation_date "
            "AND l.venue_id = o.venue_id",
        )
        == created
    )
    assert (
        one(
            sq,
            "SELECT count(*) FROM pro_log WHERE message = 'User submitting review' AND user_satisfaction IS NULL",
        )
        == 0
    )


def test_consultations_reach_the_long_tail(sq: sqlite3.Connection) -> None:
    # a realistic catalogue: the 10% most consulted items do not take most consultations (taste and
    # search spread them; with popularity-only candidates they took about half at this scale)
    counts = [
        c
        for (c,) in sq.execute(
            "SELECT count(*) FROM app_event e JOIN offer o USING (offer_id) WHERE e.event_name = 'ConsultOffer' "
            "GROUP BY coalesce('product-' || o.offer_product_id, 'offer-' || o.offer_id) ORDER BY 1 DESC"
        )
    ]
    assert len(counts) > 20
    assert sum(counts[: max(1, len(counts) // 10)]) < 0.42 * sum(counts)


def test_same_seed_same_database_and_advance_moves_forward(tmp_path: Path, sandbox_file: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.sqlite'}"
    result = generate(SCALE, SEED, url, START, DAYS)
    con = sqlite3.connect(sandbox_file)
    again = sqlite3.connect(tmp_path / "again.sqlite")
    q = "SELECT count(*), sum(booking_amount), sum(booking_id * length(booking_status)) FROM booking"
    assert con.execute(q).fetchone() == again.execute(q).fetchone()
    assert result.end_date == START + dt.timedelta(days=DAYS - 1)
    # advance: a copy advanced twice in the same way gives the same rows
    copy = tmp_path / "copy.sqlite"
    shutil.copy(tmp_path / "again.sqlite", copy)
    open_before = again.execute(
        "SELECT booking_id, booking_status FROM booking WHERE booking_status IN ('CONFIRMED', 'USED')"
    ).fetchall()
    before = again.execute("SELECT count(*) FROM booking").fetchone()[0]
    again.close()
    moved = advance(3, url)
    advance(3, f"sqlite:///{copy}")
    assert moved.start_date == result.end_date + dt.timedelta(days=1)
    after = sqlite3.connect(tmp_path / "again.sqlite")
    assert after.execute("SELECT count(*) FROM booking").fetchone()[0] > before
    status = dict(after.execute("SELECT booking_id, booking_status FROM booking").fetchall())
    assert sum(status[b] != s for b, s in open_before) > 0  # open bookings were used/cancelled/reimbursed
    assert after.execute("SELECT max(event_date) FROM app_event").fetchone()[0] == str(moved.end_date)
    other = sqlite3.connect(copy)
    assert after.execute(q).fetchone() == other.execute(q).fetchone()
    con.close()


def _table_rows(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    names = [n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    rows = {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    con.close()
    return rows


def test_the_sidecar_process_gives_the_same_database(
    tmp_path: Path, sandbox_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts and pro portal days built in the second process: the same rows, no file left over."""
    import data_gcp.sandbox.core as core
    from data_gcp.sandbox import world

    started = []
    monkeypatch.setattr(core, "SIDECAR_MIN_WORK", 0.0)
    monkeypatch.setattr(
        world.World, "start_sidecar", lambda w, f=world.World.start_sidecar: (started.append(w), f(w))
    )
    path = tmp_path / "db" / "side.sqlite"
    generate(SCALE, SEED, f"sqlite:///{path}", START, DAYS)
    assert started
    assert [p.name for p in path.parent.iterdir()] == ["side.sqlite"]
    side, alone = _table_rows(path), _table_rows(sandbox_file)
    assert side.keys() == alone.keys()
    assert side["pro_app_event"] and side["offer"]
    for name in alone:
        assert side[name] == alone[name], name


def _arrival(con: sqlite3.Connection, table: str) -> str:
    return f"datetime({table}.event_timestamp, '+' || ({table}.event_server_timestamp_offset / 1000000) || ' seconds')"


# a short window with enough sessions a day that the last days always have late uploads
LATE_START, LATE_DAYS = dt.date(2026, 10, 1), 12


@pytest.fixture(scope="module")
def late_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("late") / "app.sqlite"
    generate(0.02, 3, f"sqlite:///{path}", LATE_START, LATE_DAYS)
    return path


def test_app_events_arrive_up_to_three_days_late(late_file: Path) -> None:
    sq = sqlite3.connect(late_file)
    end = str(LATE_START + dt.timedelta(days=LATE_DAYS - 1))
    horizon = f"{end} 23:59:59"
    arrived = _arrival(sq, "app_event")
    # what the export holds at the end of the window: events uploaded by then, with their offset
    assert one(sq, "SELECT count(*) FROM app_event WHERE event_server_timestamp_offset IS NULL") == 0
    assert one(sq, f"SELECT max({arrived}) FROM app_event") <= horizon
    late_share = one(
        sq, f"SELECT avg(date({arrived}) > event_date) FROM app_event WHERE event_date < '{end}'"
    )
    assert 0.03 < late_share < 0.15
    assert one(sq, f"SELECT max(julianday(date({arrived})) - julianday(event_date)) FROM app_event") == 3
    # the rest waits for its upload day, never more than 3 days after the event's day
    pending = sq.execute(
        "SELECT min(event_arrival_timestamp), min(event_date), "
        "max(julianday(date(event_arrival_timestamp)) - julianday(event_date)) FROM sandbox_late_app_event"
    ).fetchone()
    assert pending[0] > horizon and pending[1] >= str(LATE_START + dt.timedelta(days=LATE_DAYS - 3))
    assert pending[2] <= 3
    sq.close()


def test_advance_to_a_day_brings_its_late_events_and_is_idempotent(tmp_path: Path, late_file: Path) -> None:
    path = tmp_path / "advanced.sqlite"
    shutil.copy(late_file, path)
    url = f"sqlite:///{path}"
    end = LATE_START + dt.timedelta(days=LATE_DAYS - 1)
    day = end + dt.timedelta(days=1)
    con = sqlite3.connect(path)
    due = con.execute(
        "SELECT session_id, event_timestamp, event_name FROM sandbox_late_app_event "
        f"WHERE event_arrival_timestamp <= '{day} 23:59:59'"
    ).fetchall()
    assert due  # events of the last days that the next day delivers
    before = dict(con.execute("SELECT event_date, count(*) FROM app_event GROUP BY 1").fetchall())
    con.close()

    result = advance(database_url=url, to=day)
    assert (result.start_date, result.end_date, result.simulated_days) == (day, day, 1)
    con = sqlite3.connect(path)
    after = dict(con.execute("SELECT event_date, count(*) FROM app_event GROUP BY 1").fetchall())
    got = set(con.execute("SELECT session_id, event_timestamp, event_name FROM app_event").fetchall())
    assert set(due) <= got
    left = "SELECT count(*) FROM sandbox_late_app_event WHERE event_arrival_timestamp <= ?"
    assert con.execute(left, (f"{day} 23:59:59",)).fetchone()[0] == 0
    # late events landed on the days they happened: earlier days grew, by what was due
    grown = {d: after[d] - before.get(d, 0) for d in after if d < str(day) and after[d] != before.get(d, 0)}
    assert grown and min(grown) >= str(end - dt.timedelta(days=2)) and sum(grown.values()) == len(due)
    assert after[str(day)] > 0 and max(after) == str(day)
    arrived = _arrival(con, "app_event")
    assert con.execute(f"SELECT max({arrived}) FROM app_event").fetchone()[0] <= f"{day} 23:59:59"

    def state() -> tuple:
        return tuple(
            con.execute(f'SELECT count(*), total(rowid) FROM "{t}"').fetchone()
            for t in ("app_event", "sandbox_late_app_event", "booking", "user", "deposit", "offer")
        ) + (con.execute("SELECT group_concat(booking_status) FROM booking").fetchone(),)

    first = state()
    again = advance(database_url=url, to=day)  # the day is there: nothing changes
    earlier = advance(database_url=url, to=LATE_START)
    assert again.simulated_days == earlier.simulated_days == 0 and again.end_date == day
    assert state() == first
    with pytest.raises(SandboxError, match="not both"):
        advance(1, url, to=day + dt.timedelta(days=1))
    con.close()


def test_a_reloaded_world_can_be_simulated_further(late_file: Path) -> None:
    """`advance` updates the arrays it reloads (prices, credits, stocks): none may be read-only."""
    from data_gcp.sandbox import SourceDB
    from data_gcp.sandbox.world import World

    with SourceDB(f"sqlite:///{late_file}") as db:
        world = World(db, 3, 0.02)
        world.load()
        arrays = {k: v for k, v in vars(world).items() if isinstance(v, np.ndarray)}
        assert len(arrays) > 20 and len(world.o_price) > 100
        assert [k for k, v in arrays.items() if not v.flags.writeable] == []


def test_advance_needs_a_sandbox(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="sandbox generate"):
        advance(1, f"sqlite:///{tmp_path / 'none.sqlite'}")


def test_default_window_ends_yesterday() -> None:
    start, days = default_window(None, None, today=dt.date(2026, 11, 28))
    assert days == 365 and start == dt.date(2025, 11, 28)


@pytest.mark.postgres
def test_generate_into_postgres_matches_sqlite(pg_url: str, sq: sqlite3.Connection) -> None:
    import sqlalchemy as sa

    result = generate(SCALE, SEED, pg_url, START, DAYS)
    engine = sa.create_engine(pg_url)
    with engine.connect() as con:
        for name in ("user", "booking", "offer", "app_event", "reco_display_log"):
            pg = con.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar()
            assert pg == one(sq, f'SELECT count(*) FROM "{name}"') == result.counts[name]
        assert con.execute(sa.text("SELECT sum(booking_amount) FROM booking")).scalar() == pytest.approx(
            one(sq, "SELECT sum(booking_amount) FROM booking")
        )
    engine.dispose()
    moved = advance(2, pg_url)
    assert moved.counts["booking"] >= result.counts["booking"]


def test_users_have_french_street_addresses_some_misspelt_or_incomplete(sq: sqlite3.Connection) -> None:
    from data_gcp.sandbox import STREETS

    rows = sq.execute('SELECT user_address FROM "user"').fetchall()
    addresses = [r[0] for r in rows]
    assert sum(a is None for a in addresses) < len(addresses) * 0.15  # some incomplete
    streets = [a.split(" ", 1)[1] if a and a[0].isdigit() else a for a in addresses if a]
    streets = [s.removeprefix("bis ") for s in streets]
    assert any(s in STREETS for s in streets)
    if len(streets) > 100:
        assert any(s not in STREETS for s in streets)  # misspelt ones


def test_works_are_sold_under_noisy_names_next_to_near_misses(sq: sqlite3.Connection) -> None:
    rows = sq.execute(
        "SELECT w.work_id, o.offer_product_id, o.offer_name, o.offer_extra_data FROM offer o "
        "JOIN sandbox_truth_offer_work w USING (offer_id)"
    ).fetchall()
    by_work: dict[str, list[tuple]] = {}
    for row in rows:
        by_work.setdefault(row[0], []).append(row)
    # offers of one product are one work, under the product's name
    products = {}
    for work, product, name, _ in rows:
        if product is not None:
            products.setdefault(product, set()).add((work, name))
    assert products and all(len(v) == 1 for v in products.values())
    # some works are also sold without their product, under other spellings of the name
    copies = [w for w, offers in by_work.items() if {p is None for _, p, _, _ in offers} == {True, False}]
    assert len(copies) >= 3
    spellings = {w: {n for _, _, n, _ in by_work[w]} for w in by_work}
    assert sum(len(spellings[w]) > 1 for w in copies) >= 3
    # near-misses: tome 1 and tome 2 are two works by the same author
    tomes = sq.execute(
        "SELECT product_name, product_extra_data FROM product WHERE product_name LIKE '% - Tome _'"
    ).fetchall()
    base = {}
    for name, extra in tomes:
        base.setdefault(name.rsplit(" - Tome ", 1)[0], set()).add(json.loads(extra).get("author"))
    assert any(len(authors) == 1 for authors in base.values())
    # text carries the topic: words of a topic's vocabulary are over-represented in its offers' names
    topic_rows = sq.execute(
        "SELECT t.topic_id, o.offer_name, o.offer_description FROM offer o "
        "JOIN sandbox_truth_offer_topic t USING (offer_id) WHERE t.weight >= 0.7"
    ).fetchall()
    hits = [any(w in f"{n} {d}".lower() for w in TOPIC_WORDS[t]) for t, n, d in topic_rows]
    assert np.mean(hits) > 0.8
    # ...but not trivially: topics overlap and some items are ambiguous, so counting each topic's words
    # recovers the topic of most items, not all (it recovered 99.7% when vocabularies were disjoint)
    guessed = [
        int(np.argmax([sum(f"{n} {d}".lower().count(w) for w in words) for words in TOPIC_WORDS]))
        for _, n, d in topic_rows
    ]
    recovered = np.mean([g == t for g, (t, _, _) in zip(guessed, topic_rows, strict=True)])
    assert 0.6 < recovered < 0.92


def test_no_offer_field_carries_the_planted_truth(sq: sqlite3.Connection) -> None:
    """What a venue types (the person) is all the extra data holds: no hint of the topic or the work."""
    keys = set()
    for (extra,) in sq.execute("SELECT offer_extra_data FROM offer WHERE offer_extra_data IS NOT NULL"):
        keys |= set(json.loads(extra))
    assert keys <= {"author", "performer"}


def test_names_are_altered_beyond_any_fixed_list() -> None:
    """Noise a matcher cannot undo by a list: words dropped and added, qualifiers of many kinds, and
    generic titles that different works share."""
    from data_gcp.sandbox.texts import GENERIC_TITLES, author_name, noisy_name, work_title

    title = "Le dragon du royaume, Séville"
    names = [noisy_name(title, None, key, 0, "book") for key in range(3000)]
    heads = [re.split(r" - | — | \(| \[", n.lower())[0].split() for n in names]
    assert sum(len(h) == 4 for h in heads) > 100  # a word dropped
    assert sum(len(h) == 6 for h in heads) > 100  # a word added
    qualifiers = {q for n in names for q in re.findall(r"\(([^)]*)\)|\[([^\]]*)\]", n) for q in q if q}
    assert len(qualifiers) > 100
    by_title: dict[str, set] = {}
    for key in range(3000):
        by_title.setdefault(work_title(key % 12, key, 0), set()).add(author_name(key % 12, key, 0))
    shared = [t for t, people in by_title.items() if len(people) > 1 and t in GENERIC_TITLES]
    assert len(shared) >= 10  # one title, works by different people


def test_every_physical_venue_has_its_address_and_offerer_address(sq: sqlite3.Connection) -> None:
    venues = sq.execute(
        "SELECT venue_id, venue_managing_offerer_id, round(venue_latitude, 6), venue_postal_code FROM venue "
        "WHERE NOT venue_is_virtual ORDER BY venue_id"
    ).fetchall()
    addresses = sq.execute(
        "SELECT a.address_id, o.offerer_id, a.address_latitude, a.address_postal_code FROM address a "
        "JOIN offerer_address o ON o.address_id = a.address_id ORDER BY a.address_id"
    ).fetchall()
    assert venues and addresses == venues
    assert sq.execute("SELECT count(*) FROM address WHERE address_street IS NULL").fetchone() == (0,)


def test_advance_deletes_the_abandoned_registrations_only(tmp_path: Path, sandbox_file: Path) -> None:
    copy = tmp_path / "app.sqlite"
    shutil.copy(sandbox_file, copy)
    con = sqlite3.connect(copy)
    # two registrations that never created a venue: one a year old (abandoned), one of the last day
    old, recent = 900001, 900002
    last_day = START + dt.timedelta(days=DAYS - 1)
    for offerer_id, created in ((old, "2025-06-01 10:00:00"), (recent, f"{last_day} 10:00:00")):
        con.execute(
            "INSERT INTO offerer (offerer_id, offerer_name, offerer_is_active, offerer_creation_date) "
            "VALUES (?, 'x', 1, ?)",
            (offerer_id, created),
        )
    con.commit()
    before = {r[0] for r in con.execute("SELECT offerer_id FROM offerer")}
    con.close()
    result = advance(1, f"sqlite:///{copy}")
    con = sqlite3.connect(copy)
    # the venues the back office deleted left their offerers without venue: those go too
    orphaned = {
        r[0]
        for r in con.execute(
            "SELECT venue_managing_offerer_id FROM sandbox_removed_venue r WHERE NOT EXISTS "
            "(SELECT 1 FROM venue v WHERE v.venue_managing_offerer_id = r.venue_managing_offerer_id)"
        )
    }
    assert result.removed.venues and orphaned
    assert {r[0] for r in con.execute("SELECT offerer_id FROM offerer")} == before - {old} - orphaned
    assert recent in before - {old} - orphaned
    assert set(result.removed.offerers) == {old} | orphaned
    con.close()


def test_advance_deletes_venues_without_activity_and_rejected_offers_never_booked(
    tmp_path: Path, sandbox_file: Path
) -> None:
    """The back office's and the pros' deletions, with what the backend deletes along; and the next
    days give no new activity to what was deleted."""
    copy = tmp_path / "app.sqlite"
    shutil.copy(sandbox_file, copy)
    con = sqlite3.connect(copy)
    offers_before = {r[0]: r[1] for r in con.execute("SELECT offer_id, offer_validation FROM offer")}
    venues_before = {r[0] for r in con.execute("SELECT venue_id FROM venue")}
    con.close()
    result = advance(1, f"sqlite:///{copy}")
    con = sqlite3.connect(copy)
    gone_offers, gone_venues = set(result.removed.offers), set(result.removed.venues)
    assert gone_offers and gone_venues
    assert {offers_before[o] for o in gone_offers} == {"REJECTED"}
    assert gone_offers == {r[0] for r in con.execute("SELECT offer_id FROM sandbox_removed_offer")}
    assert not gone_offers & {r[0] for r in con.execute("SELECT offer_id FROM offer")}
    assert gone_venues == venues_before - {r[0] for r in con.execute("SELECT venue_id FROM venue")}
    # an offer's stock and favourites go with it; a venue's addresses, providers and labels with it
    for table, column in (("stock", "offer_id"), ("favorite", "offer_id"), ("offer_criterion", "offer_id")):
        assert not gone_offers & {r[0] for r in con.execute(f"SELECT {column} FROM {table}")}, table
    assert {r[0] for r in con.execute("SELECT offer_id FROM sandbox_removed_stock")} == gone_offers
    for table, column in (
        ("offer", "venue_id"),
        ("collective_offer", "venue_id"),
        ("booking", "venue_id"),
        ("venue_provider", "venue_id"),
        ("venue_criterion", "venue_id"),
        ("special_event", "venue_id"),
        ("offerer_address", "offerer_address_id"),
        ("address", "address_id"),
    ):
        assert not gone_venues & {r[0] for r in con.execute(f"SELECT {column} FROM {table}")}, table
    assert not gone_offers & {
        r[0] for r in con.execute("SELECT offer_id FROM booking b JOIN stock USING (stock_id)")
    }
    con.close()
    advance(5, f"sqlite:///{copy}")  # the next days reload the world with the deleted rows closed
    con = sqlite3.connect(copy)
    ids = sorted(
        r[0]
        for r in con.execute(
            "SELECT offer_id FROM offer UNION ALL SELECT offer_id FROM sandbox_removed_offer"
        )
    )
    assert ids == list(range(1, len(ids) + 1))  # no id given twice, none skipped
    for table, column in (
        ("offer", "venue_id"),
        ("collective_offer", "venue_id"),
        ("pro_app_event", "venue_id"),
    ):
        assert not gone_venues & {r[0] for r in con.execute(f"SELECT {column} FROM {table}")}, table
    for table in ("favorite", "stock", "app_event", "reco_display_log"):
        new = f" WHERE event_date > '{START + dt.timedelta(days=DAYS)}'" if table == "app_event" else ""
        if table == "reco_display_log":
            new = f" WHERE displayed_at > '{START + dt.timedelta(days=DAYS)}'"
        assert not gone_offers & {r[0] for r in con.execute(f"SELECT offer_id FROM {table}{new}")}, table
    con.close()


# The credit of pass Culture as the backend grants it (`dbt/macros/credit_rules.sql`): type, period,
# first grant, most a deposit may reach with its recredits, the user's age at the grant.
CREDIT_RULES = [
    ("GRANT_18", "2000-01-01", "2023-03-01", 500.0, 500.0, 18, 19),
    ("GRANT_18", "2023-03-01", "2100-01-01", 300.0, 300.0, 18, 19),
    ("GRANT_15_17", "2000-01-01", "2100-01-01", 20.0, 80.0, 15, 17),
    ("GRANT_15_17", "2000-01-01", "2100-01-01", 30.0, 80.0, 15, 17),
    ("GRANT_17_18", "2000-01-01", "2100-01-01", 50.0, 200.0, 17, 18),
    ("GRANT_17_18", "2000-01-01", "2100-01-01", 150.0, 200.0, 17, 18),
]


def _age(birth: str, at: str) -> int:
    b, a = dt.date.fromisoformat(birth[:10]), dt.date.fromisoformat(at[:10])
    return a.year - b.year - ((a.month, a.day) < (b.month, b.day))


def test_every_deposit_follows_the_credit_rules_of_its_date_and_age(tmp_path: Path) -> None:
    """A year at scale 0.1 (about 10,000 deposits), where users register on their birthdays and the
    day before them: a deposit opened on an 18th birthday is not topped up that day, nobody under 15
    gets a credit. Checked with calendar ages, as the dbt test on the models does."""
    path = tmp_path / "app.sqlite"
    generate(0.1, 42, f"sqlite:///{path}", dt.date(2025, 12, 7), 365)
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT d.deposit_type, d.deposit_amount, coalesce((SELECT sum(r.recredit_amount) FROM recredit r "
        "WHERE r.deposit_id = d.deposit_id), 0), date(d.deposit_creation_date), u.user_birth_date "
        "FROM deposit d JOIN user u USING (user_id)"
    ).fetchall()
    users = con.execute(
        "SELECT user_birth_date, user_creation_date FROM user WHERE user_role <> 'PRO'"
    ).fetchall()
    con.close()
    # the edge cases are in this sandbox: opened on the 18th birthday, registered before 15
    on_birthday = [
        r for r in rows if r[0] == "GRANT_17_18" and r[3][5:] == r[4][5:10] and _age(r[4], r[3]) == 18
    ]
    assert on_birthday, "no deposit opened on an 18th birthday: the test lost its edge case"
    assert any(_age(b, c) < 15 for b, c in users), "no user registered before 15: the test lost its edge case"
    broken = [
        r
        for r in rows
        if not any(
            t == r[0]
            and start <= r[3] < end
            and abs(r[1] - r[2] - first) < 0.005
            and r[1] <= most + 0.005
            and low <= _age(r[4], r[3]) <= high
            for t, start, end, first, most, low, high in CREDIT_RULES
        )
    ]
    assert len(rows) > 5_000 and not broken, broken[:10]
