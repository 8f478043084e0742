"""`data-gcp run`: the local daily chain, end to end, through Airflow.

Steps: local Airflow home (SQLite) under the data folder; the sandbox source if missing; a fresh dbt
manifest (Cosmos renders the dbt DAG from it); the fake vendor servers on loopback for the connectors;
then, for each day, every DAG of the chain in dependency order (producers of an asset before the DAGs
it triggers), each through `dag.test()`. The run stops at the first failed DAG.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from data_gcp.config import DataGcpError, Settings, get_settings, processing_day, workspace_root
from data_gcp.local_run.runner import DagOutcome, OutputCapture, Reporter, TaskOutcome

DEFAULT_SCALE = 0.01
# Layers of the warehouse as shown in the summary: dataset prefix -> label.
LAYERS = (
    ("raw", "raw"),
    ("int_", "intermediate"),
    ("snapshot", "snapshots"),
    ("analytics", "marts"),
    ("ml", "ml"),
)


# dlt's own tables in each dataset it loads (`_dlt_loads`: one row per load, `_dlt_version`: one per
# schema version): bookkeeping, not data. Counted, they made two runs of the same day differ by the
# number of loads the second one added.
BOOKKEEPING_PREFIX = "_dlt_"


class ChainFailed(DataGcpError):
    """A task of the chain failed; the message names it and its log."""


@dataclass
class ChainReport:
    dates: list[dt.date]
    dags: list[DagOutcome] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)  # preparation steps and seconds
    seconds: float = 0.0
    log_file: Path | None = None
    warehouse: Path | None = None
    rows_per_layer: dict[str, tuple[int, int]] = field(default_factory=dict)  # layer -> (tables, rows)

    @property
    def tasks(self) -> list[TaskOutcome]:
        return [t for d in self.dags for t in d.tasks]

    @property
    def failed(self) -> list[TaskOutcome]:
        return [t for t in self.tasks if t.state == "failed"]

    @property
    def ok(self) -> bool:
        return bool(self.dags) and all(d.state == "success" for d in self.dags) and not self.failed


def run_dates(date: dt.date | None, days: int | None, today: dt.date | None = None) -> list[dt.date]:
    """`--date D` -> [D]; `--days N` -> the N days ending yesterday, oldest first; default: [yesterday].

    Yesterday is the Paris day before now, as for a scheduled run (`data_gcp.config.processing_day`).
    """
    yesterday = today - dt.timedelta(days=1) if today else processing_day()
    if date and days:
        raise DataGcpError("give either --date or --days, not both")
    if days is not None:
        if days < 1:
            raise DataGcpError(f"--days must be at least 1, got {days}")
        return [yesterday - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    return [date or yesterday]


def _source_exists(settings: Settings) -> bool:
    url = settings.source_url
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).is_file()
    return True  # a server database (PostgreSQL): the sandbox is managed by whoever set the URL


@contextmanager
def _vendor_servers(settings: Settings) -> Iterator[list[str]]:
    """The connectors' fake vendor servers on loopback, with the connectors pointed at them."""
    if importlib.util.find_spec("data_gcp.vendor_servers") is None:
        yield []
        return
    from data_gcp.vendor_servers import start_all

    with start_all(settings=settings, apply_env=True) as running:
        yield sorted(running.servers)


def _sandbox_seed_files(settings: Settings) -> None:
    """The sandbox's reference files, for a data folder generated before they existed (no overwrite)."""
    if importlib.util.find_spec("data_gcp.sandbox") is not None:
        from data_gcp.sandbox import write_seed_files

        write_seed_files(settings, only_missing=True)


def layer_counts(settings: Settings, tables: list[dict] | None = None) -> dict[str, tuple[int, int]]:
    """Tables and rows of data per warehouse layer (through the warehouse component, like every reader);
    dlt's bookkeeping tables are not counted."""
    from data_gcp.local_run.ui_record import table_rows

    counts: dict[str, tuple[int, int]] = {}
    for t in table_rows(settings) if tables is None else tables:
        if t["table"].startswith(BOOKKEEPING_PREFIX):
            continue
        label = next((lbl for prefix, lbl in LAYERS if t["schema"].startswith(prefix)), None)
        if label is not None:
            n_tables, n_rows = counts.get(label, (0, 0))
            counts[label] = (n_tables + 1, n_rows + t["rows"])
    return {lbl: counts[lbl] for _, lbl in LAYERS if lbl in counts}


