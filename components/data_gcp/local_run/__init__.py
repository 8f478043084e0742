"""`data-gcp run`: a local Airflow (SQLite) running the daily chain through `dag.test()`."""

from data_gcp.local_run.airflow_home import airflow_environment, configure_airflow, dags_folder, migrate_db
from data_gcp.local_run.chain import (
    DEFAULT_SCALE,
    ChainFailed,
    ChainReport,
    layer_counts,
    run_chain,
    run_dates,
)
from data_gcp.local_run.compat import apply_airflow_compat
from data_gcp.local_run.rehearsal import argv_days
from data_gcp.local_run.runner import DagOutcome, TaskOutcome
from data_gcp.local_run.ui_record import TABLES_FILE, history_dir, record_tables

__all__ = [
    "apply_airflow_compat",
    "DEFAULT_SCALE",
    "TABLES_FILE",
    "ChainFailed",
    "ChainReport",
    "DagOutcome",
    "TaskOutcome",
    "airflow_environment",
    "argv_days",
    "configure_airflow",
    "dags_folder",
    "history_dir",
    "layer_counts",
    "migrate_db",
    "record_tables",
    "run_chain",
    "run_dates",
]
