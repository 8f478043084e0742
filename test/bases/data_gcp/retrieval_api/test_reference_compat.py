"""A caller of the reference retrieval service moves over by changing the URL.

Written from the reference contract (`shared/reference/ml-services.md`): `POST /predict` with
`{"instances": [{...}]}`; fields model_type (recommendation | similar_offer | tops | filter), user_id,
items, excluded_items, size (default 500), params (operators $eq $ne $lt $gt $lte $gte $in $nin $and
$or on item columns), call_id, debug; answer `{"predictions": [{"idx", "item_id"}]}` with distances
and metadata under debug; `GET /isalive`; port 8080. Plus the reference's names, accepted as aliases.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from data_gcp.retrieval import load_service
from data_gcp.retrieval_api import create_app

N = 40  # items of the small run: offer-i, price i, LIVRE when i is odd, digital when i % 3 == 0


@pytest.fixture
def client(small_run, settings, tmp_path):
    service = load_service(settings, model_dir=small_run, catalog_source="snapshot", work_dir=tmp_path / "w")
    with TestClient(create_app(service)) as c:
        yield c


def predict(client, **instance) -> dict:
    res = client.post("/predict", json={"instances": [instance]})
    assert res.status_code == 200, res.text
    return res.json()


def item_ids(body: dict) -> list[str]:
    return [p["item_id"] for p in body["predictions"]]


def test_isalive_answers_200_when_loaded(client) -> None:
    assert client.get("/isalive").status_code == 200


def test_the_answer_shape_and_the_default_size(client) -> None:
    body = predict(client, model_type="recommendation", user_id="u1")
    assert len(body["predictions"]) == N  # default size 500, capped by the catalogue
    assert [p["idx"] for p in body["predictions"]] == list(range(N))
    assert all(isinstance(p["item_id"], str) for p in body["predictions"])


@pytest.mark.parametrize("model_type", ["recommendation", "similar_offer", "tops", "filter"])
def test_every_model_type_is_served(client, model_type) -> None:
    body = predict(client, model_type=model_type, user_id="u1", items=["1"], size=5)
    assert len(body["predictions"]) == 5


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"price": {"$eq": 3}}, lambda i: i == 3),
        ({"price": {"$ne": 3}}, lambda i: i != 3),
        ({"price": {"$lt": 3}}, lambda i: i < 3),
        ({"price": {"$gt": 36}}, lambda i: i > 36),
        ({"price": {"$lte": 3}}, lambda i: i <= 3),
        ({"price": {"$gte": 36}}, lambda i: i >= 36),
        ({"price": {"$in": [1, 2]}}, lambda i: i in (1, 2)),
        ({"price": {"$nin": [1, 2]}}, lambda i: i not in (1, 2)),
        ({"$and": [{"price": {"$lt": 10}}, {"category_id": "LIVRE"}]}, lambda i: i < 10 and i % 2),
        ({"$or": [{"price": {"$lt": 2}}, {"price": {"$gt": 37}}]}, lambda i: i < 2 or i > 37),
        # the reference's names
        ({"stock_price": {"$neq": 3}}, lambda i: i != 3),
        ({"category": "LIVRE", "stock_price": {"$lt": 8}}, lambda i: i % 2 and i < 8),
        ({"is_geolocated": 1}, lambda i: i % 3 != 0),
        ({"is_geolocated": 0}, lambda i: i % 3 == 0),
        ({"is_digital": {"$eq": 1}}, lambda i: i % 3 == 0),
    ],
)
def test_filter_operators_and_reference_aliases(client, params, keep) -> None:
    expected = {f"offer-{i}" for i in range(N) if keep(i)}
    for model_type in ("recommendation", "tops", "filter"):
        body = predict(client, model_type=model_type, user_id="u0", size=500, params=params)
        assert set(item_ids(body)) == expected, (model_type, params)


def test_excluded_items_and_similar_offers_never_come_back(client) -> None:
    body = predict(client, model_type="recommendation", user_id="u1", size=3, excluded_items=["1", "offer-9"])
    assert item_ids(body) == ["offer-17", "offer-25", "offer-33"]
    similar = predict(client, model_type="similar_offer", items=["2"], size=3)
    assert item_ids(similar) == ["offer-10", "offer-18", "offer-26"]
    # the reference's `offer_id` names the offer of a similar_offer call
    assert item_ids(predict(client, model_type="similar_offer", offer_id="2", size=3)) == item_ids(similar)


def test_call_id_and_debug_with_the_reference_field_names(client) -> None:
    body = predict(
        client,
        user_id="u1",
        size=2,
        call_id="call-1",
        debug=True,
        prefilter=1,
        re_rank=0,
        vector_column_name="raw_embeddings",
    )
    assert body["call_id"] == "call-1"
    first = body["predictions"][0]
    assert first["_distance"] == first["distance"] and first["_distance"] == pytest.approx(0.0, abs=1e-5)
    assert first["category"] == first["category_id"] == "LIVRE"
    assert first["stock_price"] == first["price"] == 1.0
    assert first["is_geolocated"] is True
    notes = " ".join(body["notes"])
    assert (
        "prefilter: ignored" in notes
        and "re_rank: ignored" in notes
        and "vector_column_name: ignored" in notes
    )
    plain = predict(client, user_id="u1", size=2, prefilter=True)
    assert "_distance" not in plain["predictions"][0] and "notes" not in plain


def test_the_service_listens_on_8080_as_deployed() -> None:
    root = Path(__file__).resolve().parents[4]
    deploy = tomllib.loads((root / "projects/retrieval_endpoint/pyproject.toml").read_text())["tool"][
        "data-gcp"
    ]["deploy"]
    assert deploy["port"] == 8080
