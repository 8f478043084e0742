"""`HttpClient`: httpx with the platform's retry policy.

Policy (issue 7): at most `max_attempts` tries; exponential backoff with full jitter; a `Retry-After`
header or a vendor rate-limit reset header sets the pause instead; only 429, 5xx, timeouts and
transport errors (connection reset, truncated body) are retried. Anything else raises `SourceError`
at once, naming the system, the method, the endpoint path (never the query string, never a secret)
and the status.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from data_gcp.config import DataGcpError
from data_gcp.http_client.clock import Clock, SystemClock
from data_gcp.http_client.ratelimit import RateLimiter
from data_gcp.log import RedactingFilter, get_logger, redact, register_sensitive

log = get_logger(__name__)

for _name in ("httpx", "httpcore"):
    # httpx logs every request URL at INFO; some vendors put keys in the path (Batch) or query.
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, RedactingFilter) for f in _logger.filters):
        _logger.addFilter(RedactingFilter())


class SourceError(DataGcpError):
    """A source system failed: names the system, the endpoint (path only) and the HTTP status."""

    def __init__(
        self,
        system: str,
        endpoint: str,
        message: str,
        status: int | None = None,
        attempts: int | None = None,
    ) -> None:
        self.system = system
        self.endpoint = redact(endpoint)
        self.status = status
        self.attempts = attempts
        where = f"{system}: {self.endpoint}"
        status_txt = f" (HTTP {status})" if status is not None else ""
        tries = f" after {attempts} attempt(s)" if attempts and attempts > 1 else ""
        super().__init__(redact(f"{where} failed{status_txt}{tries}: {message}"))


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and jitter."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    retry_statuses: frozenset[int] = frozenset({408, 429})  # request timeout, too many requests

    def retryable_status(self, status: int) -> bool:
        return status in self.retry_statuses or status >= 500

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [base/2, min(max, base * 2^(attempt-1))]."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return rng.uniform(min(self.base_delay / 2, cap), cap)


# Headers vendors use to say when to come back: seconds to wait, or an epoch/HTTP date.
DEFAULT_RESET_HEADERS = ("x-sib-ratelimit-reset", "x-ratelimit-reset", "ratelimit-reset")
DEFAULT_REMAINING_HEADERS = ("x-sib-ratelimit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")


def _seconds_from_header(value: str, now: dt.datetime | None = None) -> float | None:
    """`Retry-After`/reset value -> seconds to wait (delta seconds, epoch seconds or an HTTP date)."""
    value = value.strip()
    now = now or dt.datetime.now(dt.UTC)
    try:
        number = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return max(0.0, (when - now).total_seconds())
    if number > 1_000_000_000:  # an epoch timestamp
        return max(0.0, number - now.timestamp())
    return max(0.0, number)


def endpoint_of(method: str, url: httpx.URL | str) -> str:
    """`GET /v3/smtp/statistics/events`: the path only, so query-string secrets never leave."""
    return f"{method} {urlsplit(str(url)).path}"


@dataclass
class _Attempt:
    number: int = 0
    last_status: int | None = None
    last_error: str = ""
    waits: list[float] = field(default_factory=list)


class HttpClient:
    """A client bound to one system and base URL.

    `secret_headers` are sent like `headers` but their values are registered with the log redactor
    first. `auth` signs each request (e.g. credentials that refresh their token). `clock` and `seed`
    make waits testable and deterministic.
    """

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        secret_headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        timeout: float = 60.0,
        clock: Clock | None = None,
        reset_headers: tuple[str, ...] = DEFAULT_RESET_HEADERS,
        remaining_headers: tuple[str, ...] = DEFAULT_REMAINING_HEADERS,
        seed: int | None = None,
        transport: httpx.BaseTransport | None = None,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.system = system
        self.policy = policy or RetryPolicy()
        self.clock = clock or SystemClock()
        self.rate_limiter = rate_limiter
        self.reset_headers = reset_headers
        self.remaining_headers = remaining_headers
        self._rng = random.Random(seed)
        all_headers = dict(headers or {})
        for value in (secret_headers or {}).values():
            register_sensitive(value)
        all_headers.update(secret_headers or {})
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/" if base_url else "",
            headers=all_headers,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            transport=transport,
            auth=auth,
        )
        self.requests_sent = 0

    # --- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- core request loop ------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else path.lstrip("/")

    def _pause_from(self, response: httpx.Response) -> float | None:
        for name in ("retry-after", *self.reset_headers):
            value = response.headers.get(name)
            if value:
                seconds = _seconds_from_header(value)
                if seconds is not None:
                    return seconds
        return None

    def _note_rate_limit(self, response: httpx.Response) -> None:
        """A success that says no call is left: wait for the reset before the next call."""
        for name in self.remaining_headers:
            remaining = response.headers.get(name)
            if remaining is not None and remaining.strip() in ("0", "0.0"):
                pause = self._pause_from(response)
                if pause:
                    pause = min(pause, self.policy.max_retry_after)
                    log.info("%s: rate limit reached, pausing %.1fs", self.system, pause)
                    if self.rate_limiter:
                        self.rate_limiter.pause_until(self.clock.monotonic() + pause)
                    else:
                        self.clock.sleep(pause)
                return

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        check: Callable[[httpx.Response], None] | None = None,
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """Send with retries; returns a 2xx response whose body has been read completely.

        `check` may raise `RetryableResponse` to retry a 200 whose body is unusable (e.g. invalid
        JSON from a truncated answer), within the same bounded budget.
        `accept`: non-2xx statuses that are answers, returned (and checked) like a 2xx, e.g. Sirene's
        404 "no unit matches the query"; the caller tells that answer from a real error by its body.
        """
        endpoint = endpoint_of(method, httpx.URL(self._client.base_url).join(self._url(path)))
        state = _Attempt()
        while True:
            state.number += 1
            if self.rate_limiter:
                self.rate_limiter.acquire()
            wait: float | None = None
            try:
                self.requests_sent += 1
                response = self._client.request(
                    method, self._url(path), params=params, json=json_body, content=content, headers=headers
                )
                response.read()
            except httpx.TimeoutException as err:
                state.last_status, state.last_error = None, f"timeout ({type(err).__name__})"
            except httpx.TransportError as err:
                state.last_status, state.last_error = None, f"transport error ({type(err).__name__}: {err})"
            else:
                status = response.status_code
                if 200 <= status < 300 or status in accept:
                    try:
                        if check:
                            check(response)
                    except RetryableResponse as err:
                        state.last_status, state.last_error = status, str(err)
                    else:
                        self._note_rate_limit(response)
                        return response
                elif self.policy.retryable_status(status):
                    state.last_status, state.last_error = status, _short_body(response)
                    wait = self._pause_from(response)
                    if wait is not None and wait > self.policy.max_retry_after:
                        raise SourceError(
                            self.system,
                            endpoint,
                            f"asked to wait {wait:.0f}s, more than the {self.policy.max_retry_after:.0f}s allowed",
                            status,
                            state.number,
                        )
                else:
                    raise SourceError(
                        self.system, endpoint, _client_error_hint(status, response), status, state.number
                    )
            if state.number >= self.policy.max_attempts:
                raise SourceError(
                    self.system,
                    endpoint,
                    f"gave up, last error: {state.last_error}",
                    state.last_status,
                    state.number,
                )
            if wait is None:
                wait = self.policy.backoff(state.number, self._rng)
            log.warning(
                "%s: %s attempt %d/%d failed (%s), retrying in %.2fs",
                self.system,
                endpoint,
                state.number,
                self.policy.max_attempts,
                state.last_status or state.last_error,
                wait,
            )
            state.waits.append(wait)
            self.clock.sleep(wait)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return json_of(self.request("GET", path, params=params, check=_json_check))

    def post_json(self, path: str, body: Any, params: Mapping[str, Any] | None = None) -> Any:
        return json_of(self.request("POST", path, params=params, json_body=body, check=_json_check))

    def get_bytes(self, path: str, params: Mapping[str, Any] | None = None) -> bytes:
        return self.request("GET", path, params=params).content

    # --- pagination -------------------------------------------------------------------------
    def paginate_offset(
        self,
        path: str,
        items_key: str,
        *,
        params: Mapping[str, Any] | None = None,
        limit: int,
        offset_param: str = "offset",
        limit_param: str = "limit",
        total_key: str | None = None,
        start: int = 0,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of an offset+limit listing (Brevo, Contentful, Batch).

        Stops on a short page, or when `total_key` says everything was read. An empty page before
        the announced total is a vendor hiccup: it is asked again (bounded), never taken as the end.
        """
        offset = start
        base = dict(params or {})
        while True:
            query = {**base, offset_param: offset, limit_param: limit}

            def _check(response: httpx.Response, offset: int = offset) -> None:
                body = _json_check(response)
                if total_key and not body.get(items_key) and offset < int(body.get(total_key) or 0):
                    raise RetryableResponse(
                        f"empty page at {offset_param}={offset} while {total_key}={body.get(total_key)}"
                    )

            body = json_of(self.request("GET", path, params=query, check=_check))
            items = body.get(items_key) or []
            if not isinstance(items, list):
                raise SourceError(
                    self.system, endpoint_of("GET", path), f"{items_key!r} is not a list in the answer"
                )
            if items:
                yield items
            offset += len(items)
            total = int(body.get(total_key) or 0) if total_key else None
            if len(items) < limit or (total is not None and offset >= total):
                return


