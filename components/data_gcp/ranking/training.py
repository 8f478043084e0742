"""Train and evaluate the 3-class LightGBM ranker on displayed-offer rows (Arrow in, RankerModel out).

Why split by call and time: rows of one call (one displayed list) are not independent, and the model
is used on tomorrow's calls, so the test set is the latest calls, whole. Why compare with the
retrieval order: the ranker is only worth its latency if it orders a displayed list better than the
order it arrived in (`position`), on the same calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.config import DataGcpError
from data_gcp.ranking.features import (
    GROUP_COLUMN,
    LABEL_COLUMN,
    LABELS,
    POSITION_COLUMN,
    TIME_COLUMN,
    FeatureSpec,
)
from data_gcp.ranking.model import RankerModel
from data_gcp.reco_metrics import ndcg_by_group


class TrainingError(DataGcpError):
    """The training data cannot give a model (too few calls, bad labels); the message says which."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and split shares; defaults suit a day or a week of displays."""

    test_fraction: float = 0.2
    valid_fraction: float = 0.1
    num_boost_round: int = 300
    early_stopping_rounds: int = 30
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 20
    min_category_count: int = 5
    ndcg_k: int = 10
    seed: int = 0
    # 1 by default: on a shared machine OpenMP threads spin against other processes (a 2-thread fit of
    # 4k rows took 140 s there against 0.7 s with one); raise it on a dedicated job machine.
    num_threads: int = 1
    params: dict[str, Any] = field(default_factory=dict)

    def lightgbm_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": "multiclass",
            "num_class": len(LABELS),
            "metric": "multi_logloss",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "min_data_per_group": 20,
            "cat_smooth": 10.0,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }
        params.update(self.params)
        return params


@dataclass(frozen=True)
class Split:
    train: pa.Table
    valid: pa.Table
    test: pa.Table


@dataclass
class TrainOutcome:
    model: RankerModel
    metrics: dict[str, float]
    split: Split


def split_by_call_time(table: pa.Table, test_fraction: float = 0.2, valid_fraction: float = 0.1) -> Split:
    """Order calls by their first display time (ties by call id) and cut: oldest calls train, then
    validation (early stopping), newest test. A call is never cut in two."""
    for name in (GROUP_COLUMN, TIME_COLUMN):
        if name not in table.column_names:
            raise TrainingError(f"training data lacks column {name!r}, needed to split by call and time")
    if not (0 < test_fraction < 1 and 0 <= valid_fraction < 1 and test_fraction + valid_fraction < 1):
        raise TrainingError(
            f"invalid split shares test={test_fraction} valid={valid_fraction}: each in [0, 1), sum below 1"
        )
    calls = table.group_by(GROUP_COLUMN).aggregate([(TIME_COLUMN, "min")])
    calls = calls.sort_by([(f"{TIME_COLUMN}_min", "ascending"), (GROUP_COLUMN, "ascending")])
    n = calls.num_rows
    n_test = max(1, math.floor(n * test_fraction))
    n_valid = max(1, math.floor(n * valid_fraction)) if valid_fraction > 0 else 0
    n_train = n - n_test - n_valid
    if n_train < 1:
        raise TrainingError(f"only {n} call(s) in the training data: need at least 3 to split by call")
    ids = calls.column(GROUP_COLUMN)

    def part(start: int, stop: int) -> pa.Table:
        return table.filter(pc.is_in(table.column(GROUP_COLUMN), value_set=ids.slice(start, stop - start)))

    return Split(part(0, n_train), part(n_train, n_train + n_valid), part(n_train + n_valid, n))


def labels_of(table: pa.Table) -> np.ndarray:
    if LABEL_COLUMN not in table.column_names:
        raise TrainingError(
            f"training data lacks the {LABEL_COLUMN!r} column (0 seen, 1 consulted, 2 booked)"
        )
    y = table.column(LABEL_COLUMN).cast(pa.float64()).to_numpy(zero_copy_only=False)
    bad = ~np.isin(y, [0, 1, 2])
    if bad.any():
        raise TrainingError(
            f"{int(bad.sum())} training row(s) have a label outside 0/1/2 (e.g. {y[bad][0]}): fix the dbt model"
        )
    return y.astype(np.int32)


