"""Evaluation scores users block by block: same top-k as a dense matrix, memory bounded by a block."""

from __future__ import annotations

import numpy as np

from data_gcp.two_tower import top_k_chunked
from data_gcp.two_tower.evaluate import top_k_from_scores


def test_chunked_top_k_equals_dense_and_never_scores_more_than_a_block() -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(37, 50)).astype(np.float32)
    items = [f"i{j}" for j in range(50)]
    seen = [{f"i{j}" for j in rng.choice(50, 5, replace=False)} for _ in range(37)]
    dense = top_k_from_scores(scores, items, seen, 10)
    blocks: list[int] = []

    def rows(a: int, b: int) -> np.ndarray:
        blocks.append(b - a)
        return scores[a:b].copy()

    assert top_k_chunked(rows, 37, items, seen, 10, chunk=8) == dense
    assert max(blocks) == 8 and sum(blocks) == 37
    for recs, s in zip(dense, seen, strict=True):
        assert len(recs) == 10 and not set(recs) & s
    # the caller's matrix is left untouched unless it hands it over
    copy = scores.copy()
    top_k_from_scores(scores, items, seen, 10)
    assert np.array_equal(scores, copy)
