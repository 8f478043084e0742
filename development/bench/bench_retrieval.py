"""Retrieval service under a loopback load: the service's index vs an exact brute-force numpy baseline.

Prints, for 100k synthetic items (clustered 64-dim unit vectors, as trained embeddings are):
index build time, index recall@50 vs exact (with and without filters), and for each backend the
p50 / p99 latency and the req/s of `POST /predict` served by uvicorn in its own process and called by
a load generator on the same machine (a minimal keep-alive HTTP/1.1 client), first closed-loop
(peak req/s), then open-loop at a fixed rate (latency at that traffic); each server's start time (from
process spawn to `/isalive` 200, on the prebuilt `index.tar` a training run ships) and its peak RSS.
Targets: p99 <= 20 ms at 200 req/s on 2 cores, index recall vs exact >= 0.95 (unfiltered and filtered),
RSS < 2 GB, start < 30 s, the index faster than the exact numpy scan.

    uv run python development/bench/bench_retrieval.py [--items 100000] [--cores 2] [--requests 3000]
    nice uv run python development/bench/bench_retrieval.py --items 1000000 --requests 1000 \
        --data-dir /tmp/bench_1m   # kept: a second run reuses the run folder and its index.tar

The service processes read an empty warehouse of their own (no text embeddings: the bench measures
the two-tower path). `--index-type` / `--nprobes` / `--ef` / `--refine-factor` set `IndexParams`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import shutil
import socket
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
    meta = {"run_id": "bench", "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
    (folder / "meta.json").write_text(json.dumps(meta))  # dated as a training run: a fresh catalogue


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class NumpyIndex:
    """The exact baseline: the same item rows, a filter mask from Arrow and a numpy matmul + top-k."""

    def __init__(self, service) -> None:
        from data_gcp.retrieval.index import vectors_of

        index = service.index
        if hasattr(index, "vectors"):  # the scan index holds its float32 vectors in row order
            self.vectors = index.vectors
        else:
            self.vectors = vectors_of(index.table.to_arrow().select(["vector"]))  # row-id order
        self._item_ids = index.item_ids()  # LanceDB row order, as `Hits.positions`
        self.items = service.catalog.take(service._index_rows)  # the item columns in the same order
        self.rows, self.indexed, self.params = index.rows, False, index.params
        self.positions = pa.array(np.arange(self.items.num_rows))

    def item_ids(self):
        return self._item_ids

    def nearest(self, vector, k, node=None, exact=False, nprobes=None):
        from data_gcp.retrieval import Hits, columns_of, to_arrow

        scores = self.vectors @ vector
        expr = to_arrow(node) if node is not None else None
        if expr is not None:
            narrow = self.items.select(sorted(columns_of(node))).append_column("_pos", self.positions)
            mask = narrow.filter(expr).column("_pos").to_numpy()
            sub = scores[mask]
            k = min(k, len(sub))
            top = mask[np.argpartition(-sub, k - 1)[:k]] if k else mask[:0]
        else:
            k = min(k, len(scores))
            top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return Hits(top, 1.0 - scores[top])

    async def anearest(self, *args):
        return self.nearest(*args)


def numpy_service(service):
    """The same service with the vector search replaced by an exact numpy scan (filter mask + matmul)."""
    from data_gcp.retrieval import RetrievalService

    class NumpyService(RetrievalService):
        def search_params(self, node, index):
            return node, False, None  # the baseline index filters with the tree itself

    return NumpyService(
        **{
            f: (NumpyIndex(service) if f == "index" else getattr(service, f))
            for f, spec in service.__dataclass_fields__.items()
            if spec.init and not f.startswith("_")
        }
    )


def app_factory():
    """One worker's app (uvicorn imports this by name when it runs several workers)."""
    from data_gcp.retrieval import load_service
    from data_gcp.retrieval_api import create_app

    folder, backend = Path(os.environ["BENCH_RETRIEVAL_RUN"]), os.environ["BENCH_RETRIEVAL_BACKEND"]
    work = folder.parent / f"work-{backend}-{os.getpid()}"
    params = index_params(json.loads(os.environ["BENCH_RETRIEVAL_PARAMS"]))
    service = load_service(model_dir=folder, catalog_source="snapshot", work_dir=work, params=params)
    return create_app(numpy_service(service) if backend == "numpy" else service)


