"""One HTTP client for every connector: bounded retries, rate limits, redacted errors.

Why a shared client: the previous connectors each had their own retry loop (one had none on 429, one
had no limit); one policy here means one place to get right and one set of tests.
"""

from data_gcp.http_client.budget import StatusBudget
from data_gcp.http_client.clock import Clock, FakeClock, SystemClock
from data_gcp.http_client.core import (
    HttpClient,
    PageGuard,
    RetryableResponse,
    RetryPolicy,
    SourceError,
    endpoint_of,
    json_of,
    origin_of,
)
from data_gcp.http_client.ratelimit import RateLimiter
from data_gcp.http_client.sdk import call_source, is_transient, source_error

__all__ = [
    "Clock",
    "FakeClock",
    "HttpClient",
    "PageGuard",
    "RateLimiter",
    "RetryPolicy",
    "RetryableResponse",
    "endpoint_of",
    "json_of",
    "origin_of",
    "SourceError",
    "StatusBudget",
    "SystemClock",
    "call_source",
    "is_transient",
    "source_error",
]
