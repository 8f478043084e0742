from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pytest

from data_gcp.retrieval import (
    DEFAULT_VENUE_RADIUS_KM,
    FilterError,
    ItemIndex,
    conjoin,
    exclude_items,
    parse_filters,
    to_arrow,
    to_sql,
)


def test_shorthand_operators_and_boolean_groups_become_sql() -> None:
    node = parse_filters(
        {
            "category_id": "LIVRE",
            "price": {"$lte": 20, "$gt": 0},
            "$or": [{"is_digital": True}, {"subcategory_id": {"$in": ["A", "B"]}}],
            "stock_beginning_date": {"$gte": "2026-02-01"},
        }
    )
    sql = to_sql(node)
    assert sql == (
        "((category_id = 'LIVRE') AND (price <= 20.0) AND (price > 0.0) AND "
        "((is_digital = TRUE) OR (subcategory_id IN ('A', 'B'))) AND "
        "(stock_beginning_date >= TIMESTAMP '2026-02-01 00:00:00+00:00'))"
    )
    assert to_sql(parse_filters(None)) is None and to_sql(parse_filters({})) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"price": {"$regex": "x"}}, "unknown operator '\\$regex'"),
        ({"$where": "1=1"}, "unknown operator"),
        ({"price; drop table items": 1}, "unknown column"),
        ({"price": "cheap"}, "number column"),
        ({"price": True}, "number column"),
        ({"is_digital": {"$lt": True}}, "boolean column"),
        ({"category_id": 3}, "string column"),
        ({"category_id": {"$in": "LIVRE"}}, "needs a list"),
        ({"stock_beginning_date": {"$gt": "soon"}}, "ISO date"),
        ({"$or": []}, "list of 1 to 20"),
        ({"$and": [1]}, "expected an object"),
        ({"price": {}}, "empty operator"),
        ({"price": {"$lt": None}}, "null can only"),
        ({"price": {"$lt": float("inf")}}, "finite number"),
        ({"category_id": "\ud800"}, "lone surrogate"),
        ({"category_id": {"$in": ["ok", "x\udfff"]}}, "lone surrogate"),
        ({"\ud800": 1}, "unknown column"),
        ({"price": {"\ud800": 1}}, "unknown operator"),
        ({"is_digital": 2}, "boolean column"),
        ({"is_digital": "0"}, "boolean column"),
        ({"offer_creation_date": {"$lt": "2026-01-11T25:00:00"}}, "not a valid"),
        ({"offer_creation_date": {"$lt": "20260111"}}, "ISO date"),
        ({"$geo": {"latitude": 91, "longitude": 0}}, "between"),
        ({"$geo": {"latitude": 1}}, "number is required"),
        ([1, 2], "expected an object"),
    ],
)
def test_bad_filters_are_refused_with_the_reason(params, message) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filters(params)


def test_deep_or_huge_filters_are_refused() -> None:
    deep: dict = {"price": 1}
    for _ in range(10):
        deep = {"$and": [deep]}
    with pytest.raises(FilterError, match="nested deeper"):
        parse_filters(deep)
    with pytest.raises(FilterError, match="list of 1 to 20"):
        parse_filters({"$or": [{"price": i} for i in range(300)]})


def test_a_lone_surrogate_never_reaches_an_error_message_unescaped() -> None:
    """The message of any refused filter can be written as UTF-8 (the HTTP error path encodes it)."""
    for params in ({"\ud800": 1}, {"price": {"\ud800x": 1}}, {"category_id": "\ud800"}):
        with pytest.raises(FilterError) as err:
            parse_filters(params)
        str(err.value).encode("utf-8")
    with pytest.raises(FilterError, match="lone surrogate"):
        exclude_items(["\ud800"])


def test_reference_aliases_mean_our_columns_and_operators() -> None:
    assert parse_filters({"category": "LIVRE"}) == parse_filters({"category_id": "LIVRE"})
    assert parse_filters({"stock_price": {"$neq": 3}}) == parse_filters({"price": {"$ne": 3}})
    assert parse_filters({"is_geolocated": 1}) == parse_filters({"is_digital": False})
    assert parse_filters({"is_geolocated": {"$in": [0]}}) == parse_filters({"is_digital": {"$in": [True]}})
    assert parse_filters({"is_digital": {"$eq": 0}}) == parse_filters({"is_digital": False})


