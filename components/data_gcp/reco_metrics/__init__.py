"""Offline top-k recommendation metrics (precision, recall, coverage, novelty, NDCG) shared by the ML jobs."""

from data_gcp.reco_metrics.core import (
    coverage_at_k,
    ndcg_at_k,
    ndcg_by_group,
    novelty_at_k,
    precision_at_k,
    recall_at_k,
)

__all__ = ["coverage_at_k", "ndcg_at_k", "ndcg_by_group", "novelty_at_k", "precision_at_k", "recall_at_k"]
