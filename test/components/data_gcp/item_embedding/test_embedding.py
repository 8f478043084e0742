"""Item embeddings on planted data: right shape, incremental by content hash, and text that means something."""

from __future__ import annotations

import numpy as np
import pytest

from data_gcp.item_embedding import EMBEDDING_TABLE, EmbeddingError, Encoder, read_embeddings, run_embedding
from data_gcp.planted_truth import item_works
from data_gcp.warehouse import get_warehouse


def test_every_item_has_a_unit_vector_and_copies_of_a_work_are_neighbours(planted_settings) -> None:
    wh = get_warehouse(planted_settings)
    ids, vectors = read_embeddings(wh, settings=planted_settings)
    works = item_works(wh)
    assert set(ids) == set(works) and vectors.shape == (len(ids), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    # the nearest other item of an item whose work has several items is of the same work far more
    # often than chance (noisy names of one work embed close together)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1)
    nearest = sims.argmax(axis=1)
    by_work: dict[str, int] = {}
    for item in ids:
        by_work[works[item]] = by_work.get(works[item], 0) + 1
    shared = [i for i, item in enumerate(ids) if by_work[works[item]] > 1]
    hits = np.mean([works[ids[i]] == works[ids[nearest[i]]] for i in shared])
    chance = np.mean([(by_work[works[ids[i]]] - 1) / (len(ids) - 1) for i in shared])
    assert len(shared) >= 10 and hits > 0.6 and hits > 10 * chance


def test_rerun_embeds_only_changed_items(planted_settings) -> None:
    wh = get_warehouse(planted_settings)
    assert run_embedding(planted_settings).embedded == 0
    before = {
        r["item_id"]: r["content_hash"]
        for r in wh.query(f"select item_id, content_hash from {wh.physical(EMBEDDING_TABLE)}").to_pylist()
    }
    offer = wh.query(
        "select offer_id from "
        f"{wh.physical('raw.applicative_database_offer')} where offer_product_id is null order by offer_id limit 1"
    ).to_pylist()[0]["offer_id"]
    wh.execute(
        f"update {wh.physical('raw.applicative_database_offer')} set offer_name = 'Un tout autre titre' "
        f"where offer_id = {int(offer)}"
    )
    result = run_embedding(planted_settings)
    assert result.embedded == 1
    after = {
        r["item_id"]: r["content_hash"]
        for r in wh.query(f"select item_id, content_hash from {wh.physical(EMBEDDING_TABLE)}").to_pylist()
    }
    assert {k for k in after if after[k] != before.get(k)} == {f"offer-{int(offer)}"}
    assert len(after) == len(before)


def test_encoder_order_does_not_depend_on_batching() -> None:
    texts = ["Le dragon de Paris", "Un très long titre de roman policier avec une enquête", "Jazz", "Opéra"]
    encoder = Encoder("all-MiniLM-L6-v2", batch_size=2)
    a = encoder.encode(texts)
    encoder.batch_size = 1
    b = np.stack([encoder.encode([t])[0] for t in texts])
    # bfloat16 (the default on CPUs with bfloat16 units) rounds differently with the batch's padding:
    # components move by ~1e-3, where another text's vector differs by ~0.2
    assert np.allclose(a, b, atol=1e-4 if encoder.precision == "float32" else 5e-3)
    assert (a * b).sum(axis=1).min() >= 0.9999
    assert a[0] @ a[2] < a[0] @ encoder.encode(["Le dragon de Lyon"])[0]


def test_bfloat16_vectors_agree_with_float32() -> None:
    """The fast precision keeps the vectors: pooling and normalisation stay in float32."""
    texts = [
        "Le dragon de Paris",
        "Un très long titre de roman policier avec une enquête à Marseille et un commissaire fatigué",
        "Jazz au sommet, concert de Michel Petrucciani",
        "Opéra",
    ]
    full = Encoder("all-MiniLM-L6-v2", batch_size=4, precision="float32")
    fast = Encoder("all-MiniLM-L6-v2", batch_size=4, precision="bfloat16")
    assert (full.precision, fast.precision) == ("float32", "bfloat16")
    a, b = full.encode(texts), fast.encode(texts)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() >= 0.999
    # and the precision is a real change of the weights, not a no-op
    assert not np.allclose(a, b, atol=1e-6)


def test_an_unknown_precision_is_refused_with_the_choices() -> None:
    with pytest.raises(EmbeddingError, match="auto, float32 or bfloat16"):
        Encoder("all-MiniLM-L6-v2", precision="int4")
