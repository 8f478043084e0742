from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from data_gcp.retrieval import FilterError, ItemIndex, conjoin, exclude_items, parse_filters, to_arrow, to_sql


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
        "(stock_beginning_date >= date '2026-02-01'))"
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
        ({"$or": []}, "non-empty list"),
        ({"$and": [1]}, "expected an object"),
        ({"price": {}}, "empty operator"),
        ({"price": {"$lt": None}}, "null can only"),
        ({"price": {"$lt": 10**400}}, "finite number"),
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
    with pytest.raises(FilterError, match="more than"):
        parse_filters({"$or": [{"price": i} for i in range(300)]})


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
            "stock_beginning_date": [dt.date(2026, 1, 1) + dt.timedelta(days=i % 90) for i in range(n)],
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
