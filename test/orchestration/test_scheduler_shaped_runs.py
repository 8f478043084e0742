"""Every cloud DAG, given a run shaped as Airflow's scheduler creates it, renders its tasks' arguments
and names the right day.

A time-scheduled run is the next tick of the DAG's own timetable (logical date, data interval). An
asset-triggered run has no logical date and no data interval (Airflow 3: `ds`, `data_interval_start`
and `data_interval_end` are then absent from the context) and carries the asset events it consumed,
with the `extra` their producers wrote. Templates are rendered by the Task SDK itself
(`RuntimeTaskInstance.render_templates`, the context it builds from the run), not by a hand-made
context. The whole chain, run for real, is in `test_cloud_rehearsal.py`.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pendulum
import pytest

from data_gcp.config import Env, processing_day, reset_settings, temporary_env, workspace_root
from data_gcp.local_run import argv_days
from data_gcp.orchestration import get_spec
from data_gcp.orchestration.trigger import FIRST_KEY, LAST_KEY

DAY = dt.date(2026, 10, 25)  # the autumn clock change (a 25-hour day in Paris)
# the asset-triggered runs start the next morning: 03:40 Paris, after the last nightly producer
TRIGGERED_AT = pendulum.datetime(2026, 10, 26, 3, 40, tz="Europe/Paris")


@pytest.fixture(scope="module")
def cloud_bag(current_manifest):
    """The DAGs as Composer parses them in production."""
    from airflow.dag_processing.dagbag import DagBag

    with temporary_env({"DATA_GCP_ENV": "prod", "DATA_GCP_PROJECT_ID": "test-project"}):
        reset_settings()
        try:
            bag = DagBag(dag_folder=str(workspace_root() / "orchestration" / "dags"), safe_mode=False)
            assert bag.import_errors == {}
            yield bag
        finally:
            reset_settings()


def _event(uri: str, extra: dict, source_dag: str) -> dict:
    return {
        "asset": {"name": uri, "uri": uri, "extra": {}},
        "extra": extra,
        "source_task_id": "t",
        "source_dag_id": source_dag,
        "source_run_id": "scheduled__x",
        "source_map_index": -1,
        "source_aliases": [],
        "timestamp": TRIGGERED_AT.subtract(minutes=5),
    }


def _scheduled_run(dag) -> dict:  # noqa: ANN001
    """The scheduler's run for the tick of `dag` that processes DAY."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(
        earliest=pendulum.datetime(2026, 10, 15, tz="UTC"), latest=None, catchup=True
    )
    day_end = pendulum.datetime(DAY.year, DAY.month, DAY.day, tz="Europe/Paris").add(days=1)
    info, last = None, None
    while True:
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info.run_after >= day_end:
            break
        last = info.data_interval
    return {
        "logical_date": info.logical_date,
        "data_interval_start": info.data_interval.start,
        "data_interval_end": info.data_interval.end,
        "run_after": info.run_after,
        "run_type": "scheduled",
        "consumed_asset_events": [],
    }


def _triggered_run(dag_id: str, day_in_events: bool) -> dict:
    """The scheduler's asset-triggered run: no logical date, no interval, the events it consumed (one
    per asset the DAG waits for; with the days their producers wrote, or none)."""
    spec = get_spec(dag_id)
    extra = {FIRST_KEY: DAY.isoformat(), LAST_KEY: DAY.isoformat()} if day_in_events else {}
    return {
        "logical_date": None,
        "data_interval_start": None,
        "data_interval_end": None,
        "run_after": TRIGGERED_AT,
        "run_type": "asset_triggered",
        "consumed_asset_events": [_event(uri, extra, "producer") for uri in (*spec.after, *spec.after_any)],
    }


def _render(dag, task, run: dict) -> list[str]:  # noqa: ANN001
    """The task's argv as the Task SDK renders it in a run shaped as `run`."""
    from airflow.sdk.api.datamodels._generated import DagRun, TIRunContext
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    task = task.prepare_for_execution()  # rendering replaces the arguments of the task it renders
    dag_run = DagRun(
        dag_id=dag.dag_id,
        run_id=f"{run['run_type']}__test",
        state="running",
        start_date=run["run_after"],
        end_date=None,
        partition_key=None,  # Airflow 3.3's run model requires these three, as the API server sends them
        **run,
    )
    ti = RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(),
        task_id=task.task_id,
        dag_id=dag.dag_id,
        run_id=dag_run.run_id,
        try_number=1,
        map_index=-1,
        dag_version_id=uuid.uuid4(),
        task=task,
        max_tries=0,
        start_date=pendulum.now("UTC"),
        _ti_context_from_server=TIRunContext(dag_run=dag_run, max_tries=0),
    )
    ti._ti_context_from_server = TIRunContext(dag_run=dag_run, max_tries=0)
    task = ti.render_templates()
    return [str(a) for a in task.op_args[0]]


def _cli_tasks(dag):  # noqa: ANN001, ANN202
    return [t for t in dag.tasks if getattr(t, "op_args", None) and isinstance(t.op_args[0], list)]


def test_every_cloud_dag_renders_its_arguments_in_a_run_the_scheduler_creates(cloud_bag):
    problems = {}
    for dag_id, dag in sorted(cloud_bag.dags.items()):
        data_triggered = getattr(dag.timetable, "asset_condition", None) is not None
        if not data_triggered and get_spec(dag_id).cron_for(Env.prod) is None:
            continue
        run = _triggered_run(dag_id, day_in_events=True) if data_triggered else _scheduled_run(dag)
        for task in _cli_tasks(dag):
            try:
                argv = _render(dag, task, run)
            except Exception as err:  # noqa: BLE001 - collected, reported together
                problems[f"{dag_id}.{task.task_id}"] = f"{type(err).__name__}: {err}"
                continue
            days = set(argv_days(argv))
            if days and max(days) != DAY:
                problems[f"{dag_id}.{task.task_id}"] = f"given {sorted(map(str, days))}, expected {DAY}"
    assert not problems, problems


def test_the_export_takes_its_day_from_the_event_that_triggered_it(cloud_bag):
    """`dbt_exports` has no logical date in the cloud: its day is the one its trigger names."""
    dag = cloud_bag.dags["dbt_exports"]
    (task,) = _cli_tasks(dag)
    argv = _render(dag, task, _triggered_run("dbt_exports", day_in_events=True))
    assert argv[argv.index("--date") + 1] == DAY.isoformat()
    # the day before: the events name it, whatever the moment of the trigger
    run = _triggered_run("dbt_exports", day_in_events=True)
    for event in run["consumed_asset_events"]:
        event["extra"] = {FIRST_KEY: "2026-10-24", LAST_KEY: "2026-10-24"}
    argv = _render(dag, task, run)
    assert argv[argv.index("--date") + 1] == "2026-10-24"


def test_an_event_naming_no_day_gives_the_paris_day_before_the_trigger(cloud_bag):
    """An asset event created by hand (UI, API) carries no day: the run processes the Paris day before it
    was triggered, as a manual run does."""
    dag = cloud_bag.dags["dbt_exports"]
    (task,) = _cli_tasks(dag)
    argv = _render(dag, task, _triggered_run("dbt_exports", day_in_events=False))
    assert argv[argv.index("--date") + 1] == processing_day(TRIGGERED_AT).isoformat() == DAY.isoformat()
