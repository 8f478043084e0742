"""The retrieval service never fails a caller: any input gets a 2xx or a 4xx with the reason, a broken
model leaves the process up (503 + why) and is reloaded in the background, the index copy is removed
at SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from data_gcp.retrieval import load_service
from data_gcp.retrieval_api import create_app


@pytest.fixture
def client(small_run, settings, tmp_path):
    service = load_service(settings, model_dir=small_run, catalog_source="snapshot", work_dir=tmp_path / "w")
    with TestClient(create_app(service)) as c:
        yield c


def post(client, instance):
    return client.post("/predict", json={"instances": [instance]})


SURROGATE = '"\\ud800"'  # a lone UTF-16 surrogate as JSON writes it


@pytest.mark.parametrize(
    "template",
    [
        '{"instances": [{"user_id": "u0", "params": {"category_id": %s}}]}',
        '{"instances": [{"user_id": "u0", "params": {%s: 1}}]}',
        '{"instances": [{"user_id": %s}]}',
        '{"instances": [{"user_id": "u0", "call_id": %s}]}',
        '{"instances": [{"user_id": "u0", "excluded_items": [%s]}]}',
        '{"instances": [{"model_type": "similar_offer", "items": [%s]}]}',
        '{"instances": [{%s: 1}]}',
    ],
)
def test_a_lone_surrogate_anywhere_is_a_422_with_the_reason(client, template) -> None:
    res = client.post(
        "/predict", content=(template % SURROGATE).encode(), headers={"content-type": "application/json"}
    )
    assert res.status_code == 422
    assert res.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("instance", "field"),
    [
        ({"size": True}, "size"),
        ({"size": "10"}, "size"),
        ({"size": 10.5}, "size"),
        ({"debug": 0}, "debug"),
        ({"debug": "yes"}, "debug"),
        ({"debug": "true"}, "debug"),
        ({"prefilter": "yes"}, "prefilter"),
    ],
)
def test_types_are_as_strict_as_the_schema(client, instance, field) -> None:
    res = post(client, {"user_id": "u0", **instance})
    assert res.status_code == 422
    assert field in {str(part) for problem in res.json()["detail"] for part in problem["loc"]}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"instances": [{"user_id": "\xff"}]}', "invalid unicode"),
        (b'{"instances": [{"params": ' + b"[" * 1000 + b"]" * 1000 + b"}]}", "recursion"),
        (b'{"instances": [{"size": ' + b"9" * 5000 + b"}]}", "out of range"),
        (b"not json", "JSON"),
        (b"", "JSON"),
    ],
)
def test_an_unparsable_body_is_a_422_with_a_reason(client, body, fragment) -> None:
    res = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert res.status_code == 422, res.text
    assert fragment.lower() in res.text.lower()


def test_params_accept_any_filter_the_schema_describes(client) -> None:
    for params in (
        {},
        {"$and": [{"price": {"$lt": 10}}, {"$or": [{"is_digital": 1}, {"category": "LIVRE"}]}]},
        {"offer_creation_date": {"$gte": "2026-01-01T00:00:00+01:00"}, "stock_price": {"$neq": None}},
        {"$geo": {"latitude": 48.5, "longitude": 2.0, "radius_km": 100}},
    ):
        assert post(client, {"user_id": "u0", "size": 5, "params": params}).status_code == 200, params


def test_the_geolocation_filter_over_http_keeps_digital_offers(client) -> None:
    params = {"$geo": {"latitude": 48.2, "longitude": 2.0, "radius_km": 12}}
    got = {
        p["item_id"]
        for p in post(client, {"user_id": "u0", "size": 100, "params": params}).json()["predictions"]
    }
    digital = {f"offer-{i}" for i in range(40) if i % 3 == 0}
    near = {f"offer-{i}" for i in range(40) if i % 3 and abs(48.0 + i / 10 - 48.2) * 111.2 <= 12}
    assert near and got == digital | near


def _wait_alive(client, status: int, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        res = client.get("/isalive")
        if res.status_code == status or time.monotonic() > deadline:
            return {"status_code": res.status_code, **res.json()}
        time.sleep(0.1)


def test_a_broken_run_keeps_the_process_up_and_is_reloaded_in_the_background(
    tmp_path, monkeypatch, run_writer
) -> None:
    folder = run_writer(tmp_path / "run")
    (folder / "catalog.parquet").write_bytes(b"PAR1 but not really")
    monkeypatch.setenv("DATA_GCP_RETRIEVAL_MODEL_PATH", str(folder))
    monkeypatch.setenv("DATA_GCP_RETRIEVAL_RELOAD_SECONDS", "0.2")
    with TestClient(create_app()) as c:
        down = c.get("/isalive")
        assert down.status_code == 503 and "catalog.parquet" in down.text
        assert post(c, {"user_id": "u0"}).status_code == 503
        run_writer(folder)  # the run is published again, complete
        up = _wait_alive(c, 200)
        assert up["status_code"] == 200 and up["model_version"] == "run-small"
        assert up["catalog"]["source"] in ("snapshot", "warehouse")
        assert post(c, {"user_id": "u1", "size": 1}).json()["predictions"][0]["item_id"] == "offer-1"


def test_sigterm_removes_the_index_copy(tmp_path, run_writer) -> None:
    folder = run_writer(tmp_path / "run")
    data = tmp_path / "data"
    env = {
        **os.environ,
        "DATA_GCP_ENV": "local",
        "DATA_GCP_DATA_DIR": str(data),
        "DATA_GCP_RETRIEVAL_MODEL_PATH": str(folder),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "data_gcp.retrieval_api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stderr:
            if "Application startup complete" in line:
                break
        copies = list((data / "cache" / "retrieval" / "index").iterdir())
        assert len(copies) == 1 and copies[0].name.startswith(f"run-small-{proc.pid}-")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after its shutdown
    assert list((data / "cache" / "retrieval" / "index").iterdir()) == []


def test_one_access_line_per_request_and_no_warning_per_search(client, caplog, capfd) -> None:
    import logging

    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="data_gcp.retrieval_api.access"):
        for instance in (
            {"user_id": "u0", "size": 3},
            {"user_id": "u1", "params": {"price": {"$lt": 20}}},
            {"size": 0},
        ):
            post(client, instance)
    lines = [r for r in caplog.records if r.name == "data_gcp.retrieval_api.access"]
    assert [json.loads(r.getMessage())["status"] for r in lines] == [200, 200, 422]
    assert "Deprecation" not in capfd.readouterr().err  # LanceDB's `_distance` auto-projection warning


def test_isalive_gives_the_text_indexed_items(small_run, settings, tmp_path) -> None:
    import numpy as np
    import pyarrow as pa

    from data_gcp.warehouse import get_warehouse

    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    vectors = np.eye(384, dtype=np.float32)[:5]
    wh.load(
        "ml.item_embedding",
        pa.table(
            {
                "item_id": [f"offer-{i}" for i in range(5)],
                "model": ["all-MiniLM-L6-v2"] * 5,
                "content_hash": ["h"] * 5,
                "vector": pa.array([v.tolist() for v in vectors], pa.list_(pa.float32())),
            }
        ),
        "replace",
    )
    del wh
    service = load_service(settings, model_dir=small_run, catalog_source="snapshot", work_dir=tmp_path / "w")
    with TestClient(create_app(service)) as c:
        body = c.get("/isalive").json()
    assert body["text_indexed_items"] == 5 and body["status"] == "ok", body
