"""Run DAGs through Airflow itself (`dag.test()`), one at a time, with per-task progress and logs.

Why `dag.test()`: it is Airflow's own scheduler loop (dependencies, trigger rules, XCom, assets,
callbacks) running tasks in this process, with no scheduler or worker to start. Everything Airflow and
the tasks print goes to one log file; each task's slice of it is saved as that task's log, so the
terminal shows only progress and the summary.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from data_gcp.config import DataGcpError


@dataclass
class TaskOutcome:
    dag_id: str
    task_id: str
    state: str
    seconds: float
    log_path: Path | None = None
    error: str | None = None


@dataclass
class DagOutcome:
    dag_id: str
    logical_date: dt.date
    state: str
    seconds: float
    tasks: list[TaskOutcome] = field(default_factory=list)

    @property
    def failed_tasks(self) -> list[TaskOutcome]:
        return [t for t in self.tasks if t.state in ("failed", "upstream_failed")]


# A reporter gets ("start" | "end", dag_id, task_id, outcome or None).
Reporter = Callable[[str, str, str, TaskOutcome | None], None]


class OutputCapture:
    """Sends this process's stdout/stderr (file descriptors 1 and 2) to a log file.

    `terminal` is a text stream on the original stderr, for the progress display.
    """

    def __init__(self, log_file: Path) -> None:
        self.log_file = log_file
        self.terminal: TextIO | None = None
        self._saved: list[int] = []
        self._fd: int | None = None

    def __enter__(self) -> OutputCapture:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self._fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._saved = [os.dup(1), os.dup(2)]
        self.terminal = os.fdopen(os.dup(self._saved[1]), "w", buffering=1, encoding="utf-8")
        os.dup2(self._fd, 1)
        os.dup2(self._fd, 2)
        return self

    def offset(self) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        return os.fstat(self._fd).st_size if self._fd is not None else 0

    def read(self, start: int, end: int) -> str:
        with open(self.log_file, "rb") as fh:
            fh.seek(start)
            return fh.read(max(0, end - start)).decode("utf-8", errors="replace")

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in [*self._saved, self._fd]:
            if fd is not None:
                os.close(fd)
        if self.terminal:
            self.terminal.close()


class _TaskListener:
    """Airflow listener: timestamps each task and cuts its log slice out of the captured output."""

    def __init__(self) -> None:
        self.capture: OutputCapture | None = None
        self.reporter: Reporter | None = None
        self.log_dir: Path | None = None
        self._started: dict[tuple[str, str], tuple[float, int, float]] = {}
        self.outcomes: dict[tuple[str, str], TaskOutcome] = {}
        # (dag id, wall start, Paris day) of the run `run_dag` just started: stamped at its first task
        self.stamp: tuple[str, dt.datetime, dt.date] | None = None

    def _start(self, ti: Any) -> None:
        key = (ti.dag_id, ti.task_id)
        if self.stamp is not None and self.stamp[0] == ti.dag_id:
            # the day the run processes shows while it runs, not only once it has ended
            from data_gcp.local_run.ui_record import stamp_run

            dag_id, wall_start, day = self.stamp
            self.stamp = None
            try:
                stamp_run(dag_id, ti.run_id, wall_start, day)
            except Exception:  # noqa: BLE001 - a UI convenience: stamped again when the run ends
                pass
        self._started[key] = (time.monotonic(), self.capture.offset() if self.capture else 0, time.time())
        if self.reporter:
            self.reporter("start", ti.dag_id, ti.task_id, None)

    def _end(self, ti: Any, state: str, error: BaseException | str | None) -> None:
        key = (ti.dag_id, ti.task_id)
        started, offset, _ = self._started.pop(key, (time.monotonic(), 0, time.time()))
        log_path = None
        if self.capture and self.log_dir:
            log_path = self.log_dir / ti.dag_id / f"{ti.task_id}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            text = self.capture.read(offset, self.capture.offset())
            log_path.write_text(text, encoding="utf-8")
            _write_airflow_log(ti, text)
        outcome = TaskOutcome(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            state=state,
            seconds=_airflow_seconds(ti, time.monotonic() - started),
            log_path=log_path,
            error=None
            if error is None
            else f"{type(error).__name__}: {error}"
            if isinstance(error, BaseException)
            else str(error),
        )
        self.outcomes[key] = outcome
        if self.reporter:
            self.reporter("end", ti.dag_id, ti.task_id, outcome)


def _airflow_seconds(ti: Any, measured: float) -> float:
    """The task's duration as Airflow records it (from its start date: the task's start-up included),
    so that the terminal and the UI show the same figure."""
    start = getattr(ti, "start_date", None)
    if start is None:
        return measured
    return max(measured, (dt.datetime.now(dt.UTC) - start).total_seconds())


def airflow_log_path(ti: Any) -> Path:
    """Where Airflow's UI reads this task try's log: `[logging] log_filename_template` under the log folder."""
    from airflow.configuration import conf
    from jinja2 import Template

    template = conf.get("logging", "log_filename_template")
    rel = Template(template).render(ti=ti, try_number=getattr(ti, "try_number", 1) or 1)
    return Path(conf.get("logging", "base_log_folder")) / rel


def _write_airflow_log(ti: Any, text: str) -> None:
    """`dag.test()` runs tasks in this process and writes no per-task log file; the UI (`data-gcp ui`)
    shows the task's log from this copy of its slice of the captured output."""
    try:
        path = airflow_log_path(ti)
    except Exception:  # noqa: BLE001 - a UI convenience: never fail the task for its log copy
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _make_hooks(listener: _TaskListener) -> Any:
    from airflow.listeners import hookimpl

    class Hooks:
        @hookimpl
        def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
            listener._start(task_instance)

        @hookimpl
        def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
            listener._end(task_instance, "success", None)

        @hookimpl
        def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
            listener._end(task_instance, "failed", error)

    return Hooks()


