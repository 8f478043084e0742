"""Fitting the two-tower model and computing its embeddings."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from data_gcp.log import get_logger
from data_gcp.reco_metrics import recall_at_k
from data_gcp.two_tower.data import (
    EncodedItems,
    EncodedUsers,
    FeatureSpace,
    click_histories,
    user_histories,
)
from data_gcp.two_tower.evaluate import EvalSet, top_k_chunked
from data_gcp.two_tower.model import Adam, TwoTower, in_batch_softmax_loss

log = get_logger(__name__)


@dataclass
class TrainConfig:
    epochs: int = 10
    batch_size: int = 512
    embedding_dim: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 1e-6
    temperature: float = 0.2  # 0.05 overfit at scale 0.1 (recall@50 0.247 vs 0.303 at 0.2)
    seed: int = 0
    max_steps_per_epoch: int | None = None
    patience: int = 3
    validation_users: int = 2000
    max_users: int | None = None
    threads: int = 2
    history: int = 20  # consulted items in the user tower's bag (0: none)
    text_embeddings: bool = False  # feed the items' text embeddings (ml.item_embedding) to the item tower

    def to_params(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class Tensors:
    user_cat: torch.Tensor
    user_num: torch.Tensor
    item_cat: torch.Tensor
    item_num: torch.Tensor
    item_tok: torch.Tensor
    user_hist: torch.Tensor | None = None
    item_text: torch.Tensor | None = None

    @classmethod
    def of(
        cls, users: EncodedUsers, items: EncodedItems, dev: torch.device, history: np.ndarray | None = None
    ) -> Tensors:
        return cls(
            torch.as_tensor(users.categorical, device=dev),
            torch.as_tensor(users.numeric, device=dev),
            torch.as_tensor(items.categorical, device=dev),
            torch.as_tensor(items.numeric, device=dev),
            torch.as_tensor(items.tokens, device=dev),
            torch.as_tensor(history, device=dev) if history is not None else None,
            torch.as_tensor(items.text, device=dev) if items.text is not None else None,
        )

    def hist(self, rows) -> torch.Tensor | None:
        return None if self.user_hist is None else self.user_hist[rows]

    def text(self, rows) -> torch.Tensor | None:
        return None if self.item_text is None else self.item_text[rows]


@torch.no_grad()
def embed(model: TwoTower, t: Tensors, chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(user vectors, item vectors) as float32 numpy arrays, rows in the encoded order."""
    model.eval()
    users = [
        model.user(t.user_cat[i : i + chunk], t.user_num[i : i + chunk], t.hist(slice(i, i + chunk)))
        for i in range(0, len(t.user_cat), chunk)
    ]
    items = [
        model.item(
            t.item_cat[i : i + chunk],
            t.item_num[i : i + chunk],
            t.item_tok[i : i + chunk],
            t.text(slice(i, i + chunk)),
        )
        for i in range(0, len(t.item_cat), chunk)
    ]
    u = (
        torch.cat(users).float().cpu().numpy()
        if users
        else np.zeros((0, model.item_tower.id_proj.out_features))
    )
    v = torch.cat(items).float().cpu().numpy()
    return u.astype(np.float32), v.astype(np.float32)


def recommend(
    user_vecs: np.ndarray, item_vecs: np.ndarray, item_ids: list[str], seen: list[set[str]], k: int
) -> list[list[str]]:
    """Exact top-k by dot product, one block of users at a time (memory bounded by a block)."""
    items_t = np.ascontiguousarray(item_vecs, dtype=np.float32).T
    users = np.asarray(user_vecs, dtype=np.float32)
    return top_k_chunked(lambda a, b: users[a:b] @ items_t, len(users), item_ids, seen, k)


def validation_loss(
    user_vecs: np.ndarray,
    item_vecs: np.ndarray,
    pairs: np.ndarray,
    log_q: torch.Tensor,
    config: TrainConfig,
    dev: torch.device,
) -> float:
    """The training loss (in-batch softmax, logQ-corrected) on validation (user, item) pairs, no gradient."""
    total, batches = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(pairs), config.batch_size):
            chunk = pairs[start : start + config.batch_size]
            ib = torch.as_tensor(chunk[:, 1], device=dev)
            uv = torch.as_tensor(user_vecs[chunk[:, 0]], device=dev)
            iv = torch.as_tensor(item_vecs[chunk[:, 1]], device=dev)
            total += in_batch_softmax_loss(uv, iv, ib, log_q[ib], config.temperature).item()
            batches += 1
    return total / max(batches, 1)


