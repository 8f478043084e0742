"""`data-gcp ui`: the Airflow UI on the local metadata DB, the dbt docs and the model reports, on loopback."""

from data_gcp.local_ui.core import (
    AIRFLOW_PORT,
    PORTAL_PORT,
    LocalUi,
    PortTaken,
    Report,
    dbt_docs_dir,
    ensure_dbt_docs,
    find_reports,
    start_ui,
)

__all__ = [
    "AIRFLOW_PORT",
    "PORTAL_PORT",
    "LocalUi",
    "PortTaken",
    "Report",
    "dbt_docs_dir",
    "ensure_dbt_docs",
    "find_reports",
    "start_ui",
]
