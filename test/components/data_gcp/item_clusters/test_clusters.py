"""Topic clusters on planted data: one row per item, top-term labels, and topics found beyond categories."""

from __future__ import annotations

import numpy as np

from data_gcp.item_clusters import CLUSTER_TABLE, ClusterConfig, run_clustering
from data_gcp.planted_truth import item_topics, nmi
from data_gcp.warehouse import get_warehouse


def test_clusters_follow_planted_topics_better_than_categories(planted_settings) -> None:
    wh = get_warehouse(planted_settings)
    truth = item_topics(wh)
    config = ClusterConfig(counts={}, default_count=12, min_size=3, seed=0)
    result = run_clustering(planted_settings, config)
    clusters = result.clusters
    assert clusters["item_id"].is_unique and set(clusters["item_id"]) == set(truth)
    assert clusters["topic_label"].str.len().gt(0).all()
    ids = clusters["item_id"].tolist()
    topics = [truth[i] for i in ids]
    score = nmi(clusters["cluster_id"].tolist(), topics)
    category_only = nmi(clusters["group"].tolist(), topics)
    # the same cluster sizes inside each group, drawn at random: what a job ignoring the text would get
    rng = np.random.default_rng(0)
    shuffled = np.mean(
        [
            nmi(
                clusters.groupby("group")["cluster_id"].transform(lambda c: rng.permutation(c.to_numpy())),
                topics,
            )
            for _ in range(5)
        ]
    )
    assert score > category_only + 0.08 and score > shuffled + 0.08
    stored = wh.query(f"select count(*) as n from {wh.physical(CLUSTER_TABLE)}").to_pylist()[0]["n"]
    assert stored == len(clusters)
