"""The training job end to end on a tiny planted-taste set loaded into the local warehouse."""

from __future__ import annotations

import json

import pyarrow as pa
from typer.testing import CliRunner

from data_gcp.cli.main import app
from data_gcp.planted_truth import make_planted
from data_gcp.retrieval.layout import LATEST_KEY, run_prefix
from data_gcp.storage import get_storage
from data_gcp.two_tower import TrainConfig, load_model, save_run, train_and_evaluate
from data_gcp.warehouse import get_warehouse


def load_ml_tables(settings, n_users: int = 80, n_items: int = 120) -> None:
    inputs, truth = make_planted(n_users, n_items, clicks_per_user=10)
    wh = get_warehouse(settings)
    for dataset in ("ml", "raw"):
        wh.create_dataset(dataset)
    wh.load(
        "ml.ml_reco__click_training", pa.Table.from_pandas(inputs.clicks, preserve_index=False), "replace"
    )
    wh.load(
        "ml.ml_reco__recommendable_item", pa.Table.from_pandas(inputs.items, preserve_index=False), "replace"
    )
    wh.load("ml.ml_reco__user_features", pa.Table.from_pandas(inputs.users, preserve_index=False), "replace")
    wh.load(
        "raw.sandbox_truth_user_taste",
        pa.Table.from_pandas(truth.user_taste, preserve_index=False),
        "replace",
    )
    wh.load(
        "raw.sandbox_truth_offer_topic",
        pa.Table.from_pandas(truth.offer_topic, preserve_index=False),
        "replace",
    )
    offers = truth.offer_item.assign(
        product_id=[
            i.removeprefix("product-") if i.startswith("product-") else None for i in truth.offer_item.item_id
        ]
    )[["offer_id", "product_id"]]
    wh.load("raw.applicative_database_offer", pa.Table.from_pandas(offers, preserve_index=False), "replace")


def test_train_and_evaluate_compares_with_baselines_and_round_trips(tmp_path) -> None:
    inputs, truth = make_planted(80, 120, clicks_per_user=10)
    result = train_and_evaluate(
        inputs,
        TrainConfig(epochs=2, batch_size=64, max_steps_per_epoch=5),
        references={"oracle": truth.oracle()},
    )
    assert set(result.metrics) == {"two_tower", "popularity", "oracle"}
    for values in result.metrics.values():
        assert {k for _, k in values} == {10, 50, 100}
        assert all(0 <= v <= 1 for (m, _), v in values.items() if m != "novelty")
    # recall grows with k, the oracle (planted taste) beats popularity on its own data
    tt = result.metrics["two_tower"]
    assert tt[("recall", 10)] <= tt[("recall", 50)] <= tt[("recall", 100)]
    assert result.metrics["oracle"][("recall", 50)] > result.metrics["popularity"][("recall", 50)]
    assert result.item_vectors.shape == (len(result.item_ids), 64)
    # each epoch records the training loss and the same loss on the validation clicks
    assert len(result.history) == 2
    assert all(h["val_loss"] > 0 and h["loss"] > 0 for h in result.history)
    folder = save_run(result, tmp_path / "run", prebuilt_index=False)
    model, space = load_model(folder)
    import torch

    enc = space.encode_items(inputs.items.head(5))
    with torch.no_grad():
        again = model.item(
            torch.as_tensor(enc.categorical), torch.as_tensor(enc.numeric), torch.as_tensor(enc.tokens)
        ).numpy()
    rows = [result.item_ids.index(i) for i in enc.ids]
    assert abs(again - result.item_vectors[rows]).max() < 1e-5


def test_cli_trains_publishes_and_tracks(settings) -> None:
    load_ml_tables(settings)
    res = CliRunner().invoke(
        app, ["ml", "train", "two-tower", "--epochs", "2", "--batch-size", "64", "--max-steps-per-epoch", "4"]
    )
    assert res.exit_code == 0, res.output
    assert "recall@50" in res.output and "popularity" in res.output and "oracle" in res.output
    storage = get_storage(settings)
    run_id = storage.get_bytes(LATEST_KEY).decode()
    assert storage.exists(f"{run_prefix(run_id)}/model.pt") and storage.exists(
        f"{run_prefix(run_id)}/index.tar"
    )
    report = storage.get_bytes(f"{run_prefix(run_id)}/report.html").decode()
    assert "recall@k" in report and ">oracle</text>" in report
    assert ">train loss</text>" in report and ">val loss</text>" in report
    wh = get_warehouse(settings)
    n_items = wh.query(
        f"select count(*) as n from {wh.physical('ml.two_tower_item_embedding')} where run_id = '{run_id}'"
    ).to_pylist()[0]["n"]
    assert n_items == 120
    dims = wh.query(f"select distinct len(embedding) as d from {wh.physical('ml.two_tower_user_embedding')}")
    assert dims.to_pylist() == [{"d": 64}]
    metrics = wh.query(
        f"select model, k, metric, value from {wh.physical('ml.two_tower_metrics')} where run_id = '{run_id}'"
    ).to_pylist()
    assert {(m["model"], m["k"], m["metric"]) for m in metrics} >= {
        ("two_tower", 50, "recall"),
        ("popularity", 50, "recall"),
    }
    # MLflow file store under the data folder holds the run with its params and metrics
    runs = list((settings.local_data_dir / "mlruns").rglob("meta.yaml"))
    assert any(run_id in p.read_text() for p in runs)
    # a second run merges next to the first instead of replacing it
    res = CliRunner().invoke(
        app, ["ml", "train", "two-tower", "--epochs", "1", "--max-steps-per-epoch", "2", "--no-track"]
    )
    assert res.exit_code == 0, res.output
    runs_in_wh = wh.query(f"select count(distinct run_id) as n from {wh.physical('ml.two_tower_metrics')}")
    assert runs_in_wh.to_pylist()[0]["n"] == 2
    assert json.loads(storage.get_bytes(f"{run_prefix(run_id)}/meta.json"))["run_id"] == run_id


def test_cli_explains_missing_inputs(settings) -> None:
    res = CliRunner().invoke(app, ["ml", "train", "two-tower", "--epochs", "1"])
    assert res.exit_code != 0
    assert "ml.ml_reco__click_training" in str(res.exception) + res.output


def test_text_embeddings_feed_the_item_tower_and_round_trip(tmp_path) -> None:
    import numpy as np
    import torch

    inputs, truth = make_planted(80, 120, clicks_per_user=10)
    topic = dict(zip(truth.offer_item["item_id"], truth.offer_topic["topic_id"], strict=True))
    rng = np.random.default_rng(0)
    inputs.item_text = {
        item: (np.eye(16)[t] + 0.1 * rng.normal(size=16)).astype(np.float32) for item, t in topic.items()
    }
    config = TrainConfig(epochs=1, batch_size=64, max_steps_per_epoch=3, text_embeddings=True)
    result = train_and_evaluate(inputs, config)
    assert result.space.text_dim == 16
    model, space = load_model(save_run(result, tmp_path / "run", prebuilt_index=False))
    items = inputs.items.head(4)
    enc = space.encode_items(items)
    text = torch.as_tensor(np.stack([inputs.item_text[i] for i in enc.ids]))
    with torch.no_grad():
        with_text = model.item(
            torch.as_tensor(enc.categorical), torch.as_tensor(enc.numeric), torch.as_tensor(enc.tokens), text
        ).numpy()
    rows = [result.item_ids.index(i) for i in enc.ids]
    assert abs(with_text - result.item_vectors[rows]).max() < 1e-5
