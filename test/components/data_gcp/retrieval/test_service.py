"""The service's modes and fallbacks on a run folder of known vectors (no training needed)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_gcp.retrieval import (
    FilterError,
    IndexParams,
    Query,
    RetrievalUnavailable,
    load_service,
    write_run_manifest,
)
from data_gcp.retrieval.layout import LATEST_KEY, run_prefix
from data_gcp.storage import get_storage
from data_gcp.warehouse import get_warehouse

DIM = 8


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def fixed(vectors: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.astype(np.float32).ravel()), vectors.shape[1])


def write_run(folder, n_items: int = 60, run_id: str = "run-1"):
    """Item i points along axis i % DIM (plus a little of axis (i+1) % DIM), so neighbours are known."""
    folder.mkdir(parents=True, exist_ok=True)
    items = unit(
        [np.eye(DIM)[i % DIM] + 0.01 * (i // DIM) * np.eye(DIM)[(i + 1) % DIM] for i in range(n_items)]
    )
    catalog = pa.table(
        {
            "item_id": [f"offer-{i}" for i in range(n_items)],
            "offer_id": [str(i) for i in range(n_items)],
            "category_id": ["LIVRE" if i % 2 else "CINEMA" for i in range(n_items)],
            "price": [float(i) for i in range(n_items)],
            "is_digital": [i % 3 == 0 for i in range(n_items)],
            "booking_count": [n_items - i for i in range(n_items)],  # offer-0 is the top
            "booking_count_last_7_days": [0] * n_items,
            "vector": fixed(items),
        }
    )
    pq.write_table(catalog, folder / "catalog.parquet")
    pq.write_table(
        pa.table({"item_id": catalog["item_id"], "vector": fixed(items)}), folder / "item_embeddings.parquet"
    )
    users = unit(np.eye(DIM)[:3])  # user u<k> likes axis k
    pq.write_table(
        pa.table({"user_id": ["u0", "u1", "u2"], "vector": fixed(users)}), folder / "user_embeddings.parquet"
    )
    (folder / "meta.json").write_text(json.dumps({"run_id": run_id}))
    write_run_manifest(folder, vector_dim=DIM, items=n_items, users=3, catalog_items=n_items)
    return folder


@pytest.fixture(params=["lancedb", "scan"])
def service(request, tmp_path, settings):
    """The same run served by each engine: a LanceDB table (small catalogues), the 4-bit scan (large)."""
    params = IndexParams(min_rows=1) if request.param == "scan" else None
    svc = load_service(
        settings, model_dir=write_run(tmp_path / "run"), work_dir=tmp_path / "work", params=params
    )
    assert type(svc.index).__name__ == ("ScanIndex" if request.param == "scan" else "ItemIndex")
    return svc


def ids(answer) -> list[str]:
    return [p["item_id"] for p in answer.predictions]


def test_recommendation_returns_the_users_nearest_items_under_filters(service) -> None:
    answer = service.retrieve(Query(user_id="u1", size=5, debug=True))
    assert answer.model_type == "recommendation" and answer.fallback is None
    assert ids(answer)[:3] == ["offer-1", "offer-9", "offer-17"]  # axis 1, least tilted first
    assert [p["idx"] for p in answer.predictions] == list(range(5))
    assert answer.predictions[0]["distance"] == pytest.approx(0.0, abs=1e-5)
    assert answer.model_version == "run-1"
    cheap_books = service.retrieve(
        Query(
            user_id="u1",
            size=50,
            params={"price": {"$lte": 20}, "category_id": "LIVRE"},
            excluded_items=["9"],
        )
    )
    got = ids(cheap_books)
    assert got and "offer-9" not in got and got[0] == "offer-1"
    assert all(int(i.split("-")[1]) <= 20 and int(i.split("-")[1]) % 2 == 1 for i in got)
    assert len(got) == 9  # every odd price up to 20 but 9: pushed into the search, not post-filtered


def test_unknown_user_and_empty_results_fall_back_to_tops_under_the_same_filters(service) -> None:
    answer = service.retrieve(Query(user_id="stranger", size=3, params={"category_id": "LIVRE"}))
    assert answer.model_type == "tops" and answer.fallback == "unknown_user"
    assert ids(answer) == ["offer-1", "offer-3", "offer-5"]  # most booked books
    nothing = service.retrieve(Query(user_id="u0", size=3, params={"price": {"$gt": 1000}}))
    assert nothing.model_type == "tops" and nothing.fallback == "empty_result" and nothing.predictions == []


def test_similar_offers_tops_and_filter_modes(service) -> None:
    similar = service.retrieve(Query(model_type="similar_offer", items=["2"], size=3))
    assert ids(similar) == ["offer-10", "offer-18", "offer-26"]  # same axis, the input itself excluded
    by_item_id = service.retrieve(Query(model_type="similar_offer", items=["offer-2"], size=1))
    assert ids(by_item_id) == ["offer-10"]
    unknown = service.retrieve(Query(model_type="similar_offer", items=["nope"], size=2))
    assert unknown.fallback == "unknown_items" and ids(unknown) == ["offer-0", "offer-1"]
    tops = service.retrieve(Query(model_type="tops", size=2, excluded_items=["offer-0"], call_id="c1"))
    assert ids(tops) == ["offer-1", "offer-2"] and tops.call_id == "c1"
    filtered = service.retrieve(
        Query(model_type="filter", size=100, params={"is_digital": True, "price": {"$lt": 10}})
    )
    assert sorted(ids(filtered)) == ["offer-0", "offer-3", "offer-6", "offer-9"]


def test_bad_filter_raises_filter_error(service) -> None:
    with pytest.raises(FilterError):
        service.retrieve(Query(user_id="u0", params={"price": {"$like": "%"}}))


@pytest.mark.parametrize("index_type", ["PQ_FASTSCAN", "IVF_FLAT"])
def test_large_indexes_keep_recall_and_selective_filters_stay_exact(tmp_path, settings, index_type) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    centers = unit(rng.normal(size=(30, DIM)))
    vecs = unit(centers[rng.integers(0, 30, n)] + 0.15 * rng.normal(size=(n, DIM)))
    folder = tmp_path / "run"
    write_run(folder)
    catalog = pa.table(
        {
            "item_id": [f"i{i}" for i in range(n)],
            "offer_id": [str(i) for i in range(n)],
            "price": [float(i % 100) for i in range(n)],
            "vector": fixed(vecs),
        }
    )
    pq.write_table(catalog, folder / "catalog.parquet")
    pq.write_table(catalog.select(["item_id", "vector"]), folder / "item_embeddings.parquet")
    write_run_manifest(folder, vector_dim=DIM, items=n, users=3, catalog_items=n)
    svc = load_service(
        settings,
        model_dir=folder,
        work_dir=tmp_path / "w",
        params=IndexParams(index_type=index_type, min_rows=1000, nprobes=12),
    )
    assert svc.index is not None and svc.index.indexed
    hits = []
    for q in unit(rng.normal(size=(20, DIM))):
        exact = set(np.asarray(catalog["item_id"])[np.argsort(-(vecs @ q))[:50]])
        found = {r["item_id"] for r in svc.search(q, parse_none(), 50, False)}
        hits.append(len(found & exact) / 50)
        # a filter matching few rows is searched exactly
        rare = svc.search(q, parse({"price": {"$eq": 7}}), 50, False)
        rare_exact = [f"i{i}" for i in np.argsort(-(vecs @ q)) if i % 100 == 7]
        assert [r["item_id"] for r in rare] == rare_exact
    assert np.mean(hits) >= (0.95 if index_type == "PQ_FASTSCAN" else 0.9)
    # the HTTP service's async search probes the same partitions
    import asyncio

    for q in [Query(user_id="u0", size=20), Query(user_id="u1", size=20, params={"price": {"$lt": 50}})]:
        assert asyncio.run(svc.aretrieve(q)) == svc.retrieve(q)


def parse(params):
    from data_gcp.retrieval import parse_filters

    return parse_filters(params)


def parse_none():
    return parse(None)


def test_missing_model_serves_tops_from_the_warehouse_and_says_why(settings, tmp_path) -> None:
    with pytest.raises(RetrievalUnavailable, match="no model and no recommendable-item table"):
        load_service(settings, work_dir=tmp_path / "w")
    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    wh.load(
        "ml.ml_reco__recommendable_item",
        pa.table({"item_id": ["a", "b"], "offer_id": ["1", "2"], "booking_count": [1, 5]}),
        "replace",
    )
    svc = load_service(settings, work_dir=tmp_path / "w")
    assert not svc.ready and "no two-tower model in the bucket" in svc.problems[0]
    answer = svc.retrieve(Query(user_id="u0", size=5))
    assert answer.fallback == "no_model" and ids(answer) == ["b", "a"]


def test_loads_the_latest_run_from_the_bucket_and_refreshes_items_from_the_warehouse(
    settings, tmp_path
) -> None:
    folder = write_run(tmp_path / "run", run_id="run-7")
    storage = get_storage(settings)
    for path in folder.iterdir():
        storage.put_file(path, f"{run_prefix('run-7')}/{path.name}")
    storage.put_bytes(LATEST_KEY, b"run-7")
    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    # today's catalogue: offer-1 gone, a new item without a vector (tops only)
    wh.load(
        "ml.ml_reco__recommendable_item",
        pa.table(
            {
                "item_id": ["offer-9", "offer-17", "new-item"],
                "offer_id": ["9", "17", "99"],
                "booking_count": [1, 2, 100],
            }
        ),
        "replace",
    )
    svc = load_service(settings, work_dir=tmp_path / "w")
    assert svc.ready and svc.model_version == "run-7" and svc.index.rows == 2
    assert ids(svc.retrieve(Query(user_id="u1", size=5))) == ["offer-9", "offer-17"]
    assert ids(svc.retrieve(Query(model_type="tops", size=1))) == ["new-item"]


def test_the_async_path_answers_as_the_sync_one(service, tmp_path, settings) -> None:
    """The HTTP service awaits LanceDB's async API; every mode must answer exactly as `retrieve` does."""
    import asyncio

    queries = [
        Query(user_id="u1", size=5, debug=True),
        Query(user_id="u0", size=50, params={"price": {"$lte": 20}, "category_id": "LIVRE"}),
        Query(user_id="u2", size=4, excluded_items=["offer-2", "10"]),
        Query(model_type="similar_offer", items=["2"], size=3),
        Query(user_id="stranger", size=3, params={"category_id": "LIVRE"}),
        Query(model_type="tops", size=2, excluded_items=["offer-0"]),
        Query(model_type="filter", size=10, params={"is_digital": True}),
    ]

    async def both():
        return [await service.aretrieve(q) for q in queries]

    for sync, async_ in zip([service.retrieve(q) for q in queries], asyncio.run(both()), strict=True):
        assert async_ == sync
    assert ids(asyncio.run(service.aretrieve(Query(user_id="u1", size=1)))) == ["offer-1"]


