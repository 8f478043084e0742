"""What `data-gcp run` records for `data-gcp ui`, so that the UI never has to open the warehouse.

Why: DuckDB lets one process write a database file and nobody else open it meanwhile; a UI that read
the warehouse (or ran dbt in-process) would block the next run. So the run itself leaves, next to
the data, everything the UI shows about the data's health:

- each dbt task's `run_results.json` / `sources.json`, kept per DAG run (`dbt/<dag>/<run>/<task>/`,
  by the task itself: `data_gcp.dbt_runner.keep_artifacts`), so a model's or a test's history
  survives the next run;
- the warehouse tables' rows after each run (`tables.json`), with the run that last changed them.

And it makes Airflow's own records tell the truth about a `dag.test()` run: its real start (Airflow
uses the logical date), the Paris day it processed (a note), and an earlier run of the same day kept
(Airflow deletes it: its logical date is cleared instead, so it stays with its logs).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from data_gcp.config import Settings

TABLES_FILE = "tables.json"


def history_dir(settings: Settings) -> Path:
    """`<data>/run_history`: written by `data-gcp run`, read by `data-gcp ui`."""
    return settings.local_data_dir / "run_history"


def day_note(day: dt.date) -> str:
    return f"Paris day {day.isoformat()} (data-gcp run)"


def detach_earlier_run(dag_id: str, logical_date: dt.datetime) -> int:
    """Keep an earlier run of the same logical date: `dag.test()` deletes it otherwise.

    Its logical date is cleared (allowed since Airflow 3, as for asset-triggered runs); its run id,
    task instances, logs and note stay. Returns how many runs were kept that way.
    """
    from airflow import settings as airflow_settings
    from airflow.models.dagrun import DagRun
    from sqlalchemy import update

    with airflow_settings.Session() as session:
        result = session.execute(
            update(DagRun)
            .where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date)
            .values(logical_date=None)
        )
        session.commit()
        return int(result.rowcount or 0)


def stamp_run(dag_id: str, run_id: str, started: dt.datetime, day: dt.date) -> None:
    """The run's real start (not its logical date) and the Paris day it processed, as a note."""
    from airflow import settings as airflow_settings
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    with airflow_settings.Session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if run is None:
            return
        run.start_date = started
        if run.end_date is not None and run.end_date < started:
            run.end_date = started
        run.note = day_note(day)
        session.commit()


def table_rows(settings: Settings) -> list[dict[str, Any]]:
    """Every warehouse table with its rows (`schema`, `table`, `rows`), through the warehouse component."""
    from data_gcp.warehouse import get_warehouse

    if not settings.duckdb_path.is_file():
        return []
    wh = get_warehouse(settings)
    tables = wh.query(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "ORDER BY table_schema, table_name"
    ).to_pylist()
    if not tables:
        return []
    selects = [
        f"SELECT '{t['table_schema']}' AS s, '{t['table_name']}' AS t, count(*) AS n "
        f'FROM "{t["table_schema"]}"."{t["table_name"]}"'
        for t in tables
    ]
    return [
        {"schema": r["s"], "table": r["t"], "rows": int(r["n"])}
        for r in wh.query(" UNION ALL ".join(selects)).to_pylist()
    ]


def record_tables(settings: Settings, tables: list[dict[str, Any]], run_at: dt.datetime) -> Path:
    """Write `tables.json`: rows now, and when a run last changed each table's rows (its last load)."""
    path = history_dir(settings) / TABLES_FILE
    previous = {}
    if path.is_file():
        previous = {(t["schema"], t["table"]): t for t in json.loads(path.read_text("utf-8"))["tables"]}
    stamp = run_at.isoformat(timespec="seconds")
    out = []
    for t in tables:
        before = previous.get((t["schema"], t["table"]))
        changed = before is None or before["rows"] != t["rows"]
        out.append(t | {"last_load": stamp if changed else before.get("last_load", stamp)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"run_at": stamp, "tables": out}, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path
