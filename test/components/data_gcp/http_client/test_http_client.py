"""HttpClient's retry policy, rate-limit handling and errors, through a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import logging
import random

import pytest

from data_gcp.http_client import FakeClock, HttpClient, RateLimiter, RetryPolicy, SourceError
from data_gcp.http_client.core import _seconds_from_header
from data_gcp.vendor_servers import Response, VendorApp, VendorServer

SECRET = "s3cr3t-token-abcdef"


def _items(request):
    offset, limit = request.int_param("offset", 0), request.int_param("limit", 10)
    items = [{"i": i} for i in range(offset, min(offset + limit, 25))]
    return Response(200, {"items": items, "total": 25})


def _limited(request):
    return Response(200, {"ok": True}, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9"})


@pytest.fixture(scope="module")
def server():
    app = VendorApp("toy", routes=[("GET", "/items", _items), ("GET", "/limited", _limited)])
    with VendorServer(app) as srv:
        yield srv


@pytest.fixture
def client(server):
    server.faults.clear()
    server.requests.clear()
    clock = FakeClock()
    with HttpClient(
        "toy", server.url, secret_headers={"x-key": SECRET}, clock=clock, timeout=1.0, seed=1
    ) as c:
        yield c


def test_offset_pagination_reads_every_page(client, server):
    pages = list(client.paginate_offset("items", "items", limit=10, total_key="total"))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert server.requests[0].header("x-key") == SECRET


def test_retry_after_is_honoured_and_backoff_grows_with_jitter(client, server):
    server.faults.add("status", "/items", status=429, retry_after=11)
    server.faults.add("status", "/items", status=503, times=3)
    client.get_json("items")
    sleeps = client.clock.sleeps
    assert sleeps[0] == 11
    assert len(sleeps) == 4
    policy = RetryPolicy()
    for attempt, wait in enumerate(sleeps[1:], start=2):
        assert policy.base_delay / 2 <= wait <= policy.base_delay * 2 ** (attempt - 1)


def test_attempts_are_bounded_and_the_error_names_system_endpoint_status(client, server, caplog):
    caplog.set_level(logging.DEBUG)
    server.faults.add("status", "/items", status=500, times=-1)
    with pytest.raises(SourceError) as info:
        client.get_json("items", {"token": SECRET})
    assert str(info.value).startswith("toy: GET /items failed (HTTP 500) after 5 attempt(s)")
    assert info.value.status == 500 and len(server.requests) == 5
    assert SECRET not in str(info.value) and SECRET not in caplog.text
    assert "token=" not in str(info.value)  # the query string never leaves


def test_client_errors_are_not_retried(client, server):
    server.faults.add("status", "/items", status=403, times=-1)
    with pytest.raises(SourceError, match=r"\(HTTP 403\)"):
        client.get_json("items")
    assert len(server.requests) == 1


def test_a_retry_after_longer_than_allowed_fails_at_once(client, server):
    server.faults.add("status", "/items", status=429, retry_after=3600)
    with pytest.raises(SourceError, match="asked to wait 3600s"):
        client.get_json("items")
    assert client.clock.sleeps == []


def test_timeouts_and_invalid_json_are_retried(client, server):
    server.faults.add("timeout", "/items", delay=1.5)
    server.faults.add("invalid_json", "/items")
    assert client.get_json("items")["total"] == 25
    assert len(client.clock.sleeps) == 2


def test_zero_remaining_pauses_until_reset(client):
    client.get_json("limited")
    assert client.clock.sleeps == [9]


def test_rate_limiter_spaces_calls():
    clock = FakeClock()
    limiter = RateLimiter(30, per=60, clock=clock)  # Sirene: 30 calls a minute
    for _ in range(31):
        limiter.acquire()
    assert clock.total_slept == pytest.approx(2.0)  # the 31st call waits one token (2 s)
    limiter.pause_until(clock.monotonic() + 10)
    limiter.acquire()
    assert clock.total_slept >= 12


def test_retry_after_formats():
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    assert _seconds_from_header("5", now) == 5
    assert _seconds_from_header("Fri, 20 Nov 2026 12:00:30 GMT", now) == 30
    assert _seconds_from_header(str(now.timestamp() + 42), now) == pytest.approx(42)
    assert _seconds_from_header("soon", now) is None


def test_backoff_is_capped():
    policy = RetryPolicy(base_delay=1, max_delay=4)
    assert all(0.5 <= policy.backoff(10, random.Random(i)) <= 4 for i in range(20))
