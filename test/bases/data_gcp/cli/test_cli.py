"""The `data-gcp` command as a user runs it (subprocess: exit codes and output are the contract)."""

import os
import subprocess
import sys

import pyarrow as pa

from data_gcp.warehouse import get_warehouse


def run_cli(*args, env=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", "from data_gcp.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def test_env_local(isolated_env):
    r = run_cli("env", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "duckdb" in r.stdout and str(isolated_env) in r.stdout


def test_env_prod_without_project_is_one_line_exit_2():
    r = run_cli("env", env={"DATA_GCP_ENV": "prod", "COLUMNS": "200"})
    assert r.returncode == 2
    assert "DATA_GCP_PROJECT_ID" in r.stderr
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_env_shows_secret_names_not_values(monkeypatch):
    r = run_cli("env", env={"BREVO_API_KEY_NATIVE": "zz-very-secret-zz", "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "brevo-api-key-native" in r.stdout
    assert "zz-very-secret-zz" not in r.stdout + r.stderr


def test_sql_prints_a_table(settings):
    get_warehouse(settings).load("raw.t", pa.table({"id": [1, 2], "name": ["alpha", "beta"]}), "replace")
    r = run_cli("sql", "select * from raw.t order by id", env={"COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "alpha" in r.stdout and "beta" in r.stdout and "2 row(s)" in r.stdout


def test_sql_error_is_reported(settings):
    r = run_cli("sql", "select * from raw.missing_table")
    assert r.returncode == 1
    assert "missing_table" in r.stderr
    assert "Traceback" not in r.stderr


def test_sql_syntax_error_is_one_line(settings):
    r = run_cli("sql", "selec 1")
    assert r.returncode == 1
    assert "syntax error" in r.stderr.lower() and "Traceback" not in r.stderr


def test_bad_option_is_a_usage_error_without_traceback():
    r = run_cli("sql", "--bogus")
    assert r.returncode == 2
    assert "--bogus" in r.stderr and "Traceback" not in r.stderr


def test_no_arguments_prints_help():
    r = run_cli(env={"COLUMNS": "200"})
    assert "env" in r.stdout + r.stderr and "sql" in r.stdout + r.stderr
