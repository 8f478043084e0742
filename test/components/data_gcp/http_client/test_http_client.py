"""HttpClient's retry policy, rate-limit handling and errors, through a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import logging
import random

import pytest

from data_gcp.http_client import (
    FakeClock,
    HttpClient,
    PageGuard,
    RateLimiter,
    RetryableResponse,
    RetryPolicy,
    SourceError,
)
from data_gcp.http_client.core import _seconds_from_header
from data_gcp.log import redact
from data_gcp.vendor_servers import Response, VendorApp, VendorServer

SECRET = "s3cr3t-token-abcdef"


def _items(request):
    offset, limit = request.int_param("offset", 0), request.int_param("limit", 10)
    items = [{"i": i} for i in range(offset, min(offset + limit, 25))]
    return Response(200, {"items": items, "total": 25})


def _limited(request):
    return Response(200, {"ok": True}, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9"})


def _short_total(request):  # announces one record more than it lists: a listing changed while paged
    body = _items(request).body
    return Response(200, {**body, "total": 26})


@pytest.fixture(scope="module")
def server():
    app = VendorApp(
        "toy",
        routes=[("GET", "/items", _items), ("GET", "/limited", _limited), ("GET", "/short", _short_total)],
    )
    with VendorServer(app) as srv:
        yield srv


@pytest.fixture(scope="module")
def other_host():
    """Another server: what a redirect or an absolute next-page URL could point at."""
    app = VendorApp("elsewhere", routes=[("GET", "/items", _items)])
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


# --- hardened conventions ---------------------------------------------------------------------
def test_a_corrupt_compressed_body_is_retried_then_fails_cleanly(client, server):
    server.faults.add("corrupt_gzip", "/items")
    assert client.get_json("items")["total"] == 25  # retried once, like a truncated body
    server.faults.add("gzip", "/items")
    assert client.get_json("items")["total"] == 25  # a valid gzip body is simply decoded
    server.faults.add("corrupt_gzip", "/items", times=-1)
    with pytest.raises(SourceError, match=r"^toy: GET /items failed after 5 attempt\(s\).*undecodable"):
        client.get_json("items")


def test_a_vendor_minimum_wait_applies_to_a_429_without_retry_after(server):
    server.faults.clear()
    server.faults.add("status", "/items", status=429, times=3)  # Batch: no Retry-After, "wait 5 s"
    policy = RetryPolicy().for_vendor({429: 5.0})
    with HttpClient("toy", server.url, policy=policy, clock=FakeClock(), seed=1) as c:
        assert c.get_json("items")["total"] == 25
        assert len(c.clock.sleeps) == 3 and min(c.clock.sleeps) >= 5.0


def test_the_retry_budget_bounds_the_total_wait(server):
    server.faults.clear()
    server.faults.add("status", "/items", status=429, retry_after=40, times=-1)
    policy = RetryPolicy(max_attempts=10, max_total_wait=100)
    with HttpClient("toy", server.url, policy=policy, clock=FakeClock(), seed=1) as c:
        with pytest.raises(SourceError, match="retry budget"):
            c.get_json("items")
        assert c.clock.sleeps == [40, 40]  # a third wait would pass 100 s: stopped there


def test_a_lower_case_http_date_retry_after_is_honoured(client, server):
    server.faults.add("status", "/items", status=503, retry_after=30, retry_after_date=True)
    client.get_json("items")
    assert server.requests[0].path == "/items"
    assert 27 <= client.clock.sleeps[0] <= 31  # an HTTP date has a one-second resolution


def test_a_permanent_not_found_is_not_retried_even_when_accepted(client, server):
    server.faults.add("status", "/items", status=404, body="<html>Not Found</html>", times=-1)

    def check(response):
        try:
            response.json()
        except ValueError:
            raise RetryableResponse("invalid JSON in the answer") from None

    with pytest.raises(SourceError, match=r"\(HTTP 404\)"):
        client.request("GET", "items", check=check, accept=(404,))
    assert len(server.requests) == 1


def test_secret_headers_never_reach_another_host(client, server, other_host):
    other_host.requests.clear()
    # a redirect to another host, then an absolute URL on another host (a next-page link)
    server.faults.add("redirect", "/items", location=f"{other_host.url}/items")
    assert client.get_json("items")["total"] == 25
    assert client.get_json(f"{other_host.url}/items")["total"] == 25
    assert len(other_host.requests) == 2
    assert all(r.header("x-key") is None for r in other_host.requests)
    client.get_json("items")
    assert server.requests[-1].header("x-key") == SECRET  # the configured host still gets it


def test_every_encoded_form_of_a_secret_is_masked(server):
    from urllib.parse import quote, quote_plus

    special = "k3y+with/special=chars&more"
    with HttpClient("toy", server.url, secret_headers={"x-key": special}, clock=FakeClock()):
        pass
    for form in (
        special,
        quote(special, safe=""),
        quote_plus(special),
        quote(quote(special, safe=""), safe=""),
    ):
        assert form not in redact(f"GET https://vendor.example/items?key={form} failed")


def test_an_offset_listing_whose_server_ignores_the_offset_fails_instead_of_looping(client, server):
    server.faults.add("repeat", "/items", skip=1, times=20)  # pages 2..21 repeat page 1
    with pytest.raises(SourceError, match=r"toy: GET /items failed: the page at offset=10 repeats"):
        list(client.paginate_offset("items", "items", limit=10))


def test_a_page_budget_stops_a_listing_that_never_ends():
    guard = PageGuard("toy", "GET /items", max_pages=3)
    for i in range(3):
        guard.page([{"i": i}])
    with pytest.raises(SourceError, match="more than 3 pages"):
        guard.page([{"i": 99}])


def test_a_cursor_cycle_of_any_length_is_an_error():
    guard = PageGuard("toy", "POST /graphql")
    for cursor in ("c1", "c2", "c3"):
        guard.cursor(cursor)
    with pytest.raises(SourceError, match="toy: POST /graphql failed: pagination cycles"):
        guard.cursor("c1")  # a cycle of three pages


def test_a_snapshot_shorter_than_its_total_is_read_again_then_refused(client, server):
    with pytest.raises(SourceError, match=r"incomplete snapshot: 25 distinct record\(s\) read of 26"):
        client.snapshot_offset("short", "items", id_of=lambda r: r["i"], total_key="total", limit=10)
    assert len(server.requests_to("/short")) == 9  # 3 pages, read 3 times
    rows = client.snapshot_offset("items", "items", id_of=lambda r: r["i"], total_key="total", limit=10)
    assert len(rows) == 25
