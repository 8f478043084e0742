"""The cloud nightly, rehearsed: the production plan run through Airflow over three nights, on local
engines (`data_gcp.local_run.rehearsal`), as the scheduler runs it.

Days 2026-10-24 to 2026-10-26: the clocks go back in the night of the 25th (02:00-03:00 happens
twice), the 25th is a 25-hour day, and the 26th is a Monday (the weekly connectors land and trigger a
rebuild of the models of their own). Each day must be processed once by every daily DAG, the models'
day and the export of each day exactly once, every asset-triggered run created with no logical date.

Runs in a process of its own (it configures Airflow for that process). The dbt models run as one
`dbt build` task (`dbt_execution="single_build"`): the per-model Cosmos tasks cost a dbt start-up
each (about 100 tasks a build, several builds a night), too slow for CI; they are rendered and
checked by `test_dbt_graph.py` and `test_scheduler_shaped_runs.py`. `etl_metabase` (production only,
08:00) is left out for the same reason: each landing rebuilds every model, which Monday's weekly
connectors already exercise.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time

import pytest

from data_gcp.config import workspace_root

DAYS = [dt.date(2026, 10, 24), dt.date(2026, 10, 25), dt.date(2026, 10, 26)]
LEFT_OUT = {"etl_metabase"}

SCRIPT = r"""
import datetime as dt, json, sys
from data_gcp.config import get_settings
from data_gcp.local_run.rehearsal import rehearse, export_days
from data_gcp.orchestration import chain_order

days = [dt.date.fromisoformat(d) for d in sys.argv[1].split(",")]
dag_ids = [d for d in chain_order() if d not in sys.argv[2].split(",")]
report = rehearse(days, dag_ids, dbt_execution="single_build")
out = {
    "seconds": report.seconds,
    "exports": [d.isoformat() for d in export_days(get_settings().local_bucket_dir)],
    "runs": [
        {
            "dag_id": r.dag_id, "run_id": r.run_id, "run_type": r.run_type, "state": r.state,
            "logical_date": r.logical_date.isoformat() if r.logical_date else None,
            "tasks": r.task_states, "consumed": [u for u, _ in r.consumed],
            "days": [d.isoformat() for d in report.days_of(r)],
        }
        for r in report.runs
    ],
}
from data_gcp.pro_clickhouse import EmbeddedClickHouse
client = EmbeddedClickHouse(get_settings().local_data_dir / "clickhouse")
out["clickhouse_events"] = {
    str(r["d"]): r["n"] for r in client.query_arrow(
        "SELECT partition_date AS d, count() AS n FROM intermediate.native_event GROUP BY d"
    ).to_pylist()
}
from data_gcp.warehouse import get_warehouse
out["warehouse_events"] = {
    str(r["d"]): r["n"] for r in get_warehouse().query(
        "SELECT partition_date AS d, count(*) AS n FROM export.export_clickhouse__native_event "
        f"WHERE partition_date BETWEEN DATE '{days[0]}' AND DATE '{days[-1]}' GROUP BY 1"
    ).to_pylist()
}
client.close()
with open(sys.argv[3], "w") as fh:
    json.dump(out, fh)
