"""End to end: `data-gcp run --scale 0.001` on an empty data folder fills the marts through Airflow;
a failing task makes the run exit non-zero, naming the task and its log.

(A second run of the same day gives the same rows, as README.md states; that is checked by hand,
not here, because it would double this test's time.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from data_gcp.config import get_settings
from data_gcp.warehouse import get_warehouse

CLI = Path(sys.executable).parent / "data-gcp"


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DBT_"))}
    env.update(DATA_GCP_ENV="local", DATA_GCP_DATA_DIR=str(data_dir), COLUMNS="200")
    return subprocess.run([str(CLI), "run", *args], env=env, capture_output=True, text=True, timeout=900)


def _counts(settings) -> dict[str, int]:  # noqa: ANN001
    wh = get_warehouse(settings)
    tables = [f"{d}.{t}" for d in ("raw", "analytics", "ml") for t in wh.list_tables(d)]
    return {t: wh.row_count(t) for t in tables}


@pytest.mark.slow
def test_data_gcp_run_fills_the_marts(isolated_env):
    settings = get_settings()
    first = _run(isolated_env, "--scale", "0.001", "--date", "2026-11-20")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "succeeded, 0 failed" in first.stdout
    assert "warehouse rows per layer" in first.stdout and "data-gcp sql" in first.stdout
    assert (isolated_env / "airflow" / "airflow.db").is_file()  # Airflow's home is under the data folder
    counts = _counts(settings)
    marts = {t: n for t, n in counts.items() if t.startswith("analytics.")}
    assert marts and all(n > 0 for n in marts.values()), marts
    assert counts.get("analytics.mrt_global__booking", 0) > 0
    assert counts.get("raw.applicative_database_booking", 0) > 0
    assert all(n > 0 for t, n in counts.items() if t.startswith("ml.ml_reco__")), counts


def test_a_failing_task_fails_the_run_and_points_to_its_log(isolated_env, tmp_path):
    """A broken source (not a SQLite database) makes the import task fail: exit 1, task and log named."""
    source = tmp_path / "broken.sqlite"
    source.write_text("this is not a database")
    env_extra = {"DATA_GCP_SOURCE_DATABASE_URL": f"sqlite:///{source}"}
    os.environ.update(env_extra)
    try:
        result = _run(isolated_env, "--date", "2026-11-20")
    finally:
        for key in env_extra:
            os.environ.pop(key, None)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "failed: import_applicative_database > import_applicative" in result.stdout
    log_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("log:"))
    log_path = Path(log_line.split("log:", 1)[1].strip())
    assert log_path.is_file() and "import_applicative" in str(log_path)
