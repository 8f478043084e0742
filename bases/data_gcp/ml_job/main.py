"""The ML job's entry point (`data-gcp` in the ml_job image): training and the ML batch jobs.

The Cloud Run job `ml-job` runs this image with the DAG task's argv (`ml train two-tower`, ...).
"""

from __future__ import annotations

from data_gcp.cli_kit import new_app, run_app
from data_gcp.ml_job.ml_commands import register

app = new_app("data-gcp", "pass Culture data platform, ML job: training and ML batch jobs.")
register(app)


def main() -> None:
    run_app(app)
