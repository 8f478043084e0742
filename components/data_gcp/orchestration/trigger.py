"""The days a data-triggered run processes: named by the asset events that triggered it.

Why not `{{ ds }}` or the data interval: Airflow 3 creates an asset-triggered run with no logical date
and no data interval (`logical_date=None`), so `ds`, `data_interval_start` and `data_interval_end`
are not in its context at all. The day travels with the data instead: every task that updates an
asset writes the days its run processed into the asset event's `extra` (`first_day`, `last_day`), and
a run triggered by such events processes the days they name (`dag_run.consumed_asset_events`, part
of the run in Airflow 3.0 and later).

Which events name a DAG's day: those of the assets in its schedule row's `day_from` (default: every
asset it waits for). `dbt_run` takes its day from the app-database import only: the connectors that
land hourly or weekly also trigger rebuilds, and such a rebuild processes no new day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from data_gcp.config import DataGcpError, ProcessedDays, processed_days, processing_day

FIRST_KEY, LAST_KEY = "first_day", "last_day"

# The day a data-triggered run processes (the last one its trigger names), as Jinja for task arguments.
TRIGGER_DAY = "{{ trigger_day(dag_run) }}"


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _uri(event: Any) -> str | None:
    asset = _get(event, "asset")
    return _get(asset, "uri") if asset is not None else None


def day_assets(dag_id: str) -> tuple[str, ...]:
    """The assets whose events name the days a run of `dag_id` processes (its `day_from`, else `after`)."""
    from data_gcp.orchestration.schedules import get_spec

    spec = get_spec(dag_id)
    return spec.day_from or spec.after


def event_days(events: list[Any], assets: tuple[str, ...] | None = None) -> ProcessedDays | None:
    """The days named by `events` (of `assets`, every asset if None): first to last, or None."""
    firsts, lasts = [], []
    for event in events:
        if assets is not None and _uri(event) not in assets:
            continue
        extra = _get(event, "extra") or {}
        if extra.get(LAST_KEY):
            lasts.append(dt.date.fromisoformat(str(extra[LAST_KEY])))
            firsts.append(dt.date.fromisoformat(str(extra.get(FIRST_KEY) or extra[LAST_KEY])))
    if not lasts:
        return None
    return ProcessedDays(min(firsts), max(lasts))


def run_days(dag_run: Any) -> ProcessedDays | None:
    """The days a run processes: those its triggering events name, else those its data interval ended.

    None for a run with neither (an asset-triggered run whose events name no day of the DAG's
    `day_from` assets: a rebuild after an hourly or weekly landing).
    """
    events = list(_get(dag_run, "consumed_asset_events") or [])
    dag_id = _get(dag_run, "dag_id")
    try:
        assets = day_assets(dag_id) if dag_id else None
    except DataGcpError:
        assets = None
    days = event_days(events, assets or None)
    if days is not None:
        return days
    start, end = _get(dag_run, "data_interval_start"), _get(dag_run, "data_interval_end")
    if start is not None or end is not None:
        return processed_days(start, end)
    return None


def trigger_day(dag_run: Any) -> str:
    """Jinja macro (`TRIGGER_DAY`): the last day a run processes, ISO; a run that names none (started
    by hand with no logical date) processes the Paris day before it started."""
    days = run_days(dag_run)
    if days is not None:
        return days.end.isoformat()
    run_after = _get(dag_run, "run_after")
    if run_after is None:
        raise DataGcpError(
            f"run {_get(dag_run, 'run_id')!r} of {_get(dag_run, 'dag_id')!r} names no day: no asset "
            "event with a day, no data interval, no run_after; trigger it with a logical date"
        )
    return processing_day(run_after).isoformat()


def mark_outlet_days(context: Any, days: ProcessedDays | None) -> None:
    """Write `days` into the events of the running task's outlets (their `extra`), for the runs they
    trigger (`run_days`)."""
    if days is None:
        return
    accessors = context["outlet_events"]
    for outlet in context["outlets"] or []:
        accessors[outlet].extra.update({FIRST_KEY: days.start.isoformat(), LAST_KEY: days.end.isoformat()})


# The dbt DAG's params: a run triggered from the Airflow UI with `first_day` (and `last_day`) set
# re-processes exactly those days of the incremental models (a backfill, no look-back); with
# `full_refresh` it rebuilds them from their whole history up to `last_day`.
DBT_PARAM_SPECS: dict[str, tuple[Any, dict[str, Any]]] = {
    "first_day": (
        None,
        {"type": ["null", "string"], "format": "date", "title": "Backfill from (YYYY-MM-DD)"},
    ),
    "last_day": (
        None,
        {"type": ["null", "string"], "format": "date", "title": "Backfill to (default: from)"},
    ),
    "full_refresh": (False, {"type": "boolean", "title": "Rebuild incremental models from their history"}),
}

DBT_VAR_NAMES = ("first_day", "last_day", "lookback_days")


def dbt_params() -> dict[str, Any]:
    """The dbt DAG's `params` (Airflow `Param`s, shown as a form by the UI's Trigger)."""
    from airflow.sdk import Param

    return {name: Param(default, **schema) for name, (default, schema) in DBT_PARAM_SPECS.items()}


def _param_day(params: Any, name: str) -> dt.date | None:
    raw = (params or {}).get(name)
    if raw in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise DataGcpError(f"dbt DAG param {name} must be a date YYYY-MM-DD, got {raw!r}") from None


def dbt_vars(dag_run: Any, params: Any = None) -> dict[str, str]:
    """Jinja macro: the dbt vars of a dbt run (see dbt/macros/incremental.sql), as strings.

    The params `first_day`/`last_day` when given (a backfill: exactly those days, no look-back),
    else the days the run processes (`run_days`, as `trigger_day`) with the project's look-back
    (an empty `lookback_days` leaves dbt's default).
    """
    first = _param_day(params, "first_day")
    if first is not None:
        last = _param_day(params, "last_day") or first
        if first > last:
            raise DataGcpError(f"dbt DAG params: first_day {first} is after last_day {last}")
        return {"first_day": first.isoformat(), "last_day": last.isoformat(), "lookback_days": "0"}
    last_day = dt.date.fromisoformat(trigger_day(dag_run))
    days = run_days(dag_run)
    first_day = days.start if days is not None else last_day
    return {"first_day": first_day.isoformat(), "last_day": last_day.isoformat(), "lookback_days": ""}


# The dbt tasks' `vars` and `full_refresh`, as Jinja (rendered per run, in the task).
DBT_VARS = {name: "{{ dbt_vars(dag_run, params)['" + name + "'] }}" for name in DBT_VAR_NAMES}
DBT_FULL_REFRESH = "{{ params.get('full_refresh', False) }}"
