"""What every DAG gets from the schedule table: schedule, start date, owner, tags, retries, callback.

Why here and not in each DAG file: a DAG file only says what runs; the policy (retries, alerts, no
catch-up) is the same for all and is tested once. Nothing here reads a secret or the network.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from data_gcp.config import ProcessedDays, Settings, get_settings, processed_days, processing_day
from data_gcp.log import get_logger
from data_gcp.orchestration.schedules import TIMEZONE, DagSpec, get_spec
from data_gcp.orchestration.trigger import dbt_vars, trigger_day

# The days a run processes, as Jinja for task arguments (`data_gcp.config.processed_days`: the Paris
# days that ended within the run's data interval). Never `{{ ds }}`: that is a UTC date.
FIRST_DAY = "{{ processed_days(data_interval_start, data_interval_end).start }}"
LAST_DAY = "{{ processed_days(data_interval_start, data_interval_end).end }}"

log = get_logger(__name__)

LOCAL_CRON = "0 0 * * *"  # local timetable of a time-scheduled DAG: a Paris day per run (see schedule_for)

# Runs that nobody watches: their failures must reach the alerts channel. Manual and test runs
# (`dag.test()`, `data-gcp run`) are watched by whoever started them.
ALERTED_RUN_TYPES = frozenset({"scheduled", "asset_triggered"})


def _run_type(dag_run: Any) -> str:
    run_type = getattr(dag_run, "run_type", None)
    return str(getattr(run_type, "value", run_type) or "")


def task_failure_alert(context: dict[str, Any]) -> bool:
    """Airflow `on_failure_callback`: post DAG, task, run and log URL to the alerts channel.

    Returns whether an alert was posted. Never raises: a failing alert must not hide the task's error.
    """
    dag_run = context.get("dag_run")
    if _run_type(dag_run) not in ALERTED_RUN_TYPES:
        return False
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = getattr(dag_run, "run_id", None) or getattr(ti, "run_id", "?")
    log_url = getattr(ti, "log_url", None)
    exception = context.get("exception")
    try:
        from data_gcp.alerts import format_task_failure, send_alert

        text = format_task_failure(dag_id, task_id, run_id, log_url, str(exception) if exception else None)
        return send_alert(text)
    except Exception as err:  # noqa: BLE001 - the callback must not fail the task a second time
        log.error("failure alert for %s.%s not sent: %s", dag_id, task_id, err)
        return False


def run_processed_days(interval_start: Any, interval_end: Any) -> ProcessedDays:
    """The `processed_days` of task templates (`FIRST_DAY`, `LAST_DAY`): a run with no data interval (a
    Trigger with no logical date, where `data_interval_*` are not in the context) processes the Paris
    day before it runs, like any run started by hand."""
    start = interval_start if isinstance(interval_start, dt.datetime) else None
    end = interval_end if isinstance(interval_end, dt.datetime) else None
    if start is None and end is None:
        day = processing_day()
        return ProcessedDays(day, day)
    return processed_days(start, end)


def schedule_for(spec: DagSpec, settings: Settings | None = None) -> Any:
    """The `schedule=` argument: None, the assets the DAG waits for, or a Paris cron as data intervals.

    Why data intervals (`CronDataIntervalTimetable`) and not a bare cron: a run then covers the time
    from the previous tick to its own, so `processed_days` names the days that ended in between, the
    same in winter and summer.
    """
    settings = settings or get_settings()
    if spec.after or spec.after_any:
        from airflow.sdk import Asset, AssetAll

        condition = AssetAll(*(Asset(uri) for uri in spec.after))
        for uri in spec.after_any:
            condition = condition | Asset(uri)
        return condition
    cron = spec.cron_for(settings.env)
    if cron is None and not settings.is_cloud and any(spec.cron.values()):
        # Locally a time-scheduled DAG covers one Paris day per run: Trigger and backfill in
        # `data-gcp ui`, and `data-gcp run --date D`, process the day the run's interval ends. Its
        # scheduler creates no run by itself (`local_ui`): a day runs when someone asks for it.
        cron = LOCAL_CRON
    if cron is None:
        return None
    from airflow.sdk import CronDataIntervalTimetable

    return CronDataIntervalTimetable(cron, timezone=TIMEZONE)


def outlets_for(dag_id: str) -> list[Any]:
    """The assets a DAG's final task updates (its `outlets=`)."""
    from airflow.sdk import Asset

    return [Asset(uri) for uri in get_spec(dag_id).produces]


def default_args(spec: DagSpec, settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    return {
        "owner": spec.owner,
        "retries": spec.retries_for(settings.env),
        "retry_delay": dt.timedelta(minutes=spec.retry_delay_minutes),
        "retry_exponential_backoff": True,
        "on_failure_callback": task_failure_alert,
        "execution_timeout": dt.timedelta(minutes=spec.task_timeout_minutes),
    }


def dag_kwargs(dag_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments for `@dag(...)` / `DAG(...)` from the table row of `dag_id`."""
    import pendulum

    settings = settings or get_settings()
    spec = get_spec(dag_id)
    return {
        "dag_id": spec.dag_id,
        "description": spec.description,
        "schedule": schedule_for(spec, settings),
        "start_date": pendulum.datetime(2024, 1, 1, tz=TIMEZONE),
        "catchup": False,
        "max_active_runs": 1,
        "tags": list(spec.tags),
        "default_args": default_args(spec, settings),
        "doc_md": spec.description,
        "dagrun_timeout": dt.timedelta(minutes=spec.dagrun_timeout_minutes),
        "user_defined_macros": {
            "processed_days": run_processed_days,
            "trigger_day": trigger_day,
            "dbt_vars": dbt_vars,
        },
    }
