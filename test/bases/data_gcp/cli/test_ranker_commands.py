"""`data-gcp ml train ranker` in-process (a subprocess would pay LightGBM's import again)."""

from typer.testing import CliRunner

from data_gcp.cli.main import app
from data_gcp.planted_truth import synthetic_training_table
from data_gcp.storage import get_storage
from data_gcp.warehouse import get_warehouse


def test_train_ranker_prints_metrics_and_publishes(settings) -> None:
    get_warehouse(settings).load(
        "ml.ml_reco__ranking_training",
        synthetic_training_table(n_calls=80, per_call=10, seed=2),
        mode="replace",
    )
    result = CliRunner().invoke(
        app,
        ["ml", "train", "ranker", "--no-track", "--num-boost-round", "20", "--min-category-count", "2"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "ndcg_at_10_retrieval" in result.output and "log_loss" in result.output
    run_id = get_storage(settings).get_bytes("models/ranker/latest").decode()
    assert f"ranker run {run_id}" in result.output


def test_train_ranker_without_table_exits_with_the_fix(settings) -> None:
    result = CliRunner().invoke(app, ["ml", "train", "ranker", "--no-track"])
    assert result.exit_code != 0
    assert "dbt build --select ml_reco__ranking_training" in str(result.exception)
