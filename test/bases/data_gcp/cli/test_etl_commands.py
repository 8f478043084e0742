"""`data-gcp etl list|run` against the local vendor servers."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from data_gcp.cli.main import app
from data_gcp.vendor_servers import connector_harness
from data_gcp.vendor_servers.brevo import LOCAL_KEYS


def test_etl_list_shows_systems_tables_and_schedules():
    result = CliRunner().invoke(app, ["etl", "list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for text in ("brevo", "0 3 * * *", "raw.brevo_transactional", "dms", "0 2 * * *", "raw.contentful_tag"):
        assert text in result.output


def test_etl_run_loads_the_window_and_prints_a_summary(monkeypatch):
    with connector_harness("dms", first_day="2026-09-01") as h:
        for key, value in h.server.env.items():
            monkeypatch.setenv(key, value)
        result = CliRunner().invoke(
            app,
            ["etl", "run", "dms", "--start", "2026-11-20", "--end", "2026-11-20", "--object", "young"],
            env={"COLUMNS": "250"},
        )
        assert result.exit_code == 0, result.output
        assert "dms 2026-11-20: raw.dms_young=" in result.output
        assert h.table("dms_young").num_rows > 0 and h.table("dms_pro") is None


def test_etl_run_failure_is_one_line_naming_system_endpoint_status_without_secret():
    with connector_harness("brevo") as h:
        h.server.faults.add("status", "/emailCampaigns", status=401, times=-1)
        r = subprocess.run(
            [
                sys.executable,
                "-c",
                "from data_gcp.cli.main import main; main()",
                "etl",
                "run",
                "brevo",
                "--start",
                "2026-11-20",
                "--object",
                "newsletters",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **h.server.env, "COLUMNS": "250"},
        )
    assert r.returncode == 1
    assert "brevo: GET /v3/emailCampaigns failed (HTTP 401)" in r.stderr
    assert "Traceback" not in r.stderr
    for key in LOCAL_KEYS:
        assert key not in r.stderr and key not in r.stdout


def test_etl_init_creates_every_declared_table_once(settings):
    """A fresh environment: `etl init` creates each declared raw table, empty; a second run, none."""
    from data_gcp.table_catalog import declared_tables
    from data_gcp.warehouse import get_warehouse

    first = CliRunner().invoke(app, ["etl", "init"], env={"COLUMNS": "250"})
    assert first.exit_code == 0, first.output
    assert f"created {len(declared_tables())} empty table(s)" in first.output
    assert get_warehouse(settings).row_count("raw.batch_campaign_stats") == 0
    again = CliRunner().invoke(app, ["etl", "init"])
    assert again.exit_code == 0 and "created 0 empty table(s)" in again.output, again.output
