"""The app tables the sandbox derives from the simulated world once its days are written.

Editorial tags, artists, pro accounts, catalogue synchronisations, special events,
reminders, fraud tags, the finance chain (pricing -> cashflow -> invoice) and the Adage logs all hang
off what the simulation made (venues, products, offers, bookings, school bookings). They are
recomputed from the database after each `generate` and `advance`: every row is a deterministic
function of the seed and of the rows it hangs off, so a re-derivation gives the same ids and values
for what already existed (incremental imports merge them), and the derivation is linear in those
rows (numpy, no per-row Python beyond the artists' names).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from data_gcp.sandbox.app_usage import PRO_USER_BASE  # pro account ids, above any young user
from data_gcp.sandbox.db import SourceDB
from data_gcp.sandbox.derived_finance import write_finance
from data_gcp.sandbox.world import NAT, _ts, _ts_arrow, hash_uniform

DERIVED_TABLES = (
    "artist",
    "product_artist_link",
    "educational_domain",
    "collective_offer_domain",
    "fraudulent_booking_tag",
    "criterion",
    "criterion_category",
    "criterion_category_mapping",
    "offer_criterion",
    "venue_criterion",
    "offerer_tag",
    "offerer_tag_category",
    "offerer_tag_category_mapping",
    "offerer_tag_mapping",
    "offer_reminder",
    "special_event",
    "special_event_response",
    "user_offerer",
    "provider",
    "venue_provider",
    "pricing",
    "pricing_line",
    "cashflow_batch",
    "cashflow",
    "cashflow_pricing",
    "invoice",
    "invoice_cashflow",
    "adage_log",
)
FRAUD_AUTHORS = np.array([900_000_001, 900_000_002, 900_000_003])  # back-office accounts of the fraud team
DOMAINS = (
    "Architecture",
    "Arts du cirque et arts de la rue",
    "Arts numériques",
    "Arts visuels, arts plastiques, arts appliqués",
    "Bande dessinée",
    "Cinéma, audiovisuel",
    "Culture scientifique, technique et industrielle",
    "Danse",
    "Design",
    "Musique",
    "Patrimoine",
    "Photographie",
    "Théâtre, expression dramatique, marionnettes",
    "Univers du livre, de la lecture et des écritures",
)
# criterion: (name, category, description); category 1 tags offers, 2 tags venues
CRITERIA = (
    ("Playlist rentrée littéraire", 1, "Romans de la rentrée mis en avant sur la page d'accueil"),
    ("Playlist cinéma en salle", 1, "Séances de cinéma mises en avant"),
    ("Playlist concerts de l'été", 1, "Concerts et festivals de l'été"),
    ("Playlist jeunes talents", 1, "Premières œuvres et jeunes artistes"),
    ("Playlist fête de la musique", 1, "Offres de la fête de la musique"),
    ("Label Cinéma Art et Essai", 2, "Cinéma classé Art et Essai"),
    ("Label Scène nationale", 2, "Scène labellisée par le ministère de la Culture"),
    ("Label SMAC", 2, "Scène de musiques actuelles"),
    ("Appellation Musée de France", 2, "Musée de France"),
    ("Label Librairie indépendante de référence", 2, "Librairie labellisée LiR"),
)
CRITERION_CATEGORIES = ("Playlist offres", "Comptage partenaire label et appellation du MC")
VENUE_LABEL = {"MOVIE": 6, "PERFORMING_ARTS": 7, "CONCERT_HALL": 8, "MUSEUM": 9, "BOOKSTORE": 10}
OFFERER_TAGS = (  # (name, label, description, category)
    ("collectivite", "Collectivité", "Structure publique territoriale", 1),
    ("etablissement-public", "Établissement public", "Établissement public national ou local", 1),
    ("structure-privee", "Structure privée", "Société, association ou auto-entreprise", 1),
    ("top-acteur", "Top acteur", "Partenaire suivi de près par les équipes", 2),
    ("festival", "Festival", "Organisateur de festival", 2),
)
OFFERER_TAG_CATEGORIES = (("comptage", "Comptage partenaires"), ("homologation", "Homologation"))
PROVIDERS = (  # (name, active, booking url, venue types it synchronises)
    ("TiteLive Stocks (Epagine / Place des libraires)", True, None, "BOOKSTORE"),
    ("Praxiel/Inférence", True, None, "BOOKSTORE"),
    ("Allociné", True, None, "MOVIE"),
    ("CDS", True, "https://cds.example/booking", "MOVIE"),
    ("Boost", True, "https://boost.example/booking", "MOVIE"),
    ("CGR", False, "https://cgr.example/booking", "MOVIE"),
    ("Billetterie Festik", True, "https://festik.example/book", "CONCERT_HALL"),
)
RESPONSE_STATUSES = np.array(["NEW", "PRESELECTED", "VALIDATED", "REJECTED", "WITHDRAWN"])
RESPONSE_P = np.array([0.3, 0.1, 0.25, 0.3, 0.05])
UO_STATUSES = np.array(["VALIDATED", "NEW", "PENDING", "REJECTED"])
UO_P = np.array([0.85, 0.07, 0.05, 0.03])
DAY = np.timedelta64(86400, "s")


def _cols(db: SourceDB, sql: str, n: int) -> list[np.ndarray]:
    """The query's `n` columns as object arrays of Python values."""
    cols = db.fetch_columns(sql)
    assert len(cols) == n, (len(cols), n)
    return [np.array(c, dtype=object) for c in cols]


