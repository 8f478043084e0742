"""Planted truth for tests, benchmarks and dev commands: synthetic inputs whose answer is known, and oracles.

Dev-only: production bricks never import it (jobs take references injected by their caller instead).
"""

from data_gcp.planted_truth.catalogue import (
    build_planted_warehouse,
    item_topics,
    item_works,
    nmi,
    pairwise_scores,
)
from data_gcp.planted_truth.oracle import Truth, load_truth, offer_item_map, oracle_top_k, sandbox_references
from data_gcp.planted_truth.ranking_table import synthetic_training_table
from data_gcp.planted_truth.two_tower_inputs import make_inputs, make_planted, tiny_run

__all__ = [
    "Truth",
    "build_planted_warehouse",
    "item_topics",
    "item_works",
    "nmi",
    "pairwise_scores",
    "load_truth",
    "make_inputs",
    "make_planted",
    "offer_item_map",
    "oracle_top_k",
    "sandbox_references",
    "synthetic_training_table",
    "tiny_run",
]
