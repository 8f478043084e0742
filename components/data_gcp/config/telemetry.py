"""No usage telemetry leaves the platform: the switches of every library that would send it.

Why environment variables: each library reads its own switch once, when it is imported (Cosmos
reads `[cosmos] enable_telemetry`, `DO_NOT_TRACK` and `SCARF_NO_ANALYTICS` when `cosmos.settings`
is imported, possibly by the Airflow plugin manager before any DAG file runs). So they are set where
each process starts: the Composer environment's variables (`data_gcp.deploy`), the local Airflow's
environment (`data_gcp.local_run`) and every `data-gcp` console script (`data_gcp.cli_kit`). The only
hosts a run talks to are the configured vendors and Google Cloud.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

NO_TELEMETRY_ENV: dict[str, str] = {
    # Cosmos (Scarf) posts DAG run and task metrics from every Cosmos task and DAG run
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",  # Cosmos, and other libraries honouring the consoledonottrack.com convention
    "SCARF_NO_ANALYTICS": "true",  # Cosmos, and Scarf-based analytics in general
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",  # also `flags:` in dbt_project.yml
    "RUNTIME__DLTHUB_TELEMETRY": "false",  # dlt's anonymous tracking (also set by etl_core)
    "HF_HUB_DISABLE_TELEMETRY": "1",  # sentence-transformers / huggingface_hub
    "MLFLOW_DISABLE_TELEMETRY": "true",  # mlflow-skinny 3.x
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",  # Airflow's own (Scarf) usage data
}


def disable_telemetry(environ: MutableMapping[str, str] | None = None) -> None:
    """Set every switch in `environ` (default: this process), keeping a value already set."""
    environ = os.environ if environ is None else environ
    for key, value in NO_TELEMETRY_ENV.items():
        environ.setdefault(key, value)
