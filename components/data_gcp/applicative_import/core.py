"""`import_applicative`: copy the app database into the raw layer (local or cloud engine)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from data_gcp.applicative_import.bigquery import run_cloud
from data_gcp.applicative_import.local import TableResult, run_local
from data_gcp.applicative_import.spec import import_tables
from data_gcp.config import Settings, get_settings, processing_day
from data_gcp.log import get_logger
from data_gcp.warehouse import get_warehouse

log = get_logger(__name__)


@dataclass
class ImportResult:
    run_date: dt.date
    engine: str
    tables: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)


def import_applicative(
    run_date: dt.date | None = None,
    full: bool = False,
    database_url: str | None = None,
    settings: Settings | None = None,
    progress: bool = False,
) -> ImportResult:
    """Import every app table into `raw` (incremental where possible), history into `clean`.

    `run_date` (default: the Paris day before now, `data_gcp.config.processing_day`) is the day whose events are the newest imported and the
    `snapshot_date` of the daily history; app tables are copied as they are now. `full` reloads
    everything. Locally the source is `database_url` or the settings' source (the sandbox file).
    """
    settings = settings or get_settings()
    run_date = run_date or processing_day()
    wh = get_warehouse(settings)
    n = len(import_tables(settings.is_cloud))
    t0 = time.perf_counter()
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]importing[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} tables"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (progress and console.is_terminal),  # off a terminal it would only leave a blank line
    ) as bar:
        task = bar.add_task("", total=n)

        def tick(name: str) -> None:
            bar.update(task, advance=1, description=name)

        if settings.is_cloud:
            tables = run_cloud(wh, run_date, full, tick)
        else:
            tables = run_local(wh, database_url or settings.source_url, run_date, full, tick)
    result = ImportResult(run_date, wh.engine, tables, time.perf_counter() - t0)
    log.info("applicative import for %s: %s rows read in %.1fs", run_date, result.rows_read, result.seconds)
    return result
