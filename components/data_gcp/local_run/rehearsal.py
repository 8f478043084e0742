"""The cloud nightly, rehearsed on local engines: the production plan run as the scheduler runs it.

What is the production plan here: the DAG files parsed with `DATA_GCP_ENV=prod` (cloud timetables,
retries, asset triggers, the dbt models as one Cosmos task per model, trigger rules). What is local:
the engines the tasks run on (`DATA_GCP_ENV=local` while they run: jobs in this process, DuckDB, the
local bucket, the fake vendor servers, dbt's `local` target).

A clock walks the production timetables over the nights after the given days: at each tick every
DAG due gets its scheduled run (`scheduler.create_scheduled_run`), then every asset-triggered run the
scheduler's own code creates from the events of the finished tasks is run, until none is left. The
report lists every run with the days it processed, read back from what it was given: the rendered
`--date`/`--start`/`--end` of its tasks and the days its asset events name.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_gcp.config import DataGcpError, get_settings, reset_settings, workspace_root
from data_gcp.local_run.scheduler import RunResult

PLAN_ENV = "prod"


@dataclass
class RehearsalReport:
    days: list[dt.date]
    runs: list[RunResult] = field(default_factory=list)
    # (dag id, run id) -> days processed (run ids repeat across DAGs: `scheduled__<tick>`)
    days_by_run: dict[tuple[str, str], list[dt.date]] = field(default_factory=dict)
    seconds: float = 0.0

    def processed(self, dag_id: str) -> Counter:
        """Day -> how many runs of `dag_id` processed it."""
        out: Counter = Counter()
        for run in self.runs:
            if run.dag_id == dag_id:
                out.update(self.days_of(run))
        return out

    def days_of(self, run: RunResult) -> list[dt.date]:
        return self.days_by_run.get((run.dag_id, run.run_id), [])

    def failed(self) -> list[RunResult]:
        return [r for r in self.runs if r.state != "success"]


def argv_days(argv: list[str]) -> list[dt.date]:
    """The days a `data-gcp` argv processes (`--date D`, or `--start A --end B`)."""
    opts = dict(zip(argv, argv[1:], strict=False))
    if "--date" in opts:
        return [dt.date.fromisoformat(opts["--date"])]
    if "--start" in opts:
        start = dt.date.fromisoformat(opts["--start"])
        end = dt.date.fromisoformat(opts.get("--end", opts["--start"]))
        return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return []


def _rendered_days(run: RunResult) -> list[dt.date]:
    """The days the run's tasks were given (their rendered argv, as Airflow stored it), else the days
    its outlet events name."""
    from airflow import settings
    from airflow.models.asset import AssetEvent
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
    from sqlalchemy import select

    session = settings.Session()
    days: list[dt.date] = []
    rows = session.execute(
        select(RTIF.rendered_fields).where(RTIF.dag_id == run.dag_id, RTIF.run_id == run.run_id)
    ).all()
    for (fields,) in rows:
        op_args = (fields or {}).get("op_args") or []
        if op_args and isinstance(op_args[0], list):
            days.extend(argv_days([str(a) for a in op_args[0]]))
    if days:
        return sorted(set(days))
    events = session.scalars(
        select(AssetEvent).where(
            AssetEvent.source_dag_id == run.dag_id, AssetEvent.source_run_id == run.run_id
        )
    ).all()
    from data_gcp.orchestration import event_days

    named = event_days([{"asset": {"uri": e.asset.uri}, "extra": e.extra} for e in events])
    if named is None:
        return []
    return [named.start + dt.timedelta(days=n) for n in range((named.end - named.start).days + 1)]


def rehearse(
    days: list[dt.date],
    dag_ids: list[str],
    *,
    until: dt.time = dt.time(9, 0),
    scale: float = 0.001,
    dbt_execution: str | None = None,
) -> RehearsalReport:
    """Run the production plan of `dag_ids` (and the runs their assets trigger) through Airflow over
    the nights after `days`, up to `until` (Paris) the morning after the last; the data folder and
    the rest come from the environment (`DATA_GCP_DATA_DIR`). Call in a process of its own: it sets
    Airflow's configuration and `DATA_GCP_ENV` for this process.

    `dbt_execution="single_build"` renders the dbt models as one `dbt build` task instead of one
    Cosmos task per model (`Settings.dbt_execution`): the same models and tests, one dbt start-up
    instead of one per model."""
    import pendulum

    from data_gcp.config import TIMEZONE
    from data_gcp.execution import run_in_process
    from data_gcp.local_run.airflow_home import configure_airflow, dags_folder, migrate_db
    from data_gcp.local_run.chain import _sandbox_seed_files, _source_exists, _vendor_servers
    from data_gcp.local_run.compat import apply_airflow_compat, shared_execution_api
    from data_gcp.local_run.scheduler import (
        create_asset_triggered_runs,
        create_scheduled_run,
        execute_run,
        next_run_info,
        sync_dags,
        unpause_only,
    )

    started = time.monotonic()
    if get_settings().is_cloud:
        raise DataGcpError("the rehearsal runs on local engines: start it with DATA_GCP_ENV=local")
    local = get_settings()
    configure_airflow(local)
    os.environ.setdefault("DATA_GCP_WORKSPACE_ROOT", str(workspace_root()))
    os.environ["DBT_TARGET"] = "local"  # dbt on the local warehouse, under the production plan
    report = RehearsalReport(days=days)
    with ExitStack() as stack:
        if not _source_exists(local):
            run_in_process(["sandbox", "generate", "--scale", str(scale)])
        _sandbox_seed_files(local)
        # the warehouse as the night before the first day left it (connectors read the app's tables)
        eve = (days[0] - dt.timedelta(days=1)).isoformat()
        run_in_process(["import", "applicative", "--date", eve])
        run_in_process(["dbt", "parse"])
        stack.enter_context(_vendor_servers(local))
        from data_gcp.orchestration import chain_order

        for dag_id in chain_order():  # and every connector's tables (a weekly one's too)
            if dag_id.startswith("etl_"):
                run_in_process(["etl", "run", dag_id.removeprefix("etl_"), "--start", eve, "--end", eve])
        migrate_db(local)
        apply_airflow_compat()
        shared_execution_api()

        # the production plan: parsed (and written to the metadata DB) as Composer parses it
        os.environ.update(
            DATA_GCP_ENV=PLAN_ENV, DATA_GCP_PROJECT_ID=os.environ.get("DATA_GCP_PROJECT_ID") or "rehearsal"
        )
        if dbt_execution:
            os.environ["DATA_GCP_DBT_EXECUTION"] = dbt_execution
        reset_settings()
        try:
            dags = sync_dags(str(dags_folder()))
        finally:
            os.environ["DATA_GCP_ENV"] = "local"
            reset_settings()
        missing = [d for d in dag_ids if d not in dags]
        if missing:
            raise DataGcpError(f"DAGs not found in {dags_folder()}: {', '.join(missing)}")
        unpause_only(dag_ids)

        paris = pendulum.timezone(TIMEZONE)
        first = pendulum.datetime(days[0].year, days[0].month, days[0].day, tz=paris).add(days=1)
        last_day = days[-1] + dt.timedelta(days=1)
        stop = pendulum.datetime(
            last_day.year, last_day.month, last_day.day, until.hour, until.minute, tz=paris
        )
        ticks: list[tuple[Any, str, Any]] = []
        for dag_id in dag_ids:
            if getattr(dags[dag_id].timetable, "asset_condition", None) is not None:
                continue  # triggered by data: the scheduler creates its runs below
            # from a week earlier: the first tick of a weekly DAG may fall in the window
            earliest = first.subtract(days=8)
            info = next_run_info(dags[dag_id], None, earliest)
            while info is not None and info.run_after <= stop:
                if info.run_after >= first:
                    ticks.append((info.run_after, dag_id, info))
                info = next_run_info(dags[dag_id], info.data_interval, earliest)
        ticks.sort(key=lambda t: (t[0], dag_ids.index(t[1])))

        def record(run: RunResult) -> None:
            report.runs.append(run)
            report.days_by_run[(run.dag_id, run.run_id)] = _rendered_days(run)

        for _, dag_id, info in ticks:
            record(execute_run(dags[dag_id], create_scheduled_run(dag_id, info)))
            while created := create_asset_triggered_runs():
                for triggered_dag, run_id in created:
                    record(execute_run(dags[triggered_dag], run_id))
    report.seconds = time.monotonic() - started
    return report


def export_days(bucket_dir: Path, family: str = "ministry") -> list[dt.date]:
    """The days whose export folder is in the local bucket."""
    root = bucket_dir / "exports" / family
    if not root.is_dir():
        return []
    return sorted(dt.datetime.strptime(p.name, "%Y%m%d").date() for p in root.iterdir() if any(p.iterdir()))