def test_excluded_items_never_cost_answers(service) -> None:
    """Exclusions are dropped after the search, which asks for enough more rows to still fill `size`."""
    plain = ids(service.retrieve(Query(user_id="u1", size=4)))
    assert plain == ["offer-1", "offer-9", "offer-17", "offer-25"]
    # the two nearest excluded, one by item id and one by offer id: the next two take their places
    answer = service.retrieve(Query(user_id="u1", size=2, excluded_items=["offer-1", "9"]))
    assert answer.fallback is None and ids(answer) == ["offer-17", "offer-25"]


def test_tops_and_filter_scans_equal_a_full_sort_of_the_filtered_catalogue(tmp_path, settings) -> None:
    """The scans read the pre-sorted catalogue in growing slices and stop early: they must still give
    what filtering and sorting the whole catalogue gives, for rare, broad and exclusion filters."""
    n = 12_000  # several scan slices
    svc = load_service(settings, model_dir=write_run(tmp_path / "run", n_items=n), work_dir=tmp_path / "w")
    catalog = pq.read_table(tmp_path / "run" / "catalog.parquet")
    booked = np.asarray(catalog["booking_count"])
    price = np.asarray(catalog["price"])
    digital = np.asarray(catalog["is_digital"])
    by_tops = [f"offer-{i}" for i in np.argsort(-booked, kind="stable")]
    cases = [
        ({"price": {"$gt": n - 6}}, [], 10, lambda i: price[i] > n - 6),  # rare, at the very end
        ({"is_digital": True}, [], 5000, lambda i: digital[i]),  # broad, crosses slices
        (None, ["offer-0", "5"], 3, lambda i: i not in (0, 5)),
    ]
    for params, excluded, size, keep in cases:
        answer = svc.retrieve(Query(model_type="tops", size=size, params=params, excluded_items=excluded))
        expected = [item for item in by_tops if keep(int(item.split("-")[1]))][:size]
        assert ids(answer) == expected
    # filter mode: newest first; without creation dates every row ties and item id decides
    newest = svc.retrieve(Query(model_type="filter", size=4, params={"price": {"$gte": n - 10}}))
    assert ids(newest) == sorted(f"offer-{i}" for i in range(n - 10, n))[:4]


