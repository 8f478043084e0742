"""The training job end to end on the local warehouse and bucket (a synthetic training table)."""

import mlflow
import pytest

from data_gcp.planted_truth import synthetic_training_table
from data_gcp.ranking import LATEST_KEY, TrainConfig, TrainingError, load_ranker
from data_gcp.ranking_job import METRICS_TABLE, TRAINING_TABLE, run_training
from data_gcp.storage import get_storage
from data_gcp.warehouse import get_warehouse

CONFIG = TrainConfig(num_boost_round=30, num_leaves=7, learning_rate=0.2, min_category_count=3, num_threads=1)


def test_missing_table_says_how_to_build_it(settings) -> None:
    with pytest.raises(TrainingError, match="dbt build --select ml_reco__ranking_training"):
        run_training(CONFIG, settings, track=False)


def test_run_publishes_model_metrics_and_tracking(settings) -> None:
    wh = get_warehouse(settings)
    wh.load(TRAINING_TABLE, synthetic_training_table(n_calls=100, per_call=12, seed=5), mode="replace")

    run = run_training(CONFIG, settings, track=True)

    storage = get_storage(settings)
    assert storage.get_bytes(LATEST_KEY).decode() == run.run_id
    assert run.model_uri.endswith(f"models/ranker/{run.run_id}")
    assert load_ranker(storage=storage).run_id == run.run_id
    report = storage.get_bytes(f"models/ranker/{run.run_id}/report.html").decode()
    assert 'id="calibration"' in report and ">booked</text>" in report
    top = max(run.feature_importance, key=run.feature_importance.get)
    assert 'id="feature-importance"' in report and f">{top}</text><rect" in report
    rows = wh.query(
        f"select metric, value from {wh.physical(METRICS_TABLE)} where run_id = '{run.run_id}'"  # noqa: S608
    ).to_pylist()
    metrics = {r["metric"]: r["value"] for r in rows}
    assert metrics["ndcg_at_10"] == pytest.approx(run.metrics["ndcg_at_10"])
    assert {"log_loss", "log_loss_prior", "ndcg_at_10_retrieval", "test_calls"} <= set(metrics)
    runs = mlflow.MlflowClient(tracking_uri=settings.tracking_uri).search_runs(
        [mlflow.get_experiment_by_name("ranker").experiment_id]
    )
    assert [r.info.run_name for r in runs] == [run.run_id]
    assert runs[0].data.metrics["log_loss"] == pytest.approx(run.metrics["log_loss"])
    # the boosting budget is a parameter of the run like LightGBM's own (runs compare on it)
    assert runs[0].data.params["num_boost_round"] == str(CONFIG.num_boost_round)

    # A second run appends its metrics and moves `latest`.
    second = run_training(CONFIG, settings, track=False)
    assert storage.get_bytes(LATEST_KEY).decode() == second.run_id
    assert wh.query(f"select count(distinct run_id) as n from {wh.physical(METRICS_TABLE)}").to_pylist() == [
        {"n": 2}
    ]  # noqa: S608
