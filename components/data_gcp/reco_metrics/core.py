"""Offline top-k recommendation metrics, shared by the two-tower and the ranker evaluations.

Why one brick: both models are compared with the same baselines on the same definitions, so the
definitions live in one place. Every function takes plain Python/numpy inputs (no framework), so a
metric computed in a test, a bench or a training job is the same number.

Conventions:
- `recommended`: a ranked sequence of item ids per user (best first); only the first `k` count.
- `relevant`: the set of held-out items of that user (what they really consulted).
- users without any relevant item are skipped by the averages (their recall is undefined).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

Item = Hashable


def _check_k(k: int) -> int:
    if not isinstance(k, int | np.integer) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _pairs(
    recommended: Mapping[Item, Sequence[Item]] | Sequence[Sequence[Item]],
    relevant: Mapping[Item, Iterable[Item]] | Sequence[Iterable[Item]],
) -> list[tuple[Sequence[Item], set[Item]]]:
    """Align recommendations and truths per user (dicts keyed by user, or parallel lists)."""
    if isinstance(recommended, Mapping):
        if not isinstance(relevant, Mapping):
            raise TypeError("recommended is a mapping by user, so relevant must be one too")
        return [(recommended.get(u, ()), set(rel)) for u, rel in relevant.items()]
    if isinstance(relevant, Mapping):
        raise TypeError("recommended is a list, so relevant must be a parallel list too")
    if len(recommended) != len(relevant):
        raise ValueError(f"{len(recommended)} recommendation lists but {len(relevant)} relevance sets")
    return [(rec, set(rel)) for rec, rel in zip(recommended, relevant, strict=True)]


def precision_at_k(recommended, relevant, k: int) -> float:
    """Mean over users of |top-k ∩ relevant| / k (users with no relevant item are skipped)."""
    k = _check_k(k)
    vals = [len(set(list(rec)[:k]) & rel) / k for rec, rel in _pairs(recommended, relevant) if rel]
    return float(np.mean(vals)) if vals else 0.0


def recall_at_k(recommended, relevant, k: int) -> float:
    """Mean over users of |top-k ∩ relevant| / |relevant|."""
    k = _check_k(k)
    vals = [len(set(list(rec)[:k]) & rel) / len(rel) for rec, rel in _pairs(recommended, relevant) if rel]
    return float(np.mean(vals)) if vals else 0.0


def coverage_at_k(recommended, catalog_size: int, k: int) -> float:
    """Share of the catalogue that appears in at least one user's top-k (diversity across users)."""
    k = _check_k(k)
    if catalog_size <= 0:
        raise ValueError(f"catalog_size must be positive, got {catalog_size}")
    lists = recommended.values() if isinstance(recommended, Mapping) else recommended
    seen: set[Item] = set()
    for rec in lists:
        seen.update(list(rec)[:k])
    return len(seen) / catalog_size


def novelty_at_k(recommended, item_popularity: Mapping[Item, float], n_users: int, k: int) -> float:
    """Mean self-information -log2(p(item)) of the top-k items, p = share of users who consulted it.

    Why: a popularity baseline scores low here; a model that recommends the long tail scores high.
    Items never seen in training get the probability of one user (the most novel a known item can be).
    """
    k = _check_k(k)
    if n_users <= 0:
        raise ValueError(f"n_users must be positive, got {n_users}")
    lists = recommended.values() if isinstance(recommended, Mapping) else recommended
    vals: list[float] = []
    for rec in lists:
        top = list(rec)[:k]
        if not top:
            continue
        info = [-math.log2(max(item_popularity.get(i, 1.0), 1.0) / n_users) for i in top]
        vals.append(float(np.mean(info)))
    return float(np.mean(vals)) if vals else 0.0


def ndcg_at_k(relevance: Sequence[Sequence[float]] | np.ndarray, k: int) -> float:
    """Mean NDCG@k over lists of graded relevances given in the model's ranked order.

    `relevance[i]` is the true gain of each item shown to list i, in the order the model ranked
    them (e.g. 0 seen, 1 consulted, 2 booked). Gains use 2^rel - 1; lists with no gain are skipped.
    """
    k = _check_k(k)
    vals: list[float] = []
    for rels in relevance:
        r = np.asarray(rels, dtype=float)
        if r.size == 0:
            continue
        gains = np.power(2.0, r) - 1.0
        discounts = 1.0 / np.log2(np.arange(2, min(k, r.size) + 2))
        dcg = float(np.sum(gains[:k] * discounts))
        ideal = np.sort(gains)[::-1][:k]
        idcg = float(np.sum(ideal * discounts[: ideal.size]))
        if idcg > 0:
            vals.append(dcg / idcg)
    return float(np.mean(vals)) if vals else 0.0


def ndcg_by_group(
    groups: Sequence[Hashable], scores: Sequence[float], labels: Sequence[float], k: int
) -> float:
    """NDCG@k over flat rows grouped by a key (e.g. call_id): rank rows by score within each group."""
    g = np.asarray(groups)
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    if not (len(g) == len(s) == len(y)):
        raise ValueError(f"groups, scores and labels differ in length: {len(g)}, {len(s)}, {len(y)}")
    order = np.lexsort((-s, g))
    g, y = g[order], y[order]
    bounds = np.flatnonzero(np.r_[True, g[1:] != g[:-1], True])
    return ndcg_at_k([y[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], k)
