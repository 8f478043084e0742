"""Item embeddings: batched (sorted by length) vs naive one-at-a-time encoding, and the cost of a re-run.

Builds the sandbox at the given scale in its own data folder (generate -> import), then prints:
- items/s of a naive loop encoding one text per call, on `--naive` items (the baseline);
- items/s of batches sorted by length on `--sample` items, in float32 and in the job's precision
  (`auto`: bfloat16 on a CPU with bfloat16 units), with the cosine between the two (target >= 300 items/s);
- `data-gcp ml embed` on the changed items (at most `--limit`), then a re-run, which reads contents
  and hashes and embeds nothing when nothing changed (target < 10 s at scale 1). With `--limit`, the
  re-run is given limit 0: the same reading and hashing of every item, with no encoding.

    uv run python development/bench/bench_embeddings.py [--scale 0.1] [--data-dir /tmp/bench_items] [--no-build]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from sandbox_setup import add_sandbox_options, build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_sandbox_options(ap, scale=0.1, data_dir="/tmp/bench_items")
    ap.add_argument("--naive", type=int, default=64, help="items encoded one at a time (baseline)")
    ap.add_argument("--sample", type=int, default=1024, help="items encoded by the batched encoder")
    ap.add_argument("--limit", type=int, default=None, help="embed at most this many items in the job run")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    env = {**os.environ, "DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"}
    os.environ.update({"DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"})
    if not args.no_build:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        build(args.scale, env)

    from rich.console import Console
    from rich.table import Table

    from data_gcp.item_content import item_text, load_item_contents
    from data_gcp.item_embedding import Encoder, run_embedding
    from data_gcp.warehouse import get_warehouse

    items = load_item_contents(get_warehouse())
    texts = [item_text(r) for r in items.to_dict("records")]
    full = Encoder("all-MiniLM-L6-v2", threads=args.threads, precision="float32")
    t = time.perf_counter()
    encoder = Encoder("all-MiniLM-L6-v2", threads=args.threads)  # the job's: precision "auto"
    load_s = time.perf_counter() - t
    full.encode(texts[:32])  # warm-up
    encoder.encode(texts[:32])
    naive = texts[: args.naive]
    t = time.perf_counter()
    for text in naive:
        full.model.encode([text], normalize_embeddings=True, show_progress_bar=False)
    naive_rate = len(naive) / (time.perf_counter() - t)
    sample = texts[: args.sample]
    t = time.perf_counter()
    reference = full.encode(sample)
    full_rate = len(sample) / (time.perf_counter() - t)
    t = time.perf_counter()
    fast = encoder.encode(sample)
    batched_rate = len(sample) / (time.perf_counter() - t)
    cosine = (reference * fast).sum(axis=1)
    tokens = [min(64, len(ids)) for ids in full.model.tokenizer(sample)["input_ids"]]
    del full
    first = run_embedding(encoder=encoder, limit=args.limit)
    again = run_embedding(encoder=encoder, limit=0 if args.limit is not None else None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    load = os.getloadavg()[0]

    table = Table(
        title=f"item embeddings at scale {args.scale}: {len(items):,} items (load average {load:.1f})"
    )
    for col in ("run", "items", "embedded", "seconds", "items/s"):
        table.add_column(col, justify="left" if col == "run" else "right")
    table.add_row(
        "naive, one text per call",
        f"{len(naive):,}",
        f"{len(naive):,}",
        f"{len(naive) / naive_rate:.1f}",
        f"{naive_rate:.1f}",
    )
    table.add_row(
        "batched, sorted by length, float32",
        f"{len(sample):,}",
        f"{len(sample):,}",
        f"{len(sample) / full_rate:.1f}",
        f"{full_rate:.1f}",
    )
    table.add_row(
        f"batched, sorted by length, {encoder.precision} (the job's)",
        f"{len(sample):,}",
        f"{len(sample):,}",
        f"{len(sample) / batched_rate:.1f}",
        f"{batched_rate:.1f}",
    )
    table.add_row(
        "ml embed (new items)",
        f"{first.items:,}",
        f"{first.embedded:,}",
        f"{first.seconds:.1f}",
        f"{first.items_per_second:.1f}",
    )
    table.add_row(
        "ml embed again (unchanged)", f"{again.items:,}", f"{again.embedded:,}", f"{again.seconds:.1f}", "-"
    )
    Console(width=130).print(table)
    print(
        f"texts: {sum(tokens) / len(tokens):.1f} tokens on average (64 at most); {encoder.precision} vs float32: "
        f"cosine min {cosine.min():.5f}, mean {cosine.mean():.6f}"
    )
    print(
        f"model load {load_s:.1f}s, batched/naive {batched_rate / naive_rate:.1f}x, "
        f"target >= 300 items/s: {'met' if batched_rate >= 300 else 'NOT met'}; "
        f"unchanged re-run {again.seconds:.1f}s (target < 10s); peak RSS {peak:.2f} GiB"
    )


if __name__ == "__main__":
    main()
