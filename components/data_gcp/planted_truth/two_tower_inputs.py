"""A tiny planted-taste data set in the shape of the dbt ML tables, for tests, benches and quick runs.

Why: the training and the service can be exercised in seconds without building the sandbox and dbt;
each user has a hidden taste over topics, each item a topic, and clicks follow taste x popularity,
so a working model must beat popularity and an oracle knows the answer.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from data_gcp.planted_truth.oracle import Truth
from data_gcp.two_tower import Inputs

CATEGORIES = ["LIVRE", "CINEMA", "MUSIQUE_LIVE", "SPECTACLE", "JEU", "INSTRUMENT", "FILM", "PRATIQUE_ART"]
WORDS = [
    "roman",
    "concert",
    "jazz",
    "opera",
    "polar",
    "manga",
    "theatre",
    "danse",
    "piano",
    "cinema",
    "atelier",
    "jeu",
]


def make_inputs(
    n_users: int = 200, n_items: int = 300, n_topics: int = 8, clicks_per_user: int = 20, seed: int = 0
) -> Inputs:
    """The model's inputs only (what production would read)."""
    return make_planted(n_users, n_items, n_topics, clicks_per_user, seed)[0]


def make_planted(
    n_users: int = 200, n_items: int = 300, n_topics: int = 8, clicks_per_user: int = 20, seed: int = 0
) -> tuple[Inputs, Truth]:
    """The model's inputs and the truth that generated them (taste per user, topic per offer)."""
    rng = np.random.default_rng(seed)
    item_topic = rng.integers(0, n_topics, n_items)
    popularity = rng.pareto(1.5, n_items) + 1
    has_product = rng.random(n_items) < 0.5
    item_ids = [f"product-{i}" if p else f"offer-{i}" for i, p in enumerate(has_product)]
    offer_ids = [str(100_000 + i) for i in range(n_items)]
    start = dt.date(2026, 1, 1)
    items = pd.DataFrame(
        {
            "item_id": item_ids,
            "offer_id": offer_ids,
            "offer_name": [
                f"{WORDS[t % len(WORDS)]} {WORDS[(t * 7 + i) % len(WORDS)]} numero {i}"
                for i, t in enumerate(item_topic)
            ],
            "category_id": [CATEGORIES[t % len(CATEGORIES)] for t in item_topic],
            "subcategory_id": [
                f"{CATEGORIES[t % len(CATEGORIES)]}_SUB{i % 3}" for i, t in enumerate(item_topic)
            ],
            "search_group_name": [CATEGORIES[t % len(CATEGORIES)].lower() for t in item_topic],
            "price": np.round(rng.uniform(0, 60, n_items), 2),
            "is_underage_recommendable": rng.random(n_items) < 0.8,
            "is_digital": rng.random(n_items) < 0.3,
            "is_event": rng.random(n_items) < 0.3,
            "venue_latitude": rng.uniform(43, 50, n_items),
            "venue_longitude": rng.uniform(-2, 7, n_items),
            "venue_department_code": rng.choice(["75", "13", "69", "33"], n_items),
            "booking_count": np.round(popularity * 10).astype("int64"),
            "booking_count_last_7_days": np.round(popularity * 2).astype("int64"),
            "booking_trend": rng.normal(0, 1, n_items),
            "stock_beginning_date": [
                start + dt.timedelta(days=int(d)) for d in rng.integers(0, 120, n_items)
            ],
            "offer_creation_date": [start - dt.timedelta(days=int(d)) for d in rng.integers(0, 300, n_items)],
        }
    )
    taste = rng.dirichlet(np.full(n_topics, 0.3), n_users)
    user_ids = [str(1000 + u) for u in range(n_users)]
    users = pd.DataFrame(
        {
            "user_id": user_ids,
            "user_age": rng.integers(15, 21, n_users),
            "user_department_code": rng.choice(["75", "13", "69", "33"], n_users),
            "deposit_type": rng.choice(["GRANT_15_17", "GRANT_18"], n_users),
            "remaining_credit": np.round(rng.uniform(0, 300, n_users), 2),
            "booking_count": rng.integers(0, 10, n_users),
            "consult_count": rng.integers(0, 50, n_users),
            "favorite_category_id": rng.choice(CATEGORIES, n_users),
        }
    )
    rows = []
    onehot = np.eye(n_topics)[item_topic]
    base = np.log(popularity) * 0.5
    t0 = dt.datetime(2026, 1, 1)
    for u in range(n_users):
        logits = base + 4.0 * (onehot @ taste[u])
        p = np.exp(logits - logits.max())
        p /= p.sum()
        n = max(3, rng.poisson(clicks_per_user))
        for j, i in enumerate(rng.choice(n_items, size=n, p=p)):
            ts = t0 + dt.timedelta(hours=int(u % 24) + 6 * j, minutes=int(rng.integers(0, 60)))
            rows.append((user_ids[u], item_ids[i], offer_ids[i], ts, ts.date()))
    clicks = pd.DataFrame(rows, columns=["user_id", "item_id", "offer_id", "event_timestamp", "event_date"])
    clicks = clicks.merge(
        users[["user_id", "user_age", "user_department_code", "remaining_credit"]].rename(
            columns={"remaining_credit": "user_deposit_remaining_credit"}
        ),
        on="user_id",
    ).merge(items[["item_id", "category_id", "subcategory_id", "offer_name", "price"]], on="item_id")
    user_taste = pd.DataFrame(
        [(user_ids[u], t, float(taste[u, t])) for u in range(n_users) for t in range(n_topics)],
        columns=["user_id", "topic_id", "weight"],
    )
    offer_topic = pd.DataFrame({"offer_id": offer_ids, "topic_id": item_topic, "weight": 1.0})
    offer_item = pd.DataFrame({"offer_id": offer_ids, "item_id": item_ids})
    return Inputs(clicks, items, users), Truth(user_taste, offer_topic, offer_item)


def tiny_run(folder, n_users: int = 120, n_items: int = 200, seed: int = 0):
    """Train a few steps on a planted-taste set and write a run folder (for tests and local demos)."""
    from pathlib import Path

    from data_gcp.two_tower import TrainConfig, save_run, train_and_evaluate

    inputs, truth = make_planted(n_users, n_items, clicks_per_user=12, seed=seed)
    result = train_and_evaluate(
        inputs,
        TrainConfig(epochs=2, batch_size=128, max_steps_per_epoch=6, seed=seed),
        references={"oracle": truth.oracle()},
    )
    save_run(result, Path(folder))
    return result, inputs
