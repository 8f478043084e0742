"""Date windows: the `--start/--end` of every incremental connector (inclusive days)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from data_gcp.config import DataGcpError, processing_day


@dataclass(frozen=True)
class DateWindow:
    """Inclusive day range [start, end]. Connectors turn it into vendor parameters."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise DataGcpError(f"invalid window: start {self.start} is after end {self.end}")

    @classmethod
    def yesterday(cls, today: dt.date | None = None) -> DateWindow:
        """The day before `today`; default: the Paris day before now (`data_gcp.config.processing_day`)."""
        day = today - dt.timedelta(days=1) if today else processing_day()
        return cls(day, day)

    @classmethod
    def resolve(
        cls,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        today: dt.date | None = None,
    ) -> DateWindow:
        """Default yesterday; `--start` alone means that one day; `--end` alone means that one day."""
        s, e = _as_date(start, "--start"), _as_date(end, "--end")
        if s is None and e is None:
            return cls.yesterday(today)
        return cls(s or e, e or s)  # type: ignore[arg-type]

    def days(self) -> Iterator[dt.date]:
        day = self.start
        while day <= self.end:
            yield day
            day += dt.timedelta(days=1)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    def last_days(self, n: int) -> DateWindow:
        """The n days ending at `end` (e.g. Batch's 7-day transactional stats)."""
        return DateWindow(self.end - dt.timedelta(days=n - 1), self.end)

    def at_least(self, n: int) -> DateWindow:
        """This window, widened to the n days ending at `end` when it is shorter (vendors that
        report over a sliding period: Batch stats, Qualtrics answers)."""
        return self if self.n_days >= n else self.last_days(n)

    @property
    def start_datetime(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    @property
    def end_exclusive_datetime(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}..{self.end}"


def _as_date(value: dt.date | str | None, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DataGcpError(f"{what} {value!r} is not a date: use YYYY-MM-DD") from None
