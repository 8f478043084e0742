"""Entry point of the ML job image: `data-gcp ml ...`."""

from data_gcp.ml_job.main import app, main, register
from data_gcp.ml_job.ml_commands import reference_providers

__all__ = ["app", "main", "reference_providers", "register"]
