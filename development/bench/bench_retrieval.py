"""Retrieval service under a loopback load: LanceDB index vs an exact brute-force numpy baseline.

Prints, for 100k synthetic items (clustered 64-dim unit vectors, as trained embeddings are):
index build time, index recall@50 vs exact (with and without filters), and for each backend the
p50 / p99 latency and the req/s of `POST /predict` served by uvicorn in its own process and called by
a concurrent httpx client on the same machine. Targets: p99 <= 20 ms, >= 200 req/s on 2 cores,
index recall vs exact >= 0.95.

    uv run python development/bench/bench_retrieval.py [--items 100000] [--cores 2] [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DIM = 64
CATEGORIES = ["LIVRE", "CINEMA", "MUSIQUE_LIVE", "SPECTACLE", "JEU", "INSTRUMENT", "FILM", "PRATIQUE_ART"]


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def fixed(v: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(v.astype(np.float32).ravel()), v.shape[1])


def make_run(folder: Path, n_items: int, n_users: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    centers = unit(rng.normal(size=(max(50, n_items // 200), DIM)))
    topic = rng.integers(0, len(centers), n_items)
    items = unit(centers[topic] + 0.35 * rng.normal(size=(n_items, DIM)) / np.sqrt(DIM) * 4)
    users = unit(centers[rng.integers(0, len(centers), n_users)] + 0.5 * rng.normal(size=(n_users, DIM)) / 2)
    catalog = pa.table(
        {
            "item_id": [f"offer-{i}" for i in range(n_items)],
            "offer_id": [str(i) for i in range(n_items)],
            "category_id": [CATEGORIES[t % len(CATEGORIES)] for t in topic],
            "subcategory_id": [f"{CATEGORIES[t % len(CATEGORIES)]}_{t % 5}" for t in topic],
            "price": np.round(rng.uniform(0, 80, n_items), 2),
            "is_digital": rng.random(n_items) < 0.3,
            "is_underage_recommendable": rng.random(n_items) < 0.8,
            "booking_count": rng.integers(0, 1000, n_items),
            "booking_count_last_7_days": rng.integers(0, 50, n_items),
            "vector": fixed(items),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(catalog, folder / "catalog.parquet")
    pq.write_table(catalog.select(["item_id", "vector"]), folder / "item_embeddings.parquet")
    pq.write_table(
        pa.table({"user_id": [f"u{i}" for i in range(n_users)], "vector": fixed(users)}),
        folder / "user_embeddings.parquet",
    )
    (folder / "meta.json").write_text(json.dumps({"run_id": "bench"}))


def numpy_service(service):
    """The same service with the vector search replaced by an exact numpy scan (filter mask + matmul)."""
    from data_gcp.retrieval import RetrievalService, to_arrow
    from data_gcp.retrieval.index import vectors_of

    table = service.index.table.to_arrow()
    vectors = vectors_of(table)
    ids = np.asarray(table.column("item_id").to_pylist(), dtype=object)
    offers = np.asarray(table.column("offer_id").to_pylist(), dtype=object)
    filterable = table.drop_columns(["vector"]).add_column(0, "_row", pa.array(np.arange(len(ids))))

    class NumpyService(RetrievalService):
        def search(self, vector, node, size, debug):
            expr = to_arrow(node)
            scores = vectors @ vector
            if expr is not None:
                mask = np.asarray(filterable.filter(expr).column("_row").to_numpy())
                sub = scores[mask]
                k = min(size, len(sub))
                if k == 0:
                    return []
                top = mask[np.argpartition(-sub, k - 1)[:k]]
            else:
                k = min(size, len(scores))
                top = np.argpartition(-scores, k - 1)[:k]
            top = top[np.argsort(-scores[top])]
            return [{"item_id": ids[i], "offer_id": offers[i]} for i in top]

    return NumpyService(
        **{f: getattr(service, f) for f in service.__dataclass_fields__ if not f.startswith("_")}
    )


def serve(folder: str, port: int, backend: str, cores: int | None, ready) -> None:
    if cores:
        os.sched_setaffinity(0, set(range(cores)))
    import logging

    import uvicorn

    from data_gcp.retrieval import load_service
    from data_gcp.retrieval_api import create_app

    work = Path(folder) / f"work-{backend}"
    service = load_service(model_dir=Path(folder), catalog_source="snapshot", work_dir=work)
    if backend == "numpy":
        service = numpy_service(service)
    ready.set()
    logging.getLogger("uvicorn.access").disabled = True
    uvicorn.run(create_app(service), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_mix(n: int, n_users: int, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        inst: dict = {"model_type": "recommendation", "user_id": f"u{rng.integers(0, n_users)}", "size": 100}
        r = i % 4
        if r == 1:
            inst["params"] = {
                "price": {"$lte": float(rng.integers(10, 80))},
                "is_underage_recommendable": True,
            }
        elif r == 2:
            inst["params"] = {"category_id": {"$in": [CATEGORIES[i % 8], CATEGORIES[(i + 3) % 8]]}}
            inst["excluded_items"] = [str(x) for x in rng.integers(0, 1000, 20)]
        elif r == 3:
            inst = {"model_type": "tops", "size": 100, "params": {"is_digital": False}}
        out.append({"instances": [inst]})
    return out


async def load(port: int, bodies: list[dict], concurrency: int) -> tuple[list[float], float, int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                body = queue.get_nowait()
                t = time.perf_counter()
                r = await client.post("/predict", json=body)
                latencies.append(time.perf_counter() - t)
                errors += r.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return latencies, wall, errors


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument(
        "--cores", type=int, default=2, help="pin server and client to this many cores (0: no pin)"
    )
    args = ap.parse_args()
    if args.cores:
        os.sched_setaffinity(0, set(range(args.cores)))
    from data_gcp.retrieval import load_service, parse_filters
    from data_gcp.retrieval.index import vectors_of

    tmp = Path(tempfile.mkdtemp(prefix="bench_retrieval_"))
    folder = tmp / "run"
    make_run(folder, args.items, args.users)
    t = time.perf_counter()
    service = load_service(model_dir=folder, catalog_source="snapshot", work_dir=tmp / "work-recall")
    build_s = time.perf_counter() - t
    print(
        f"items: {args.items}, indexed: {service.index.indexed} ({service.index.params}), build {build_s:.1f}s"
    )

    # index recall vs exact, in-process
    item_table = pq.read_table(folder / "item_embeddings.parquet")
    vecs = vectors_of(item_table)
    ids = np.asarray(item_table.column("item_id").to_pylist(), dtype=object)
    price = np.asarray(pq.read_table(folder / "catalog.parquet").column("price").to_numpy())
    rng = np.random.default_rng(7)
    recalls, recalls_f = [], []
    for u in rng.integers(0, args.users, 200):
        q = service.user_vectors[u]
        exact = set(ids[np.argsort(-(vecs @ q))[:50]])
        got = {r["item_id"] for r in service.search(q, parse_filters(None), 50, False)}
        recalls.append(len(got & exact) / 50)
        scores = np.where(price <= 30, vecs @ q, -np.inf)
        exact_f = set(ids[np.argsort(-scores)[:50]])
        got_f = {r["item_id"] for r in service.search(q, parse_filters({"price": {"$lte": 30}}), 50, False)}
        recalls_f.append(len(got_f & exact_f) / 50)
    print(
        f"index recall@50 vs exact: {np.mean(recalls):.3f} (no filter), {np.mean(recalls_f):.3f} (price <= 30)"
    )

    bodies = requests_mix(args.requests, args.users)
    ctx = mp.get_context("spawn")
    rows = []
    for backend in ("lancedb", "numpy"):
        port = free_port()
        ready = ctx.Event()
        proc = ctx.Process(target=serve, args=(str(folder), port, backend, args.cores, ready), daemon=True)
        proc.start()
        ready.wait(600)
        import httpx

        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/isalive", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        asyncio.run(load(port, bodies[:100], args.concurrency))  # warm up
        lat, wall, errors = asyncio.run(load(port, bodies, args.concurrency))
        proc.terminate()
        proc.join(10)
        rows.append(
            (backend, pct(lat, 50), pct(lat, 99), len(lat) / wall, errors, statistics.mean(lat) * 1000)
        )
    print(
        f"\nloopback load: {args.requests} requests, concurrency {args.concurrency}, cores {args.cores or 'all'}, "
        f"machine load average {os.getloadavg()[0]:.1f} over {os.cpu_count()} cpus (other work included)"
    )
    print(f"{'backend':<10}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}{'errors':>8}")
    for backend, p50, p99, rps, errors, _ in rows:
        print(f"{backend:<10}{p50:>10.1f}{p99:>10.1f}{rps:>10.0f}{errors:>8}")
    lance, numpy_ = rows
    print(
        f"\ntargets: p99 {lance[2]:.1f} ms (<= 20), {lance[3]:.0f} req/s (>= 200), "
        f"recall {np.mean(recalls):.3f} (>= 0.95); lancedb/numpy throughput {lance[3] / numpy_[3]:.2f}x"
    )


if __name__ == "__main__":
    main()