def test_the_lancedb_index_holds_scalar_indexes_on_the_filter_columns(tmp_path, settings) -> None:
    service = load_service(settings, model_dir=write_run(tmp_path / "run"), work_dir=tmp_path / "work")
    assert service.index is not None
    assert {"category_id", "price", "is_digital", "offer_id", "item_id"} <= set(service.index.scalar_indexed)


def test_similar_offer_never_returns_its_inputs_even_from_the_tops_fallback(settings, tmp_path) -> None:
    folder = write_run(tmp_path / "run")
    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    # "new-item" has no vector (a similar_offer on it falls back to tops) and is the most booked
    wh.load(
        "ml.ml_reco__recommendable_item",
        pa.table({"item_id": ["offer-1", "new-item"], "offer_id": ["1", "99"], "booking_count": [1, 100]}),
        "replace",
    )
    svc = load_service(settings, model_dir=folder, work_dir=tmp_path / "w")
    for items in (["new-item"], ["99"]):
        answer = svc.retrieve(Query(model_type="similar_offer", items=items, size=5))
        assert answer.fallback == "unknown_items"
        assert "new-item" not in ids(answer) and ids(answer) == ["offer-1"]


def test_date_filters_compare_instants_with_their_time_and_zone(tmp_path, settings) -> None:
    folder = write_run(tmp_path / "run", n_items=4)
    catalog = pq.read_table(folder / "catalog.parquet")
    created = pa.array(
        ["2026-01-11T09:00:00+00:00", "2026-01-11T11:30:00+00:00", "2026-01-11T12:30:00+00:00", "2026-01-10"]
    )
    pq.write_table(catalog.append_column("offer_creation_date", created), folder / "catalog.parquet")
    write_run_manifest(folder, vector_dim=DIM, items=4, users=3, catalog_items=4)
    svc = load_service(settings, model_dir=folder, work_dir=tmp_path / "w")

    def before(instant: str) -> list[str]:
        params = {"offer_creation_date": {"$lt": instant}}
        return sorted(ids(svc.retrieve(Query(model_type="filter", params=params, size=10))))

    assert before("2026-01-11T12:00:00") == ["offer-0", "offer-1", "offer-3"]  # naive = UTC, time kept
    assert before("2026-01-11T12:00:00+02:00") == ["offer-0", "offer-3"]  # 10:00 UTC
    assert before("2026-01-11") == ["offer-3"]  # a date is its midnight UTC
    # the vector search pushes the same instant down into LanceDB
    params = {"offer_creation_date": {"$lt": "2026-01-11T12:00:00+02:00"}}
    assert sorted(ids(svc.retrieve(Query(user_id="u0", params=params, size=10)))) == ["offer-0", "offer-3"]


