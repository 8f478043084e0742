"""The training job: inputs -> split -> fit -> evaluate -> artifacts, warehouse tables, tracking."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from rich.table import Table

from data_gcp.config import Settings, get_settings
from data_gcp.log import get_logger
from data_gcp.ml_tracking import track_run
from data_gcp.model_report import REPORT_FILE, two_tower_report
from data_gcp.retrieval import (
    CATALOG_FILE,
    INDEX_ARCHIVE,
    ITEM_EMBEDDINGS_FILE,
    LATEST_KEY,
    META_FILE,
    METRICS_FILE,
    MODEL_FILE,
    SPACE_FILE,
    USER_EMBEDDINGS_FILE,
    build_index_archive,
    run_prefix,
    write_run_manifest,
)
from data_gcp.storage import Storage, get_storage
from data_gcp.two_tower.data import (
    FeatureSpace,
    Inputs,
    TwoTowerDataError,
    item_frame,
    load_inputs,
    time_split,
    user_frame,
    user_histories,
)
from data_gcp.two_tower.evaluate import (
    KS,
    EvalContext,
    Reference,
    build_eval_set,
    compute_metrics,
    popularity_top_k,
)
from data_gcp.two_tower.model import TwoTower
from data_gcp.two_tower.train import Tensors, TrainConfig, embed, fit, recommend
from data_gcp.warehouse import Warehouse, get_warehouse

log = get_logger(__name__)

USER_EMBEDDING_TABLE = "ml.two_tower_user_embedding"
ITEM_EMBEDDING_TABLE = "ml.two_tower_item_embedding"
METRICS_TABLE = "ml.two_tower_metrics"


@dataclass
class TrainResult:
    run_id: str
    config: TrainConfig
    model: TwoTower
    space: FeatureSpace
    user_ids: list[str]
    user_vectors: np.ndarray
    item_ids: list[str]
    item_vectors: np.ndarray
    catalog: pd.DataFrame
    metrics: dict[str, dict[tuple[str, int], float]]
    history: list[dict[str, float]]
    counts: dict[str, int] = field(default_factory=dict)
    artifact_uri: str | None = None


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def train_and_evaluate(
    inputs: Inputs,
    config: TrainConfig,
    run_id: str | None = None,
    references: dict[str, Reference] | None = None,
) -> TrainResult:
    """Everything but I/O: split, fit, embed, and metrics of the model and its baselines on the test split.

    `references`: extra recommenders evaluated on the same users and items, by name (a dev command
    passes the sandbox's planted-taste oracle; production passes none).
    """
    clicks = inputs.clicks.copy()
    if clicks.empty:
        raise TwoTowerDataError("no clicks to train on (ml.ml_reco__click_training is empty)")
    clicks["user_id"] = clicks["user_id"].astype(str)
    clicks["item_id"] = clicks["item_id"].astype(str)
    if config.max_users:
        keep = sorted(clicks["user_id"].unique())[: config.max_users]
        clicks = clicks[clicks["user_id"].isin(keep)]
    split = time_split(clicks)
    users = user_frame(inputs.users, clicks)
    items = item_frame(inputs.items, clicks)
    space = FeatureSpace.fit(split.train, users, items, history=config.history)
    enc_users, enc_items = space.encode_users(users), space.encode_items(items)
    if config.text_embeddings:
        enc_items.text = text_matrix(enc_items.ids, inputs.item_text)
        space.text_dim = enc_items.text.shape[1]
    validation = build_eval_set(split.train, split.validation)
    # test users learn from train + validation: the validation clicks are their recent past
    past = pd.concat([split.train, split.validation], ignore_index=True)
    test = build_eval_set(past, split.test)
    model, history = fit(config, space, enc_users, enc_items, split.train, validation)
    # users are embedded from everything they consulted before the test period (train + validation)
    past_items = user_histories(past, enc_users.ids, space.item_ids, space.history) if space.history else None
    user_vecs, item_vecs = embed(
        model, Tensors.of(enc_users, enc_items, next(model.parameters()).device, past_items)
    )

    u_index = {u: i for i, u in enumerate(enc_users.ids)}
    kmax = max(KS)
    popularity = past.groupby("item_id")["user_id"].nunique().to_dict()
    n_users = past["user_id"].nunique()
    catalog_size = len(enc_items.ids)
    recs = {
        "two_tower": recommend(
            user_vecs[[u_index[u] for u in test.users]], item_vecs, enc_items.ids, test.seen, kmax
        ),
        "popularity": popularity_top_k(past, test.seen, kmax),
    }
    context = EvalContext(test.users, enc_items.ids, test.seen, kmax, past)
    for name, reference in (references or {}).items():
        recs[name] = reference(context)
    metrics = {name: compute_metrics(r, test, popularity, n_users, catalog_size) for name, r in recs.items()}
    catalog = inputs.items.copy()
    catalog["item_id"] = catalog["item_id"].astype(str)
    i_index = {it: i for i, it in enumerate(enc_items.ids)}
    catalog["vector"] = [item_vecs[i_index[i]] for i in catalog["item_id"]]
    return TrainResult(
        run_id=run_id or new_run_id(),
        config=config,
        model=model,
        space=space,
        user_ids=enc_users.ids,
        user_vectors=user_vecs,
        item_ids=enc_items.ids,
        item_vectors=item_vecs,
        catalog=catalog,
        metrics=metrics,
        history=history,
        counts={
            "train_clicks": len(split.train),
            "validation_clicks": len(split.validation),
            "test_clicks": len(split.test),
            "users": len(enc_users.ids),
            "items": len(enc_items.ids),
            "test_users": len(test.users),
        },
    )


def text_matrix(item_ids: list[str], item_text: dict[str, np.ndarray] | None) -> np.ndarray:
    """Text embeddings in the encoded item order; zeros for items without one."""
    if not item_text:
        raise TwoTowerDataError(
            "text embeddings were asked for but none were read: run `data-gcp ml embed` first"
        )
    dim = len(next(iter(item_text.values())))
    out = np.zeros((len(item_ids), dim), dtype=np.float32)
    for row, item in enumerate(item_ids):
        vec = item_text.get(item)
        if vec is not None:
            out[row] = vec
    return out


def vectors_to_arrow(ids: list[str], vectors: np.ndarray, id_column: str) -> pa.Table:
    dim = vectors.shape[1]
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    return pa.table(
        {id_column: pa.array(ids, pa.string()), "vector": pa.FixedSizeListArray.from_arrays(flat, dim)}
    )


def catalog_to_arrow(catalog: pd.DataFrame) -> pa.Table:
    vectors = np.stack(catalog["vector"].to_numpy()) if len(catalog) else np.zeros((0, 64), np.float32)
    table = pa.Table.from_pandas(catalog.drop(columns=["vector"]), preserve_index=False)
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    return table.append_column("vector", pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]))


def save_run(result: TrainResult, folder: Path, prebuilt_index: bool = True) -> Path:
    """Write a run folder: model weights, feature space, embeddings, catalog snapshot, metrics."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(result.model.state_dict(), folder / MODEL_FILE)
    (folder / SPACE_FILE).write_text(json.dumps(result.space.to_json()))
    meta = {
        "run_id": result.run_id,
        "config": result.config.to_params(),
        "cardinalities": result.space.cardinalities(),
        "embedding_dim": int(result.item_vectors.shape[1]),
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "counts": result.counts,
    }
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))
    pq.write_table(
        vectors_to_arrow(result.user_ids, result.user_vectors, "user_id"), folder / USER_EMBEDDINGS_FILE
    )
    pq.write_table(
        vectors_to_arrow(result.item_ids, result.item_vectors, "item_id"), folder / ITEM_EMBEDDINGS_FILE
    )
    pq.write_table(catalog_to_arrow(result.catalog), folder / CATALOG_FILE)
    (folder / METRICS_FILE).write_text(json.dumps(metrics_rows(result), indent=2))
    if prebuilt_index:
        build_index_archive(catalog_to_arrow(result.catalog), folder / INDEX_ARCHIVE)
    # last: the service verifies every file against it before loading anything
    write_run_manifest(
        folder,
        vector_dim=int(result.item_vectors.shape[1]),
        items=len(result.item_ids),
        users=len(result.user_ids),
        catalog_items=len(result.catalog),
    )
    return folder


