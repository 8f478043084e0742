"""Offline evaluation on the test split: the model, a popularity baseline, and references the caller adds.

Every recommender ranks the same candidate items for the same users, with each user's training items
removed from both the candidates and the truth (an item already consulted is not a discovery).

Why chunks: a dense users x items score matrix does not fit in memory at full scale (88k x 17.6k);
scores are computed, masked and cut to the top k one block of users at a time, so memory is bounded
by `chunk` x items whatever the number of users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_gcp.reco_metrics import coverage_at_k, novelty_at_k, precision_at_k, recall_at_k

KS = (10, 50, 100)
METRICS = ("precision", "recall", "coverage", "novelty")
CHUNK = 1024


@dataclass
class EvalSet:
    users: list[str]  # evaluated users (those with a held-out item not seen in train)
    relevant: list[set[str]]
    seen: list[set[str]]


@dataclass
class EvalContext:
    """What a reference recommender gets: who to recommend to, among which items, and the past clicks."""

    users: list[str]
    item_ids: list[str]
    seen: list[set[str]]
    k: int
    past: pd.DataFrame  # train + validation clicks (user_id, item_id, offer_id when known, event_timestamp)


# A reference recommender evaluated next to the model (e.g. a sandbox oracle injected by a dev command):
# one ranked list of at most k item ids per user of the context, best first.
Reference = Callable[[EvalContext], list[list[str]]]


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
    scores: np.ndarray, item_ids: list[str], seen: list[set[str]], k: int, *, in_place: bool = False
) -> list[list[str]]:
    """Top-k item ids per row of a [users, items] score matrix, skipping each user's seen items.

    `in_place`: mask the caller's matrix instead of a copy (when the caller built it for this call).
    """
    index = {item: i for i, item in enumerate(item_ids)}
    if not in_place:
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


def top_k_chunked(
    score_rows: Callable[[int, int], np.ndarray],
    n_users: int,
    item_ids: list[str],
    seen: list[set[str]],
    k: int,
    chunk: int = CHUNK,
) -> list[list[str]]:
    """Top-k per user where `score_rows(start, stop)` returns the [stop - start, items] scores of a block.

    Peak memory is one block of scores (float32 advised), never the whole users x items matrix.
    """
    out: list[list[str]] = []
    for start in range(0, n_users, chunk):
        stop = min(start + chunk, n_users)
        block = np.asarray(score_rows(start, stop))
        out.extend(top_k_from_scores(block, item_ids, seen[start:stop], k, in_place=True))
    return out


def popularity_top_k(train: pd.DataFrame, seen: list[set[str]], k: int) -> list[list[str]]:
    """The k most consulted items a user has not seen; memory is the ranked list plus k per user."""
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
