from __future__ import annotations

import pytest

from data_gcp.planted_truth import synthetic_training_table
from data_gcp.ranking import RankerModel, TrainConfig, train_ranker


@pytest.fixture(scope="package")
def ranker() -> RankerModel:
    """A small real model (trained in about a second), shared by the service tests."""
    table = synthetic_training_table(n_calls=120, per_call=12, seed=3)
    config = TrainConfig(
        num_boost_round=30, num_leaves=7, learning_rate=0.2, min_category_count=3, num_threads=1
    )
    return train_ranker(table, config, run_id="svc-test").model