_listener: _TaskListener | None = None


def _get_listener() -> _TaskListener:
    global _listener
    if _listener is None:
        from airflow.sdk.listener import get_listener_manager

        _listener = _TaskListener()
        get_listener_manager().add_listener(_make_hooks(_listener))
    return _listener


def load_dags(dags_folder: Path) -> dict[str, Any]:
    """Parse the DAGs folder; any import error stops the run with the file and the error."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder), safe_mode=False)
    if bag.import_errors:
        details = "; ".join(
            f"{Path(f).name}: {e.strip().splitlines()[-1]}" for f, e in bag.import_errors.items()
        )
        raise DataGcpError(f"the DAGs in {dags_folder} do not import: {details}")
    return bag.dags


@contextmanager
def task_reporting(
    capture: OutputCapture | None, reporter: Reporter | None, log_dir: Path | None
) -> Iterator[_TaskListener]:
    listener = _get_listener()
    listener.capture, listener.reporter, listener.log_dir = capture, reporter, log_dir
    listener.outcomes = {}
    try:
        yield listener
    finally:
        listener.capture = listener.reporter = listener.log_dir = None


def run_dag(dag: Any, logical_date: dt.date, listener: _TaskListener) -> DagOutcome:
    """One DagRun of `dag` processing the Paris day `logical_date`, every task run in this process.

    The run's logical date is the midnight (Paris) ending that day: a run started then processes it
    (`data_gcp.config.processed_days`), exactly as a scheduled run would.
    """
    import pendulum

    from data_gcp.config import scheduled_moment
    from data_gcp.local_run.ui_record import detach_earlier_run, stamp_run

    started = time.monotonic()
    when = pendulum.instance(scheduled_moment(logical_date))
    detach_earlier_run(dag.dag_id, when)
    wall_start = dt.datetime.now(dt.UTC)
    listener.stamp = (dag.dag_id, wall_start, logical_date)
    try:
        dag_run = dag.test(logical_date=when)
    finally:
        listener.stamp = None
    stamp_run(dag.dag_id, dag_run.run_id, wall_start, logical_date)
    tasks: list[TaskOutcome] = []
    for ti in sorted(dag_run.get_task_instances(), key=lambda t: (t.start_date is None, t.start_date or 0)):
        state = str(getattr(ti.state, "value", ti.state) or "none")
        known = listener.outcomes.get((ti.dag_id, ti.task_id))
        if known is not None and known.state == state:
            tasks.append(known)
        else:
            tasks.append(
                TaskOutcome(
                    dag_id=ti.dag_id,
                    task_id=ti.task_id,
                    state=state,
                    seconds=float(ti.duration or 0.0),
                    log_path=known.log_path if known else None,
                    error=known.error if known else None,
                )
            )
    state = str(getattr(dag_run.state, "value", dag_run.state))
    return DagOutcome(dag.dag_id, logical_date, state, time.monotonic() - started, tasks)
