"""dbt_runner: target and environment choice, and failures that name the failing nodes."""

from __future__ import annotations

import pytest

from data_gcp import dbt_runner
from data_gcp.config import Settings


def test_target_follows_the_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBT_TARGET", raising=False)
    assert dbt_runner.target_for(settings) == "local"
    assert dbt_runner.target_for(Settings(env="prod", project_id="p")) == "prod"
    monkeypatch.setenv("DBT_TARGET", "ci")
    assert dbt_runner.target_for(settings) == "ci"


def test_local_env_points_dbt_at_the_warehouse_file(settings: Settings) -> None:
    env = dbt_runner.dbt_env(settings, "ci")
    assert env == {
        "DBT_TARGET": "ci",
        "DATA_GCP_DUCKDB_PATH": str(settings.duckdb_path),
        "DATA_GCP_DUCKDB_MEMORY_LIMIT": "3GB",
    }


def test_a_local_build_runs_under_the_configured_duckdb_memory_limit(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit reaches DuckDB's session in dbt (past it, DuckDB spills instead of growing), and a
    value DuckDB would refuse is refused when the settings are read, naming the setting."""
    monkeypatch.delenv("DATA_GCP_DUCKDB_MEMORY_LIMIT", raising=False)
    limited = Settings(env="local", data_dir=settings.local_data_dir, duckdb_memory_limit="1GiB")
    res = dbt_runner.invoke(
        ["show", "--inline", "select current_setting('memory_limit') as memory_limit"],
        target="ci",
        settings=limited,
    )
    assert res.raw.results[0].agate_table.rows[0][0] == "1.0 GiB"
    monkeypatch.setenv("DATA_GCP_DUCKDB_MEMORY_LIMIT", "80%")
    with pytest.raises(ValueError, match="duckdb_memory_limit"):
        Settings(env="local")


def test_cloud_env_needs_a_project_and_sets_bigquery_variables(settings: Settings) -> None:
    with pytest.raises(dbt_runner.DbtRunError, match="DATA_GCP_PROJECT_ID"):
        dbt_runner.dbt_env(settings, "prod")
    env = dbt_runner.dbt_env(Settings(env="stg", project_id="proj", bq_location="EU"), "stg")
    assert env["DATA_GCP_PROJECT_ID"] == "proj"
    assert env["DATA_GCP_BQ_LOCATION"] == "EU"
    assert env["DBT_BIGQUERY_DATASET"] == "tmp_stg"
    with pytest.raises(dbt_runner.DbtRunError, match="unknown dbt target"):
        dbt_runner.dbt_env(settings, "production")


def test_failure_message_names_failing_nodes() -> None:
    result = dbt_runner.DbtResult(
        command="build",
        target="ci",
        success=False,
        elapsed_s=1.0,
        statuses={"model.data_gcp.a": "success", "model.data_gcp.b": "error", "test.data_gcp.t": "fail"},
        messages={"model.data_gcp.b": "Catalog Error: Table raw.x does not exist\nmore"},
    )
    with pytest.raises(dbt_runner.DbtRunError) as info:
        result.raise_for_failure()
    text = str(info.value)
    assert "error: model.data_gcp.b: Catalog Error: Table raw.x does not exist" in text
    assert "fail: test.data_gcp.t" in text
    assert "model.data_gcp.a" not in text


def _project(root, models: dict[str, str]):  # noqa: ANN001, ANN202
    """A minimal dbt project under `root` (the workspace's profile), with `models`."""
    (root / "workspace.toml").write_text("")
    dbt = root / "dbt"
    (dbt / "models").mkdir(parents=True)
    (dbt / "profiles.yml").write_text((dbt_runner.project_dir() / "profiles.yml").read_text())
    (dbt / "dbt_project.yml").write_text('name: data_gcp\nversion: "1.0"\nprofile: data_gcp\n')
    for name, sql in models.items():
        (dbt / "models" / f"{name}.sql").write_text(sql)
    return dbt


def test_a_missing_ref_and_a_sql_error_name_the_model_and_the_cause(
    tmp_path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model referencing a deleted one: dbt fails at compile time with 'Compilation Error' on the
    first line; the model and the missing name are on the next."""
    _project(tmp_path, {"uses_gone": "select * from {{ ref('gone_model') }}", "fine": "select 1 as x"})
    monkeypatch.setenv("DATA_GCP_WORKSPACE_ROOT", str(tmp_path))
    with pytest.raises(dbt_runner.DbtRunError) as info:
        dbt_runner.build(target="local", settings=settings, target_path=tmp_path / "target")
    text = str(info.value)
    assert "uses_gone" in text and "gone_model" in text, text
    assert "rerun one node" not in text  # no node ran: nothing to rerun
    # the manifest of a failed command is never trusted
    assert dbt_runner.stale_manifest_reason(tmp_path / "target" / "manifest.json", tmp_path / "dbt")

    (tmp_path / "dbt" / "models" / "uses_gone.sql").write_text("select no_such_column from {{ ref('fine') }}")
    with pytest.raises(dbt_runner.DbtRunError) as info:
        dbt_runner.build(target="local", settings=settings, target_path=tmp_path / "target")
    text = str(info.value)
    assert "error: model.data_gcp.uses_gone" in text and "no_such_column" in text, text
