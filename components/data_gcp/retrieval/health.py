"""Whether a retrieval service can be trusted: catalogue freshness, a real query through each engine
it holds, and the share of answers that fell back to tops because a search failed.

Why real queries: a service can hold an index whose files are gone or whose vectors do not fit the
query's size; it then answers every recommendation from tops while looking loaded. The only
truthful check is the one a request makes, so `/isalive` runs it (at most every few seconds) and
counts the requests that fell back for an error.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from data_gcp.retrieval.filters import parse_filters

if TYPE_CHECKING:
    from data_gcp.retrieval.service import RetrievalService

DEFAULT_MAX_CATALOG_AGE_HOURS = 72.0  # the catalogue is rebuilt daily; three missed days is stale
FUTURE_TOLERANCE_HOURS = 0.25  # clock skew between the trainer and the service
# fallbacks that say the service is broken (not the caller: an unknown user is a normal answer)
ERROR_FALLBACKS = frozenset({"search_error"})
FALLBACK_WINDOW = 200  # answers the error rate is measured on
MIN_ANSWERS = 10  # fewer answers than this in the window say nothing about a rate
DEFAULT_MAX_ERROR_RATE = 0.05
CHECK_EVERY_SECONDS = 5.0  # `/isalive` re-runs the engine check at most this often


@dataclass(frozen=True)
class CatalogInfo:
    """Where the served catalogue comes from and how old it is (reported by `/isalive`).

    Policy: the warehouse table read at start is dated by that read; a run's snapshot by the run's
    `created_at`. A catalogue older than `max_age_hours`, undated, or dated in the future (a wrong
    clock or a wrong date: its age is unknown) makes the service degraded, as does a warehouse that
    could not be read (the snapshot is then served, and loading is retried).
    """

    source: str  # "warehouse" | "snapshot"
    date: dt.datetime | None
    max_age_hours: float | None = None

    def age_hours(self) -> float:
        assert self.date is not None
        return (dt.datetime.now(dt.UTC) - self.date).total_seconds() / 3600

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "date": self.date.isoformat() if self.date else None,
            "age_hours": round(self.age_hours(), 2) if self.date else None,
            "max_age_hours": self.max_age_hours,
        }

    def problem(self) -> str | None:
        """Why the catalogue is not to be trusted, or None."""
        if self.max_age_hours is None:
            return None
        if self.date is None:
            return f"catalogue ({self.source}) has no date: its freshness is unknown"
        age = self.age_hours()
        if age < -FUTURE_TOLERANCE_HOURS:
            return (
                f"catalogue ({self.source}) is dated {self.date.isoformat()}, {-age:.0f} h in the future: "
                "its freshness is unknown; check the training job's clock and publish a new run"
            )
        if age > self.max_age_hours:
            return (
                f"catalogue ({self.source}) is {age:.0f} h old, more than {self.max_age_hours:.0f} h: "
                "rebuild ml.ml_reco__recommendable_item or publish a new two-tower run"
            )
        return None


class FallbackWindow:
    """The last answers' fallbacks: counts by reason, and whether errors exceed `max_error_rate`."""

    def __init__(self, size: int = FALLBACK_WINDOW, max_error_rate: float = DEFAULT_MAX_ERROR_RATE) -> None:
        self._last: deque[str | None] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.max_error_rate = max_error_rate
        self.totals: dict[str, int] = {}

    def record(self, fallback: str | None) -> None:
        with self._lock:
            self._last.append(fallback)
            if fallback:
                self.totals[fallback] = self.totals.get(fallback, 0) + 1

    def error_rate(self) -> float:
        with self._lock:
            last = list(self._last)
        return sum(f in ERROR_FALLBACKS for f in last) / len(last) if last else 0.0

    def problem(self) -> str | None:
        with self._lock:
            n = len(self._last)
        rate = self.error_rate()
        if n >= MIN_ANSWERS and rate > self.max_error_rate:
            return (
                f"{rate:.0%} of the last {n} answers fell back to tops after a failed search "
                f"(more than {self.max_error_rate:.0%}): see the service's error log"
            )
        return None

    def describe(self) -> dict[str, Any]:
        return {"error_rate": round(self.error_rate(), 4), "fallbacks": dict(sorted(self.totals.items()))}