@pytest.mark.parametrize("broken", ["catalog_not_parquet", "no_user_embeddings", "truncated_index"])
def test_a_broken_run_folder_degrades_to_tops_or_unavailable_with_the_reason(
    settings, tmp_path, broken
) -> None:
    from data_gcp.retrieval import build_index_archive

    folder = write_run(tmp_path / "run")
    if broken == "catalog_not_parquet":
        (folder / "catalog.parquet").write_bytes(b"this is not parquet")
        reason = "catalog.parquet"
    elif broken == "no_user_embeddings":
        (folder / "user_embeddings.parquet").unlink()
        reason = "user_embeddings.parquet"
    else:
        archive = build_index_archive(pq.read_table(folder / "catalog.parquet"), folder / "index.tar")
        write_run_manifest(folder, vector_dim=DIM, items=60, users=3, catalog_items=60)
        archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 3])
        reason = "index.tar has"
    with pytest.raises(RetrievalUnavailable, match=reason):
        load_service(settings, model_dir=folder, work_dir=tmp_path / "w")
    assert not any((tmp_path / "w" / "index").glob("*"))  # nothing half-built left behind
    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    wh.load(
        "ml.ml_reco__recommendable_item",
        pa.table({"item_id": ["a", "b"], "booking_count": [1, 2]}),
        "replace",
    )
    svc = load_service(settings, model_dir=folder, work_dir=tmp_path / "w")
    assert not svc.ready and any(reason in p for p in svc.status()["problems"])
    assert ids(svc.retrieve(Query(user_id="u0", size=2))) == ["b", "a"]


