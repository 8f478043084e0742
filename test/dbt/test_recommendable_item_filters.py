"""Every filter the retrieval contract documents, run by the retrieval service on the catalogue dbt
builds (`ml.ml_reco__recommendable_item`), against a brute-force oracle over the same rows.

Why on the built table: a filter column that no dbt model produces is null for every item, and a
filter on it keeps nothing (`$geo` without a radius then drops every physical offer in silence).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter

import pytest

from data_gcp.retrieval import DEFAULT_VENUE_RADIUS_KM, FILTER_COLUMNS, Query, load_service
from data_gcp.retrieval.filters import EARTH_RADIUS_KM, ColumnType
from data_gcp.warehouse import get_warehouse

pytestmark = pytest.mark.slow

TABLE = "ml.ml_reco__recommendable_item"
SIZE = 1000  # the largest answer a request may ask for


@pytest.fixture(scope="module")
def served(built_project, tmp_path_factory):
    """The service on the built catalogue (no two-tower run: the filter and tops modes), and its rows."""
    service = load_service(
        built_project.settings, catalog_source="warehouse", work_dir=tmp_path_factory.mktemp("retrieval")
    )
    rows = get_warehouse(built_project.settings).query(f"select * from {TABLE}").to_pylist()
    assert rows, f"{TABLE} is empty: the filters would prove nothing"
    # a documented column the table lacks reads as null, as the service reads it
    return service, [{c: None for c in FILTER_COLUMNS} | r for r in rows]


def _instant(value) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _cases(rows: list[dict]) -> dict[str, tuple[dict, callable]]:
    """(params, oracle) for each filter column and for `$geo` with and without a radius."""
    cases: dict[str, tuple[dict, callable]] = {}
    for column, kind in FILTER_COLUMNS.items():
        values = [r[column] for r in rows if r[column] is not None]
        if not values:
            cases[column] = ({column: {"$ne": None}}, lambda r, c=column: r[c] is not None)
        elif kind is ColumnType.STRING:
            common = Counter(values).most_common(1)[0][0]
            cases[column] = ({column: common}, lambda r, c=column, v=common: r[c] == v)
        elif kind is ColumnType.NUMBER:
            middle = float(statistics.median(values))
            cases[column] = (
                {column: {"$lte": middle}},
                lambda r, c=column, m=middle: r[c] is not None and r[c] <= m,
            )
        elif kind is ColumnType.BOOL:
            cases[column] = ({column: True}, lambda r, c=column: r[c] is True)
        else:
            middle = sorted(_instant(v) for v in values)[len(values) // 2]
            cases[column] = (
                {column: {"$gte": middle.isoformat()}},
                lambda r, c=column, m=middle: r[c] is not None and _instant(r[c]) >= m,
            )
    physical = next(r for r in rows if r["is_digital"] is False and r["venue_latitude"] is not None)
    lat, lon = physical["venue_latitude"], physical["venue_longitude"]

    def near(r, radius=None) -> bool:
        if r["is_digital"]:
            return True
        if r["venue_latitude"] is None:
            return False
        own = radius if radius is not None else (r["venue_radius_km"] or DEFAULT_VENUE_RADIUS_KM)
        return _km(lat, lon, r["venue_latitude"], r["venue_longitude"]) <= own

    cases["$geo radius_km 30"] = (
        {"$geo": {"latitude": lat, "longitude": lon, "radius_km": 30}},
        lambda r: near(r, 30),
    )
    cases["$geo without radius"] = ({"$geo": {"latitude": lat, "longitude": lon}}, near)
    return cases


def test_every_documented_filter_column_is_built(built_project) -> None:
    built = set(get_warehouse(built_project.settings).query(f"select * from {TABLE} limit 0").column_names)
    assert set(FILTER_COLUMNS) <= built, f"documented filter columns missing: {set(FILTER_COLUMNS) - built}"


def test_every_documented_filter_answers_what_the_oracle_keeps(served) -> None:
    service, rows = served
    for name, (params, keep) in _cases(rows).items():
        expected = {r["item_id"] for r in rows if keep(r)}
        answer = service.retrieve(Query(model_type="filter", params=params, size=SIZE))
        got = {p["item_id"] for p in answer.predictions}
        if len(expected) <= SIZE:
            assert got == expected, f"{name}: {len(got)} items, the oracle keeps {len(expected)}"
        else:
            assert got <= expected and len(got) == SIZE, name


def test_geo_without_a_radius_keeps_the_physical_offers_near_the_position(served) -> None:
    service, rows = served
    params, keep = _cases(rows)["$geo without radius"]
    physical = {r["item_id"] for r in rows if not r["is_digital"] and keep(r)}
    assert physical, "no physical offer near a physical offer's own venue: the case proves nothing"
    got = {
        p["item_id"]
        for p in service.retrieve(Query(model_type="filter", params=params, size=SIZE)).predictions
    }
    assert physical <= got