def _check_hits(name: str, hits: Any, rows: int, k: int) -> str | None:
    got = len(hits.positions)
    if got != min(k, rows):
        return f"{name}: a search for {k} items returned {got} of {rows}"
    if got and (hits.positions.min() < 0 or hits.positions.max() >= rows):
        return f"{name}: a search returned rows outside the index"
    return None


def _failure(index: Any) -> BaseException | None:
    """A target that could not even be prepared carries its exception instead of an index."""
    return index if isinstance(index, BaseException) else None


def _outcome(search: Any, *args: Any) -> Any:
    """A search's hits, or the exception it raised (what a request would meet)."""
    try:
        return search(*args)
    except Exception as exc:  # noqa: BLE001
        return exc


async def _aoutcome(search: Any, *args: Any) -> Any:
    try:
        return await search(*args)
    except Exception as exc:  # noqa: BLE001
        return exc


class EngineCheck:
    """One real query through each engine the service holds, sync (at load) or async (`/isalive`,
    through the same async search path requests take). Problems name the engine and the error."""

    K = 5

    def __init__(self, service: RetrievalService) -> None:
        self.service = service
        self.problems: list[str] = []
        self.checked_at: float | None = None

    def _targets(self) -> list[tuple[str, Any, np.ndarray | None]]:
        svc = self.service
        out: list[tuple[str, Any, np.ndarray | None]] = []
        if svc.index is not None and svc.index.rows:
            # a user's vector (recommendations) and an item's (similar offers): both must fit the index
            for what, vectors in (("user", svc.user_vectors), ("item", svc.item_vectors)):
                if vectors is not None and len(vectors):
                    out.append((f"two-tower index ({what} vector)", svc.index, np.asarray(vectors[0])))
        if svc.text_index is not None and svc.text_index.rows:
            try:
                # an item of the table, named through the catalogue (listing the table's ids is a scan)
                known = svc._text_rows[svc._text_rows >= 0]
                if not len(known):
                    raise LookupError("none of its items is in the catalogue")
                first = svc.catalog.column("item_id")[int(known[0])].as_py()
                found = svc.text_index.vectors_of([first])
                vector = found[0] if len(found) else None
                if vector is None:
                    raise LookupError(f"no vector for its own item {first}")
            except Exception as exc:  # noqa: BLE001 - reported as the engine's problem
                out.append(("text-embedding table", exc, None))
            else:
                out.append(("text-embedding table", svc.text_index, vector))
        return out

    def _tops(self) -> str | None:
        try:
            rows = self.service.tops(parse_filters(None), 1)
        except Exception as exc:  # noqa: BLE001
            return f"tops: {type(exc).__name__}: {str(exc)[:200]}"
        if self.service.catalog.num_rows and not rows:
            return "tops: the catalogue answered no row"
        return None

    def _judge(self, name: str, index: Any, hits: Any) -> str | None:
        """The problem one search shows (`hits`: its answer, or the exception it raised), or None."""
        if isinstance(hits, BaseException):
            return f"engine check failed: {name}: {type(hits).__name__}: {str(hits)[:200]}"
        problem = _check_hits(name, hits, index.rows, self.K)
        return f"engine check failed: {problem}" if problem else None

    def run(self) -> list[str]:
        return self._done(
            [
                self._judge(
                    name,
                    index,
                    _failure(index) or _outcome(index.nearest, vector, self.K, *self._params(index)),
                )
                for name, index, vector in self._targets()
            ]
        )

    async def arun(self) -> list[str]:
        return self._done(
            [
                self._judge(
                    name,
                    index,
                    _failure(index) or await _aoutcome(index.anearest, vector, self.K, *self._params(index)),
                )
                for name, index, vector in self._targets()
            ]
        )

    def _params(self, index: Any) -> tuple[Any, ...]:
        return self.service.search_params(parse_filters(None), index)

    def _done(self, found: list[str | None]) -> list[str]:
        problems = [p for p in found if p]
        if tops := self._tops():
            problems.append(f"engine check failed: {tops}")
        self.problems, self.checked_at = problems, time.monotonic()
        return problems

    def due(self, every: float = CHECK_EVERY_SECONDS) -> bool:
        return self.checked_at is None or time.monotonic() - self.checked_at >= every
