"""Every Paris calendar day is processed exactly once by each DAG, through two years of clock changes.

The schedule is walked with Airflow's own timetable API (the core timetable the scheduler uses), and
each run's task arguments are rendered the way Airflow renders them (the DAG's Jinja environment and
the run's context: `ds` is the UTC date of the logical date), so the test sees the days the tasks
would really be given.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pendulum
import pytest

from data_gcp.config import (
    Env,
    processed_days,
    processing_day,
    reset_settings,
    scheduled_moment,
    workspace_root,
)
from data_gcp.local_run import argv_days
from data_gcp.orchestration import fires_daily, schedule_table

FIRST, LAST = dt.date(2026, 1, 1), dt.date(2027, 12, 31)


def _runs(dag):  # noqa: ANN001, ANN202
    """(logical_date, data_interval) of each scheduled run up to 2028-01-10 (a weekly run covers 2027's end)."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(
        earliest=pendulum.datetime(2025, 12, 1, tz="UTC"), latest=None, catchup=True
    )
    stop = pendulum.datetime(2028, 1, 10, tz="UTC")
    last = None
    while True:
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None or info.run_after > stop:
            return
        yield info.logical_date, info.data_interval, info.run_after
        last = info.data_interval


_days_of = argv_days  # the days a `data-gcp` argv processes


def _render(templates, dag, task, logical_date, interval) -> list[str]:  # noqa: ANN001
    context = {
        "ds": logical_date.in_timezone("UTC").strftime("%Y-%m-%d"),
        "ds_nodash": logical_date.in_timezone("UTC").strftime("%Y%m%d"),
        "logical_date": logical_date,
        "data_interval_start": interval.start,
        "data_interval_end": interval.end,
        "dag": dag,
        "task": task,
    }
    return [t.render(**context) for t in templates]


def simulate(bag, unfinished: dict[str, set] | None = None) -> dict[str, Counter]:  # noqa: ANN001
    """dag id -> Counter(day -> runs processing it), for the DAGs whose tasks take days.

    `unfinished` collects, per DAG, the days a run was given before they had ended in Paris.
    """
    counts: dict[str, Counter] = {}
    unfinished = unfinished if unfinished is not None else {}
    for dag_id, dag in sorted(bag.dags.items()):
        if getattr(dag.timetable, "asset_condition", None) is not None:
            continue  # data-triggered: its day is its trigger's (test_scheduler_shaped_runs.py, test_cloud_rehearsal.py)
        env = dag.get_template_env()
        argvs = [
            (task, [env.from_string(str(a)) for a in task.op_args[0]])
            for task in dag.tasks
            if getattr(task, "op_args", None)
        ]
        for logical_date, interval, run_after in _runs(dag):
            for task, templates in argvs:
                for day in _days_of(_render(templates, dag, task, logical_date, interval)):
                    counts.setdefault(dag_id, Counter())[day] += 1
                    day_end = pendulum.datetime(day.year, day.month, day.day, tz="Europe/Paris").add(days=1)
                    if run_after < day_end:
                        unfinished.setdefault(dag_id, set()).add(day)
    return counts


def _anomalies(counts: Counter, expected: int, slack: int = 0) -> dict[dt.date, int]:
    day, out = FIRST, {}
    while day <= LAST:
        if abs(counts[day] - expected) > slack:
            out[day] = counts[day]
        day += dt.timedelta(days=1)
    return out


UNFINISHED: dict[str, set] = {}


def _hours_a_day(field: str) -> int:
    """How many hours of the day a cron hour field fires (`*`, `*/6`, `1,13`, `8-18`)."""
    hours: set[int] = set()
    for part in field.split(","):
        spec, _, step = part.partition("/")
        lo, hi = (0, 23) if spec == "*" else (int(spec.split("-")[0]), int(spec.split("-")[-1]))
        hours.update(range(lo, hi + 1, int(step or 1)))
    return len(hours)


@pytest.fixture(scope="module")
def cloud_counts():
    import os

    saved = {k: os.environ.get(k) for k in ("DATA_GCP_ENV", "DATA_GCP_PROJECT_ID")}
    os.environ.update(DATA_GCP_ENV="prod", DATA_GCP_PROJECT_ID="test-project")
    try:
        from airflow.dag_processing.dagbag import DagBag

        reset_settings()
        bag = DagBag(
            dag_folder=str(workspace_root() / "orchestration" / "dags"),
            safe_mode=False,
        )
        assert bag.import_errors == {}
        yield simulate(bag, UNFINISHED)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings()


def test_every_paris_day_of_2026_and_2027_is_processed_exactly_once(cloud_counts):
    table = schedule_table()
    dated = {d for d, s in table.items() if s.cron_for(Env.prod) and d != "ml_training"}
    assert dated <= set(cloud_counts), f"DAGs taking no day: {sorted(dated - set(cloud_counts))}"
    problems = {}
    for dag_id, counts in cloud_counts.items():
        cron = table[dag_id].cron_for(Env.prod)
        ticks_a_day = _hours_a_day(cron.split()[1])
        # a sub-daily DAG re-processes the last ended day at each run of the day (module doc of
        # data_gcp.config.days); every other DAG processes each day once
        sub_daily = fires_daily(cron) and ticks_a_day > 1
        expected = ticks_a_day if sub_daily else 1
        # an hourly DAG runs 23 or 25 times on the days the clocks change: one run more or less
        wrong = _anomalies(counts, expected, slack=1 if sub_daily and ticks_a_day == 24 else 0)
        if wrong:
            problems[dag_id] = {str(d): n for d, n in list(wrong.items())[:6]} | {"days wrong": len(wrong)}
    assert not problems, f"Paris days processed other than once: {problems}"


def test_no_run_is_given_a_day_that_has_not_ended_in_paris(cloud_counts):
    early = {d: sorted(map(str, days))[:4] + [f"{len(days)} days"] for d, days in UNFINISHED.items()}
    assert not early, f"runs given a day before it ended (Paris): {early}"


def test_the_cli_default_and_the_local_run_process_the_same_day_as_a_scheduled_run():
    # 2026-03-29 is the spring clock change, 2026-10-25 the autumn one
    for day in (dt.date(2026, 3, 28), dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 12, 31)):
        moment = scheduled_moment(day)
        assert tuple(processed_days(moment, moment)) == (day, day)
        assert processing_day(moment) == day
        one_am_next_day = dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time(1), tzinfo=pendulum.timezone("Europe/Paris")
        )
        assert processing_day(one_am_next_day) == day
