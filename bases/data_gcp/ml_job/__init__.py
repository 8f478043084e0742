"""Entry point of the ML job image: `data-gcp ml ...`."""

from data_gcp.ml_job.main import app, main, register

__all__ = ["app", "main", "register"]