class RetryableResponse(Exception):
    """Raised by a `check` to have a 2xx response retried like a 5xx."""


def json_of(response: httpx.Response) -> Any:
    """The response's JSON, parsed once (a `check` may already have parsed it)."""
    cached = getattr(response, "_data_gcp_json", _MISSING)
    if cached is _MISSING:
        cached = response.json()
        response._data_gcp_json = cached  # type: ignore[attr-defined]
    return cached


_MISSING = object()


def _json_check(response: httpx.Response) -> Any:
    """Parse (and cache) the JSON body; an unparsable 200 (cut body) is retried."""
    try:
        return json_of(response)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RetryableResponse(
            f"invalid JSON in the answer ({err.msg if hasattr(err, 'msg') else err})"
        ) from None


def _short_body(response: httpx.Response, limit: int = 200) -> str:
    text = response.text[:limit].replace("\n", " ")
    return redact(text) or response.reason_phrase


def _client_error_hint(status: int, response: httpx.Response) -> str:
    hints = {
        401: "authentication refused: the token or API key is missing, wrong or expired (rotate the secret)",
        403: "access forbidden: the key lacks the permission or the IP is not allowed",
        404: "not found: check the base URL and the identifiers in the path",
    }
    return f"{hints.get(status, 'request refused, not retried')} - answer: {_short_body(response)}"
