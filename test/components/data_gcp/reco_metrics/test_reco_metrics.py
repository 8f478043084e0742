from __future__ import annotations

import math

import pytest

from data_gcp.reco_metrics import (
    coverage_at_k,
    ndcg_at_k,
    ndcg_by_group,
    novelty_at_k,
    precision_at_k,
    recall_at_k,
)


def test_precision_and_recall_by_user_mapping() -> None:
    rec = {"u1": ["a", "b", "c"], "u2": ["x", "y", "z"]}
    rel = {"u1": {"a", "c", "d", "e"}, "u2": {"q"}}
    assert precision_at_k(rec, rel, 2) == pytest.approx((1 / 2 + 0) / 2)
    assert recall_at_k(rec, rel, 3) == pytest.approx((2 / 4 + 0) / 2)


def test_users_without_truth_are_skipped_and_missing_recs_count_as_zero() -> None:
    rec = {"u1": ["a"]}
    rel = {"u1": {"a"}, "u2": {"b"}, "u3": set()}
    assert recall_at_k(rec, rel, 1) == pytest.approx(0.5)


def test_parallel_lists_must_align() -> None:
    assert recall_at_k([["a", "b"]], [{"b"}], 2) == 1.0
    with pytest.raises(ValueError, match="relevance sets"):
        recall_at_k([["a"]], [{"a"}, {"b"}], 1)
    with pytest.raises(ValueError, match="positive"):
        precision_at_k([["a"]], [{"a"}], 0)


def test_coverage_counts_distinct_items_in_top_k() -> None:
    assert coverage_at_k([["a", "b", "c"], ["a", "d"]], catalog_size=10, k=2) == pytest.approx(3 / 10)


def test_novelty_favours_the_long_tail() -> None:
    pop = {"hit": 100.0, "rare": 1.0}
    assert novelty_at_k([["hit"]], pop, n_users=100, k=1) == pytest.approx(0.0)
    assert novelty_at_k([["rare"]], pop, n_users=100, k=1) == pytest.approx(math.log2(100))
    assert novelty_at_k([["rare"]], pop, 100, 1) > novelty_at_k([["hit"]], pop, 100, 1)


def test_ndcg_perfect_worst_and_known_value() -> None:
    assert ndcg_at_k([[2, 1, 0]], 3) == pytest.approx(1.0)
    assert ndcg_at_k([[0, 0, 0]], 3) == 0.0  # skipped: nothing to find
    # one relevant item at rank 2: dcg = 1/log2(3), idcg = 1
    assert ndcg_at_k([[0, 1]], 2) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([[0, 1]], 1) == pytest.approx(0.0)


def test_ndcg_by_group_sorts_by_score_within_group() -> None:
    groups = ["c1", "c1", "c2", "c2"]
    labels = [0, 1, 1, 0]
    good = ndcg_by_group(groups, [0.1, 0.9, 0.8, 0.2], labels, 2)
    bad = ndcg_by_group(groups, [0.9, 0.1, 0.2, 0.8], labels, 2)
    assert good == pytest.approx(1.0)
    assert bad < good