def test_instants_keep_the_time_and_the_zone() -> None:
    noon_paris = to_sql(parse_filters({"offer_creation_date": {"$lt": "2026-01-11T12:00:00+01:00"}}))
    assert noon_paris == "(offer_creation_date < TIMESTAMP '2026-01-11 11:00:00+00:00')"
    naive = to_sql(parse_filters({"offer_creation_date": {"$lt": "2026-01-11T12:00:00"}}))
    assert naive == "(offer_creation_date < TIMESTAMP '2026-01-11 12:00:00+00:00')"


def test_strings_are_quoted_not_interpreted() -> None:
    evil = "x') OR (1=1) --"
    sql = to_sql(parse_filters({"category_id": evil}))
    assert sql == "(category_id = 'x'') OR (1=1) --')"
    assert to_sql(exclude_items(["o'1"])) == "((item_id NOT IN ('o''1')) AND (offer_id NOT IN ('o''1')))"


def _catalog(n: int = 400) -> pa.Table:
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(n, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    names = ["plain", "it's", "a\\b", "x') OR (1=1) --", "é ü"]
    return pa.table(
        {
            "item_id": [f"offer-{i}" for i in range(n)],
            "offer_id": [str(i) for i in range(n)],
            "category_id": [names[i % 5] if i % 17 else None for i in range(n)],
            "price": [float(i % 50) if i % 13 else None for i in range(n)],
            "is_digital": [bool(i % 3 == 0) for i in range(n)],
            "stock_beginning_date": [
                dt.datetime(2026, 1, 1, 6, tzinfo=dt.UTC) + dt.timedelta(days=i % 90) for i in range(n)
            ],
            "venue_latitude": [42.0 + (i * 7 % 90) / 10 if i % 3 else None for i in range(n)],
            "venue_longitude": [-4.0 + (i * 11 % 120) / 10 if i % 3 else None for i in range(n)],
            "venue_radius_km": [float(i % 7) * 60 if i % 5 else None for i in range(n)],
            "booking_count": list(range(n)),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), 8),
        }
    )


FILTERS = [
    {"category_id": "it's"},
    {"category_id": "x') OR (1=1) --"},
    {"category_id": "a\\b"},
    {"category_id": {"$ne": "plain"}},
    {"category_id": {"$nin": ["plain", "é ü"]}},
    {"category_id": {"$eq": None}},
    {"price": {"$ne": None, "$lt": 10}},
    {"price": {"$gte": 10, "$lte": 12.5}, "is_digital": False},
    {"$or": [{"price": {"$lt": 2}}, {"is_digital": True, "category_id": {"$in": ["plain"]}}]},
    {"stock_beginning_date": {"$gt": "2026-03-01"}, "booking_count": {"$lt": 300}},
    {"category_id": {"$in": []}},
    # instants: the time and the zone decide (rows are 06:00 UTC every day)
    {"stock_beginning_date": {"$lt": "2026-01-03T06:30:00+00:00"}},
    {"stock_beginning_date": {"$lt": "2026-01-03T07:30:00+02:00"}},
    {"stock_beginning_date": {"$gte": "2026-01-03T06:00:00Z", "$lte": "2026-01-05"}},
    # reference aliases
    {"category": {"$neq": "plain"}, "is_geolocated": 1},
    {"stock_price": {"$in": [1, 2, 3]}},
    # geolocation: a given radius, or each offer's own one
    {"$geo": {"latitude": 48.85, "longitude": 2.35, "radius_km": 300}},
    {"$or": [{"$geo": {"latitude": 45.0, "longitude": 5.0}}, {"price": {"$lt": 1}}]},
]


