"""A run-wide budget of refused calls (e.g. HTTP 429), for vendors that allow very few calls.

Why a transport and not more retries: AppsFlyer counts every call against a small daily quota, so a
run that keeps meeting 429s must stop early and cleanly (nothing written) instead of spending the
quota on retries; the per-request retry policy alone would try every report `max_attempts` times.
The budget wraps the client's transport, so it composes with whatever retry policy the client has.
"""

from __future__ import annotations

import threading

import httpx

from data_gcp.http_client.core import SourceError, endpoint_of


class StatusBudget(httpx.BaseTransport):
    """Counts answers with one of `statuses` over the whole run; one more than `limit` stops it.

    Pass it as `transport=` to `HttpClient` (or `ctx.http(transport=...)`); share one instance between
    the clients of a run so the budget covers every call of the run.
    """

    def __init__(
        self,
        system: str,
        limit: int,
        statuses: frozenset[int] = frozenset({429}),
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        if limit < 0:
            raise ValueError("limit must be >= 0")
        self.system = system
        self.limit = limit
        self.statuses = statuses
        self.inner = inner or httpx.HTTPTransport()
        self.spent = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if response.status_code in self.statuses:
            with self._lock:
                self.spent += 1
                spent = self.spent
            if spent > self.limit:
                response.close()
                raise SourceError(
                    self.system,
                    endpoint_of(request.method, request.url),
                    f"{spent} answers HTTP {'/'.join(map(str, sorted(self.statuses)))} in this run, more than "
                    f"the {self.limit} allowed: the vendor's call quota is exhausted; nothing was written, "
                    "run again once the quota has reset",
                    response.status_code,
                )
        return response

    def close(self) -> None:
        self.inner.close()
