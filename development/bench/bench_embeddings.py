"""Item embeddings: per-core speed by precision on this CPU, and throughput as the job is sharded over tasks.

Builds the sandbox at the given scale in its own data folder (generate -> import), then prints:
- the CPU's family and its bfloat16 units (AMX tiles, AVX512-BF16);
- items/s of a naive loop encoding one text per call (float32, the baseline), then of batches sorted
  by length in float32 and in bfloat16 on `--sample` items, on `--threads` threads, with the cosine of
  each to float32 (a precision is usable when its minimum cosine is >= 0.999);
- the job sharded like a Cloud Run job: for each task count of `--tasks`, that many `ml embed` tasks
  (`run_embedding(task_index=i, task_count=n)`, one thread each, each a fresh process on its own copy
  of the warehouse, as Cloud Run tasks each read BigQuery), every item new, `--items` items in all
  (each task its shard's first items/n). Cloud Run runs each task on an instance of its own, so by
  default (`--mode sequential`) the tasks run one after another, each pinned to one core (CPU
  affinity), and the execution's wall time is the slowest task's: items/s in all = items / max(task
  wall time). Task wall time counts everything a task pays (process start, imports, model load, read,
  encode, merge); the model load and the rest are shown apart. `--mode parallel` runs the tasks at
  once instead (only meaningful with as many free cores as tasks). Also checked: the shards are
  disjoint, cover the items and are each about 1/n of them;
- `data-gcp ml embed` again on unchanged items (reads contents and hashes, embeds nothing).

    uv run python development/bench/bench_embeddings.py [--scale 0.05] [--data-dir /tmp/bench_items] [--no-build]
        [--sample 512] [--tasks 1,2,4] [--items 512] [--threads 1] [--onnx]

`--onnx` adds ONNX Runtime (not a dependency of the workspace): `uv run --with onnxruntime --with onnx
python development/bench/bench_embeddings.py ... --onnx`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sandbox_setup import add_sandbox_options, build


def cpu_family() -> str:
    """Model name and bfloat16 units from /proc/cpuinfo (empty on other systems)."""
    info = Path("/proc/cpuinfo")
    text = info.read_text() if info.exists() else ""
    name = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")), "?")
    flags = set(next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []))
    units = [f for f in ("amx_tile", "amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in flags]
    return f"{name} ({', '.join(units) or 'no AVX512/AMX'}; {os.cpu_count()} cores)"


def run_task(
    data_dir: str, index: int, count: int, limit: int, threads: int, core: int | None = None
) -> tuple:
    """One Cloud Run task, in a process of its own (pinned to `core` when given): (ids embedded,
    embedded, seconds of run_embedding, encode seconds, shard items, precision, model load seconds,
    seconds since the task's code started, imports included)."""
    started = time.perf_counter()
    if core is not None:
        os.sched_setaffinity(0, {core})
    os.environ.update({"DATA_GCP_DATA_DIR": data_dir, "DATA_GCP_ENV": "local"})
    from data_gcp.config import Settings
    from data_gcp.item_embedding import EMBEDDING_TABLE, Encoder, run_embedding
    from data_gcp.warehouse import get_warehouse

    settings = Settings(env="local", data_dir=Path(data_dir))
    t = time.perf_counter()
    encoder = Encoder(settings.embedding_model, threads=threads, precision=settings.embedding_precision)
    encoder.encode(["warm-up text"] * 8)
    load = time.perf_counter() - t
    result = run_embedding(settings, encoder=encoder, task_index=index, task_count=count, limit=limit)
    wh = get_warehouse(settings)
    ids = [r["item_id"] for r in wh.query(f"select item_id from {wh.physical(EMBEDDING_TABLE)}").to_pylist()]
    total = time.perf_counter() - started
    return (
        ids,
        result.embedded,
        result.seconds,
        result.encode_seconds,
        result.shard_items,
        encoder.precision,
        load,
        total,
    )


def onnx_rows(encoder, texts: list[str], reference, folder: Path) -> list[tuple[str, float, float]]:  # noqa: ANN001
    """The same float32 model exported to ONNX and run by ONNX Runtime on as many threads, plain and
    with int8 dynamic quantisation: (run, items/s, min cosine to torch float32). Encoded like the job:
    batches sorted by length, mean pooling over the attention mask, unit vectors."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    transformer = encoder.model[0]
    bert, tokenizer, max_len = (
        transformer.auto_model.eval(),
        transformer.tokenizer,
        encoder.model.max_seq_length,
    )
    names = ["input_ids", "attention_mask", "token_type_ids"]

    class Hidden(torch.nn.Module):  # the transformer's last hidden state, from named inputs
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001, ANN202
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    folder.mkdir(parents=True, exist_ok=True)
    plain, int8 = folder / "model.onnx", folder / "model.int8.onnx"
    example = tokenizer(["an example"], return_tensors="pt", padding=True)
    torch.onnx.export(
        Hidden(bert),
        tuple(example[n] for n in names),
        str(plain),
        input_names=names,
        output_names=["hidden"],
        dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(plain), str(int8), weight_type=QuantType.QInt8)
    rows = []
    for label, path in (("ONNX Runtime, float32", plain), ("ONNX Runtime, int8 dynamic", int8)):
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        def encode(batch: list[str], session=session) -> np.ndarray:  # noqa: ANN001
            order = np.argsort([len(t) for t in batch], kind="stable")
            out = np.zeros((len(batch), reference.shape[1]), np.float32)
            for start in range(0, len(batch), encoder.batch_size):
                idx = order[start : start + encoder.batch_size]
                enc = tokenizer(
                    [batch[i] for i in idx],
                    return_tensors="np",
                    padding=True,
                    truncation=True,
                    max_length=max_len,
                )
                hidden = session.run(None, {n: enc[n].astype(np.int64) for n in names})[0]
                mask = enc["attention_mask"][..., None].astype(np.float32)
                vectors = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
                out[idx] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
            return out

        encode(texts[:32])  # warm-up
        t = time.perf_counter()
        vectors = encode(texts)
        seconds = time.perf_counter() - t
        rows.append(
            (
                f"batched, sorted by length, {label}",
                len(texts) / seconds,
                float((reference * vectors).sum(axis=1).min()),
            )
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_sandbox_options(ap, scale=0.05, data_dir="/tmp/bench_items")
    ap.add_argument("--naive", type=int, default=32, help="items encoded one at a time (baseline)")
    ap.add_argument("--sample", type=int, default=512, help="items encoded per precision")
    ap.add_argument("--threads", type=int, default=1, help="threads of the precision runs and of each task")
    ap.add_argument("--tasks", default="1,2,4", help="task counts to run the sharded job with")
    ap.add_argument("--items", type=int, default=512, help="items embedded by the sharded job in all")
    ap.add_argument(
        "--mode",
        choices=("sequential", "parallel"),
        default="sequential",
        help="tasks one after another, each pinned to one core (as on separate instances), or at once",
    )
    ap.add_argument(
        "--onnx",
        action="store_true",
        help="also ONNX Runtime, float32 and int8 (run with `uv run --with onnxruntime --with onnx`)",
    )
    args = ap.parse_args()
    env = {**os.environ, "DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"}
    os.environ.update({"DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"})
    if not args.no_build:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        build(args.scale, env, seed=args.sandbox_seed)

    from rich.console import Console
    from rich.table import Table

    from data_gcp.config import get_settings
    from data_gcp.item_content import item_text, load_item_contents
    from data_gcp.item_embedding import EMBEDDING_TABLE, Encoder, run_embedding, shard_of
    from data_gcp.warehouse import get_warehouse

    print(f"CPU: {cpu_family()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    wh = get_warehouse()
    items = load_item_contents(wh)
    texts = [item_text(r) for r in items.to_dict("records")]
    sample = texts[: args.sample]
    table = Table(
        title=f"item embeddings, scale {args.scale}: {len(items):,} items, {args.threads} thread(s)"
    )
    for col in ("run", "items", "seconds", "items/s", "min cosine to float32"):
        table.add_column(col, justify="left" if col == "run" else "right")
    reference = None
    for precision in ("float32", "bfloat16"):
        encoder = Encoder("all-MiniLM-L6-v2", threads=args.threads, precision=precision)
        encoder.encode(texts[:32])  # warm-up
        if precision == "float32":
            t = time.perf_counter()
            for text in texts[: args.naive]:
                encoder.model.encode([text], normalize_embeddings=True, show_progress_bar=False)
            s = time.perf_counter() - t
            table.add_row(
                "naive, one text per call, float32", str(args.naive), f"{s:.1f}", f"{args.naive / s:.0f}", "-"
            )
        t = time.perf_counter()
        vectors = encoder.encode(sample)
        s = time.perf_counter() - t
        reference = vectors if reference is None else reference
        cosine = float((reference * vectors).sum(axis=1).min())
        table.add_row(
            f"batched, sorted by length, {precision}",
            f"{len(sample):,}",
            f"{s:.1f}",
            f"{len(sample) / s:.0f}",
            f"{cosine:.5f}",
        )
        if precision == "float32" and args.onnx:
            for label, rate, cosine in onnx_rows(encoder, sample, reference, Path(args.data_dir) / "onnx"):
                table.add_row(
                    label, f"{len(sample):,}", f"{len(sample) / rate:.1f}", f"{rate:.0f}", f"{cosine:.5f}"
                )
        if precision == "float32":
            import torch

            # dynamic int8 quantisation of the linear layers (weights int8, activations quantised per batch)
            encoder.model = torch.ao.quantization.quantize_dynamic(
                encoder.model, {torch.nn.Linear}, dtype=torch.qint8
            )
            encoder.encode(texts[:32])
            t = time.perf_counter()
            quantised = encoder.encode(sample)
            s = time.perf_counter() - t
            cosine = float((reference * quantised).sum(axis=1).min())
            table.add_row(
                "batched, sorted by length, int8 dynamic (torch)",
                f"{len(sample):,}",
                f"{s:.1f}",
                f"{len(sample) / s:.0f}",
                f"{cosine:.5f}",
            )
        del encoder
    Console(width=130).print(table)
    auto = Encoder("all-MiniLM-L6-v2", precision=get_settings().embedding_precision).precision
    print(
        f"the job's precision here (DATA_GCP_EMBEDDING_PRECISION={get_settings().embedding_precision}): {auto}"
    )

    # the sharded job: each task count on fresh copies of the warehouse with no embedding yet
    base = Path(args.data_dir) / "shards"
    shutil.rmtree(base, ignore_errors=True)
    seed = base / "seed"
    seed.mkdir(parents=True)
    shutil.copy(wh.path, seed / wh.path.name)
    from data_gcp.config import Settings

    get_warehouse(Settings(env="local", data_dir=seed)).drop_table(EMBEDDING_TABLE)
    counts = [int(n) for n in args.tasks.split(",")]
    tasks = Table(
        title=f"ml embed sharded over Cloud Run tasks: {args.items:,} new items in all, {args.threads} thread(s) "
        f"per task, {args.mode}"
    )
    for col in (
        "tasks",
        "items per task",
        "per-task items/s: task wall (encode only)",
        "model load s",
        "slowest task s",
        "items/s in all",
        "speed-up",
        "shards disjoint, 1/n each",
    ):
        tasks.add_column(col, justify="right")
    first_rate = None
    context = multiprocessing.get_context("spawn")
    for n in counts:
        dirs = []
        for i in range(n):
            d = base / f"{n}-{i}"
            d.mkdir()
            shutil.copy(seed / wh.path.name, d / wh.path.name)
            dirs.append(str(d))
        limit = -(-args.items // n)
        t = time.perf_counter()
        if args.mode == "parallel":
            with ProcessPoolExecutor(n, mp_context=context) as pool:
                done = list(pool.map(run_task, dirs, range(n), [n] * n, [limit] * n, [args.threads] * n))
            walls = [time.perf_counter() - t] * n
        else:
            done, walls = [], []
            core = sorted(os.sched_getaffinity(0))[0]
            for i in range(n):  # one fresh process per task, as a Cloud Run instance
                start = time.perf_counter()
                with ProcessPoolExecutor(1, mp_context=context) as pool:
                    done.append(pool.submit(run_task, dirs[i], i, n, limit, args.threads, core).result())
                walls.append(time.perf_counter() - start)
        embedded = sum(r[1] for r in done)
        # the whole task (process start included) is what a Cloud Run task pays; the model alone in brackets
        per_task = [
            f"{r[1] / w:.0f} ({r[1] / r[3]:.0f})" for r, w in zip(done, walls, strict=True) if r[3] > 0
        ]
        slowest = max(walls)
        rate = embedded / slowest
        first_rate = first_rate or rate
        ids = [set(r[0]) for r in done]
        disjoint = sum(len(s) for s in ids) == len(set().union(*ids))
        own = all(shard_of(item, n) == i for i, s in enumerate(ids) for item in s)
        shares = [r[4] / len(items) for r in done]
        fair = all(abs(share - 1 / n) < 0.1 / n + 0.02 for share in shares)
        tasks.add_row(
            str(n),
            f"{limit:,}",
            ", ".join(per_task),
            ", ".join(f"{r[6]:.1f}" for r in done),
            f"{slowest:.1f}",
            f"{rate:.0f}",
            f"{rate / first_rate:.2f}x",
            f"{'yes' if disjoint and own else 'NO'}, {'yes' if fair else 'NO'} ({', '.join(f'{s:.3f}' for s in shares)})",
        )
        print(
            f"{n} task(s): {embedded} embedded, task walls {', '.join(f'{w:.1f}' for w in walls)}s, "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    Console(width=150).print(tasks)
    again = run_embedding(limit=0)
    print(
        f"ml embed again (unchanged, limit 0): {again.items:,} items read and hashed in {again.seconds:.1f}s"
    )
    print(f"load average at the end {os.getloadavg()[0]:.1f} (timings on a shared machine are upper bounds)")


if __name__ == "__main__":
    main()
