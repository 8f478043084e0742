"""Displayed-offer rows with a planted signal, shaped like `ml.ml_reco__ranking_training`.

Why: unit tests and the benchmark need a training set in milliseconds, without the sandbox and dbt,
and one where the right answer is known: consultations depend on a few features (the offer's bookings per day,
its price vs the user's remaining credit, the user's favourite category, the display context) while the
retrieval `position` only partly follows that utility, so a working ranker must beat the retrieval
order and a broken one cannot.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from data_gcp.ranking import CATEGORICAL_FEATURES, RAW_NUMERIC_FEATURES

CATEGORIES = ("LIVRE", "CINEMA", "MUSIQUE_LIVE", "SPECTACLE", "FILM", "INSTRUMENT", "PRATIQUE_ART", "JEU")
CONTEXTS = ("home", "similar_offer", "search", "venue")


def synthetic_training_table(n_calls: int = 200, per_call: int = 20, seed: int = 0) -> pa.Table:
    """`n_calls` calls of `per_call` displayed offers each, one call per minute from 2026-01-01."""
    rng = np.random.default_rng(seed)
    n = n_calls * per_call
    call_idx = np.repeat(np.arange(n_calls), per_call)
    user_idx = rng.integers(0, max(1, n_calls // 3), n_calls)[call_idx]
    start = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
    displayed = [start + dt.timedelta(minutes=int(c)) for c in call_idx]

    def by_call(values: np.ndarray) -> np.ndarray:
        return values[call_idx]

    cols: dict[str, np.ndarray] = {
        "user_age": by_call(rng.integers(15, 21, n_calls).astype(float)),
        "user_remaining_credit": by_call(rng.uniform(0, 300, n_calls)),
        "user_booking_count": by_call(rng.poisson(4.0, n_calls).astype(float)),
        "user_consult_count": by_call(rng.poisson(30.0, n_calls).astype(float)),
        "price": np.round(rng.gamma(2.0, 10.0, n), 2) * (rng.random(n) > 0.15),
        "is_digital": (rng.random(n) < 0.3).astype(float),
        "is_event": (rng.random(n) < 0.2).astype(float),
        "is_underage_recommendable": (rng.random(n) < 0.7).astype(float),
        "offer_booking_count": rng.poisson(20.0, n).astype(float),
        "offer_favorite_count": rng.poisson(5.0, n).astype(float),
        "offer_age_days": rng.integers(0, 365, n).astype(float),
        "display_hour": by_call(rng.integers(0, 24, n_calls).astype(float)),
        "display_day_of_week": by_call(rng.integers(1, 8, n_calls).astype(float)),
        "is_user_favorite_category": (rng.random(n) < 0.25).astype(float),
    }
    # Missing values where the warehouse has them too (unknown age, offers without a creation date).
    cols["user_age"][rng.random(n) < 0.1] = np.nan
    cols["offer_age_days"][rng.random(n) < 0.2] = np.nan

    category = rng.choice(CATEGORIES, n, p=[0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05])
    context = by_call(rng.choice(CONTEXTS, n_calls, p=[0.6, 0.2, 0.15, 0.05]))

    bookings_per_day = cols["offer_booking_count"] / (np.nan_to_num(cols["offer_age_days"], nan=180.0) + 1)
    price_ratio = cols["price"] / np.maximum(cols["user_remaining_credit"], 1.0)
    utility = (
        2.5 * np.minimum(bookings_per_day, 2.0)
        + 1.5 * cols["is_user_favorite_category"]
        - 2.0 * np.minimum(price_ratio, 2.0)
        + np.where(category == "LIVRE", 0.7, 0.0)
        + np.where(context == "similar_offer", 0.6, 0.0)
    )
    # Retrieval order follows the utility only loosely.
    noisy = utility + rng.normal(0.0, 2.0, n)
    position = np.empty(n, dtype=np.int64)
    for c in range(n_calls):
        sl = slice(c * per_call, (c + 1) * per_call)
        position[sl] = np.argsort(np.argsort(-noisy[sl]))
    logit = utility - 3.0 - 0.03 * position
    consulted = rng.random(n) < 1 / (1 + np.exp(-logit))
    booked = consulted & (rng.random(n) < 1 / (1 + np.exp(-(utility - 3.5))))
    label = consulted.astype(np.int64) + booked.astype(np.int64)

    data: dict[str, pa.Array] = {
        "call_id": pa.array([f"call-{c:06d}" for c in call_idx]),
        "user_id": pa.array([f"{u}" for u in user_idx]),
        "offer_id": pa.array([f"{i}" for i in rng.permutation(5 * n)[:n] + 1]),
        "item_id": pa.array([f"offer-{i}" for i in range(n)]),
        "position": pa.array(position),
        "displayed_at": pa.array(displayed, pa.timestamp("us", tz="UTC")),
        "event_date": pa.array([d.date() for d in displayed], pa.date32()),
        "label": pa.array(label),
    }
    for name in RAW_NUMERIC_FEATURES:
        data[name] = pa.array(cols[name], pa.float64(), mask=np.isnan(cols[name]))
    data[CATEGORICAL_FEATURES[0]] = pa.array(category)
    data[CATEGORICAL_FEATURES[1]] = pa.array(context)
    return pa.table(data)
