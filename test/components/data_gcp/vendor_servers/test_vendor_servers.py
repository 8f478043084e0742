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


def test_vendor_conventions_as_faults():
    import email.utils

    from data_gcp.vendor_servers import UNKNOWN_FIELDS

    seen = []
    app = VendorApp(
        "toy",
        routes=[("GET", r"/things", lambda r: Response(200, {"items": [{"i": r.int_param("offset", 0)}]}))],
    )
    with VendorServer(app) as server, VendorServer(app) as other:
        faults = server.faults
        faults.add("status", "/things", status=429, retry_after=30, retry_after_date=True)
        answer = httpx.get(f"{server.url}/things")
        assert "retry-after" in answer.headers and email.utils.parsedate_to_datetime(
            answer.headers["retry-after"]
        )
        faults.add("gzip", "/things")
        answer = httpx.get(f"{server.url}/things")
        assert answer.headers["content-encoding"] == "gzip" and answer.json() == {"items": [{"i": 0}]}
        faults.add("corrupt_gzip", "/things")
        with pytest.raises(httpx.DecodingError):
            httpx.get(f"{server.url}/things")
        faults.add("repeat", "/things")  # the previous answer, whatever the offset asked
        assert httpx.get(f"{server.url}/things", params={"offset": 5}).json() == {"items": [{"i": 0}]}
        faults.add("unknown_fields", "/things")
        assert httpx.get(f"{server.url}/things").json() == {
            "items": [{"i": 0, **UNKNOWN_FIELDS}],
            **UNKNOWN_FIELDS,
        }
        faults.add("transform", "/things", transform=lambda body: {**body, "next": "cycle"})
        assert httpx.get(f"{server.url}/things").json()["next"] == "cycle"
        faults.add("call", "/things", action=lambda request: seen.append(request.path))
        httpx.get(f"{server.url}/things")
        assert seen == ["/things"]
        faults.add("redirect", "/things", location=f"{other.url}/things")
        assert httpx.get(f"{server.url}/things", follow_redirects=True).status_code == 200
        assert len(other.requests) == 1
        faults.add("status", "/things", status=404, body="<html>Not Found</html>")
        answer = httpx.get(f"{server.url}/things")
        assert answer.status_code == 404 and answer.text == "<html>Not Found</html>"


def test_contentful_edit_control_moves_an_entry_to_the_end():
    from data_gcp.vendor_servers import fake_data
    from data_gcp.vendor_servers.contentful import LOCAL_TOKEN, build

    app = build(fake_data(), n_homepages=2)
    with VendorServer(app) as server:
        url = f"{server.url}/spaces/localspace/environments/master/entries"
        headers = {"Authorization": f"Bearer {LOCAL_TOKEN}"}
        before = [
            e["sys"]["id"] for e in httpx.get(url, params={"limit": 1000}, headers=headers).json()["items"]
        ]
        edited = app.controls["edit"](0)
        after = [
            e["sys"]["id"] for e in httpx.get(url, params={"limit": 1000}, headers=headers).json()["items"]
        ]
        assert edited == before[0] and after == before[1:] + [before[0]]
