"""`HttpClient`: httpx with the platform's retry policy.

Policy: at most `max_attempts` tries and at most `max_total_wait` seconds of waiting per request;
exponential backoff with full jitter; a `Retry-After` header or a vendor rate-limit reset header sets
the pause instead, never below the vendor's documented minimum (`min_wait`, e.g. Batch's 5 s on 429);
only 408, 429, 5xx, timeouts, transport errors (connection reset, truncated body) and undecodable
compressed bodies are retried. Any other status (a permanent 4xx) raises `SourceError` at once,
naming the system, the method, the endpoint path (never the query string, never a secret) and the
status.

Secret headers are sent only to the base URL's origin (scheme, host, port): a redirect or an absolute
next-page URL to another host never receives them (httpx itself strips only `Authorization`).

Every paginator terminates (`PageGuard`): cursors are remembered (a cycle of any length is an error),
a page identical to one already read is an error (a server ignoring the offset), and a page budget
bounds the rest; the error names the system and the endpoint.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import hashlib
import json
import logging
import random
import ssl
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
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
    """Bounded retries with exponential backoff and jitter.

    `min_wait`: the vendor's documented minimum pause per status (Batch: 429 -> 5 s "wait at least 5
    seconds", sent without `Retry-After`); no wait after that status is shorter.
    `max_total_wait`: the time budget of one request's retries (seconds of waiting, all attempts):
    a retry that would pass it is not made, the request fails instead.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    retry_statuses: frozenset[int] = frozenset({408, 429})  # request timeout, too many requests
    min_wait: Mapping[int, float] = field(default_factory=dict, hash=False)
    max_total_wait: float = 900.0

    def retryable_status(self, status: int) -> bool:
        return status in self.retry_statuses or status >= 500

    def for_vendor(self, min_wait: Mapping[int, float] | None = None, **changes: Any) -> RetryPolicy:
        """This policy with a vendor's documented minimum waits (and other fields) applied."""
        waits = {**self.min_wait}
        for status, seconds in (min_wait or {}).items():
            waits[status] = max(seconds, waits.get(status, 0.0))
        return replace(self, min_wait=waits, **changes)

    def wait_for(self, status: int | None, attempt: int, rng: random.Random, asked: float | None) -> float:
        """The pause before the next attempt: what the vendor asked, else backoff; never below the minimum."""
        wait = asked if asked is not None else self.backoff(attempt, rng)
        if status is not None:
            wait = max(wait, self.min_wait.get(status, 0.0))
        return wait

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


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs ~0.3 s a client otherwise."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def origin_of(url: httpx.URL | str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    u = httpx.URL(str(url))
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return (u.scheme, u.host, port)


