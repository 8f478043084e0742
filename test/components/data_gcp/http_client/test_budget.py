"""StatusBudget: a run-wide budget of 429 answers across requests, on top of the retry policy."""

from __future__ import annotations

import pytest

from data_gcp.http_client import FakeClock, HttpClient, RetryPolicy, SourceError, StatusBudget
from data_gcp.vendor_servers import Response, VendorApp, VendorServer


@pytest.fixture(scope="module")
def server():
    app = VendorApp(
        "toy",
        routes=[
            ("GET", "/a", lambda r: Response(200, {"ok": 1})),
            ("GET", "/b", lambda r: Response(200, {"ok": 2})),
        ],
    )
    with VendorServer(app) as srv:
        yield srv


def client(server, budget: StatusBudget) -> HttpClient:
    return HttpClient(
        "toy", server.url, policy=RetryPolicy(max_attempts=5), clock=FakeClock(), transport=budget
    )


def test_budget_spans_requests_then_stops_cleanly(server):
    server.faults.clear()
    server.requests.clear()
    budget = StatusBudget("toy", limit=2)
    server.faults.add("status", r"/a", status=429, retry_after=1, times=2)
    server.faults.add("status", r"/b", status=429, retry_after=1, times=2)
    with client(server, budget) as http:
        assert http.get_json("a") == {"ok": 1}  # two 429s: within the budget, retried
        with pytest.raises(
            SourceError, match=r"toy: GET /b failed \(HTTP 429\): 3 answers HTTP 429 in this run"
        ) as err:
            http.get_json("b")  # the third 429 of the run: over budget, even though /b is retried
    assert "quota is exhausted" in str(err.value)
    assert len(server.requests) == 4 and budget.spent == 3


def test_other_statuses_do_not_count(server):
    server.faults.clear()
    budget = StatusBudget("toy", limit=0)
    server.faults.add("status", r"/a", status=503, times=2)
    with client(server, budget) as http:
        assert http.get_json("a") == {"ok": 1}
    assert budget.spent == 0
