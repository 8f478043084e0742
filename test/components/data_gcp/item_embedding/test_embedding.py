"""Item embeddings on planted data: right shape, incremental by content hash, and text that means something."""

from __future__ import annotations

import numpy as np
import pytest

from data_gcp.item_embedding import (
    EMBEDDING_TABLE,
    EmbeddingError,
    Encoder,
    read_embeddings,
    run_embedding,
    shard_of,
)
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


def _stored(wh) -> dict[str, tuple[str, list[float]]]:
    rows = wh.query(f"select item_id, content_hash, vector from {wh.physical(EMBEDDING_TABLE)}").to_pylist()
    return {r["item_id"]: (r["content_hash"], r["vector"]) for r in rows}


def test_tasks_each_embed_their_shard_and_a_rerun_task_rewrites_the_same_rows(planted_settings) -> None:
    wh = get_warehouse(planted_settings)
    everything = _stored(wh)
    wh.drop_table(EMBEDDING_TABLE)
    encoder = Encoder("all-MiniLM-L6-v2", precision="float32")
    first = run_embedding(planted_settings, encoder=encoder, task_index=0, task_count=3)
    # task 0 wrote its shard and nothing else
    assert set(_stored(wh)) == {i for i in everything if shard_of(i, 3) == 0} and first.embedded > 0
    done = [first] + [
        run_embedding(planted_settings, encoder=encoder, task_index=i, task_count=3) for i in (1, 2)
    ]
    assert sum(r.embedded for r in done) == len(everything) == sum(r.shard_items for r in done)
    assert all(
        0.2 * len(everything) < r.embedded < 0.47 * len(everything) for r in done
    )  # about a third each
    merged = _stored(wh)
    assert set(merged) == set(everything)
    assert all(merged[i][0] == everything[i][0] for i in everything)
    # a task retried (its hashes lost) re-embeds its shard only, into the same rows
    wh.execute(f"update {wh.physical(EMBEDDING_TABLE)} set content_hash = 'stale'")
    again = run_embedding(planted_settings, encoder=encoder, task_index=1, task_count=3)
    assert again.embedded == done[1].shard_items
    after = _stored(wh)
    assert len(after) == len(everything)
    assert {i for i in after if after[i][0] != "stale"} == {i for i in everything if shard_of(i, 3) == 1}
    assert all(np.allclose(after[i][1], merged[i][1], atol=1e-5) for i in after)


def test_the_task_comes_from_cloud_run_and_a_bad_one_is_refused(planted_settings, monkeypatch) -> None:
    from data_gcp.config import Settings

    monkeypatch.setenv("CLOUD_RUN_TASK_INDEX", "3")
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", "4")
    settings = Settings(env="local", data_dir=planted_settings.data_dir)
    assert (settings.task_index, settings.task_count) == (3, 4)
    with pytest.raises(EmbeddingError, match="task 4 of 4"):
        run_embedding(settings, task_index=4)


def test_a_task_waits_for_another_that_holds_the_table(planted_settings) -> None:
    """Tasks of one execution write at once: a held warehouse is retried, not a failed task."""
    import subprocess
    import sys
    import time

    wh = get_warehouse(planted_settings)
    wh.execute(f"update {wh.physical(EMBEDDING_TABLE)} set content_hash = 'stale'")
    encoder = Encoder("all-MiniLM-L6-v2", precision="float32")
    holders = []

    class HoldingEncoder:
        """The real encoder; while it encodes, another process takes DuckDB's file lock for 2 seconds."""

        name = encoder.name

        def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
            code = f"import duckdb, time; c = duckdb.connect({str(wh.path)!r}); print(1, flush=True); time.sleep(2)"
            holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
            assert holder.stdout is not None and holder.stdout.readline().strip() == b"1"
            holders.append((holder, time.perf_counter()))
            return encoder.encode(texts)

    result = run_embedding(planted_settings, encoder=HoldingEncoder(), task_index=0, task_count=2)
    ((holder, locked_at),) = holders
    assert holder.wait() == 0 and time.perf_counter() - locked_at >= 2.0  # it waited for the lock
    assert result.embedded == result.shard_items > 0
    assert sum(h != "stale" for h, _ in _stored(wh).values()) == result.shard_items
