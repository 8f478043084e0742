"""The ranker's training job: warehouse table in; model to the bucket, metrics to `ml.ranker_metrics`, MLflow run."""

from data_gcp.ranking_job.core import (
    METRICS_TABLE,
    TRAINING_TABLE,
    RankerRun,
    metrics_rows,
    new_run_id,
    read_training_table,
    run_training,
)

__all__ = [
    "METRICS_TABLE",
    "TRAINING_TABLE",
    "RankerRun",
    "metrics_rows",
    "new_run_id",
    "read_training_table",
    "run_training",
]
