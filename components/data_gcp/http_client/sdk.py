"""Errors of the SDKs and clients a connector calls besides HTTP: one `SourceError`, retried when transient.

Why: a connector reading Cloud Storage, signing a JWT with a PEM key or calling httpx directly got the
library's own exception (a 73-line traceback naming neither the system nor what to do), and a
transient one (a checksum mismatch on download, a 503 from Cloud Storage) was not retried. Every such
call goes through `call_source`, which names the system and the operation, retries what is
transient under the run's `RetryPolicy`, and never lets the library's exception text carry a secret.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from typing import TypeVar

from data_gcp.http_client.clock import Clock, SystemClock
from data_gcp.http_client.core import RetryPolicy, SourceError
from data_gcp.log import get_logger, redact

log = get_logger(__name__)
T = TypeVar("T")

# library exceptions that are transient by nature, by class name (no import of optional SDKs)
_TRANSIENT_NAMES = {
    "DataCorruption",  # google-resumable-media: checksum mismatch on download, read again
    "TransportError",  # google.auth / httpx transport
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "TimeoutError",
    "Timeout",
    "RemoteDisconnected",
    "ChunkedEncodingError",
    "ServiceUnavailable",
    "InternalServerError",
    "BadGateway",
    "GatewayTimeout",
    "TooManyRequests",
    "RetryError",
}
_HINTS = {
    401: "authentication refused: the credentials are missing, wrong or expired",
    403: "access forbidden: the service account lacks the permission on this resource (IAM)",
    404: "not found: check the name of the bucket, object or resource",
}


def status_of(err: BaseException) -> int | None:
    """The HTTP status an SDK exception carries (`google.api_core` `code`, httpx/requests response)."""
    code = getattr(err, "code", None)
    if isinstance(code, int) and 100 <= code < 600:
        return code
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    return status if isinstance(status, int) else None


def is_transient(err: BaseException, policy: RetryPolicy | None = None) -> bool:
    """A status the policy retries (408, 429, 5xx), or a transport/corruption error by its class."""
    status = status_of(err)
    if status is not None:
        return (policy or RetryPolicy()).retryable_status(status)
    names = {cls.__name__ for cls in type(err).__mro__}
    return bool(names & _TRANSIENT_NAMES) or isinstance(err, (ConnectionError, TimeoutError))


def source_error(system: str, operation: str, err: BaseException, attempts: int | None = None) -> SourceError:
    """`err` as a `SourceError` naming the system and the operation (status and a hint when known)."""
    if isinstance(err, SourceError):
        return err
    status = status_of(err)
    text = redact(str(err)).splitlines()[0][:300] if str(err) else ""
    hint = _HINTS.get(status or 0, "")
    message = f"{type(err).__name__}: {text}" + (f" - {hint}" if hint else "")
    return SourceError(system, operation, message, status, attempts)


def call_source(
    system: str,
    operation: str,
    fn: Callable[[], T],
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    passthrough: Collection[type[BaseException]] = (),
    seed: int | None = None,
) -> T:
    """`fn()`, its transient failures retried under `policy`, any failure raised as a `SourceError`.

    `passthrough`: exceptions that are answers, raised unchanged (e.g. `StorageError` for "no such
    object", which the caller handles).
    """
    policy = policy or RetryPolicy()
    clock = clock or SystemClock()
    rng = random.Random(seed)
    waited = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except SourceError:
            raise
        except Exception as err:
            if passthrough and isinstance(err, tuple(passthrough)):
                raise
            if not is_transient(err, policy) or attempt >= policy.max_attempts:
                raise source_error(system, operation, err, attempt) from None
            wait = policy.wait_for(status_of(err), attempt, rng, None)
            if waited + wait > policy.max_total_wait:
                raise source_error(system, operation, err, attempt) from None
            log.warning(
                "%s: %s attempt %d/%d failed (%s), retrying in %.2fs",
                system,
                operation,
                attempt,
                policy.max_attempts,
                type(err).__name__,
                wait,
            )
            waited += wait
            clock.sleep(wait)