def fit(
    config: TrainConfig,
    space: FeatureSpace,
    users: EncodedUsers,
    items: EncodedItems,
    train: pd.DataFrame,
    validation: EvalSet | None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[TwoTower, list[dict[str, float]]]:
    """Train with in-batch softmax; keep the epoch with the best validation recall@50."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    if device().type == "cpu":
        torch.set_num_threads(config.threads)
    dev = device()
    model = TwoTower(space.cardinalities(), config.embedding_dim, config.temperature).to(dev)
    history = space.history > 0
    # validation users are embedded from their training clicks only
    t = Tensors.of(
        users,
        items,
        dev,
        user_histories(train, users.ids, space.item_ids, space.history) if history else None,
    )
    click_hist = (
        torch.as_tensor(click_histories(train, space.item_ids, space.history), device=dev)
        if history
        else None
    )
    u_index = {u: i for i, u in enumerate(users.ids)}
    i_index = {it: i for i, it in enumerate(items.ids)}
    u_rows = train["user_id"].astype(str).map(u_index).to_numpy()
    i_rows = train["item_id"].astype(str).map(i_index).to_numpy()
    if np.isnan(u_rows.astype(float)).any() or np.isnan(i_rows.astype(float)).any():
        raise ValueError("training clicks reference users or items missing from the encoded frames")
    u_rows, i_rows = u_rows.astype(np.int64), i_rows.astype(np.int64)
    counts = np.bincount(i_rows, minlength=len(items.ids)).astype(np.float64)
    log_q_all = torch.as_tensor(
        np.log(np.maximum(counts, 1) / max(counts.sum(), 1)), dtype=torch.float32, device=dev
    )
    opt = Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    val_rows = None
    if validation is not None and validation.users:
        keep = [j for j, u in enumerate(validation.users[: config.validation_users]) if u in u_index]
        val_rows = ([u_index[validation.users[j]] for j in keep], keep)
        # (user row, item row) of the validation clicks, for the same loss as training, on held-out clicks
        val_pairs = np.array(
            [
                (u_index[validation.users[j]], i_index[i])
                for j in keep
                for i in validation.relevant[j]
                if i in i_index
            ],
            dtype=np.int64,
        ).reshape(-1, 2)[: config.batch_size * 8]

    history: list[dict[str, float]] = []
    best_state, best_score, stale = None, -1.0, 0
    n = len(u_rows)
    for epoch in range(config.epochs):
        model.train()
        start = time.perf_counter()
        order = rng.permutation(n)
        steps = int(np.ceil(n / config.batch_size))
        if config.max_steps_per_epoch:
            steps = min(steps, config.max_steps_per_epoch)
        total = 0.0
        for step in range(steps):
            batch = order[step * config.batch_size : (step + 1) * config.batch_size]
            ub = torch.as_tensor(u_rows[batch], device=dev)
            ub_click = torch.as_tensor(batch, device=dev)
            ib = torch.as_tensor(i_rows[batch], device=dev)
            uv = model.user(
                t.user_cat[ub], t.user_num[ub], click_hist[ub_click] if click_hist is not None else None
            )
            iv = model.item(t.item_cat[ib], t.item_num[ib], t.item_tok[ib], t.text(ib))
            loss = in_batch_softmax_loss(uv, iv, ib, log_q_all[ib], config.temperature)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        record = {
            "epoch": float(epoch),
            "loss": total / max(steps, 1),
            "seconds": time.perf_counter() - start,
        }
        if val_rows is not None:
            uvec, ivec = embed(model, t)
            rows, keep = val_rows
            recs = recommend(uvec[rows], ivec, items.ids, [validation.seen[j] for j in keep], 50)
            record["val_recall_50"] = recall_at_k(recs, [validation.relevant[j] for j in keep], 50)
            if len(val_pairs):
                record["val_loss"] = validation_loss(uvec, ivec, val_pairs, log_q_all, config, dev)
            score = record["val_recall_50"]
        else:
            score = -record["loss"]
        history.append(record)
        if on_epoch:
            on_epoch(epoch, record)
        # numbered from 1, like the report's charts
        log.info(
            "two-tower epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in record.items() if k != "epoch"}
        )
        if score > best_score:
            best_score, best_state, stale = score, copy.deepcopy(model.state_dict()), 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return model, history
