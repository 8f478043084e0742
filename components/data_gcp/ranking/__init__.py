"""The LightGBM ranker: declared features, training and evaluation, and the model services load.

score = P(consulted) + P(booked) of a 3-class (seen / consulted / booked) LightGBM model.
"""

from data_gcp.ranking.features import (
    BOOLEAN_FEATURES,
    CATEGORICAL_FEATURES,
    DERIVED_FEATURES,
    LABELS,
    NUMERIC_FEATURES,
    RAW_NUMERIC_FEATURES,
    UNKNOWN,
    FeatureError,
    FeatureSpec,
)
from data_gcp.ranking.model import (
    LATEST_KEY,
    ModelNotFoundError,
    RankerModel,
    load_ranker,
)
from data_gcp.ranking.training import (
    Split,
    TrainConfig,
    TrainingError,
    TrainOutcome,
    evaluate,
    multiclass_log_loss,
    split_by_call_time,
    train_ranker,
)

__all__ = [
    "BOOLEAN_FEATURES",
    "CATEGORICAL_FEATURES",
    "DERIVED_FEATURES",
    "LABELS",
    "LATEST_KEY",
    "NUMERIC_FEATURES",
    "RAW_NUMERIC_FEATURES",
    "UNKNOWN",
    "FeatureError",
    "FeatureSpec",
    "ModelNotFoundError",
    "RankerModel",
    "Split",
    "TrainConfig",
    "TrainOutcome",
    "TrainingError",
    "evaluate",
    "load_ranker",
    "multiclass_log_loss",
    "split_by_call_time",
    "train_ranker",
]
