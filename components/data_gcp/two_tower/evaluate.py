"""Offline evaluation on the test split: the model, a popularity baseline and (sandbox) the taste oracle.

All three rank the same candidate items for the same users, with each user's training items removed
from both the candidates and the truth (an item already consulted is not a discovery).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_gcp.reco_metrics import coverage_at_k, novelty_at_k, precision_at_k, recall_at_k

KS = (10, 50, 100)
METRICS = ("precision", "recall", "coverage", "novelty")


@dataclass
class EvalSet:
    users: list[str]  # evaluated users (those with a held-out item not seen in train)
    relevant: list[set[str]]
    seen: list[set[str]]


def build_eval_set(train: pd.DataFrame, held_out: pd.DataFrame, max_users: int | None = None) -> EvalSet:
    seen = train.groupby("user_id")["item_id"].agg(lambda s: set(map(str, s))).to_dict()
    truth = held_out.groupby("user_id")["item_id"].agg(lambda s: set(map(str, s))).to_dict()
    users, relevant, seen_l = [], [], []
    for user in sorted(truth, key=str):
        rel = truth[user] - seen.get(user, set())
        if rel:
            users.append(str(user))
            relevant.append(rel)
            seen_l.append(seen.get(user, set()))
        if max_users and len(users) >= max_users:
            break
    return EvalSet(users, relevant, seen_l)


def top_k_from_scores(
    scores: np.ndarray, item_ids: list[str], seen: list[set[str]], k: int
) -> list[list[str]]:
    """Top-k item ids per row of a [users, items] score matrix, skipping each user's seen items."""
    index = {item: i for i, item in enumerate(item_ids)}
    scores = scores.copy()
    for row, items in enumerate(seen):
        cols = [index[i] for i in items if i in index]
        if cols:
            scores[row, cols] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.take_along_axis(part, np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1), axis=1)
    ids = np.asarray(item_ids, dtype=object)
    return [list(ids[row]) for row in order]


def popularity_top_k(train: pd.DataFrame, seen: list[set[str]], k: int) -> list[list[str]]:
    ranked = train["item_id"].astype(str).value_counts().index.tolist()
    out = []
    for items in seen:
        recs = []
        for item in ranked:
            if item not in items:
                recs.append(item)
                if len(recs) == k:
                    break
        out.append(recs)
    return out


def oracle_scores(
    users: list[str],
    item_ids: list[str],
    user_taste: pd.DataFrame,
    offer_topic: pd.DataFrame,
    offer_item: pd.DataFrame,
) -> np.ndarray:
    """Planted taste · planted topic per (user, item): what the sandbox really used to make the clicks.

    An item's topics are the mean of its offers' topics (items group the offers of one product).
    """
    topics = sorted(set(user_taste["topic_id"]) | set(offer_topic["topic_id"]))
    t_index = {t: i for i, t in enumerate(topics)}
    u_index = {u: i for i, u in enumerate(users)}
    i_index = {it: i for i, it in enumerate(item_ids)}
    taste = np.zeros((len(users), len(topics)))
    ut = user_taste.assign(user_id=user_taste["user_id"].astype(str))
    ut = ut[ut["user_id"].isin(u_index)]
    taste[ut["user_id"].map(u_index).to_numpy(), ut["topic_id"].map(t_index).to_numpy()] = ut["weight"]
    ot = offer_topic.assign(offer_id=offer_topic["offer_id"].astype(str)).merge(
        offer_item.assign(offer_id=offer_item["offer_id"].astype(str)), on="offer_id"
    )
    ot = ot[ot["item_id"].isin(i_index)]
    agg = ot.groupby(["item_id", "topic_id"], as_index=False)["weight"].mean()
    topic = np.zeros((len(item_ids), len(topics)))
    topic[agg["item_id"].map(i_index).to_numpy(), agg["topic_id"].map(t_index).to_numpy()] = agg["weight"]
    return taste @ topic.T


def compute_metrics(
    recommendations: list[list[str]],
    eval_set: EvalSet,
    item_popularity: dict[str, float],
    n_train_users: int,
    catalog_size: int,
    ks: tuple[int, ...] = KS,
) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    for k in ks:
        out[("precision", k)] = precision_at_k(recommendations, eval_set.relevant, k)
        out[("recall", k)] = recall_at_k(recommendations, eval_set.relevant, k)
        out[("coverage", k)] = coverage_at_k(recommendations, catalog_size, k)
        out[("novelty", k)] = novelty_at_k(recommendations, item_popularity, max(n_train_users, 1), k)
    return out