def load_model(folder: Path) -> tuple[TwoTower, FeatureSpace]:
    """Rebuild the trained model from a run folder (e.g. to embed new users)."""
    meta = json.loads((folder / META_FILE).read_text())
    space = FeatureSpace.from_json(json.loads((folder / SPACE_FILE).read_text()))
    model = TwoTower(space.cardinalities(), meta["embedding_dim"], meta["config"].get("temperature", 0.05))
    model.load_state_dict(torch.load(folder / MODEL_FILE, map_location="cpu", weights_only=True))
    model.eval()
    return model, space


def metrics_rows(result: TrainResult) -> list[dict[str, object]]:
    return [
        {"run_id": result.run_id, "model": model, "k": k, "metric": metric, "value": float(value)}
        for model, values in result.metrics.items()
        for (metric, k), value in sorted(values.items())
    ]


def publish(result: TrainResult, warehouse: Warehouse, storage: Storage, folder: Path) -> str:
    """Upload the run folder to the bucket, move `latest`, and merge embeddings + metrics into `ml`."""
    prefix = run_prefix(result.run_id)
    for path in sorted(folder.iterdir()):
        if path.is_file():
            storage.put_file(path, f"{prefix}/{path.name}")
    storage.put_bytes(LATEST_KEY, result.run_id.encode())
    now = dt.datetime.now(dt.UTC)
    for table, ids, vecs, col in (
        (USER_EMBEDDING_TABLE, result.user_ids, result.user_vectors, "user_id"),
        (ITEM_EMBEDDING_TABLE, result.item_ids, result.item_vectors, "item_id"),
    ):
        data = pa.table(
            {
                "run_id": pa.array([result.run_id] * len(ids), pa.string()),
                col: pa.array(ids, pa.string()),
                "embedding": pa.array([v.tolist() for v in vecs], pa.list_(pa.float32())),
                "created_at": pa.array([now] * len(ids), pa.timestamp("us", tz="UTC")),
            }
        )
        warehouse.load(table, data, mode="merge", key_columns=["run_id", col])
    rows = metrics_rows(result)
    metrics = pa.Table.from_pylist(
        [{**r, "created_at": now} for r in rows],
        schema=pa.schema(
            [
                ("run_id", pa.string()),
                ("model", pa.string()),
                ("k", pa.int64()),
                ("metric", pa.string()),
                ("value", pa.float64()),
                ("created_at", pa.timestamp("us", tz="UTC")),
            ]
        ),
    )
    warehouse.load(METRICS_TABLE, metrics, mode="merge", key_columns=["run_id", "model", "k", "metric"])
    return storage.uri(prefix)


