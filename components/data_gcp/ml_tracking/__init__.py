"""MLflow run tracking for the training jobs (params, metrics, artifacts in one call)."""

from data_gcp.ml_tracking.core import track_run

__all__ = ["track_run"]