"""


@pytest.fixture(scope="module")
def reco_schema():
    """A throwaway schema of the local PostgreSQL for the recommendation export; None without a server
    (the export then skips, as on a laptop without PostgreSQL)."""
    import uuid

    import psycopg

    try:
        admin = psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/test", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        yield None
        return
    schema = f"rehearsal_{uuid.uuid4().hex[:10]}"
    try:
        yield schema
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory, reco_schema):
    tmp = tmp_path_factory.mktemp("rehearsal")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DBT_", "DATA_GCP_"))}
    env.update(
        DATA_GCP_ENV="local",
        DATA_GCP_DATA_DIR=str(tmp / "data"),
        DATA_GCP_WORKSPACE_ROOT=str(workspace_root()),
        DATA_GCP_RECO_DATABASE_SCHEMA=reco_schema or "unused",
    )
    if reco_schema is None:  # nothing listens there: the export skips, the run still succeeds
        env["DATA_GCP_RECO_DATABASE_URL"] = "postgresql://postgres@127.0.0.1:9/test"
    result_file = tmp / "report.json"
    started = time.monotonic()
    days = ",".join(d.isoformat() for d in DAYS)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, days, ",".join(sorted(LEFT_OUT)), str(result_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    report = json.loads(result_file.read_text())
    print(f"rehearsal: {len(report['runs'])} runs in {time.monotonic() - started:.0f} s")
    return report


def _days_of(report, dag_id: str) -> list[str]:  # noqa: ANN001
    return sorted(d for r in report["runs"] if r["dag_id"] == dag_id for d in r["days"])


@pytest.mark.slow
def test_every_run_of_the_three_nights_succeeds(rehearsal):
    failed = {r["run_id"]: {t: s for t, s in r["tasks"].items() if s not in ("success", "skipped")}
              for r in rehearsal["runs"] if r["state"] != "success"}  # fmt: skip
    assert not failed, failed


@pytest.mark.slow
def test_asset_triggered_runs_have_no_logical_date_and_take_their_day_from_their_trigger(rehearsal):
    triggered = [r for r in rehearsal["runs"] if r["run_type"] == "asset_triggered"]
    assert {r["dag_id"] for r in triggered} == {
        "dbt_run",
        "dbt_exports",
        "export_reco_cloudsql",
        "export_clickhouse",
    }
    assert all(r["logical_date"] is None and r["consumed"] for r in triggered)


@pytest.mark.slow
def test_each_day_is_processed_once_by_every_daily_dag(rehearsal):
    from data_gcp.config import Env
    from data_gcp.orchestration import fires_daily, get_spec

    expected = [d.isoformat() for d in DAYS]
    wrong = {}
    for dag_id in {r["dag_id"] for r in rehearsal["runs"]}:
        cron = get_spec(dag_id).cron_for(Env.prod)
        if cron and fires_daily(cron) and cron.split()[1].isdigit():  # once a day
            if _days_of(rehearsal, dag_id) != expected:
                wrong[dag_id] = _days_of(rehearsal, dag_id)
        elif cron and not fires_daily(cron):  # weekly: Monday's run covers the week, once
            days = _days_of(rehearsal, dag_id)
            if len(days) != len(set(days)) or not set(expected[:2]) <= set(days):
                wrong[dag_id] = days
    assert not wrong, wrong


@pytest.mark.slow
def test_the_models_and_the_export_of_each_day_are_made_once(rehearsal):
    expected = [d.isoformat() for d in DAYS]
    assert _days_of(rehearsal, "dbt_run") == expected  # the days its `models_ready` events name
    assert _days_of(rehearsal, "dbt_exports") == expected
    # the reverse exports run once per day of models, after them
    assert _days_of(rehearsal, "export_reco_cloudsql") == expected
    assert _days_of(rehearsal, "export_clickhouse") == expected


@pytest.mark.slow
def test_the_reverse_exports_hold_each_day_once(rehearsal, reco_schema):
    """Read back from the engines: PostgreSQL keeps the three days (its default), ClickHouse's event
    table holds each day's events once (as many as the model has that day), and before them at most
    the look-back days of the first night."""
    import psycopg

    expected = [d.isoformat() for d in DAYS]
    assert rehearsal["warehouse_events"], "no app event on offers in the rehearsed days"
    # ClickHouse also holds the look-back days before the first night (its export rewrites the days
    # dbt re-processed for late events): the rehearsed days hold exactly the model's events, once.
    in_days = {d: n for d, n in rehearsal["clickhouse_events"].items() if d in expected}
    assert in_days == rehearsal["warehouse_events"]
    earlier = sorted(d for d in rehearsal["clickhouse_events"] if d not in expected)
    assert all(d < expected[0] for d in earlier) and len(earlier) <= 3, earlier
    if reco_schema is None:  # no PostgreSQL here: the export skipped, and its runs still succeeded
        runs = [r for r in rehearsal["runs"] if r["dag_id"] == "export_reco_cloudsql"]
        assert runs and all(r["state"] == "success" for r in runs)
        return
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        days = conn.execute(
            f'SELECT DISTINCT import_date FROM "{reco_schema}".enriched_user ORDER BY 1'
        ).fetchall()
    assert [d.isoformat() for (d,) in days] == expected
    assert rehearsal["exports"] == expected
    # Monday's weekly connectors trigger rebuilds, which process no new day: nothing exported again
    rebuilds = [r for r in rehearsal["runs"] if r["dag_id"] == "dbt_run" and not r["days"]]
    assert rebuilds and all(r["tasks"]["models_ready"] == "skipped" for r in rebuilds)