def run_training(
    config: TrainConfig | None = None,
    *,
    settings: Settings | None = None,
    inputs: Inputs | None = None,
    track: bool = True,
    references: dict[str, Reference] | None = None,
) -> TrainResult:
    """`data-gcp ml train two-tower`: train, evaluate, publish, and track the run in MLflow."""
    settings = settings or get_settings()
    config = config or TrainConfig()
    warehouse = get_warehouse(settings)
    inputs = inputs or load_inputs(warehouse, settings.embedding_model if config.text_embeddings else None)
    result = train_and_evaluate(inputs, config, references=references)
    with tempfile.TemporaryDirectory(prefix="two_tower_") as tmp:
        folder = save_run(result, Path(tmp) / result.run_id)
        (folder / REPORT_FILE).write_text(
            two_tower_report(
                result.run_id, result.metrics, result.history, result.counts, params=result.config.to_params()
            ),
            encoding="utf-8",
        )
        result.artifact_uri = publish(result, warehouse, get_storage(settings), folder)
        if track:
            track_run(
                "two_tower",
                result.run_id,
                params={**result.config.to_params(), **{f"n_{k}": v for k, v in result.counts.items()}},
                metrics={
                    f"{model}.{metric}_at_{k}": v
                    for model, vals in result.metrics.items()
                    for (metric, k), v in vals.items()
                }
                | {
                    f"epoch_{int(h['epoch'])}.{k}": v
                    for h in result.history
                    for k, v in h.items()
                    if k != "epoch"
                },
                artifacts=sorted(p for p in folder.iterdir() if p.is_file()),
                tags={"data_gcp.run_id": result.run_id, "artifact_uri": result.artifact_uri or ""},
                settings=settings,
            )
    log.info("two-tower run %s published to %s", result.run_id, result.artifact_uri)
    return result


def format_metrics_table(metrics: dict[str, dict[tuple[str, int], float]], title: str = "two-tower") -> Table:
    """Metrics as a table: one row per metric@k, one column per model (and the lift over popularity)."""
    models = list(metrics)
    table = Table(title=title)
    table.add_column("metric@k")
    for m in models:
        table.add_column(m, justify="right")
    if "two_tower" in metrics and "popularity" in metrics:
        table.add_column("two_tower / popularity", justify="right")
    keys = sorted(next(iter(metrics.values())).keys(), key=lambda mk: (mk[0], mk[1])) if metrics else []
    for metric, k in keys:
        row = [f"{metrics[m][(metric, k)]:.4f}" for m in models]
        if "two_tower" in metrics and "popularity" in metrics:
            base = metrics["popularity"][(metric, k)]
            row.append(f"{metrics['two_tower'][(metric, k)] / base:.2f}x" if base else "-")
        table.add_row(f"{metric}@{k}", *row)
    return table
