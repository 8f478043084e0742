"""Token-bucket rate limiter: smooths calls to what a vendor allows (e.g. Sirene: 30 calls a minute)."""

from __future__ import annotations

import threading

from data_gcp.http_client.clock import Clock, SystemClock


class RateLimiter:
    """`rate` calls per `per` seconds, bursts up to `burst` (default: `rate`).

    Also accepts a pause imposed by the vendor (`pause_until`), e.g. when a rate-limit header says
    no call is left before the window resets.
    """

    def __init__(self, rate: float, per: float = 1.0, burst: float | None = None, clock: Clock | None = None):
        if rate <= 0 or per <= 0:
            raise ValueError("rate and per must be positive")
        self.clock = clock or SystemClock()
        self.fill_rate = rate / per
        self.capacity = float(burst if burst is not None else rate)
        self.tokens = self.capacity
        self.updated = self.clock.monotonic()
        self.blocked_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.fill_rate)
        self.updated = now

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds slept."""
        slept = 0.0
        with self._lock:
            while True:
                now = self.clock.monotonic()
                if now < self.blocked_until:
                    wait = self.blocked_until - now
                else:
                    self._refill(now)
                    # tolerance: float rounding can leave 0.99999... tokens after the exact wait,
                    # and a FakeClock far from 0 cannot advance by the ~1e-16 s still missing
                    if self.tokens >= 1 - 1e-9:
                        self.tokens = max(0.0, self.tokens - 1)
                        return slept
                    wait = (1 - self.tokens) / self.fill_rate
                self.clock.sleep(wait)
                slept += wait

    def pause_until(self, monotonic_deadline: float) -> None:
        with self._lock:
            self.blocked_until = max(self.blocked_until, monotonic_deadline)