def index_params(options: dict):
    from data_gcp.retrieval import IndexParams

    return IndexParams(**{k: v for k, v in options.items() if v is not None})


def serve(folder: str, port: int, backend: str, cores: int | None, workers: int, params: str, ready) -> None:
    if cores:
        os.sched_setaffinity(0, set(range(cores)))
    import logging
    import sys

    import uvicorn

    os.environ["BENCH_RETRIEVAL_RUN"], os.environ["BENCH_RETRIEVAL_BACKEND"] = folder, backend
    os.environ["BENCH_RETRIEVAL_PARAMS"] = params
    # an empty warehouse of its own: never a developer's `.data` (text embeddings, catalogue)
    os.environ["DATA_GCP_DATA_DIR"] = str(Path(folder).parent / "data")
    logging.getLogger("uvicorn.access").disabled = True
    opts = {"host": "127.0.0.1", "port": port, "log_level": "warning", "access_log": False}
    if workers > 1:
        sys.path.insert(0, str(Path(__file__).parent))
        ready.set()
        uvicorn.run("bench_retrieval:app_factory", factory=True, workers=workers, **opts)
    else:
        app = app_factory()
        ready.set()
        uvicorn.run(app, **opts)


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


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator shares the 2 cores with the server, so it
    must cost far less per request than the service (httpx costs about as much as the service itself)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, payload: bytes) -> int:
        head = b"POST /predict HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        self.writer.write(head + b"content-length: %d\r\n\r\n" % len(payload) + payload)
        header = await self.reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", header).group(1))
        await self.reader.readexactly(length)
        return int(header[9:12])

    def close(self) -> None:
        self.writer.close()


async def closed_loop(port: int, bodies: list[bytes], concurrency: int) -> tuple[list[float], float, int]:
    """`concurrency` clients, each sending its next request when the last answer arrives: peak req/s."""
    latencies: list[float] = []
    errors = 0
    it = iter(bodies)

    async def worker() -> None:
        nonlocal errors
        conn = await Connection.open(port)
        for body in it:
            t = time.perf_counter()
            status = await conn.post(body)
            latencies.append(time.perf_counter() - t)
            errors += status != 200
        conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - start, errors


