"""Topic clusters on planted data: one row per item, top-term labels, and topics found beyond categories."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_mutual_info_score

from data_gcp.item_clusters import CLUSTER_TABLE, ClusterConfig, run_clustering
from data_gcp.planted_truth import item_topics
from data_gcp.warehouse import get_warehouse


def ami(labels, truth) -> float:
    return float(adjusted_mutual_info_score(truth, labels))


def test_clusters_follow_planted_topics_better_than_chance(planted_settings) -> None:
    wh = get_warehouse(planted_settings)
    truth = item_topics(wh)
    config = ClusterConfig(counts={}, default_count=12, min_size=3, seed=0)
    result = run_clustering(planted_settings, config)
    clusters = result.clusters
    assert clusters["item_id"].is_unique and set(clusters["item_id"]) == set(truth)
    assert clusters["topic_label"].str.len().gt(0).all()
    topics = [truth[i] for i in clusters["item_id"]]
    # adjusted for chance (small data): the same cluster sizes inside each group drawn at random, what a
    # job ignoring the text would get, scores about what chance does; the clusters must beat it clearly
    score = ami(clusters["cluster_id"].tolist(), topics)
    rng = np.random.default_rng(0)
    shuffled = np.mean(
        [
            ami(
                clusters.groupby("group")["cluster_id"].transform(lambda c: rng.permutation(c.to_numpy())),
                topics,
            )
            for _ in range(5)
        ]
    )
    assert score > shuffled + 0.05
    stored = wh.query(f"select count(*) as n from {wh.physical(CLUSTER_TABLE)}").to_pylist()[0]["n"]
    assert stored == len(clusters)
