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
from data_gcp.local_run.rehearsal import argv_days
from data_gcp.local_run.runner import DagOutcome, TaskOutcome

__all__ = [
    "DEFAULT_SCALE",
    "ChainFailed",
    "ChainReport",
    "DagOutcome",
    "TaskOutcome",
    "airflow_environment",
    "argv_days",
    "configure_airflow",
    "dags_folder",
    "layer_counts",
    "migrate_db",
    "run_chain",
    "run_dates",
]
