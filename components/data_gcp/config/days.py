"""The day a run processes: one definition for every DAG, the CLI defaults and `data-gcp run`.

Why one definition: a daily run starts after the day it processes has ended, in Paris wall time (the
reference schedules are Paris times). Airflow's `{{ ds }}` is the UTC date of the logical date, which
names a different day in winter and in summer; this module never uses it.

A scheduled run covers a data interval (the previous cron tick to its own tick, Airflow's
`CronDataIntervalTimetable`). It processes the Paris calendar days that ended within that interval:
one day for a daily DAG, seven for a weekly one, so each day is processed exactly once whatever the
clock changes. A run of a sub-daily schedule whose interval holds no midnight (the 06:00, 12:00 and
18:00 runs of a six-hourly DAG) processes the last day that ended, again. A run outside the schedule
(manual trigger, `data-gcp ...` by hand) processes the Paris day before the moment it starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

TIMEZONE = "Europe/Paris"
_PARIS = ZoneInfo(TIMEZONE)


@dataclass(frozen=True)
class ProcessedDays:
    """Inclusive range of Paris calendar days a run processes."""

    start: dt.date
    end: dt.date

    def __iter__(self):  # noqa: ANN204 - lets `start, end = processed_days(...)` read naturally
        return iter((self.start, self.end))


def paris_date(moment: dt.datetime) -> dt.date:
    """The Paris calendar date of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(_PARIS).date()


def processing_day(now: dt.datetime | None = None) -> dt.date:
    """The Paris day before `now` (default: this moment): what a run started now processes."""
    return paris_date(now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=1)


def processed_days(interval_start: dt.datetime | None, interval_end: dt.datetime | None) -> ProcessedDays:
    """The Paris days that ended within [interval_start, interval_end) of a run (see the module doc).

    A run with an empty interval (triggered by hand: start == end) processes the day before its end.
    """
    if interval_end is None and interval_start is None:
        raise ValueError("a run's data interval is needed to know the days it processes")
    end_moment = interval_end or interval_start
    start_moment = interval_start or end_moment
    last = paris_date(end_moment) - dt.timedelta(days=1)  # type: ignore[arg-type]
    first = min(paris_date(start_moment), last)  # type: ignore[arg-type]
    return ProcessedDays(first, last)


def scheduled_moment(day: dt.date) -> dt.datetime:
    """A moment whose run processes `day` (midnight ending it, Paris): what `data-gcp run` triggers."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=_PARIS).astimezone(dt.UTC)
