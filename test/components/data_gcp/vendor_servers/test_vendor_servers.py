"""The vendor-server framework: routing, auth, fault plan, start_all."""

from __future__ import annotations

import httpx
import pytest

from data_gcp.vendor_servers import (
    Response,
    VendorApp,
    VendorServer,
    empty_lists,
    load_sandbox_data,
    start_all,
)


def test_routes_faults_and_request_log():
    app = VendorApp(
        "toy", routes=[("GET", r"/things/\d+", lambda r: Response(200, {"items": [{"a": 1}], "n": 1}))]
    )
    with VendorServer(app) as server:
        server.faults.add("status", "/things", status=429, retry_after=3, skip=1)
        server.faults.add("empty", "/things")
        assert httpx.get(f"{server.url}/things/1").json() == {"items": [], "n": 1}
        answer = httpx.get(f"{server.url}/things/1")
        assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
        assert httpx.get(f"{server.url}/things/1").json()["items"] == [{"a": 1}]
        assert httpx.get(f"{server.url}/nothing").status_code == 404
        assert [r.path for r in server.requests_to("/things")] == ["/things/1"] * 3
        server.faults.add("truncate", "/things")
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.url}/things/1")


def test_empty_lists_keeps_totals_and_cursors():
    body = {"data": {"d": {"nodes": [{"x": 1}], "pageInfo": {"endCursor": "c"}}}, "total": 5, "tags": ["a"]}
    assert empty_lists(body) == {
        "data": {"d": {"nodes": [], "pageInfo": {"endCursor": "c"}}},
        "total": 5,
        "tags": ["a"],
    }


def test_start_all_sets_and_restores_env(settings):
    import os

    with start_all(["brevo", "dms", "contentful"], settings=settings, apply_env=True) as running:
        assert set(running.urls) == {"brevo", "dms", "contentful"}
        assert os.environ["DATA_GCP_BREVO_BASE_URL"] == running.urls["brevo"]
        assert running.urls["brevo"].startswith("http://127.0.0.1:")
    assert "DATA_GCP_BREVO_BASE_URL" not in os.environ


def test_sandbox_data_falls_back_to_generated_data(settings):
    data = load_sandbox_data(settings)
    assert not data.from_sandbox and data.user_ids and data.offerer_sirens
    assert load_sandbox_data(settings).offerer_sirens == data.offerer_sirens  # deterministic
