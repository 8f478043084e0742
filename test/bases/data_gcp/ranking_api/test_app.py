from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from data_gcp.planted_truth import synthetic_training_table
from data_gcp.ranking import RAW_NUMERIC_FEATURES, RankerModel
from data_gcp.ranking_api import MODEL_PATH_ENV, create_app
from data_gcp.storage import get_storage


def _instances(n: int = 20, seed: int = 9) -> list[dict]:
    rows = synthetic_training_table(n_calls=1, per_call=n, seed=seed).to_pylist()
    keep = {"offer_id", *RAW_NUMERIC_FEATURES, "category_id", "context"}
    out = []
    for row in rows:
        row = {k: v for k, v in row.items() if k in keep}
        out.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    return out


def test_predict_answers_every_candidate_sorted_by_model_score(ranker: RankerModel) -> None:
    instances = _instances()
    with TestClient(create_app(model=ranker)) as client:
        resp = client.post("/predict", json={"instances": instances, "call_id": "c1"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model_version"] == "svc-test"
    preds = body["predictions"]
    assert sorted(p["offer_id"] for p in preds) == sorted(r["offer_id"] for r in instances)
    scores = [p["score"] for p in preds]
    assert scores == sorted(scores, reverse=True)
    expected = dict(zip([r["offer_id"] for r in instances], ranker.score_rows(instances), strict=True))
    for p in preds:
        assert p["score"] == pytest.approx(expected[p["offer_id"]])
    assert len(set(scores)) > 1  # the features matter


def test_sparse_rows_unknown_categories_and_empty_lists_are_fine(ranker: RankerModel) -> None:
    with TestClient(create_app(model=ranker)) as client:
        sparse = client.post(
            "/predict",
            json={
                "instances": [
                    {"offer_id": "a"},
                    {"offer_id": "b", "category_id": 123, "context": "never seen", "is_digital": True},
                    {"offer_id": "c", "category_id": 10**30, "is_event": 0, "price": 1e300},
                ]
            },
        )
        empty = client.post("/predict", json={"instances": []})
    assert sparse.status_code == 200 and len(sparse.json()["predictions"]) == 3
    assert empty.status_code == 200 and empty.json()["predictions"] == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"instances": [{"offer_id": "1", "user_agee": 3}]}, "user_agee"),  # a typo is refused, not ignored
        ({"instances": [{"offer_id": "1", "price_to_credit_ratio": 3}]}, "price_to_credit_ratio"),  # derived
        ({"instances": [{"offer_id": "1", "offer_price": "cheap"}]}, "offer_price"),
        ({"instances": [{"offer_id": "1", "price": "12"}]}, "price"),  # numbers are numbers
        ({"instances": [{"offer_id": "1", "price": True}]}, "price"),
        ({"instances": [{"user_age": 20}]}, "offer_id"),
        ({"instances": [{"offer_id": ""}]}, "offer_id"),
        ({"rows": []}, "instances"),
        ({"instances": [{"offer_id": "1"}] * 5001}, "instances"),
    ],
)
def test_invalid_requests_answer_422_naming_the_field(ranker: RankerModel, body: dict, where: str) -> None:
    with TestClient(create_app(model=ranker)) as client:
        resp = client.post("/predict", json=body)
    assert resp.status_code == 422
    assert where in str(resp.json()["detail"])


def test_non_finite_numbers_are_refused(ranker: RankerModel) -> None:
    with TestClient(create_app(model=ranker)) as client:
        resp = client.post(
            "/predict",
            content=b'{"instances": [{"offer_id": "1", "offer_price": Infinity}]}',
            headers={"content-type": "application/json"},
        )
    assert resp.status_code == 422 and "offer_price" in resp.text


def test_without_a_model_isalive_and_predict_answer_503(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(MODEL_PATH_ENV, str(tmp_path / "nothing-here"))
    with TestClient(create_app()) as client:
        alive = client.get("/isalive")
        pred = client.post("/predict", json={"instances": [{"offer_id": "1"}]})
    assert alive.status_code == 503 and "nothing-here" in alive.json()["detail"]
    assert pred.status_code == 503


def test_loads_from_a_folder_or_the_bucket(ranker: RankerModel, tmp_path, monkeypatch, settings) -> None:
    ranker.save(tmp_path / "model")
    monkeypatch.setenv(MODEL_PATH_ENV, str(tmp_path / "model"))
    with TestClient(create_app()) as client:
        assert client.get("/isalive").json() == {"status": "ok", "model_version": "svc-test", "detail": None}

    monkeypatch.delenv(MODEL_PATH_ENV)
    with TestClient(create_app()) as client:
        assert client.get("/isalive").status_code == 503  # nothing published yet
    ranker.publish(get_storage(settings))
    with TestClient(create_app()) as client:
        assert client.get("/isalive").status_code == 200
        resp = client.post("/predict", json={"instances": _instances(5)})
        assert resp.status_code == 200 and len(resp.json()["predictions"]) == 5


@pytest.mark.parametrize("flag", ["0", "yes", "true", "1"])
def test_flags_given_as_strings_are_refused(ranker, flag) -> None:
    name = "is_digital"
    with TestClient(create_app(model=ranker)) as client:
        bad = client.post("/predict", json={"instances": [{"offer_id": "o1", name: flag}]})
        good = client.post(
            "/predict", json={"instances": [{"offer_id": "o1", name: True}, {"offer_id": "o2", name: 0}]}
        )
    assert bad.status_code == 422 and name in bad.text
    assert good.status_code == 200
