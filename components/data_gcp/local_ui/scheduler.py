"""The scheduler, DAG processor and triggerer beside `data-gcp ui`'s API server, as `airflow standalone`
runs them.

Why: a Trigger (or a backfill, or a Clear) in the UI only writes a queued run to the metadata DB; the
scheduler turns it into tasks, run by its LocalExecutor (one task at a time: they share the DuckDB
warehouse, and each holds its writer lock, `data_gcp.warehouse.warehouse_writer`), and the DAG
processor keeps the DAGs the UI shows in step with `orchestration/dags`.

The triggerer runs deferred tasks (none of ours defers today; a sensor written the deferrable way
would). Each runs in a child process (`python -m data_gcp.local_ui.scheduler <component>`), in its
own process group, its output in `<airflow home>/logs/ui/<name>.log`; `stop_children` ends each group
(the executor's workers and the tasks they run included), and a child whose parent dies gets SIGTERM.

Two things differ from a plain `airflow scheduler`, both set in the child before Airflow starts:
- it creates no time-scheduled run by itself: locally a day runs when someone asks for it (Trigger,
  backfill, `data-gcp run`), never because the UI happened to be up at midnight. Asset-triggered
  runs are created as usual (an import triggered from the UI is followed by `dbt_run`);
- it leaves alone the runs `data-gcp run` runs in its own process (`dag.test()`, triggered by "test",
  never queued): they have no executor behind them (nor the leftover of one interrupted). Cleared from
  the UI, such a run is queued again and the scheduler runs it, once no `data-gcp run` is writing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from data_gcp.config import Settings

COMPONENTS = ("scheduler", "dag-processor", "triggerer")
RUN_HOLDER_PREFIX = "`data-gcp run`"  # what `data-gcp run` writes in the warehouse's writer lock


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path
    log: IO[bytes]


def child_environment(settings: Settings, airflow_url: str) -> dict[str, str]:
    """The environment of both children: the local Airflow's, LocalExecutor with one task at a time,
    tasks reporting to the execution API of the UI's API server."""
    from data_gcp.local_run import airflow_environment

    env = dict(os.environ)
    env.update(airflow_environment(settings))
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{airflow_url}execution/",
            # a task's calls wait for the SQLite metadata DB, which `data-gcp run` may be writing:
            # the default 5 s made a task fail before it started on a busy machine
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "AIRFLOW__API__BASE_URL": airflow_url,
            "AIRFLOW__WEBSERVER__BASE_URL": airflow_url,
            # the DAG files change when someone edits them: no re-parse every 30 s on a laptop
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # the task logs the UI shows hold the tasks' output, logged at INFO (the API server in
            # `data-gcp ui`'s own process logs at WARNING only)
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "DATA_GCP_WORKSPACE_ROOT": str(_workspace_root()),
        }
    )
    return env


def _workspace_root() -> Path:
    from data_gcp.config import workspace_root

    return workspace_root()


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when `data-gcp ui` dies, even by SIGKILL (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_children(settings: Settings, airflow_url: str) -> list[Child]:
    """Start the scheduler, the DAG processor and the triggerer; returns them (logs under the Airflow home)."""
    env = child_environment(settings, airflow_url)
    log_dir = settings.airflow_home / "logs" / "ui"
    log_dir.mkdir(parents=True, exist_ok=True)
    children = []
    for name in COMPONENTS:
        log_path = log_dir / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - closed by stop_children
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", __name__, name],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with every worker it started
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        children.append(Child(name, process, log_path, log))
    return children


def stop_children(children: list[Child], timeout: float = 8.0) -> None:
    """SIGTERM each child's process group (Airflow shuts its workers down), SIGKILL what is left."""
    for child in children:
        _signal_group(child.process, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for child in children:
        _signal_group(child.process, signal.SIGKILL)  # the group: a worker left behind goes too
        try:
            child.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        child.log.close()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _leave_data_gcp_runs_alone() -> None:
    """The scheduler examines no run `data-gcp run` is running in its own process (see module doc)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunTriggeredByType

    from data_gcp.config import get_settings
    from data_gcp.warehouse import writer_lock_holder

    original = DagRun.get_running_dag_runs_to_examine
    settings = get_settings()

    def examine(cls: type, session: object) -> list:
        runs = list(original(session=session))
        for run in runs:
            _note_paris_day(run)
        holder = writer_lock_holder(settings)
        run_busy = holder is not None and holder.what.startswith(RUN_HOLDER_PREFIX)
        # a run of `dag.test()` was never queued; once cleared from the UI it was (`queued_at`), and
        # the scheduler runs it, but not while `data-gcp run` writes the warehouse
        return [
            r
            for r in runs
            if r.triggered_by != DagRunTriggeredByType.TEST or (r.queued_at is not None and not run_busy)
        ]

    DagRun.get_running_dag_runs_to_examine = classmethod(examine)  # type: ignore[method-assign,assignment]


def _note_paris_day(run: object) -> None:
    """A run without a note gets the Paris day(s) it processes as its note (as `data-gcp run` does),
    from its asset events, its data interval, or the day before it was triggered."""
    if getattr(run, "note", None):
        return
    try:
        from data_gcp.config import processing_day
        from data_gcp.orchestration import run_days

        days = run_days(run)
        if days is None and list(getattr(run, "consumed_asset_events", None) or []):
            run.note = "a rebuild: its asset events name no new day"  # type: ignore[attr-defined]
        elif days is None:
            day = processing_day(run.run_after)  # type: ignore[attr-defined]
            run.note = f"Paris day {day.isoformat()}"  # type: ignore[attr-defined]
        elif days.start == days.end:
            run.note = f"Paris day {days.end.isoformat()}"  # type: ignore[attr-defined]
        else:
            run.note = f"Paris days {days.start.isoformat()} to {days.end.isoformat()}"  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a note is a convenience: never stop the scheduler for it
        return


def _no_time_scheduled_runs() -> None:
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner

    def _create_dag_runs(self: object, dag_models: object, session: object) -> None:
        return None

    SchedulerJobRunner._create_dag_runs = _create_dag_runs  # type: ignore[method-assign,assignment]


def main(component: str) -> None:
    """Child entry point: the local Airflow's configuration, the patches above, then Airflow's CLI."""
    from data_gcp.config import get_settings
    from data_gcp.local_run import configure_airflow

    if component not in COMPONENTS:
        raise SystemExit(f"usage: python -m {__name__} {'|'.join(COMPONENTS)}")
    given = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW")}
    configure_airflow(get_settings())
    os.environ.update(given)  # the UI's own settings (execution API URL, executor) over the defaults
    from data_gcp.local_run import apply_airflow_compat

    apply_airflow_compat()
    if component == "scheduler":
        _leave_data_gcp_runs_alone()
        _no_time_scheduled_runs()
    from airflow.__main__ import main as airflow_main

    # no log server (it would listen on every interface): the API server reads the task logs
    # from the log folder, on this machine
    sys.argv = ["airflow", component, *(["--skip-serve-logs"] if component != "dag-processor" else [])]
    airflow_main()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
