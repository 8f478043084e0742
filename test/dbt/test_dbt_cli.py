"""`data-gcp dbt ...` on the built project: success prints a summary, failure exits non-zero naming nodes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from data_gcp import dbt_runner
from data_gcp.cli.main import app
from data_gcp.warehouse import get_warehouse

pytestmark = pytest.mark.slow


@pytest.fixture
def on_built_project(built_project, monkeypatch: pytest.MonkeyPatch):
    """Point the CLI at the session's warehouse and dbt target folder (reusing its partial parse)."""
    from data_gcp.config import reset_settings

    monkeypatch.setenv("DATA_GCP_DATA_DIR", str(built_project.settings.local_data_dir))
    monkeypatch.setenv("DBT_TARGET", "ci")
    monkeypatch.setenv("DBT_TARGET_PATH", str(built_project.target_path))
    reset_settings()
    return built_project


def test_cli_build_exits_non_zero_and_names_the_failing_model(on_built_project) -> None:
    wh = get_warehouse(on_built_project.settings)
    # a column gone from the raw table (a missing table is created empty before dbt runs)
    wh.execute("alter table raw.applicative_database_offerer rename column offerer_id to offerer_id_aside")
    try:
        result = CliRunner().invoke(app, ["dbt", "build", "--select", "int_applicative__offerer"])
    finally:
        wh.execute(
            "alter table raw.applicative_database_offerer rename column offerer_id_aside to offerer_id"
        )
    assert result.exit_code != 0
    assert isinstance(result.exception, dbt_runner.DbtRunError)
    assert "model.data_gcp.int_applicative__offerer" in str(result.exception)


def test_cli_test_passes_through_selectors(on_built_project) -> None:
    result = CliRunner().invoke(
        app, ["dbt", "test", "--select", "mrt_global__offerer", "--exclude", "test_type:unit"]
    )
    assert result.exit_code == 0, result.output
    assert "dbt test --target ci: ok" in result.output
    assert dbt_runner.manifest_path() == on_built_project.target_path / "manifest.json"


def test_cli_docs_builds_the_site_with_lineage_into_the_data_folder_and_serves_it(on_built_project) -> None:
    import threading
    import urllib.request

    result = CliRunner().invoke(app, ["dbt", "docs"])
    assert result.exit_code == 0, result.output
    site = on_built_project.settings.local_data_dir / "dbt_docs"
    page = (site / "static_index.html").read_text()
    manifest = json.loads((site / "manifest.json").read_text())
    # lineage: the deposit mart's parents, and its columns documented in the catalogue
    assert (
        "model.data_gcp.int_applicative__deposit"
        in manifest["parent_map"]["model.data_gcp.mrt_global__deposit"]
    )
    assert "mrt_global__collective_booking" in page
    catalog = json.loads((site / "catalog.json").read_text())
    assert "deposit_remaining_credit" in catalog["nodes"]["model.data_gcp.mrt_global__deposit"]["columns"]
    server = dbt_runner.docs_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/static_index.html"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200
            assert len(resp.read()) == len(page.encode())
    finally:
        server.shutdown()
        server.server_close()


def test_cli_freshness_checks_the_daily_raw_tables(on_built_project) -> None:
    result = CliRunner().invoke(app, ["dbt", "freshness"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((on_built_project.target_path / "sources.json").read_text())
    checked = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in manifest["results"]}
    daily = {"applicative_database_booking", "applicative_database_deposit", "applicative_database_stock",
             "applicative_database_collective_booking", "firebase_events", "appsflyer_installs",
             "app_downloads_apple_download_stats"}  # fmt: skip
    assert daily <= set(checked), sorted(checked)
    assert set(checked.values()) <= {"pass", "warn"}
