"""The planted-taste oracle as a reference recommender: right answer on its own data, blockwise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_gcp.planted_truth import load_truth, make_planted, oracle_top_k
from data_gcp.reco_metrics import recall_at_k
from data_gcp.two_tower import EvalContext, time_split
from data_gcp.two_tower.evaluate import build_eval_set, popularity_top_k
from data_gcp.warehouse import get_warehouse


def test_oracle_ranks_by_planted_taste_and_beats_popularity() -> None:
    inputs, truth = make_planted(150, 200, clicks_per_user=15, seed=3)
    split = time_split(inputs.clicks)
    past = pd.concat([split.train, split.validation], ignore_index=True)
    test = build_eval_set(past, split.test)
    items = sorted(inputs.items["item_id"].astype(str))
    ctx = EvalContext(test.users, items, test.seen, 20, past)
    recs = oracle_top_k(truth, ctx)
    # the first recommendation of each user is an item of the user's favourite planted topic
    taste = truth.user_taste.pivot(index="user_id", columns="topic_id", values="weight")
    topic = dict(zip(truth.offer_item["item_id"], truth.offer_topic["topic_id"], strict=True))
    hits = [
        topic[r[0]] == int(np.argmax(taste.loc[u].to_numpy())) for u, r in zip(test.users, recs, strict=True)
    ]
    assert np.mean(hits) > 0.95
    oracle = recall_at_k(recs, test.relevant, 20)
    popularity = recall_at_k(popularity_top_k(past, test.seen, 20), test.relevant, 20)
    assert oracle > 1.3 * popularity


def test_no_truth_tables_means_no_oracle(settings) -> None:
    assert load_truth(get_warehouse(settings)) is None