def run_chain(
    dates: list[dt.date],
    *,
    scale: float = DEFAULT_SCALE,
    settings: Settings | None = None,
    reporter: Reporter | None = None,
    on_step: Callable[[str], None] | None = None,
    dag_ids: list[str] | None = None,
) -> ChainReport:
    """Run the local daily chain for `dates`; returns the report (check `.ok`), never exits."""
    settings = settings or get_settings()
    if settings.is_cloud:
        raise DataGcpError(
            f"`data-gcp run` runs the local chain; DATA_GCP_ENV={settings.env.value} is scheduled by Airflow"
        )
    from data_gcp.execution import run_in_process
    from data_gcp.local_run.airflow_home import configure_airflow, dags_folder, migrate_db

    started = time.monotonic()
    report = ChainReport(dates=dates, warehouse=settings.duckdb_path)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    log_dir = settings.airflow_home / "logs" / "data-gcp-run" / stamp
    report.log_file = log_dir / "run.log"
    configure_airflow(settings)
    os.environ.setdefault("DATA_GCP_WORKSPACE_ROOT", str(workspace_root()))

    def step(name: str, fn: Callable[[], object]) -> None:
        if on_step:
            on_step(name)
        t0 = time.monotonic()
        try:
            fn()
        except Exception as err:
            raise ChainFailed(f"{name}: {err} (log: {report.log_file})") from err
        report.steps.append((name, time.monotonic() - t0))

    with ExitStack() as stack:
        from data_gcp.warehouse import warehouse_writer

        # one writer at a time: a run triggered from `data-gcp ui` (its tasks take the same lock)
        # finishes its task first, and waits for this chain to end before its next one
        stack.enter_context(
            warehouse_writer(
                settings,
                f"`data-gcp run` for {', '.join(d.isoformat() for d in dates)}",
                on_wait=on_step,
            )
        )
        capture = stack.enter_context(OutputCapture(report.log_file))
        if not _source_exists(settings):
            step(
                f"generate the sandbox source (scale {scale})",
                lambda: run_in_process(["sandbox", "generate", "--scale", str(scale)]),
            )
        step("reference files in the local import bucket (seed_files)", lambda: _sandbox_seed_files(settings))
        from data_gcp.dbt_runner import stale_manifest_reason
        from data_gcp.orchestration import dbt_manifest_path, dbt_project_dir

        # Always parse: a current manifest is what the dbt DAG is checked against (and rendered from
        # where it runs a task per model), and the partial-parse file written next to it spares the
        # build a full re-parse of the project.
        stale = stale_manifest_reason(dbt_manifest_path(), dbt_project_dir()) is not None
        step(
            "parse the dbt project (manifest)" + (" - sources changed" if stale else ""),
            lambda: run_in_process(["dbt", "parse"]),
        )
        servers = stack.enter_context(_vendor_servers(settings))
        if servers:
            report.steps.append((f"vendor servers on loopback: {', '.join(servers)}", 0.0))

        def _airflow() -> None:
            from data_gcp.local_run.compat import apply_airflow_compat, shared_execution_api

            migrate_db(settings)
            apply_airflow_compat()
            shared_execution_api()

        step("start Airflow (SQLite metadata DB, in-process execution API)", _airflow)
        from data_gcp.local_run.runner import load_dags, run_dag, task_reporting
        from data_gcp.orchestration import chain_order

        dags: dict = {}
        step("parse the DAGs", lambda: dags.update(load_dags(dags_folder())))

        order = [d for d in chain_order(dag_ids) if d in dags]
        missing = [d for d in chain_order(dag_ids) if d not in dags]
        if missing:
            raise DataGcpError(f"DAGs of the chain not found in {dags_folder()}: {', '.join(missing)}")
        from data_gcp.local_run.compat import no_asset_triggered_queue, real_start_dates

        stack.enter_context(no_asset_triggered_queue())
        stack.enter_context(real_start_dates())
        with task_reporting(capture, reporter, log_dir) as listener:
            for day in dates:
                listener.log_dir = log_dir / day.isoformat()
                for dag_id in order:
                    outcome = run_dag(dags[dag_id], day, listener)
                    report.dags.append(outcome)
                    if outcome.state != "success":
                        break
                if not report.ok:
                    break
        from data_gcp.local_run.ui_record import record_tables, table_rows

        tables = table_rows(settings)  # still the only writer: no task of a UI run is writing
        record_tables(settings, tables, dt.datetime.now(dt.UTC))  # for `data-gcp ui`: it never opens it
        report.rows_per_layer = layer_counts(settings, tables)
    report.seconds = time.monotonic() - started
    return report