def multiclass_log_loss(y: np.ndarray, proba: np.ndarray, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood of the true class."""
    if len(y) == 0:
        return float("nan")
    p = np.clip(proba[np.arange(len(y)), y], eps, 1.0)
    return float(-np.mean(np.log(p)))


def train_ranker(table: pa.Table, config: TrainConfig | None = None, run_id: str = "local") -> TrainOutcome:
    """Fit vocabularies and the booster on the train split, stop early on validation, evaluate on test."""
    import lightgbm as lgb

    config = config or TrainConfig()
    split = split_by_call_time(table, config.test_fraction, config.valid_fraction)
    spec = FeatureSpec().fit(split.train, min_category_count=config.min_category_count)
    y_train = labels_of(split.train)
    if len(np.unique(y_train)) < 2:
        raise TrainingError(
            f"the train split has only label {int(y_train[0])}: no consultation or booking to learn from"
        )
    train_set = lgb.Dataset(
        spec.matrix(split.train),
        y_train,
        feature_name=spec.names,
        categorical_feature=spec.categorical_indices,
        free_raw_data=True,
    )
    valid_sets, callbacks = [], []
    if split.valid.num_rows:
        valid_sets = [lgb.Dataset(spec.matrix(split.valid), labels_of(split.valid), reference=train_set)]
        callbacks = [lgb.early_stopping(config.early_stopping_rounds, verbose=False)]
    booster = lgb.train(
        config.lightgbm_params(),
        train_set,
        num_boost_round=config.num_boost_round,
        valid_sets=valid_sets,
        callbacks=callbacks,
    )
    if valid_sets and booster.best_iteration:
        # Keep only the trees early stopping chose, so the saved model and serving match the metrics.
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    model = RankerModel(booster, spec, run_id=run_id, num_threads=config.num_threads)
    metrics = evaluate(
        model, split.test, k=config.ndcg_k, class_prior=np.bincount(y_train, minlength=3) / len(y_train)
    )
    metrics.update(
        {
            "train_rows": float(split.train.num_rows),
            "valid_rows": float(split.valid.num_rows),
            "num_trees_per_class": float(booster.num_trees() // len(LABELS)),
        }
    )
    model.metadata = {"metrics": metrics, "params": config.lightgbm_params()}
    return TrainOutcome(model, metrics, split)


def evaluate(
    model: RankerModel, test: pa.Table, k: int = 10, class_prior: np.ndarray | None = None
) -> dict[str, float]:
    """Log-loss (and that of the class prior, as its floor to beat) and NDCG@k of the model's order vs
    the retrieval order (`position`) per call, graded by the label (booked > consulted > seen)."""
    y = labels_of(test)
    metrics: dict[str, float] = {"test_rows": float(test.num_rows)}
    if test.num_rows == 0:
        return metrics
    proba = model.predict_proba(model.spec.matrix(test))
    metrics["log_loss"] = multiclass_log_loss(y, proba)
    if class_prior is not None:
        prior = np.tile(np.asarray(class_prior, dtype=float), (len(y), 1))
        metrics["log_loss_prior"] = multiclass_log_loss(y, prior)
    groups = test.column(GROUP_COLUMN).to_numpy(zero_copy_only=False)
    scores = proba[:, 1] + proba[:, 2]
    metrics[f"ndcg_at_{k}"] = ndcg_by_group(groups, scores, y, k)
    if POSITION_COLUMN in test.column_names:
        position = test.column(POSITION_COLUMN).cast(pa.float64()).to_numpy(zero_copy_only=False)
        metrics[f"ndcg_at_{k}_retrieval"] = ndcg_by_group(groups, -position, y, k)
    metrics["test_calls"] = float(len(np.unique(groups)))
    for code, name in enumerate(LABELS):
        metrics[f"test_share_{name}"] = float(np.mean(y == code))
    return metrics
