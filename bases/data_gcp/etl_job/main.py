"""The ETL job's entry point (`data-gcp` in the etl_job image): import, connectors and dbt.

The Cloud Run jobs `import-job`, `etl-job` and `dbt-job` run this image with the DAG task's argv;
nothing else (no training, no services, no developer commands) is reachable from it.
"""

from __future__ import annotations

import typer

from data_gcp.cli_kit import new_app, run_app
from data_gcp.etl_job import dbt_commands, etl_commands, import_commands

app = new_app("data-gcp", "pass Culture data platform, ETL job: app-database import, connectors, dbt.")


def register(target: typer.Typer) -> None:
    """Add this job's command groups (`import`, `etl`, `dbt`) to `target`."""
    for module in (import_commands, etl_commands, dbt_commands):
        module.register(target)


register(app)


def main() -> None:
    run_app(app)
