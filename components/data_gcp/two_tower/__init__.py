"""Two-tower retrieval model: data preparation, training, evaluation against baselines, artifacts, tracking."""

from data_gcp.two_tower.data import (
    FeatureSpace,
    Inputs,
    TwoTowerDataError,
    Vocabulary,
    load_inputs,
    time_split,
)
from data_gcp.two_tower.evaluate import EvalContext, Reference, top_k_chunked
from data_gcp.two_tower.job import (
    ITEM_EMBEDDING_TABLE,
    METRICS_TABLE,
    USER_EMBEDDING_TABLE,
    TrainResult,
    format_metrics_table,
    load_model,
    run_training,
    save_run,
    train_and_evaluate,
)
from data_gcp.two_tower.train import TrainConfig

__all__ = [
    "ITEM_EMBEDDING_TABLE",
    "METRICS_TABLE",
    "USER_EMBEDDING_TABLE",
    "EvalContext",
    "FeatureSpace",
    "Inputs",
    "TrainConfig",
    "Reference",
    "TrainResult",
    "TwoTowerDataError",
    "Vocabulary",
    "format_metrics_table",
    "load_inputs",
    "load_model",
    "run_training",
    "save_run",
    "time_split",
    "top_k_chunked",
    "train_and_evaluate",
]