@pytest.mark.parametrize("params", FILTERS)
def test_sql_in_lancedb_and_arrow_select_the_same_items(tmp_path, params) -> None:
    catalog = _catalog()
    index = ItemIndex.build(catalog, tmp_path / "lance")
    node = conjoin(parse_filters(params), exclude_items(["offer-1", "2"]))
    from data_gcp.retrieval.index import normalise_catalog

    expected = set(normalise_catalog(catalog).filter(to_arrow(node)).column("item_id").to_pylist())
    found = index.search(np.ones(8, np.float32) / np.sqrt(8), k=1000, where=to_sql(node), columns=["item_id"])
    assert set(found.column("item_id").to_pylist()) == expected
    assert "offer-1" not in expected and "offer-2" not in expected
    assert len(expected) < catalog.num_rows  # every filter here filters something


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The oracle: great-circle distance, written independently of the service's formula."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


@pytest.mark.parametrize(
    "geo",
    [
        {"latitude": 48.85, "longitude": 2.35, "radius_km": 50},
        {"latitude": 43.3, "longitude": 5.4, "radius_km": 400},
        {"latitude": -33.9, "longitude": 179.5, "radius_km": 800},  # crosses the antimeridian
        {"latitude": 89.5, "longitude": 0.0, "radius_km": 300},  # around the pole
        {"latitude": 46.0, "longitude": 3.0},  # each offer's own radius, the default where it has none
    ],
)
def test_geolocation_matches_a_haversine_oracle_in_lancedb_and_arrow(tmp_path, geo) -> None:
    rng = np.random.default_rng(11)
    n = 3000
    lat = np.concatenate([rng.uniform(40, 52, n // 2), rng.uniform(-90, 90, n - n // 2)])
    lon = np.concatenate([rng.uniform(-5, 10, n // 2), rng.uniform(-180, 180, n - n // 2)])
    digital = rng.random(n) < 0.1
    radius = rng.choice([5.0, 30.0, 100.0, 500.0, np.nan], n)  # nan: no radius of its own
    own = np.where(np.isnan(radius), DEFAULT_VENUE_RADIUS_KM, radius)
    vecs = rng.normal(size=(n, 4)).astype(np.float32)
    catalog = pa.table(
        {
            "item_id": [f"i{i}" for i in range(n)],
            "offer_id": [str(i) for i in range(n)],
            "is_digital": digital,
            "venue_latitude": pa.array(
                [None if d else v for d, v in zip(digital, lat, strict=True)], pa.float64()
            ),
            "venue_longitude": pa.array(
                [None if d else v for d, v in zip(digital, lon, strict=True)], pa.float64()
            ),
            "venue_radius_km": pa.array([None if np.isnan(r) else r for r in radius], pa.float64()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), 4),
        }
    )

    def eligible(i: int) -> bool:
        if digital[i]:
            return True
        limit = geo.get("radius_km", own[i])
        return _haversine_km(geo["latitude"], geo["longitude"], lat[i], lon[i]) <= limit

    # points within a metre of the circle could go either way by rounding: left out of the check
    def borderline(i: int) -> bool:
        limit = geo.get("radius_km", own[i])
        return (
            not digital[i]
            and abs(_haversine_km(geo["latitude"], geo["longitude"], lat[i], lon[i]) - limit) < 1e-3
        )

    expected = {f"i{i}" for i in range(n) if eligible(i) and not borderline(i)}
    unsure = {f"i{i}" for i in range(n) if borderline(i)}
    assert len(expected) > n * 0.1 + 5 or "radius_km" in geo  # the circle holds offers, not only digital ones
    node = parse_filters({"$geo": geo})
    from data_gcp.retrieval.index import normalise_catalog

    by_arrow = set(normalise_catalog(catalog).filter(to_arrow(node)).column("item_id").to_pylist())
    index = ItemIndex.build(catalog, tmp_path / "lance")
    by_lance = set(
        index.search(vecs[0], k=n, where=to_sql(node), columns=["item_id"]).column("item_id").to_pylist()
    )
    assert by_arrow - unsure == expected
    assert by_lance - unsure == expected
    assert {f"i{i}" for i in range(n) if digital[i]} <= by_lance
