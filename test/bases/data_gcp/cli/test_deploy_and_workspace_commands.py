"""`data-gcp deploy --dry-run`, `data-gcp test --changed --list`, `data-gcp projects`, `data-gcp new` errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from data_gcp.brick_graph import list_projects
from data_gcp.changed_bricks import ChangeDetectionError
from data_gcp.cli.main import app
from data_gcp.config import ConfigError, workspace_root
from data_gcp.scaffold import ScaffoldError


def invoke(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    """In-process (fast); errors meant for a person come back as result.exception."""
    return CliRunner().invoke(app, list(args), env=env)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from data_gcp.cli.main import main; main()", *args],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=workspace_root(), timeout=120, check=False,
    )  # fmt: skip


def test_deploy_dry_run_prints_every_command_and_runs_none() -> None:
    r = invoke("deploy", "ranking_endpoint", "--env", "prod", "--dry-run", "--tag", "abc123")
    assert r.exit_code == 0, r.output
    commands = [line for line in r.stdout.splitlines() if line and not line.startswith("#")]
    assert commands[0].startswith("uv build --package data-gcp-ranking-endpoint")
    assert commands[-1].startswith("gcloud run deploy ranking-endpoint ")
    assert "--project passculture-data-prod" in commands[-1]


def test_deploy_with_ci_settings_uses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from data_gcp.config import reset_settings

    for key, value in {
        "DATA_GCP_ENV": "stg",
        "DATA_GCP_PROJECT_ID": "my-stg",
        "DATA_GCP_COMPOSER_BUCKET": "b-123",
    }.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    r = invoke("deploy", "composer", "--env", "stg", "--dry-run", "--tag", "t")
    assert r.exit_code == 0, r.output
    assert "gs://b-123/dags" in r.stdout and "--project my-stg" in r.stdout


def test_deploy_errors_are_one_line() -> None:
    r = run_cli("deploy", "nope", "--env", "dev", "--dry-run", "--tag", "t")
    assert r.returncode == 2 and "unknown project 'nope'" in r.stderr and "Traceback" not in r.stderr
    r = invoke("deploy", "etl_job", "--env", "local", "--dry-run", "--tag", "t")
    assert isinstance(r.exception, ConfigError) and "expected one of dev, stg, prod" in str(r.exception)


def _commit_all(root) -> None:  # noqa: ANN001
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "base")):
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=root, check=True, capture_output=True,
        )  # fmt: skip


def test_deploy_with_a_tag_on_a_dirty_tree_is_refused_before_any_step(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command itself: `data-gcp deploy ... --tag T` in a dirty checkout stops before planning."""
    from data_gcp.config import reset_settings

    (tmp_path / "a.py").write_text("x = 1\n")
    _commit_all(tmp_path)
    (tmp_path / "a.py").write_text("x = 2\n")
    monkeypatch.setenv("DATA_GCP_WORKSPACE_ROOT", str(tmp_path))
    reset_settings()
    r = invoke("deploy", "etl_job", "--env", "dev", "--tag", "abc123")
    assert r.exit_code != 0
    assert "uncommitted changes (a.py)" in str(r.exception), r.exception
    reset_settings()


def test_changed_list_as_json_and_a_bad_ref_fails() -> None:
    r = invoke("test", "--changed", "--since", "HEAD", "--list", "--json")
    assert r.exit_code == 0, r.output
    selection = json.loads(r.stdout)
    assert set(selection) >= {"base", "tests", "projects", "changed_bricks", "dbt_changed"}
    r = invoke("test", "--changed", "--since", "no-such-ref-xyz", "--list")
    assert isinstance(r.exception, ChangeDetectionError) and "no-such-ref-xyz" in str(r.exception)


def test_projects_list_names_every_project() -> None:
    r = invoke("projects", "list")
    assert r.exit_code == 0, r.output
    for name in list_projects(workspace_root()):
        assert name in r.stdout


def test_new_refuses_a_bad_name_without_touching_anything() -> None:
    r = invoke("new", "connector", "Bad-Name")
    assert isinstance(r.exception, ScaffoldError) and "snake_case" in str(r.exception)
    r = invoke("new", "service", "ranking")
    assert isinstance(r.exception, ScaffoldError) and "already exists" in str(r.exception)