def _ids(a: np.ndarray) -> np.ndarray:
    return a.astype(np.int64)


def _pick(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index into the distribution `p` for each uniform draw `u`."""
    return np.minimum(np.searchsorted(np.cumsum(p), u, side="right"), len(p) - 1)


def derive(db: SourceDB, seed: int, horizon: np.datetime64) -> None:
    """Rewrite every derived table from the database's current world (one transaction with it)."""
    cur = db.raw.cursor()
    for table in DERIVED_TABLES:
        cur.execute(f'DELETE FROM "{table}"')
    cur.execute("DELETE FROM \"user\" WHERE user_role = 'PRO'")
    v = _cols(
        db,
        "SELECT venue_id, venue_managing_offerer_id, venue_name, venue_type_code, venue_latitude, "
        "venue_longitude, venue_postal_code, venue_department_code, venue_city, venue_creation_date "
        'FROM "venue" ORDER BY venue_id',
        10,
    )
    o = _cols(db, 'SELECT offerer_id, offerer_creation_date FROM "offerer" ORDER BY offerer_id', 2)
    _tags(db, seed, v, o, horizon)
    _artists(db, seed, horizon)
    _pros(db, seed, v, o, horizon)
    _events(db, seed, v, horizon)
    _fraud_and_reminders(db, seed, horizon)
    write_finance(db, horizon)
    _adage(db, seed, horizon)


def _tags(db: SourceDB, seed: int, v: list[np.ndarray], o: list[np.ndarray], horizon: np.datetime64) -> None:
    vid, vtype = _ids(v[0]), v[3].astype(str)
    db.insert(
        "criterion_category",
        pa.table(
            {
                "criterion_category_id": np.arange(1, len(CRITERION_CATEGORIES) + 1),
                "criterion_category_label": list(CRITERION_CATEGORIES),
            }
        ),
    )
    n = len(CRITERIA)
    cid = np.arange(1, n + 1)
    cat = np.array([c[1] for c in CRITERIA])
    # playlists run for a few weeks spread over the last year; labels have no dates
    begin = horizon - ((cid * 37) % 330 + 20) * DAY
    db.insert(
        "criterion",
        pa.table(
            {
                "criterion_id": cid,
                "criterion_name": [c[0] for c in CRITERIA],
                "criterion_description": [c[2] for c in CRITERIA],
                "criterion_beginning_date": _ts_arrow(np.where(cat == 1, begin, NAT)),
                "criterion_ending_date": _ts_arrow(np.where(cat == 1, begin + 42 * DAY, NAT)),
            }
        ),
    )
    db.insert("criterion_category_mapping", pa.table({"criterion_id": cid, "criterion_category_id": cat}))
    offers = _cols(db, 'SELECT offer_id FROM "offer" ORDER BY offer_id', 1)[0]
    oid = _ids(offers)
    tagged = oid[hash_uniform(oid, 311, seed) < 0.03]
    playlists = cid[cat == 1]
    db.insert(
        "offer_criterion",
        pa.table(
            {
                "offer_criterion_id": tagged,
                "offer_id": tagged,
                "criterion_id": playlists[(hash_uniform(tagged, 312, seed) * len(playlists)).astype(int)],
            }
        ),
    )
    label = np.array([VENUE_LABEL.get(t, 0) for t in vtype])
    keep = (label > 0) & (hash_uniform(vid, 313, seed) < 0.3)
    db.insert(
        "venue_criterion",
        pa.table({"venue_criterion_id": vid[keep], "venue_id": vid[keep], "criterion_id": label[keep]}),
    )
    db.insert(
        "offerer_tag_category",
        pa.table(
            {
                "offerer_tag_category_id": [1, 2],
                "offerer_tag_category_name": [c[0] for c in OFFERER_TAG_CATEGORIES],
                "offerer_tag_category_label": [c[1] for c in OFFERER_TAG_CATEGORIES],
            }
        ),
    )
    tid = np.arange(1, len(OFFERER_TAGS) + 1)
    db.insert(
        "offerer_tag",
        pa.table(
            {
                "offerer_tag_id": tid,
                "offerer_tag_name": [t[0] for t in OFFERER_TAGS],
                "offerer_tag_label": [t[1] for t in OFFERER_TAGS],
                "offerer_tag_description": [t[2] for t in OFFERER_TAGS],
            }
        ),
    )
    db.insert(
        "offerer_tag_category_mapping",
        pa.table({"offerer_tag_id": tid, "offerer_tag_category_id": [t[3] for t in OFFERER_TAGS]}),
    )
    off = _ids(o[0])
    status = _pick(np.array([0.15, 0.1, 0.75]), hash_uniform(off, 321, seed)) + 1  # one legal status each
    extra = hash_uniform(off, 322, seed)
    top, fest = off[extra < 0.1], off[(extra >= 0.1) & (extra < 0.15)]
    db.insert(
        "offerer_tag_mapping",
        pa.table(
            {
                "offerer_tag_mapping_id": np.r_[off * 8, top * 8 + 4, fest * 8 + 5],
                "offerer_id": np.r_[off, top, fest],
                "offerer_tag_id": np.r_[status, np.full(len(top), 4), np.full(len(fest), 5)],
            }
        ),
    )


def _artists(db: SourceDB, seed: int, horizon: np.datetime64) -> None:
    rows = db.fetch('SELECT product_id, product_extra_data FROM "product" ORDER BY product_id')
    links: list[tuple[int, str, str]] = []
    for pid, extra in rows:
        data = json.loads(extra) if isinstance(extra, str) else (extra or {})
        for field in ("author", "performer"):
            if data.get(field):
                links.append((int(pid), str(data[field]), field.upper()))
    names = sorted({name for _, name, _ in links})
    index = {name: i for i, name in enumerate(names)}
    keys = np.array([int.from_bytes(n.encode()[:8].ljust(8, b"\0"), "little") for n in names], np.uint64)
    art_ids = [
        f"{int(k):016x}"[:12] + f"{i:04x}" for i, k in enumerate(hash_uniform(keys, 331, seed) * 2**48)
    ]
    age = hash_uniform(np.arange(len(names)), 332, seed)
    db.insert(
        "artist",
        pa.table(
            {
                "artist_id": art_ids,
                "artist_name": names,
                "artist_description": pa.array(
                    [f"{n}, artiste présent dans le catalogue" for n in names], mask=age < 0.4
                ),
                "artist_creation_date": _ts_arrow(horizon - (age * 700 + 30).astype(int) * DAY),
            }
        ),
    )
    db.insert(
        "product_artist_link",
        pa.table(
            {
                "product_artist_link_id": np.arange(1, len(links) + 1),
                "artist_id": [art_ids[index[name]] for _, name, _ in links],
                "product_id": [p for p, _, _ in links],
                "artist_type": [t for _, _, t in links],
            }
        ),
    )


def _pros(db: SourceDB, seed: int, v: list[np.ndarray], o: list[np.ndarray], horizon: np.datetime64) -> None:
    """Pro accounts (role PRO) attached to the offerers they work for, and the venues' providers."""
    off = _ids(o[0])
    o_created = _ts(list(o[1]))
    n_users = 1 + (hash_uniform(off, 341, seed) < 0.4) + (hash_uniform(off, 342, seed) < 0.1)
    rep = np.repeat(np.arange(len(off)), n_users)
    rank = np.arange(len(rep)) - np.repeat(np.cumsum(n_users) - n_users, n_users)
    uid = PRO_USER_BASE + off[rep] * 4 + rank
    created = np.minimum(
        o_created[rep] + (rank * 90 + hash_uniform(uid, 343, seed) * 30).astype(int) * DAY, horizon
    )
    vdept = {}
    for vo, d, pc, c in zip(_ids(v[1]), v[7], v[6], v[8], strict=True):
        vdept.setdefault(int(vo), (d, pc, c))
    place = [vdept.get(int(x), ("75", "75011", "Paris")) for x in off[rep]]
    birth = (np.datetime64("1960-01-01") + (hash_uniform(uid, 344, seed) * 13000).astype(int)).astype(
        "datetime64[D]"
    )
    last = np.minimum(created + (hash_uniform(uid, 345, seed) * 300).astype(int) * DAY, horizon)
    db.insert(
        "user",
        pa.table(
            {
                "user_id": uid,
                "user_creation_date": _ts_arrow(created),
                "user_role": np.full(len(uid), "PRO"),
                "user_birth_date": pa.array(birth, pa.date32()),
                "user_department_code": [p[0] for p in place],
                "user_postal_code": [p[1] for p in place],
                "user_city": [p[2] for p in place],
                "user_is_active": hash_uniform(uid, 346, seed) > 0.03,
                "user_last_connection_date": _ts_arrow(last),
                "user_has_enabled_marketing_email": hash_uniform(uid, 347, seed) > 0.3,
                "user_has_enabled_marketing_push": np.zeros(len(uid), bool),
            }
        ),
    )
    status = np.where(rank == 0, 0, _pick(UO_P, hash_uniform(uid, 348, seed)))
    db.insert(
        "user_offerer",
        pa.table(
            {
                "user_offerer_id": off[rep] * 4 + rank,
                "user_id": uid,
                "offerer_id": off[rep],
                "user_offerer_validation_status": UO_STATUSES[status],
                "user_offerer_creation_date": _ts_arrow(created),
            }
        ),
    )
    db.insert(
        "provider",
        pa.table(
            {
                "provider_id": np.arange(1, len(PROVIDERS) + 1),
                "provider_name": [p[0] for p in PROVIDERS],
                "provider_is_active": [p[1] for p in PROVIDERS],
                "provider_booking_external_url": [p[2] for p in PROVIDERS],
            }
        ),
    )
    vid, vtype = _ids(v[0]), v[3].astype(str)
    v_created = _ts(list(v[9]))
    share = {"BOOKSTORE": 0.35, "MOVIE": 0.6, "CONCERT_HALL": 0.1}
    u = hash_uniform(vid, 351, seed)
    keep = u < np.array([share.get(t, 0.0) for t in vtype])
    choices = {t: [i + 1 for i, p in enumerate(PROVIDERS) if p[3] == t] for t in share}
    w = hash_uniform(vid, 352, seed)
    provider = np.array(
        [choices[t][int(x * len(choices[t]))] if k else 0 for t, x, k in zip(vtype, w, keep, strict=True)]
    )
    start = np.where(np.isnat(v_created), horizon - 400 * DAY, v_created) + (w * 60).astype(int) * DAY
    keep &= start <= horizon
    active = (hash_uniform(vid, 353, seed) > 0.15) & np.array(
        [PROVIDERS[p - 1][1] if p else False for p in provider]
    )
    sync = horizon - (hash_uniform(vid, 354, seed) * np.where(active, 2, 120)).astype(int) * DAY
    db.insert(
        "venue_provider",
        pa.table(
            {
                "venue_provider_id": vid[keep],
                "venue_id": vid[keep],
                "provider_id": provider[keep],
                "venue_provider_is_active": active[keep],
                "venue_provider_last_sync_date": _ts_arrow(np.maximum(sync, start)[keep]),
                "venue_provider_creation_date": _ts_arrow(start[keep]),
            }
        ),
    )


def _events(db: SourceDB, seed: int, v: list[np.ndarray], horizon: np.datetime64) -> None:
    """Special events (a venue's call for young participants, answered through a form)."""
    vid, voff = _ids(v[0]), _ids(v[1])
    users = _cols(
        db,
        "SELECT user_id, user_creation_date FROM \"user\" WHERE user_role IN ('BENEFICIARY', 'UNDERAGE_BENEFICIARY') "
        "ORDER BY user_id",
        2,
    )
    if not len(vid) or not len(users[0]):
        return
    u_ids, u_created = _ids(users[0]), _ts(list(users[1]))
    n = max(4, len(vid) // 8)
    eid = np.arange(1, n + 1)
    venue = vid[(hash_uniform(eid, 361, seed) * len(vid)).astype(int)]
    when = (horizon - (hash_uniform(eid, 362, seed) * 360 - 30).astype(int) * DAY).astype("datetime64[D]")
    created = when.astype("datetime64[s]") - 45 * DAY
    keep = created <= horizon
    eid, venue, when, created = eid[keep], venue[keep], when[keep], created[keep]
    db.insert(
        "special_event",
        pa.table(
            {
                "special_event_id": eid,
                "special_event_title": [f"Rencontre jeunes publics #{i}" for i in eid],
                "offerer_id": voff[np.searchsorted(vid, venue)],  # ids have gaps once venues are deleted
                "venue_id": venue,
                "typeform_id": [f"tf{i:06x}" for i in eid * 7919],
                "special_event_creation_date": _ts_arrow(created),
                "special_event_date": pa.array(when, pa.date32()),
                "special_event_end_date": pa.array(when + np.timedelta64(1, "D"), pa.date32()),
            }
        ),
    )
    k = 10 + (hash_uniform(eid, 363, seed) * 50).astype(int)
    rep = np.repeat(np.arange(len(eid)), k)
    rid = eid[rep] * 1000 + (np.arange(len(rep)) - np.repeat(np.cumsum(k) - k, k))
    submitted = created[rep] + (hash_uniform(rid, 364, seed) * 40 * 86400).astype("timedelta64[s]")
    user = u_ids[(hash_uniform(rid, 365, seed) * len(u_ids)).astype(int)]
    ok = (submitted <= horizon) & (u_created[np.searchsorted(u_ids, user)] <= submitted)
    db.insert(
        "special_event_response",
        pa.table(
            {
                "special_event_response_id": rid[ok],
                "special_event_id": eid[rep][ok],
                "user_id": user[ok],
                "special_event_response_status": RESPONSE_STATUSES[
                    _pick(RESPONSE_P, hash_uniform(rid[ok], 366, seed))
                ],
                "special_event_response_submitted_date": _ts_arrow(submitted[ok]),
            }
        ),
    )


def _fraud_and_reminders(db: SourceDB, seed: int, horizon: np.datetime64) -> None:
    """Fraud tags: mostly the bookings of a few suspicious venues, a few elsewhere. Reminders: a
    share of the favourites of event offers, set before the event."""
    b_id, b_venue, b_created = _cols(
        db, 'SELECT booking_id, venue_id, booking_creation_date FROM "booking" ORDER BY booking_id', 3
    )
    bid, bvenue = _ids(b_id), _ids(b_venue)
    created = _ts(list(b_created))
    # the suspicious venues: the 4% of the venues with bookings (at least one) the hash ranks first
    booked = np.unique(bvenue)
    flagged = booked[np.argsort(hash_uniform(booked, 371, seed))[: max(1, round(0.04 * len(booked)))]]
    suspicious = np.isin(bvenue, flagged)
    tag = hash_uniform(bid, 372, seed) < np.where(suspicious, 0.3, 0.002)
    when = created + (1 + hash_uniform(bid, 373, seed) * 20 * 86400).astype("timedelta64[s]")
    tag &= when <= horizon
    db.insert(
        "fraudulent_booking_tag",
        pa.table(
            {
                "fraudulent_booking_tag_id": bid[tag],
                "booking_id": bid[tag],
                "fraudulent_booking_tag_author_id": pa.array(
                    FRAUD_AUTHORS[(hash_uniform(bid[tag], 374, seed) * len(FRAUD_AUTHORS)).astype(int)],
                    mask=hash_uniform(bid[tag], 375, seed) < 0.1,
                ),
                "fraudulent_booking_tag_creation_date": _ts_arrow(when[tag]),
            }
        ),
    )
    f_id, f_user, f_offer, f_created, begin = _cols(
        db,
        "SELECT f.favorite_id, f.user_id, f.offer_id, f.favorite_creation_date, s.stock_beginning_date "
        'FROM "favorite" f JOIN "stock" s ON s.stock_id = f.offer_id ORDER BY f.favorite_id',
        5,
    )
    fid = _ids(f_id)
    fc, fb = _ts(list(f_created)), _ts(list(begin))
    keep = ~np.isnat(fb) & (fc < fb) & (hash_uniform(fid, 376, seed) < 0.3)
    db.insert(
        "offer_reminder",
        pa.table(
            {
                "offer_reminder_id": fid[keep],
                "user_id": _ids(f_user[keep]),
                "offer_id": _ids(f_offer[keep]),
                "offer_reminder_creation_date": _ts_arrow(fc[keep] + np.timedelta64(60, "s")),
            }
        ),
    )


def _adage(db: SourceDB, seed: int, horizon: np.datetime64) -> None:
    """Adage (the teachers' platform) logs: a search, offer views and the booking for each school
    booking, and browsing sessions that end without one."""
    c_id, c_created = _cols(
        db,
        'SELECT collective_offer_id, collective_offer_creation_date FROM "collective_offer" ORDER BY 1',
        2,
    )
    inst_rows = db.fetch(
        'SELECT educational_institution_id, institution_uai, institution_department_code FROM "educational_institution" ORDER BY 1'
    )
    b_id, b_stock, b_inst, b_created = _cols(
        db,
        "SELECT b.collective_booking_id, b.collective_stock_id, b.educational_institution_id, "
        'b.collective_booking_creation_date FROM "collective_booking" b ORDER BY 1',
        4,
    )
    cid = _ids(c_id)
    db.insert(
        "educational_domain",
        pa.table(
            {
                "educational_domain_id": np.arange(1, len(DOMAINS) + 1),
                "educational_domain_name": list(DOMAINS),
            }
        ),
    )
    first = 1 + (hash_uniform(cid, 391, seed) * len(DOMAINS)).astype(int)
    two = hash_uniform(cid, 392, seed) < 0.3
    second = 1 + (first + (hash_uniform(cid, 393, seed) * (len(DOMAINS) - 1)).astype(int)) % len(DOMAINS)
    db.insert(
        "collective_offer_domain",
        pa.table(
            {"collective_offer_id": np.r_[cid, cid[two]], "educational_domain_id": np.r_[first, second[two]]}
        ),
    )
    if not len(c_id) or not inst_rows:
        return
    uai = np.array([r[1] for r in inst_rows])
    idept = np.array([r[2] or "" for r in inst_rows])
    bid = _ids(b_id)
    bstock = _ids(b_stock)
    binst = _ids(b_inst) - 1
    bt = _ts(list(b_created))
    # browsing sessions: two per school offer, at a time after it is published
    s_offer = np.repeat(cid, 2)
    s_key = s_offer * 2 + np.tile([0, 1], len(cid))
    s_t = np.repeat(_ts(list(c_created)), 2) + (hash_uniform(s_key, 381, seed) * 60 * 86400).astype(
        "timedelta64[s]"
    )
    s_inst = (hash_uniform(s_key, 382, seed) * len(uai)).astype(int)
    keep = s_t <= horizon
    s_offer, s_key, s_t, s_inst = s_offer[keep], s_key[keep], s_t[keep], s_inst[keep]
    # sessions of the bookings: session key offset so both kinds stay distinct
    k_key = np.r_[s_key, 10**12 + bid]
    k_offer = np.r_[s_offer, bstock]  # a school offer's stock has its offer's id in the sandbox
    k_t = np.r_[s_t, bt - np.timedelta64(1200, "s")]
    k_inst = np.r_[s_inst, binst]
    booked = np.r_[np.zeros(len(s_key), bool), np.ones(len(bid), bool)]
    k_booking = np.r_[np.zeros(len(s_key), np.int64), bid]
    n = len(k_key)
    session = np.array([f"{int(x * 2**40):010x}" for x in hash_uniform(k_key, 383, seed)])
    user = np.array(
        [f"adage-{int(x * 2**32):08x}" for x in hash_uniform(k_inst * 7 + (k_key % 3), 384, seed)]
    )
    role = np.where(booked | (hash_uniform(k_key, 385, seed) < 0.7), "redactor", "readonly")
    source = np.where(hash_uniform(k_key, 386, seed) < 0.8, "adage-iframe", "adage")
    results = 5 + (hash_uniform(k_key, 387, seed) * 200).astype(int)
    rank = 1 + (hash_uniform(k_key, 388, seed) * 10).astype(int)
    fav = hash_uniform(k_key, 389, seed) < 0.25
    dept_filter = np.where(hash_uniform(k_key, 390, seed) < 0.5, idept[k_inst], None)
    events = []

    def part(mask: np.ndarray, name: str, offset_s: int, **cols: object) -> None:
        idx = np.flatnonzero(mask)
        events.append(
            {
                "event_timestamp": k_t[idx] + np.timedelta64(offset_s, "s"),
                "event_name": np.full(len(idx), name),
                "idx": idx,
                **{c: (None if val is None else np.asarray(val)[idx]) for c, val in cols.items()},
            }
        )

    every = np.ones(n, bool)
    part(every, "SearchButtonClicked", 0, total_results=results, department_filter=dept_filter)
    part(every, "OfferDetailButtonClick", 40, collective_offer_id=k_offer, rank_clicked=rank)
    part(fav, "FavOfferButtonAdd", 90, collective_offer_id=k_offer, is_favorite=np.ones(n, bool))
    part(
        booked,
        "BookingConfirmationButtonClick",
        1200,
        collective_offer_id=k_offer,
        collective_stock_id=k_offer,
        collective_booking_id=k_booking,
    )
    cols = (
        "total_results",
        "department_filter",
        "collective_offer_id",
        "rank_clicked",
        "is_favorite",
        "collective_stock_id",
        "collective_booking_id",
    )
    idx = np.concatenate([e["idx"] for e in events])
    ts = np.concatenate([e["event_timestamp"] for e in events])
    keep = ts <= horizon
    out = {
        "event_date": pa.array(ts[keep].astype("datetime64[D]"), pa.date32()),
        "event_timestamp": _ts_arrow(ts[keep]),
        "event_name": np.concatenate([e["event_name"] for e in events])[keep],
        "user_id": user[idx][keep],
        "uai": uai[k_inst][idx][keep],
        "user_role": role[idx][keep],
        "session_id": session[idx][keep],
        "source": source[idx][keep],
        "origin": np.where(booked[idx], "search", "recommendation")[keep],
        "query_id": np.array([f"q{s}" for s in session])[idx][keep],
    }
    for c in cols:
        parts = [e.get(c) if e.get(c) is not None else np.full(len(e["idx"]), None, object) for e in events]
        out[c] = pa.array(list(np.concatenate([p.astype(object) for p in parts])[keep]))
    db.insert("adage_log", pa.table(out))