async def open_loop(port: int, bodies: list[bytes], rate: float) -> tuple[list[float], float, int]:
    """Requests sent on a fixed schedule (`rate` per second) whatever the answers: the latency a caller
    sees at that traffic, measured from the scheduled send time (a late answer delays nothing else)."""
    latencies: list[float] = []
    errors = 0
    idle: list[Connection] = []

    async def one(body: bytes, due: float) -> None:
        nonlocal errors
        conn = idle.pop() if idle else await Connection.open(port)
        try:
            status = await conn.post(body)
        except (asyncio.IncompleteReadError, ConnectionError):
            # uvicorn closes keep-alive connections idle for 5 s (after a burst opened extra ones):
            # as any HTTP client pool, open a new one and send again
            conn.close()
            conn = await Connection.open(port)
            status = await conn.post(body)
        latencies.append(time.perf_counter() - due)
        errors += status != 200
        idle.append(conn)

    tasks = []
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body, due)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - start
    for conn in idle:
        conn.close()
    return latencies, wall, errors


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (LanceDB searches on its own threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8, help="clients of the closed-loop (peak req/s) run")
    ap.add_argument("--rate", type=float, default=200, help="req/s of the open-loop (latency) run")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument(
        "--cores", type=int, default=2, help="pin server and client to this many cores (0: no pin)"
    )
    ap.add_argument("--data-dir", type=Path, help="keep the run folder here and reuse it (same --items)")
    ap.add_argument("--index-type", help="IndexParams.index_type (default: the service's)")
    ap.add_argument("--nprobes", type=int)
    ap.add_argument("--ef", type=int)
    ap.add_argument("--refine-factor", type=int)
    ap.add_argument("--recall-queries", type=int, default=200)
    args = ap.parse_args()
    options = {
        "index_type": args.index_type,
        "nprobes": args.nprobes,
        "ef": args.ef,
        "refine_factor": args.refine_factor,
    }
    params = index_params(options)
    if args.cores:
        os.sched_setaffinity(0, set(range(args.cores)))
    from data_gcp.retrieval import build_index_archive, load_service, parse_filters, write_run_manifest
    from data_gcp.retrieval.index import vectors_of

    tmp = args.data_dir or Path(tempfile.mkdtemp(prefix="bench_retrieval_"))
    os.environ["DATA_GCP_DATA_DIR"] = str(tmp / "data")  # an empty warehouse: no developer data
    folder = tmp / "run"
    built = tmp / "built.json"  # the build's settings: a changed index type rebuilds index.tar
    build_key = json.dumps({"items": args.items, "users": args.users, "params": repr(params)})
    if (
        not (folder / "catalog.parquet").is_file()
        or not built.is_file()
        or json.loads(built.read_text())["key"] != build_key
    ):
        t = time.perf_counter()
        make_run(folder, args.items, args.users)
        print(f"synthetic run of {args.items} items written in {time.perf_counter() - t:.1f}s", flush=True)
        # as a training run does: the index is built once and shipped as index.tar, the service extracts it
        t = time.perf_counter()
        build_index_archive(pq.read_table(folder / "catalog.parquet"), folder / "index.tar", params)
        build_s = time.perf_counter() - t
        # last, as the training job: the service verifies every file against it
        write_run_manifest(
            folder, vector_dim=DIM, items=args.items, users=args.users, catalog_items=args.items
        )
        built.write_text(json.dumps({"key": build_key, "build_s": build_s}))
    else:
        build_s = json.loads(built.read_text())["build_s"]
        print(f"reusing the run and index.tar in {tmp} (built in {build_s:.1f}s)", flush=True)
    t = time.perf_counter()
    service = load_service(
        model_dir=folder, catalog_source="snapshot", work_dir=tmp / "work-recall", params=params
    )
    load_s = time.perf_counter() - t
    print(
        f"items: {args.items}, indexed: {service.index.indexed} ({service.index.params}), "
        f"index build {build_s:.1f}s (training side), service load {load_s:.1f}s",
        flush=True,
    )

    # index recall vs exact, in-process
    item_table = pq.read_table(folder / "item_embeddings.parquet")
    vecs = vectors_of(item_table)
    ids = np.asarray(item_table.column("item_id").to_pylist(), dtype=object)
    price = np.asarray(pq.read_table(folder / "catalog.parquet").column("price").to_numpy())
    rng = np.random.default_rng(7)
    category = np.asarray(
        pq.read_table(folder / "catalog.parquet").column("category_id").to_pylist(), dtype=object
    )
    in_two = np.isin(category, CATEGORIES[:2])
    recalls, recalls_f, recalls_c = [], [], []
    for u in rng.integers(0, args.users, args.recall_queries):
        q = service.user_vectors[u]
        exact = set(ids[np.argsort(-(vecs @ q))[:50]])
        got = {r["item_id"] for r in service.search(q, parse_filters(None), 50, False)}
        recalls.append(len(got & exact) / 50)
        scores = np.where(price <= 30, vecs @ q, -np.inf)
        exact_f = set(ids[np.argsort(-scores)[:50]])
        got_f = {r["item_id"] for r in service.search(q, parse_filters({"price": {"$lte": 30}}), 50, False)}
        recalls_f.append(len(got_f & exact_f) / 50)
        # a category filter: correlated with the vectors (each topic belongs to one category)
        scores = np.where(in_two, vecs @ q, -np.inf)
        exact_c = set(ids[np.argsort(-scores)[:50]])
        where = parse_filters({"category_id": {"$in": CATEGORIES[:2]}})
        got_c = {r["item_id"] for r in service.search(q, where, 50, False)}
        recalls_c.append(len(got_c & exact_c) / 50)
    print(
        f"index recall@50 vs exact: {np.mean(recalls):.3f} (no filter), {np.mean(recalls_f):.3f} (price <= 30), "
        f"{np.mean(recalls_c):.3f} (category in 2 of 8)"
    )

    service.close()
    bodies = [json.dumps(b).encode() for b in requests_mix(args.requests, args.users)]
    ctx = mp.get_context("spawn")
    rows = []
    for backend in ("index", "numpy"):
        port = free_port()
        ready = ctx.Event()
        proc = ctx.Process(
            target=serve,
            args=(str(folder), port, backend, args.cores, args.workers, json.dumps(options), ready),
            daemon=True,
        )
        spawned = time.perf_counter()
        proc.start()
        wait_alive(port, args.workers)  # from spawn to the first 200 on /isalive: the start time
        start_s = time.perf_counter() - spawned
        asyncio.run(closed_loop(port, bodies[:200], args.concurrency))  # warm up
        cpu0 = proc_cpu_s(proc.pid)
        lat, wall, errors = asyncio.run(closed_loop(port, bodies, args.concurrency))
        cpu_ms = (proc_cpu_s(proc.pid) - cpu0) * 1000 / len(bodies)  # server CPU (all threads) a request
        olat, owall, oerrors = asyncio.run(open_loop(port, bodies, args.rate))
        rss = peak_rss_mb(proc.pid)
        proc.terminate()
        proc.join(10)
        rows.append(
            (backend, pct(lat, 50), pct(lat, 99), len(lat) / wall, errors, pct(olat, 50), pct(olat, 99), len(olat) / owall, oerrors, start_s, rss, cpu_ms)
        )  # fmt: skip
        print(f"{backend}: done, machine load average {os.getloadavg()[0]:.1f}", flush=True)
    print(
        f"\nloopback load: {args.requests} requests (1/4 each: recommendation, + price/age filter, + category "
        f"filter and 20 excluded ids, tops), {args.workers} uvicorn worker(s), server and client pinned to "
        f"{args.cores or 'all'} cores, machine load average {os.getloadavg()[0]:.1f} over {os.cpu_count()} cpus"
    )
    print(
        f"{'':<10}{'closed loop, ' + str(args.concurrency) + ' clients':^34}|{'open loop at ' + str(args.rate) + ' req/s':^34}"
    )
    print(
        f"{'backend':<10}{'p50 ms':>8}{'p99 ms':>8}{'req/s':>10}{'errors':>8}|"
        f"{'p50 ms':>8}{'p99 ms':>8}{'req/s':>10}{'errors':>8}|{'start s':>9}{'RSS MB':>9}{'CPU ms/req':>11}"
    )
    for backend, p50, p99, rps, errors, op50, op99, orps, oerrors, start_s, rss, cpu_ms in rows:
        print(
            f"{backend:<10}{p50:>8.1f}{p99:>8.1f}{rps:>10.0f}{errors:>8}|{op50:>8.1f}{op99:>8.1f}{orps:>10.0f}{oerrors:>8}"
            f"|{start_s:>9.1f}{rss:>9.0f}{cpu_ms:>11.2f}"
        )
    lance, numpy_ = rows
    print(
        f"\ntargets: recall@50 {np.mean(recalls):.3f} unfiltered / {np.mean(recalls_f):.3f} / "
        f"{np.mean(recalls_c):.3f} filtered (>= 0.95); "
        f"open-loop p99 at {args.rate:.0f} req/s {lance[6]:.1f} ms (<= 20); RSS {lance[10]:.0f} MB (< 2048); "
        f"start {lance[9]:.1f} s (< 30); index vs numpy open-loop p50 {lance[5]:.1f} / {numpy_[5]:.1f} ms, "
        f"p99 {lance[6]:.1f} / {numpy_[6]:.1f} ms ({'index faster' if lance[6] < numpy_[6] else 'numpy faster'}); "
        f"machine load average {os.getloadavg()[0]:.1f}"
    )
    if args.data_dir is None:
        shutil.rmtree(tmp, ignore_errors=True)  # the run and three copies of the index: about 100 MB


def wait_alive(port: int, workers: int) -> None:
    import httpx

    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/isalive", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    if workers > 1:
        time.sleep(5 * workers)  # each worker loads its own index; the first answer came from one of them


if __name__ == "__main__":
    main()
