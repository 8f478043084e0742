"""`data-gcp ml train ranker`: read the training table, train, evaluate, publish model and metrics.

Why a brick apart from `ranking`: the service imports `ranking` (features, model) and must not pull
the warehouse engines and MLflow into its image; only the training job needs them.

Outputs: the model under `models/ranker/<run_id>/` in the bucket (and `models/ranker/latest`), one
row per metric in `ml.ranker_metrics`, and an MLflow run with the same params, metrics and files.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from data_gcp.config import Settings, get_settings
from data_gcp.log import get_logger
from data_gcp.model_report import REPORT_FILE, calibration_bins, ranker_report
from data_gcp.ranking import LABELS, RankerModel, TrainConfig, TrainingError, TrainOutcome, train_ranker
from data_gcp.storage import get_storage
from data_gcp.warehouse import get_warehouse

TRAINING_TABLE = "ml.ml_reco__ranking_training"
METRICS_TABLE = "ml.ranker_metrics"
EXPERIMENT = "ranker"

log = get_logger(__name__)


@dataclass
class RankerRun:
    run_id: str
    metrics: dict[str, float]
    feature_importance: dict[str, float]
    model_uri: str
    model: RankerModel


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable and unique: `20260105T101500-1a2b3c`."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def read_training_table(settings: Settings, table: str = TRAINING_TABLE) -> pa.Table:
    wh = get_warehouse(settings)
    if not wh.table_exists(table):
        raise TrainingError(
            f"training table {table} does not exist in the {wh.engine} warehouse: "
            "build it with `data-gcp dbt build --select ml_reco__ranking_training`"
        )
    data = wh.query(f"select * from {wh.physical(table)}")  # noqa: S608 - logical name checked by physical()
    if data.num_rows == 0:
        raise TrainingError(f"training table {table} is empty: no displayed offers logged yet")
    return data


def metrics_rows(run_id: str, trained_at: dt.datetime, metrics: dict[str, float]) -> pa.Table:
    """One row per metric (long format), so adding a metric never changes the table's schema."""
    names = sorted(metrics)
    return pa.table(
        {
            "run_id": pa.array([run_id] * len(names)),
            "trained_at": pa.array([trained_at] * len(names), pa.timestamp("us", tz="UTC")),
            "metric": pa.array(names),
            "value": pa.array([float(metrics[n]) for n in names], pa.float64()),
        }
    )


def run_params(config: TrainConfig) -> dict[str, object]:
    """What the run was trained with: LightGBM's parameters and the boosting budget (not the threads)."""
    params = {k: v for k, v in config.lightgbm_params().items() if k != "num_threads"}
    return params | {
        "num_boost_round": config.num_boost_round,
        "early_stopping_rounds": config.early_stopping_rounds,
    }


def report_html(run_id: str, outcome: TrainOutcome, config: TrainConfig | None = None) -> str:
    """The run's HTML report: calibration of each class on the test split, importances, metrics."""
    test = outcome.split.test
    calibration = {}
    if test.num_rows:
        model = outcome.model
        proba = model.predict_proba(model.spec.matrix(test))
        y = test.column("label").to_numpy(zero_copy_only=False).astype(int)
        calibration = {name: calibration_bins(y == code, proba[:, code]) for code, name in enumerate(LABELS)}
    params = None
    if config is not None:
        params = run_params(config)
        params["boosting rounds kept (early stopping)"] = int(outcome.metrics.get("num_trees_per_class", 0))
    return ranker_report(run_id, outcome.metrics, outcome.model.feature_importance(), calibration, params)


def run_training(
    config: TrainConfig | None = None,
    settings: Settings | None = None,
    table: str = TRAINING_TABLE,
    track: bool = True,
) -> RankerRun:
    """Train on the warehouse's training table and publish everything one run produces."""
    settings = settings or get_settings()
    config = config or TrainConfig()
    run_id = new_run_id()
    data = read_training_table(settings, table)
    log.info("ranker %s: training on %d rows of %s", run_id, data.num_rows, table)
    outcome = train_ranker(data, config, run_id=run_id)
    trained_at = dt.datetime.now(dt.UTC)
    model = outcome.model
    importance = model.feature_importance()
    model.metadata.update(
        {"trained_at": trained_at.isoformat(), "table": table, "feature_importance": importance}
    )

    storage = get_storage(settings)
    prefix = model.publish(storage)
    storage.put_bytes(f"{prefix}/{REPORT_FILE}", report_html(run_id, outcome, config).encode("utf-8"))
    get_warehouse(settings).load(
        METRICS_TABLE, metrics_rows(run_id, trained_at, outcome.metrics), mode="append"
    )
    if track:
        _track(settings, run_id, config, outcome.metrics, model)
    log.info("ranker %s: published to %s", run_id, storage.uri(prefix))
    return RankerRun(run_id, outcome.metrics, importance, storage.uri(prefix), model)


def _track(
    settings: Settings, run_id: str, config: TrainConfig, metrics: dict[str, float], model: RankerModel
) -> None:
    """Log the run to MLflow; a tracking failure is logged, never fatal (the bucket has the model)."""
    from data_gcp.ml_tracking import track_run

    with tempfile.TemporaryDirectory(prefix="ranker-track-") as tmp:
        folder = model.save(Path(tmp))
        track_run(
            EXPERIMENT,
            run_name=run_id,
            params=run_params(config),
            metrics=metrics,
            artifacts=[folder / "model.txt", folder / "spec.json", folder / "manifest.json"],
            tags={"run_id": run_id},
            settings=settings,
        )
