"""DagRuns created the way Airflow's scheduler creates them, run in this process.

Why not `dag.test()`: it creates a manual run with a logical date, so an asset-triggered DAG gets a
data interval, `ds` and no triggering events, none of which it has in the cloud. Here:

- a time-scheduled run is the next tick of the DAG's own timetable (`next_dagrun_info`, the call the
  scheduler makes): run type `scheduled`, its logical date and data interval;
- an asset-triggered run is created by the scheduler's own code (`DagModel.dags_needing_dagruns`,
  then `SchedulerJobRunner._create_dag_runs_asset_triggered`) from the asset events the finished
  tasks emitted: run type `asset_triggered`, no logical date, no data interval, the events consumed.

Each run's tasks then run in this process, as `dag.test()` runs them (dependencies, trigger rules,
XCom, asset events through the in-process execution API). Call `configure_airflow` first.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from data_gcp.config import DataGcpError


@dataclass(frozen=True)
class RunResult:
    dag_id: str
    run_id: str
    run_type: str
    logical_date: dt.datetime | None
    run_after: dt.datetime
    state: str
    task_states: dict[str, str]
    consumed: tuple[tuple[str, dict[str, Any]], ...]  # (asset uri, event extra) of consumed events
    seconds: float = 0.0


def sync_dags(dag_folder: str) -> dict[str, Any]:
    """Parse `dag_folder` and write the DAGs to the metadata DB (serialized DAGs, asset references), as
    the DAG processor does; returns dag id -> DAG. Any import error stops here, naming the file."""
    from airflow import settings
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    session = settings.Session()
    manager = DagBundlesManager()
    manager.sync_bundles_to_db(session=session)
    session.commit()
    bag = BundleDagBag(dag_folder=dag_folder, bundle_path=dag_folder, bundle_name="dags-folder")
    if bag.import_errors:
        raise DataGcpError(f"the DAGs in {dag_folder} do not import: {bag.import_errors}")
    sync_bag_to_db(bag, "dags-folder", None)
    return dict(bag.dags)


def unpause_only(dag_ids: list[str]) -> None:
    """Unpause `dag_ids` and pause every other DAG: the scheduler creates runs of unpaused DAGs only."""
    from airflow import settings
    from airflow.models.dag import DagModel
    from sqlalchemy import update

    session = settings.Session()
    session.execute(update(DagModel).values(is_paused=~DagModel.dag_id.in_(dag_ids)))
    session.commit()


def next_run_info(dag: Any, after: Any | None, earliest: dt.datetime) -> Any:
    """The scheduler's next tick of `dag` after the data interval `after` (None: the first from
    `earliest`): Airflow's `DagRunInfo` (logical date, data interval, run_after), or None."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(earliest=earliest, latest=None, catchup=True)
    return timetable.next_dagrun_info(last_automated_data_interval=after, restriction=restriction)


def _scheduler_dag(dag_id: str, session: Any) -> Any:
    from airflow.models.serialized_dag import SerializedDagModel

    serdag = SerializedDagModel.get(dag_id=dag_id, session=session)
    if serdag is None:
        raise DataGcpError(f"DAG {dag_id} is not in the metadata DB: call sync_dags first")
    return serdag.dag


def create_scheduled_run(dag_id: str, info: Any) -> str:
    """The run the scheduler creates for the timetable tick `info`; returns its run id."""
    from airflow import settings
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    session = settings.Session()
    dag = _scheduler_dag(dag_id, session)
    run = dag.create_dagrun(
        run_id=DagRun.generate_run_id(
            run_type=DagRunType.SCHEDULED, logical_date=info.logical_date, run_after=info.run_after
        ),
        logical_date=info.logical_date,
        data_interval=info.data_interval,
        run_after=info.run_after,
        run_type=DagRunType.SCHEDULED,
        triggered_by=DagRunTriggeredByType.TIMETABLE,
        state=DagRunState.QUEUED,
        session=session,
    )
    session.commit()
    return run.run_id


def create_asset_triggered_runs() -> list[tuple[str, str]]:
    """The asset-triggered runs the scheduler would create now, created by its own code; returns
    (dag id, run id) of each (none when no DAG's asset condition is met)."""
    from airflow import settings
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    session = settings.Session()
    query, triggered = DagModel.dags_needing_dagruns(session)
    models = [m for m in query.all() if m.dag_id in triggered]
    if not models:
        session.commit()
        return []
    before = set(session.scalars(select(DagRun.run_id)).all())
    runner = SchedulerJobRunner(job=Job(), executors=[])
    runner._create_dag_runs_asset_triggered(dag_models=models, session=session)
    session.commit()
    created = session.execute(select(DagRun.dag_id, DagRun.run_id)).all()
    return [(d, r) for d, r in created if r not in before]


def execute_run(dag: Any, run_id: str) -> RunResult:
    """Start the run (queued -> running, as the scheduler does) and run its tasks in this process,
    the loop of `dag.test()`; returns its final state and each task's."""
    from airflow import settings
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils import timezone
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    started = time.monotonic()
    scheduler_dag = None

    def load() -> tuple[Any, Any]:
        nonlocal scheduler_dag
        session = settings.Session()  # each task's run closes the scoped session: a fresh one
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag.dag_id, DagRun.run_id == run_id))
        scheduler_dag = scheduler_dag or _scheduler_dag(dag.dag_id, session)
        run.dag = scheduler_dag
        return session, run

    session, run = load()
    run.state = DagRunState.RUNNING
    run.start_date = timezone.utcnow()
    session.commit()
    while True:
        session, run = load()
        if run.state != DagRunState.RUNNING:
            break
        schedulable, _ = run.update_state(session=session)
        for ti in schedulable:
            ti.try_number += 1
            ti.state = TaskInstanceState.SCHEDULED
            ti.scheduled_dttm = timezone.utcnow()
        session.commit()
        scheduled = [t for t in run.get_task_instances(session=session) if t.state == "scheduled"]
        if not scheduled and run.state == DagRunState.RUNNING:
            # nothing runnable now: a task waits for its retry delay (the cloud plan's), or can never
            # run; the rehearsal does not wait: the run ends failed, the task's state kept
            run.set_state(DagRunState.FAILED)
            session.commit()
            break
        for ti in scheduled:
            _run_task(ti=ti, task=dag.task_dict[ti.task_id], run_triggerer=True)
    session, run = load()
    tis = run.get_task_instances(session=session)
    consumed = tuple((e.asset.uri, dict(e.extra or {})) for e in run.consumed_asset_events)
    return RunResult(
        dag_id=dag.dag_id,
        run_id=run_id,
        run_type=str(getattr(run.run_type, "value", run.run_type)),
        logical_date=run.logical_date,
        run_after=run.run_after,
        state=str(getattr(run.state, "value", run.state)),
        task_states={t.task_id: str(getattr(t.state, "value", t.state)) for t in tis},
        consumed=consumed,
        seconds=time.monotonic() - started,
    )
