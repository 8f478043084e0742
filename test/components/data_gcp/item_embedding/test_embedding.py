"""Item embeddings on planted data: right shape, incremental by content hash, and text that means something."""

from __future__ import annotations

import numpy as np

from data_gcp.item_embedding import EMBEDDING_TABLE, Encoder, read_embeddings, run_embedding
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
    assert np.allclose(a, b, atol=1e-4)
    assert a[0] @ a[2] < a[0] @ encoder.encode(["Le dragon de Lyon"])[0]
