"""Entry point of the ETL job image: `data-gcp import|etl|dbt ...`."""

from data_gcp.etl_job.main import app, main, register

__all__ = ["app", "main", "register"]
