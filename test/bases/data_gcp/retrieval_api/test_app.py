"""The retrieval service in-process: contract, filters, fallbacks, errors, and a schemathesis run."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given

from data_gcp.planted_truth import tiny_run
from data_gcp.retrieval.layout import LATEST_KEY, run_prefix
from data_gcp.retrieval_api import create_app
from data_gcp.storage import get_storage


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two_tower") / "run"
    result, inputs = tiny_run(folder)
    return folder, result, inputs


@pytest.fixture
def client(trained, settings, monkeypatch):
    """The app as `data-gcp serve retrieval` starts it: the latest run from the bucket, loaded in the lifespan."""
    folder, result, _ = trained
    storage = get_storage(settings)
    for path in folder.iterdir():
        storage.put_file(path, f"{run_prefix(result.run_id)}/{path.name}")
    storage.put_bytes(LATEST_KEY, result.run_id.encode())
    with TestClient(create_app()) as c:
        yield c


def predict(client, **instance):
    return client.post("/predict", json={"instances": [instance]})


def test_isalive_and_recommendation_contract(client, trained) -> None:
    _, result, inputs = trained
    alive = client.get("/isalive")
    assert alive.status_code == 200 and alive.json()["model_version"] == result.run_id
    res = predict(client, model_type="recommendation", user_id=result.user_ids[0], size=10, call_id="abc")
    assert res.status_code == 200
    body = res.json()
    assert body["model_type"] == "recommendation" and body["call_id"] == "abc" and body["fallback"] is None
    assert [p["idx"] for p in body["predictions"]] == list(range(10))
    assert {p["item_id"] for p in body["predictions"]} <= set(inputs.items["item_id"])
    assert "distance" not in body["predictions"][0]
    debug = predict(client, user_id=result.user_ids[0], size=3, debug=True).json()["predictions"]
    assert debug[0]["distance"] <= debug[1]["distance"] <= debug[2]["distance"]
    assert "category_id" in debug[0]


def test_filters_exclusions_and_fallbacks_over_http(client, trained) -> None:
    _, result, inputs = trained
    params = {
        "category_id": {"$in": ["LIVRE", "CINEMA"]},
        "price": {"$lte": 30},
        "is_digital": {"$eq": False},
    }
    allowed = inputs.items.query("category_id in ['LIVRE', 'CINEMA'] and price <= 30 and not is_digital")
    excluded = allowed["offer_id"].iloc[0]
    body = predict(
        client, user_id=result.user_ids[1], size=500, params=params, excluded_items=[excluded]
    ).json()
    got = {p["item_id"] for p in body["predictions"]}
    assert got == set(allowed["item_id"]) - {allowed["item_id"].iloc[0]}
    unknown = predict(client, user_id="nobody", size=5, params=params).json()
    assert unknown["model_type"] == "tops" and unknown["fallback"] == "unknown_user"
    assert {p["item_id"] for p in unknown["predictions"]} <= set(allowed["item_id"])
    empty = predict(client, user_id=result.user_ids[1], params={"price": {"$lt": -1}}).json()
    assert empty["fallback"] == "empty_result" and empty["predictions"] == []
    similar = predict(
        client, model_type="similar_offer", items=[inputs.items["offer_id"].iloc[0]], size=5
    ).json()
    assert similar["model_type"] == "similar_offer" and len(similar["predictions"]) == 5
    assert inputs.items["item_id"].iloc[0] not in {p["item_id"] for p in similar["predictions"]}
    flt = predict(client, model_type="filter", params={"offer_id": inputs.items["offer_id"].iloc[3]}).json()
    assert [p["item_id"] for p in flt["predictions"]] == [inputs.items["item_id"].iloc[3]]


@pytest.mark.parametrize(
    ("instance", "fragment"),
    [
        ({"params": {"price": {"$regex": "1"}}}, "unknown operator"),
        ({"params": {"price); DROP TABLE items; --": 1}}, "unknown column"),
        ({"params": {"price": "1 OR 1=1"}}, "number column"),
        ({"size": 0}, "greater than or equal to 1"),
        ({"size": 100000}, "less than or equal to 1000"),
        ({"model_type": "magic"}, "recommendation"),
        ({"user_id": "u", "unexpected": 1}, "Extra inputs"),
    ],
)
def test_invalid_requests_answer_422_with_the_reason(client, instance, fragment) -> None:
    res = predict(client, **instance)
    assert res.status_code == 422
    assert fragment in res.text


def test_request_shape_errors(client) -> None:
    assert client.post("/predict", json={"instances": []}).status_code == 422
    assert client.post("/predict", json={"instances": [{}, {}]}).status_code == 422
    assert (
        client.post("/predict", content=b"not json", headers={"content-type": "application/json"}).status_code
        == 422
    )


def test_missing_model_answers_503_on_isalive_and_tops_on_predict(settings) -> None:
    import pyarrow as pa

    from data_gcp.warehouse import get_warehouse

    with TestClient(create_app()) as c:  # nothing at all: alive but unavailable, never a 500
        assert c.get("/isalive").status_code == 503
        assert "no model and no recommendable-item table" in c.get("/isalive").text
        assert predict(c, user_id="u").status_code == 503
    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    wh.load(
        "ml.ml_reco__recommendable_item",
        pa.table({"item_id": ["a", "b"], "booking_count": [1, 2]}),
        "replace",
    )
    with TestClient(create_app()) as c:
        assert c.get("/isalive").status_code == 503
        body = predict(c, user_id="u", size=5).json()
        assert body["fallback"] == "no_model" and [p["item_id"] for p in body["predictions"]] == ["b", "a"]


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_schemathesis_finds_nothing_in_positive_and_negative_modes(trained, tmp_path, settings, mode) -> None:
    """Every default check: no 5xx, schema-valid requests accepted, invalid ones refused, answers as
    documented."""
    from data_gcp.retrieval import load_service

    folder, _, _ = trained
    service = load_service(settings, model_dir=folder, catalog_source="snapshot", work_dir=tmp_path / "w")
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(service))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {"GET /isalive", "POST /predict"}
    for operation in operations:
        has_input = operation.method.upper() == "POST"
        if mode is schemathesis.GenerationMode.NEGATIVE and not has_input:
            continue  # GET /isalive takes no input to make invalid

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(
            max_examples=50 if has_input else 3,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case) -> None:
            case.call_and_validate()

        check()