def test_an_unreadable_warehouse_or_an_old_snapshot_is_reported_degraded(settings, tmp_path) -> None:
    import datetime as dt
    import subprocess
    import sys

    folder = write_run(tmp_path / "run")
    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    wh.load(
        "ml.ml_reco__recommendable_item", pa.table({"item_id": ["offer-1"], "booking_count": [1]}), "replace"
    )
    del wh
    fresh = load_service(settings, model_dir=folder, work_dir=tmp_path / "w")
    assert fresh.ready and fresh.status()["catalog"]["source"] == "warehouse"
    assert fresh.status()["catalog"]["age_hours"] < 1
    fresh.close()
    # another process holds the DuckDB file: the snapshot is served, but never as healthy
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()",
            str(settings.duckdb_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        stale = load_service(settings, model_dir=folder, work_dir=tmp_path / "w")
    finally:
        holder.communicate("")
    status = stale.status()
    assert not stale.ready and status["status"] == "degraded" and status["catalog"]["source"] == "snapshot"
    assert any("could not read ml.ml_reco__recommendable_item" in p for p in status["problems"])
    # a snapshot older than the allowed age is degraded too, and says how old
    meta = json.loads((folder / "meta.json").read_text())
    meta["created_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    (folder / "meta.json").write_text(json.dumps(meta))
    write_run_manifest(folder, vector_dim=DIM, items=60, users=3, catalog_items=60)
    old = load_service(settings, model_dir=folder, catalog_source="snapshot", work_dir=tmp_path / "w2")
    assert not old.ready and "240 h old" in old.status()["problems"][0]
    assert old.status()["catalog"]["date"].startswith(meta["created_at"][:10])
    recent = load_service(
        settings,
        model_dir=folder,
        catalog_source="snapshot",
        work_dir=tmp_path / "w3",
        max_catalog_age_hours=24 * 30,
    )
    assert recent.ready


def test_index_copies_are_removed_at_close_and_stale_ones_at_start(settings, tmp_path) -> None:
    work = tmp_path / "w"
    stale = work / "index" / "run-1-999999999"  # a process that no longer exists
    stale.mkdir(parents=True)
    (stale / "junk").write_bytes(b"x" * 100)
    svc = load_service(settings, model_dir=write_run(tmp_path / "run"), work_dir=work)
    copies = list((work / "index").iterdir())
    assert len(copies) == 1 and copies[0].name.startswith(f"run-1-{__import__('os').getpid()}-")
    svc.close()
    assert list((work / "index").iterdir()) == []


TEXT_DIM = 384
TEXT_MODEL = "all-MiniLM-L6-v2"  # the settings' default embedding model


def _text_catalogue(settings, folder, text_rows):
    """Today's catalogue: the run's offer-0..7 plus 12 new items (no two-tower vector), and their text
    embeddings in `ml.item_embedding`; new-i is about topic i % 3, offer-k about topic k % 3."""
    rng = np.random.default_rng(3)
    topics = np.eye(TEXT_DIM)[:3]
    new = [f"new-{i}" for i in range(12)]
    old = [f"offer-{k}" for k in range(8)]
    wh = get_warehouse(settings)
    wh.create_dataset("ml")
    wh.load(
        "ml.ml_reco__recommendable_item",
        pa.table(
            {
                "item_id": old + new,
                "offer_id": [str(k) for k in range(8)] + [f"n{i}" for i in range(12)],
                "category_id": ["LIVRE" if i % 2 else "CINEMA" for i in range(20)],
                "booking_count": list(range(20)),  # new-11 is the top
            }
        ),
        "replace",
    )
    if text_rows is None:
        return
    ids_, vecs = [], []
    for item in old + new:
        number = int(item.split("-")[1])
        ids_.append(item)
        vecs.append(topics[number % 3] + 0.3 * rng.normal(size=TEXT_DIM) / np.sqrt(TEXT_DIM))
    vecs = unit(np.asarray(vecs))
    rows = text_rows(ids_, vecs)
    wh.load("ml.item_embedding", rows, "replace")


def _embedding_rows(ids_, vecs, model=TEXT_MODEL) -> pa.Table:
    return pa.table(
        {
            "item_id": ids_,
            "model": [model] * len(ids_),
            "content_hash": ["h"] * len(ids_),
            "vector": pa.array([v.tolist() for v in vecs], pa.list_(pa.float32())),
        }
    )


def test_similar_offer_without_a_two_tower_vector_is_served_by_the_text_embedding(settings, tmp_path) -> None:
    def rows(ids_, vecs):
        # another model's vectors point new-0 at topic 1: only the configured model may be read
        other = _embedding_rows(["new-0"], unit(np.eye(TEXT_DIM)[1:2]), model="another-model")
        # new-11 has no text embedding
        keep = [i for i, item in enumerate(ids_) if item != "new-11"]
        return pa.concat_tables([_embedding_rows([ids_[i] for i in keep], vecs[keep]), other])

    _text_catalogue(settings, write_run(tmp_path / "run"), rows)
    svc = load_service(settings, model_dir=tmp_path / "run", work_dir=tmp_path / "w")
    assert svc.ready and svc.status()["text_indexed_items"] == 19

    def topic(item: str) -> int:
        return int(item.split("-")[1]) % 3

    for items in (["new-0"], ["n0"], ["new-0", "n3"]):  # by item id, offer id, or two items
        answer = svc.retrieve(Query(model_type="similar_offer", items=items, size=5, debug=True))
        got = ids(answer)
        assert answer.model_type == "similar_offer_text" and answer.fallback is None
        assert len(got) == 5 and all(topic(i) == 0 for i in got)
        assert "new-0" not in got and (items != ["new-0", "n3"] or "new-3" not in got)
        assert [p["distance"] for p in answer.predictions] == sorted(
            p["distance"] for p in answer.predictions
        )
    # the same filters and exclusions as any search: CINEMA items are the even-numbered ones
    answer = svc.retrieve(
        Query(
            model_type="similar_offer",
            items=["n0"],
            size=20,
            params={"category_id": "CINEMA"},
            excluded_items=["new-6", "n9"],
        )
    )
    got = ids(answer)
    assert answer.model_type == "similar_offer_text"
    # every CINEMA item but the input and the excluded ones; topic 0 first: offer-0 and offer-6
    cinema = [f"offer-{k}" for k in range(0, 8, 2)] + [f"new-{i}" for i in range(0, 12, 2)]
    assert sorted(got) == sorted(set(cinema) - {"new-0", "new-6"})
    assert sorted(got[:2]) == ["offer-0", "offer-6"]
    # no text embedding either (new-11): tops, never the input
    fallback = svc.retrieve(Query(model_type="similar_offer", items=["new-11"], size=2))
    assert fallback.model_type == "tops" and fallback.fallback == "unknown_items"
    assert ids(fallback) == ["new-10", "new-9"]
    # an item with a two-tower vector is still served by it
    collaborative = svc.retrieve(Query(model_type="similar_offer", items=["2"], size=1))
    assert collaborative.model_type == "similar_offer" and collaborative.fallback is None
    assert ids(collaborative) and "offer-2" not in ids(collaborative)
    # the HTTP service's async path answers the same
    import asyncio

    q = Query(model_type="similar_offer", items=["new-1"], size=3, params={"category_id": "LIVRE"})
    assert asyncio.run(svc.aretrieve(q)) == svc.retrieve(q)
    assert sorted(ids(svc.retrieve(q))) == ["new-7", "offer-1", "offer-7"]  # topic 1, odd numbers


def test_without_text_embeddings_new_items_fall_back_to_tops_and_bad_ones_are_reported(
    settings, tmp_path
) -> None:
    _text_catalogue(settings, write_run(tmp_path / "run"), None)  # no ml.item_embedding table
    svc = load_service(settings, model_dir=tmp_path / "run", work_dir=tmp_path / "w")
    answer = svc.retrieve(Query(model_type="similar_offer", items=["new-0"], size=2))
    assert svc.ready and answer.model_type == "tops" and answer.fallback == "unknown_items"
    assert ids(answer) == ["new-11", "new-10"]

    def ragged(ids_, vecs):  # vectors of two sizes: unusable, and said so
        return _embedding_rows(ids_, [v if i % 2 else v[:10] for i, v in enumerate(vecs)])

    _text_catalogue(settings, tmp_path / "run", ragged)
    broken = load_service(settings, model_dir=tmp_path / "run", work_dir=tmp_path / "w2")
    assert not broken.ready and any("text embeddings" in p for p in broken.status()["problems"])
    answer = broken.retrieve(Query(model_type="similar_offer", items=["new-0"], size=2))
    assert answer.model_type == "tops" and ids(answer) == ["new-11", "new-10"]


def _rewrite_users(folder, dim: int) -> None:
    users = unit(np.eye(dim)[:3])
    pq.write_table(
        pa.table({"user_id": ["u0", "u1", "u2"], "vector": fixed(users)}), folder / "user_embeddings.parquet"
    )


@pytest.mark.parametrize("remanifest", [False, True], ids=["manifest kept", "manifest rewritten"])
def test_user_vectors_of_another_size_are_refused_not_served_from_tops(
    settings, tmp_path, remanifest
) -> None:
    """4-dim user vectors in an 8-dim run: refused by the manifest's hash, or (a manifest written for
    the wrong files) by the recorded vector size; never a service answering tops as `ok`."""
    folder = write_run(tmp_path / "run")
    _rewrite_users(folder, DIM // 2)
    if remanifest:
        write_run_manifest(folder, vector_dim=DIM, items=60, users=3, catalog_items=60)
    reason = "user_embeddings.parquet vector size: 4" if remanifest else "user_embeddings.parquet has"
    with pytest.raises(RetrievalUnavailable, match=reason):
        load_service(settings, model_dir=folder, catalog_source="snapshot", work_dir=tmp_path / "w")


@pytest.mark.parametrize("remanifest", [False, True], ids=["manifest kept", "manifest rewritten"])
def test_a_scan_index_whose_vectors_differ_in_size_from_its_codes_is_refused(
    settings, tmp_path, remanifest
) -> None:
    """A shipped index.tar whose vectors.npy holds half-size vectors: refused by the manifest, or by
    the index itself (codes of 8 dimensions, vectors of 4), before any query reaches faiss."""
    import io
    import tarfile

    from data_gcp.retrieval import build_index_archive

    folder = write_run(tmp_path / "run")
    params = IndexParams(min_rows=1)
    archive = build_index_archive(pq.read_table(folder / "catalog.parquet"), folder / "index.tar", params)
    write_run_manifest(folder, vector_dim=DIM, items=60, users=3, catalog_items=60)
    members = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if member.isfile():
                members[member.name] = tar.extractfile(member).read()
    half = io.BytesIO()
    np.save(half, np.zeros((60, DIM // 2), np.float32))
    members["./vectors.npy"] = half.getvalue()
    with tarfile.open(archive, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    if remanifest:
        write_run_manifest(folder, vector_dim=DIM, items=60, users=3, catalog_items=60)
    reason = "vectors of shape \\(60, 4\\)" if remanifest else "index.tar has|index.tar does not match"
    with pytest.raises(RetrievalUnavailable, match=reason):
        load_service(
            settings, model_dir=folder, catalog_source="snapshot", work_dir=tmp_path / "w", params=params
        )


def test_a_run_dated_in_the_future_is_degraded(settings, tmp_path) -> None:
    import datetime as dt

    folder = write_run(tmp_path / "run")
    meta = {"run_id": "run-1", "created_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).isoformat()}
    (folder / "meta.json").write_text(json.dumps(meta))
    write_run_manifest(folder, vector_dim=DIM, items=60, users=3, catalog_items=60)
    svc = load_service(settings, model_dir=folder, catalog_source="snapshot", work_dir=tmp_path / "w")
    status = svc.status()
    assert not svc.ready and status["status"] == "degraded"
    assert status["catalog"]["age_hours"] < -8000
    assert any("in the future" in p for p in status["problems"])


def test_the_engine_check_runs_a_real_query_through_each_engine(settings, tmp_path) -> None:
    """Loaded: no problem. Its index folder gone (what a reload sharing it did): the check says
    which engine failed, the service is degraded, and the failed searches are counted."""
    import shutil

    folder = write_run(tmp_path / "run")
    svc = load_service(
        settings,
        model_dir=folder,
        catalog_source="snapshot",
        work_dir=tmp_path / "w",
        max_catalog_age_hours=None,
    )
    assert svc.check() == [] and svc.ready
    for path in svc.owned_dirs:
        shutil.rmtree(path)
    problems = svc.check()
    assert problems and all(p.startswith("engine check failed: two-tower index") for p in problems)
    assert not svc.ready
    answers = [svc.retrieve(Query(user_id="u1", size=3)) for _ in range(10)]
    assert all(a.fallback == "search_error" for a in answers)
    status = svc.status()
    assert status["fallbacks"] == {"search_error": 10} and status["error_rate"] == 1.0
    assert any("fell back to tops after a failed search" in p for p in status["problems"])
