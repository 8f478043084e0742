"""Metabase's REST API as the governance job uses it: sessions, cards, collections, dashboards,
tables, view activity, and archiving (`PUT .../{id}` {"archived": true}).

State lives in `server.app.state` (tests change it between runs): `cards`, `collections`,
`dashboards`, `tables`, `views` (card id -> last view day: the view activity behind each card's
`last_used_at`), `expire_sessions_after` (after that many authenticated calls every open session
expires, once; None: never),
`iap_token` (when set, every call needs `Authorization: Bearer <it>`, as an IAP in front would),
`version` (the shape of the answers: `current` = MBQL 5 card queries in `dataset_query.stages`
(Metabase >= 0.57, `legacy_query` alongside, as the original platform's job reads it) and
`dashcards`; `0.50` = legacy MBQL `dataset_query` and `dashcards`; `0.46` = legacy MBQL and the
dashboards' cards in `ordered_cards`, each embedding its `card`).
Archiving a card removes it from the dashboards, as Metabase does. Data is anchored on the sandbox's
last day (never the wall clock), so two starts serve the same state.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import Any

from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, json_error

LOCAL_USER = "metabase-bot@sandbox.passculture.local"
LOCAL_PASSWORD = "local-metabase-password-0001"
DEFAULT_TODAY = dt.date(2026, 11, 30)

TABLES = [
    ("analytics", "mrt_global__booking"),
    ("analytics", "mrt_global__user"),
    ("analytics", "mrt_global__offer"),
    ("analytics", "mrt_global__venue"),
    ("analytics", "mrt_global__daily_booking_kpi"),
    ("int_applicative", "int_applicative__deposit"),
]

NATIVE_SQL = [
    "select count(*) from analytics.mrt_global__booking where booking_creation_date >= {{start_date}}",
    "with b as (select * from `passculture-data-prod.analytics_prod.mrt_global__booking`)\n"
    "select u.user_region_name, count(*) from b join analytics_prod.mrt_global__user u using (user_id)\n"
    "group by 1",
    "select * from analytics.mrt_global__offer where 1 = 1 [[and offer_category_id = {{category}}]]",
    "select venue_id, sum(booking_amount) from {{#3-base-reservations}} as base group by 1",
    "select * from analytics.mrt_global__venue v left join int_applicative.int_applicative__deposit d on true",
    "selec broken sql from where",  # its author's typo: recorded as a parse error, not a failed run
]


def _iso(day: dt.date, hour: int = 9) -> str:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC).isoformat()


def initial_state(data: SandboxData, n_filler: int = 30) -> dict[str, Any]:
    """Collections, cards, dashboards and views covering every rule (see `rules.toml`)."""
    today = data.last_day + dt.timedelta(days=1) if data.last_day else DEFAULT_TODAY
    rng = data.rng
    old, recent = today - dt.timedelta(days=400), today - dt.timedelta(days=5)
    collections = [
        {"id": "root", "name": "Our analytics", "location": None},
        {"id": 1, "name": "Officiel", "location": "/", "created_at": _iso(old)},
        {"id": 2, "name": "Officiel - KPIs", "location": "/1/", "created_at": _iso(old)},
        {"id": 3, "name": "Marketing", "location": "/", "created_at": _iso(old)},
        {"id": 4, "name": "Marketing - Campagne 2024", "location": "/3/", "created_at": _iso(old)},
        {"id": 5, "name": "Vide", "location": "/", "created_at": _iso(old)},
        {"id": 6, "name": "Nouveau projet", "location": "/", "created_at": _iso(recent)},
        {
            "id": 7,
            "name": "Collection personnelle d'Alice",
            "location": "/",
            "personal_owner_id": 11,
            "created_at": _iso(old),
        },
        {"id": 8, "name": "Partenariats", "location": "/", "created_at": _iso(old)},
        {"id": 9, "name": "Partenariats - Anciens", "location": "/8/", "created_at": _iso(old)},
        {"id": 10, "name": "Partenariats - Anciens - 2023", "location": "/8/9/", "created_at": _iso(old)},
    ]
    for c in collections:
        c.setdefault("archived", False)
        c.setdefault("personal_owner_id", None)
    cards: list[dict[str, Any]] = []
    views: dict[int, str | None] = {}

    def card(
        name: str,
        coll: int | None,
        viewed_days_ago: int | None,
        query: int | str,
        created_days_ago: int = 500,
    ) -> int:
        card_id = len(cards) + 1
        if isinstance(query, int) or query.startswith("card__"):
            dataset_query = {"type": "query", "database": 2, "query": {"source-table": query}}
            table_id = query if isinstance(query, int) else None
        else:
            dataset_query = {"type": "native", "database": 2, "native": {"query": query, "template-tags": {}}}
            table_id = None
        cards.append(
            {
                "id": card_id,
                "name": name,
                "collection_id": coll,
                "archived": False,
                "created_at": _iso(today - dt.timedelta(days=created_days_ago)),
                "query_type": dataset_query["type"],
                "dataset_query": dataset_query,
                "table_id": table_id,
                "display": "table",
            }
        )
        views[card_id] = (
            None if viewed_days_ago is None else (today - dt.timedelta(days=viewed_days_ago)).isoformat()
        )
        return card_id

    kpi = card("Réservations du jour", 2, 200, NATIVE_SQL[0])  # stale but protected (Officiel > KPIs)
    card("Réservations par région", 1, 3, NATIVE_SQL[1])
    base = card("Base réservations", 3, 10, 1)  # GUI question on table 1
    card("CA par lieu", 3, 20, NATIVE_SQL[3])
    camp = [card(f"Campagne 2024 - {n}", 4, 150 + n, NATIVE_SQL[2]) for n in range(3)]  # all stale
    card("Brouillon d'Alice", 7, None, NATIVE_SQL[4])  # personal: left alone
    card("Jamais vue, ancienne", None, None, 2)  # root, never viewed, created long ago: stale
    card("Jamais vue, récente", None, None, 2, created_days_ago=10)  # too young to be stale
    card("Requête cassée", 3, 5, NATIVE_SQL[5])
    card("Partenaires 2023", 10, 300, 4)  # stale, in a nested collection: collection chain emptied
    card("Questions sur question", 3, 8, f"card__{base}")
    for n in range(n_filler):
        coll = rng.choice([3, 8, None, 1])
        ago = rng.choice([1, 15, 45, 100, 200, 365])
        query = rng.choice([rng.randrange(1, len(TABLES) + 1), rng.choice(NATIVE_SQL[:5])])
        card(f"Question {n + 1}", coll, ago, query)
    dashboards = [
        {"id": 1, "name": "KPIs officiels", "collection_id": 1, "cards": [kpi, None]},
        {"id": 2, "name": "Campagne 2024", "collection_id": 4, "cards": camp},
        {"id": 3, "name": "Brouillon vide", "collection_id": 3, "cards": []},
        {"id": 4, "name": "Texte seulement", "collection_id": 8, "cards": [None, None]},
        {"id": 5, "name": "Tout neuf", "collection_id": 3, "cards": [], "created_at": _iso(recent)},
        {"id": 6, "name": "Suivi marketing", "collection_id": 3, "cards": [base, camp[0]]},
    ]
    for d in dashboards:
        d.setdefault("created_at", _iso(old))
        d["archived"] = False
        d["dashcards"] = [{"id": d["id"] * 100 + i, "card_id": cid} for i, cid in enumerate(d.pop("cards"))]
    tables = [{"id": i + 1, "db_id": 2, "schema": s, "name": n} for i, (s, n) in enumerate(TABLES)]
    return {
        "cards": cards,
        "collections": collections,
        "dashboards": dashboards,
        "tables": tables,
        "views": views,
        "today": today.isoformat(),
    }


def build(data: SandboxData, n_filler: int = 30, **_: Any) -> VendorApp:
    initial = initial_state(data, n_filler)
    state: dict[str, Any] = copy.deepcopy(initial)
    state.update(
        {
            "original": lambda: copy.deepcopy(initial),
            "sessions": {},
            "expire_sessions_after": None,
            "iap_token": None,
            "logins": 0,
            "version": "0.50",
        }
    )
    counter = itertools.count(1)

    def reset(new: dict[str, Any]) -> None:
        """Tests: `server.app.state["reset"](state["original"]())` restores the initial state."""
        for key in ("cards", "collections", "dashboards", "tables", "views"):
            state[key] = new[key]
        state["sessions"].clear()
        state["expire_sessions_after"], state["iap_token"], state["logins"] = None, None, 0
        state["version"] = "0.50"

    state["reset"] = reset

    def auth(request: Request) -> Response | None:
        if state["iap_token"] and request.header("authorization") != f"Bearer {state['iap_token']}":
            return Response(401, "Invalid IAP credentials: empty token", content_type="text/html")
        if request.path == "/api/session":
            return None
        token = request.header("x-metabase-session")
        if token not in state["sessions"]:
            return Response(401, "Unauthenticated", content_type="text/plain")
        left = state["expire_sessions_after"]
        if left is not None:
            state["expire_sessions_after"] = left - 1
            if left <= 0:  # every open session expires now (once)
                state["sessions"].clear()
                state["expire_sessions_after"] = None
                return Response(401, "Unauthenticated", content_type="text/plain")
        return None

    def login(request: Request) -> Response:
        body = request.json() or {}
        if body.get("username") != LOCAL_USER or body.get("password") != LOCAL_PASSWORD:
            return Response(401, {"errors": {"password": "did not match stored password"}})
        token = f"{next(counter):08d}-5e55-4c0d-8e55-{data.seed:012d}"
        state["sessions"][token] = True
        state["logins"] += 1
        return Response(200, {"id": token})

    def with_views(card: dict[str, Any]) -> dict[str, Any]:
        day = state["views"].get(card["id"])
        return card | {"last_used_at": _iso(dt.date.fromisoformat(day), 14) if day else None}

    def mbql5(card: dict[str, Any]) -> dict[str, Any]:
        """The card as Metabase >= 0.57 answers: MBQL 5 stages, the legacy form in `legacy_query`."""
        legacy = card["dataset_query"]
        if legacy["type"] == "native":
            stage = {
                "lib/type": "mbql.stage/native",
                "native": legacy["native"]["query"],
                "template-tags": {},
            }
        else:
            source = legacy["query"]["source-table"]
            stage = {"lib/type": "mbql.stage/mbql"} | (
                {"source-card": int(source.removeprefix("card__"))}
                if isinstance(source, str)
                else {"source-table": source}
            )
        query = {"lib/type": "mbql/query", "database": legacy["database"], "stages": [stage]}
        return card | {"dataset_query": query, "legacy_query": legacy}

    def list_cards(request: Request) -> Response:
        live = [with_views(c) for c in state["cards"] if not c["archived"]]
        return Response(200, [mbql5(c) for c in live] if state["version"] == "current" else live)

    def list_collections(request: Request) -> Response:
        return Response(200, [c for c in state["collections"] if not c.get("archived")])

    def list_dashboards(request: Request) -> Response:
        return Response(
            200,
            [
                {k: v for k, v in d.items() if k != "dashcards"}
                for d in state["dashboards"]
                if not d["archived"]
            ],
        )

    def find(kind: str, request: Request) -> dict[str, Any] | None:
        object_id = int(request.path.rstrip("/").rsplit("/", 1)[-1])
        return next((o for o in state[kind] if o["id"] == object_id), None)

    def get_dashboard(request: Request) -> Response:
        dash = find("dashboards", request)
        if dash is None:
            return json_error(404, "Not found.")
        if state["version"] == "0.46":  # before 0.47: `ordered_cards`, each with its card embedded
            cards = {c["id"]: c for c in state["cards"]}
            ordered = [
                dc | {"card": cards.get(dc["card_id"]) if dc["card_id"] is not None else None}
                for dc in dash["dashcards"]
            ]
            return Response(
                200, {k: v for k, v in dash.items() if k != "dashcards"} | {"ordered_cards": ordered}
            )
        return Response(200, dash)

    def list_tables(request: Request) -> Response:
        return Response(200, state["tables"])

    def archive(kind: str):
        def handler(request: Request) -> Response:
            obj = find(kind, request)
            if obj is None:
                return json_error(404, "Not found.")
            body = request.json() or {}
            if "archived" in body:
                obj["archived"] = bool(body["archived"])
                if kind == "cards" and obj["archived"]:  # Metabase removes it from dashboards
                    for dash in state["dashboards"]:
                        dash["dashcards"] = [dc for dc in dash["dashcards"] if dc["card_id"] != obj["id"]]
            return Response(200, obj)

        return handler

    return VendorApp(
        name="metabase",
        routes=[
            ("POST", r"/api/session", login),
            ("GET", r"/api/card/?", list_cards),
            ("GET", r"/api/collection/?", list_collections),
            ("GET", r"/api/dashboard/?", list_dashboards),
            ("GET", r"/api/dashboard/\d+", get_dashboard),
            ("GET", r"/api/table/?", list_tables),
            ("PUT", r"/api/card/\d+", archive("cards")),
            ("PUT", r"/api/dashboard/\d+", archive("dashboards")),
            ("PUT", r"/api/collection/\d+", archive("collections")),
        ],
        auth=auth,
        env={
            "DATA_GCP_METABASE_BASE_URL": "{base_url}",
            "DATA_GCP_METABASE_USERNAME": LOCAL_USER,
            "METABASE_BOT_PASSWORD": LOCAL_PASSWORD,
        },
        state=state,
    )
