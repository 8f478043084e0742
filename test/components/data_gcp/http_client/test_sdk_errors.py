"""`call_source`: SDK and client errors become a SourceError naming the system, retried when transient."""

from __future__ import annotations

import httpx
import pytest

from data_gcp.http_client import FakeClock, RetryPolicy, SourceError, call_source, is_transient
from data_gcp.log import register_sensitive


def _failing(errors, value="ok"):
    def fn():
        if errors:
            raise errors.pop(0)
        return value

    return fn


def test_transient_sdk_errors_are_retried_then_succeed():
    from google.api_core.exceptions import ServiceUnavailable, TooManyRequests
    from google.resumable_media.common import DataCorruption

    clock = FakeClock()
    errors = [DataCorruption(None, "Checksum mismatch"), ServiceUnavailable("x"), TooManyRequests("y"),
              httpx.ReadTimeout("slow"), ConnectionResetError("reset")]  # fmt: skip
    policy = RetryPolicy(max_attempts=6)
    assert call_source("gcs", "read gs://b/k", _failing(errors), policy=policy, clock=clock) == "ok"
    assert len(clock.sleeps) == 5


def test_permanent_errors_fail_at_once_naming_system_operation_and_status():
    from google.api_core.exceptions import Forbidden

    clock = FakeClock()
    with pytest.raises(SourceError) as err:
        call_source("app_downloads", "read gs://b/k", _failing([Forbidden("no access")]), clock=clock)
    assert str(err.value).startswith("app_downloads: read gs://b/k failed (HTTP 403): Forbidden")
    assert err.value.status == 403 and not clock.sleeps and err.value.__cause__ is None
    with pytest.raises(SourceError, match=r"sign failed: ValueError: Could not deserialize"):
        call_source("x", "sign", _failing([ValueError("Could not deserialize key data")]), clock=clock)


def test_retries_are_bounded_and_the_last_error_named():
    from google.api_core.exceptions import ServiceUnavailable

    clock = FakeClock()
    errors = [ServiceUnavailable("busy")] * 9
    with pytest.raises(SourceError, match=r"\(HTTP 503\) after 3 attempt\(s\)"):
        call_source("s", "op", _failing(errors), policy=RetryPolicy(max_attempts=3), clock=clock)
    assert len(clock.sleeps) == 2


def test_a_secret_in_an_sdk_message_is_masked_and_answers_pass_through():
    register_sensitive("sk_live_Zq9+/=abc")
    with pytest.raises(SourceError) as err:
        call_source(
            "s", "op", _failing([PermissionError("key sk_live_Zq9+/=abc refused")]), clock=FakeClock()
        )
    assert "sk_live_Zq9" not in str(err.value) and "***" in str(err.value)
    with pytest.raises(KeyError):
        call_source("s", "op", _failing([KeyError("no object")]), passthrough=(KeyError,), clock=FakeClock())
    assert is_transient(ConnectionError()) and not is_transient(ValueError())


def test_a_secret_in_a_url_path_query_or_header_is_masked_in_every_form(caplog):
    import logging
    import re
    from urllib.parse import quote, quote_plus

    from data_gcp.http_client import HttpClient

    key = "Zk:9@!x y+/%2Fq?é"
    register_sensitive(key)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(403, text=f"key {request.url.params.get('k')} refused for {request.url.path}")

    client = HttpClient("vendor", f"https://api.example.org/v1/{quote(key, safe='')}",
                        transport=httpx.MockTransport(answer), secret_headers={"X-Key": key})  # fmt: skip
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError) as err:
        client.get_json("items", params={"k": key})
    text = caplog.text + str(err.value) + "".join(caplog.messages)
    lower = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(key, safe=""))
    for form in (key, quote(key, safe=""), quote_plus(key), lower, quote(key, safe="!$&'()*+,;=:@~")):
        assert form not in text, form
    assert seen and quote(key, safe="") in seen[0]  # the key did reach the vendor, encoded once