class PageGuard:
    """Makes a paginator terminate whatever the server does.

    - `cursor(c)`: a cursor (or next-page URL) seen before means the listing cycles: error;
    - `page(items, where)`: a non-empty page identical to one already read (same size, same first and
      last record) means the server ignores the offset or repeats itself: error;
    - more than `max_pages` pages: error (a budget, for servers that page forever).
    The error names the system and the endpoint and says the listing was not written.
    """

    def __init__(self, system: str, endpoint: str, max_pages: int = 10_000) -> None:
        self.system = system
        self.endpoint = endpoint
        self.max_pages = max_pages
        self.pages = 0
        self._cursors: set[str] = set()
        self._fingerprints: dict[str, str] = {}

    def _fail(self, message: str) -> SourceError:
        return SourceError(self.system, self.endpoint, f"{message}; nothing was written")

    def cursor(self, cursor: str | None) -> None:
        if cursor is None:
            return
        if cursor in self._cursors:
            raise self._fail(
                f"pagination cycles: a cursor came back after {self.pages} page(s) "
                f"({len(self._cursors)} distinct cursors)"
            )
        self._cursors.add(cursor)

    def page(self, items: list[Any], where: str = "") -> None:
        self.pages += 1
        if self.pages > self.max_pages:
            raise self._fail(f"more than {self.max_pages} pages: the listing does not end")
        if not items:
            return
        key = json.dumps([len(items), items[0], items[-1]], sort_keys=True, default=str)
        fingerprint = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
        if fingerprint in self._fingerprints:
            raise self._fail(
                f"the page at {where} repeats the page at {self._fingerprints[fingerprint]} "
                "(the server ignores the offset or repeats pages)"
            )
        self._fingerprints[fingerprint] = where or str(self.pages)


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
        self._secret_headers = dict(secret_headers or {})
        for value in self._secret_headers.values():
            register_sensitive(value)
        self._origin = origin_of(base_url) if base_url else None
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/" if base_url else "",
            headers=dict(headers or {}),  # secret headers are never client defaults: see _scope_secrets
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            transport=transport,
            auth=auth,
            verify=_ssl_context(),
            event_hooks={"request": [self._scope_secrets]},
        )
        self.requests_sent = 0

    def _scope_secrets(self, request: httpx.Request) -> None:
        """Secret headers go to the base URL's origin only, redirects and absolute URLs included.

        httpx runs request hooks on every hop of a redirect, so a hop to another host loses them.
        """
        same_origin = self._origin is not None and origin_of(request.url) == self._origin
        for name, value in self._secret_headers.items():
            if same_origin:
                request.headers[name] = value
            elif name in request.headers:
                del request.headers[name]

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
        endpoint = endpoint_of(method, self._join(path))
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
            except httpx.DecodingError as err:  # a corrupt gzip/deflate body: like a truncated one
                state.last_status, state.last_error = None, f"undecodable compressed body ({err})"
            else:
                status = response.status_code
                if 200 <= status < 300 or status in accept:
                    try:
                        if check:
                            check(response)
                    except RetryableResponse as err:
                        if not 200 <= status < 300:  # an accepted 4xx is a permanent answer
                            raise SourceError(
                                self.system,
                                endpoint,
                                f"{err} - not retried: {_client_error_hint(status, response)}",
                                status,
                                state.number,
                            ) from None
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
            wait = self.policy.wait_for(state.last_status, state.number, self._rng, wait)
            if sum(state.waits) + wait > self.policy.max_total_wait:
                raise SourceError(
                    self.system,
                    endpoint,
                    f"gave up: another {wait:.0f}s wait would pass the {self.policy.max_total_wait:.0f}s "
                    f"retry budget, last error: {state.last_error}",
                    state.last_status,
                    state.number,
                )
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
        max_pages: int = 10_000,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of an offset+limit listing (Brevo, Contentful, Batch).

        Stops on a short page, or when `total_key` says everything was read. An empty page before
        the announced total is a vendor hiccup: it is asked again (bounded), never taken as the end.
        A repeated page (a server ignoring the offset) or more than `max_pages` pages is an error.
        """
        for items, _ in self.offset_pages(
            path,
            items_key,
            params=params,
            limit=limit,
            offset_param=offset_param,
            limit_param=limit_param,
            total_key=total_key,
            start=start,
            max_pages=max_pages,
        ):
            if items:
                yield items

    def offset_pages(
        self,
        path: str,
        items_key: str | None,
        *,
        params: Mapping[str, Any] | None = None,
        limit: int,
        offset_param: str = "offset",
        limit_param: str = "limit",
        total_key: str | None = None,
        start: int = 0,
        max_pages: int = 10_000,
    ) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        """`(items, body)` per page; `items_key=None` for an API answering a bare list (Batch)."""
        offset = start
        base = dict(params or {})
        guard = PageGuard(self.system, endpoint_of("GET", self._join(path)), max_pages)
        while True:
            query = {**base, offset_param: offset, limit_param: limit}

            def _check(response: httpx.Response, offset: int = offset) -> None:
                body = _json_check(response)
                if total_key and isinstance(body, dict):
                    if not body.get(items_key) and offset < int(body.get(total_key) or 0):
                        raise RetryableResponse(
                            f"empty page at {offset_param}={offset} while {total_key}={body.get(total_key)}"
                        )

            body = json_of(self.request("GET", path, params=query, check=_check))
            items = body if items_key is None else (body.get(items_key) if isinstance(body, dict) else None)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise SourceError(self.system, guard.endpoint, f"{items_key!r} is not a list in the answer")
            guard.page(items, f"{offset_param}={offset}")
            yield items, body
            offset += len(items)
            total = int(body.get(total_key) or 0) if total_key and isinstance(body, dict) else None
            if len(items) < limit or (total is not None and offset >= total):
                return

    def snapshot_offset(
        self,
        path: str,
        items_key: str,
        *,
        id_of: Callable[[dict[str, Any]], Any],
        total_key: str,
        limit: int,
        params: Mapping[str, Any] | None = None,
        offset_param: str = "offset",
        limit_param: str = "limit",
        reads: int = 3,
    ) -> list[dict[str, Any]]:
        """A complete snapshot of an offset listing, or an error: never a short one.

        Why: a listing that changes while it is paged (an entry edited moves in the sort order)
        skips records without any error. The distinct ids read are compared with the `total` the
        last page announced; a mismatch reads the whole listing again (at most `reads` times), then
        fails naming the system and the endpoint. The last copy of a record read twice wins.
        """
        endpoint = endpoint_of("GET", self._join(path))
        distinct, total = 0, 0
        for attempt in range(1, reads + 1):
            records: dict[Any, dict[str, Any]] = {}
            total = 0
            for items, body in self.offset_pages(
                path,
                items_key,
                params=params,
                limit=limit,
                offset_param=offset_param,
                limit_param=limit_param,
                total_key=total_key,
            ):
                records.update((id_of(item), item) for item in items)
                total = int(body.get(total_key) or 0)
            distinct = len(records)
            if distinct == total:
                return list(records.values())
            log.warning(
                "%s: %s read %d distinct record(s) of %d announced (read %d/%d): the listing "
                "changed while paged, reading it again",
                self.system,
                endpoint,
                distinct,
                total,
                attempt,
                reads,
            )
            if attempt < reads:
                self.clock.sleep(self.policy.wait_for(None, attempt, self._rng, None))
        raise SourceError(
            self.system,
            endpoint,
            f"incomplete snapshot: {distinct} distinct record(s) read of {total} announced, "
            f"{reads} time(s); nothing was written (retry later)",
        )

    def _join(self, path: str) -> httpx.URL:
        return httpx.URL(self._client.base_url).join(self._url(path))

    def endpoint(self, method: str, path: str) -> str:
        """`GET /v3/...`: how errors name `path` of this client (the path only, no query string)."""
        return endpoint_of(method, self._join(path))


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
