"""`data-gcp dbt ...` on the built project: success prints a summary, failure exits non-zero naming nodes."""

from __future__ import annotations

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
    wh.execute("alter table raw.applicative_database_offerer rename to applicative_database_offerer_aside")
    try:
        result = CliRunner().invoke(app, ["dbt", "build", "--select", "int_applicative__offerer"])
    finally:
        wh.execute(
            "alter table raw.applicative_database_offerer_aside rename to applicative_database_offerer"
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
