"""A local Airflow: home under the data folder, SQLite metadata DB, our DAGs folder, no examples.

Why environment variables set before Airflow is imported: Airflow reads its configuration once, at
import time. Callers must call `configure_airflow()` first and import Airflow after.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

from data_gcp.config import NO_TELEMETRY_ENV, DataGcpError, Settings, workspace_root

MIGRATED_MARKER = ".migrated-airflow-"
# Several processes share the SQLite metadata DB (`data-gcp run`, and `data-gcp ui`'s API server,
# scheduler, DAG processor and task workers): a writer waits up to 30 s for another's commit instead
# of failing at once ("database is locked"); read by Airflow through [database] sql_alchemy_connect_args.
SQLITE_CONNECT_ARGS: dict = {"timeout": 30}
SQLITE_CONNECT_ARGS_ASYNC: dict = {"timeout": 30}


def dags_folder() -> Path:
    return workspace_root() / "orchestration" / "dags"


def _jwt_secret(home: Path) -> str:
    """The in-process execution API signs task tokens; a random per-home value, never a real secret."""
    path = home / "jwt_secret"
    if not path.is_file():
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")  # >= 64 bytes for HS512
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The variables that make Airflow local to this workspace (pure apart from the JWT secret file)."""
    home = settings.airflow_home
    home.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": f"{__name__}.SQLITE_CONNECT_ARGS",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC": f"{__name__}.SQLITE_CONNECT_ARGS_ASYNC",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(home),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__WEBSERVER__BASE_URL": "http://localhost:8080",
        "AIRFLOW__API__BASE_URL": "http://localhost:8080",
        **NO_TELEMETRY_ENV,  # Cosmos, Airflow, dbt, dlt: nothing sent anywhere
    }


def configure_airflow(settings: Settings) -> Path:
    """Set Airflow's environment for this process; refuse if Airflow was imported with another home."""
    env = airflow_environment(settings)
    if "airflow" in sys.modules and os.environ.get("AIRFLOW_HOME") != env["AIRFLOW_HOME"]:
        raise DataGcpError(
            "Airflow was imported before its local configuration was set "
            f"(AIRFLOW_HOME={os.environ.get('AIRFLOW_HOME', '~/airflow')!r}); "
            "call data_gcp.local_run.configure_airflow() before importing airflow"
        )
    os.environ.update(env)
    return settings.airflow_home


def migrate_db(settings: Settings) -> float:
    """Create or upgrade the SQLite metadata DB once per Airflow version; returns the seconds spent."""
    import airflow
    from airflow.utils import db

    marker = settings.airflow_home / f"{MIGRATED_MARKER}{airflow.__version__}"
    if marker.is_file() and (settings.airflow_home / "airflow.db").is_file():
        _write_ahead_log(settings.airflow_home / "airflow.db")
        return 0.0
    started = time.monotonic()
    db.initdb()
    _write_ahead_log(settings.airflow_home / "airflow.db")
    marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S"), encoding="utf-8")
    return time.monotonic() - started


def _write_ahead_log(path: Path) -> None:
    """SQLite's WAL journal (kept in the file): readers (the UI) never block a writer (a run), and the
    other way round; one writer at a time still."""
    import sqlite3

    with sqlite3.connect(path, timeout=30) as con:
        con.execute("PRAGMA journal_mode=WAL")
