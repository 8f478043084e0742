"""Two-tower vs popularity vs the planted-taste oracle on a sandbox (recall@50 and the rest @10/50/100).

Builds the sandbox at the given scale in its own data folder (generate -> import -> `data-gcp run`, the
local daily chain: reference seed files, the referential and connector imports, dbt), then
trains and evaluates on the per-user time split, and prints the metrics table, the time and peak
resident memory of train + evaluate, and the target: recall@50 two-tower >= 1.5x popularity. An ALS
baseline (the `implicit` package, 64 factors, 15 iterations, on the same past clicks and seen-item
mask) is evaluated in the same run, next to popularity and the planted-taste oracle.

    uv run python development/bench/bench_two_tower.py [--scale 0.1] [--data-dir /tmp/bench_two_tower] [--no-build]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from sandbox_setup import add_sandbox_options, build


def als_reference(factors: int = 64, iterations: int = 15, seed: int = 0):
    """A matrix-factorisation baseline (implicit's ALS on the past clicks), as a reference recommender:
    the same users, candidate items, seen-item mask and k as the model's evaluation."""
    import numpy as np
    from scipy.sparse import csr_matrix

    def recommend(ctx) -> list[list[str]]:
        from implicit.als import AlternatingLeastSquares

        past = ctx.past.assign(
            user_id=ctx.past["user_id"].astype(str), item_id=ctx.past["item_id"].astype(str)
        )
        users = {u: i for i, u in enumerate(sorted(set(past["user_id"]) | set(ctx.users)))}
        items = {it: i for i, it in enumerate(ctx.item_ids)}
        past = past[past["item_id"].isin(items)]
        counts = past.groupby(["user_id", "item_id"]).size().reset_index(name="n")
        matrix = csr_matrix(
            (
                np.log1p(counts["n"].to_numpy(np.float32)) * 20 + 1,
                (counts["user_id"].map(users), counts["item_id"].map(items)),
            ),
            shape=(len(users), len(items)),
        )
        model = AlternatingLeastSquares(factors=factors, iterations=iterations, random_state=seed)
        model.fit(matrix, show_progress=False)
        rows = np.array([users[u] for u in ctx.users])
        ids, _ = model.recommend(rows, matrix[rows], N=ctx.k, filter_already_liked_items=True)
        names = list(ctx.item_ids)
        return [[names[j] for j in row if j >= 0] for row in ids]

    return recommend


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_sandbox_options(ap, scale=0.1, data_dir="/tmp/bench_two_tower")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument(
        "--text", action="store_true", help="also train with the items' text embeddings (ml.item_embedding)"
    )
    args = ap.parse_args()
    env = {**os.environ, "DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"}
    os.environ.update({"DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"})
    if not args.no_build:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        # the whole chain, not `dbt build` alone: the seed files and the referential imports feed the
        # dbt models the training tables depend on
        build(args.scale, env, ("data-gcp", "run"), seed=args.sandbox_seed)

    from rich.console import Console

    from data_gcp.config import get_settings
    from data_gcp.planted_truth import sandbox_references
    from data_gcp.two_tower import TrainConfig, format_metrics_table, load_inputs, train_and_evaluate
    from data_gcp.warehouse import get_warehouse

    inputs = load_inputs(text_model=get_settings().embedding_model if args.text else None)
    references = {**sandbox_references(get_warehouse()), "als (implicit)": als_reference()}
    print(
        f"clicks {len(inputs.clicks):,}, users {inputs.clicks.user_id.nunique():,}, "
        f"items {inputs.clicks.item_id.nunique():,} clicked / {len(inputs.items):,} recommendable",
        flush=True,
    )
    if args.text:
        t = time.perf_counter()
        plain = train_and_evaluate(inputs, TrainConfig(epochs=args.epochs, batch_size=args.batch_size))
        print(f"without text embeddings: {time.perf_counter() - t:.0f}s", flush=True)
    t = time.perf_counter()
    result = train_and_evaluate(
        inputs,
        TrainConfig(epochs=args.epochs, batch_size=args.batch_size, text_embeddings=args.text),
        references=references,
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux -> GiB
    print(f"trained + evaluated in {time.perf_counter() - t:.0f}s, peak RSS {peak:.2f} GiB; {result.counts}")
    for h in result.history:
        print("  epoch", {k: round(v, 4) for k, v in h.items()})
    Console().print(format_metrics_table(result.metrics, title=f"two-tower at scale {args.scale}"))
    tt = result.metrics["two_tower"][("recall", 50)]
    pop = result.metrics["popularity"][("recall", 50)]
    line = f"recall@50: two-tower {tt:.4f} / popularity {pop:.4f}"
    if "oracle" in result.metrics:
        line += f" / oracle {result.metrics['oracle'][('recall', 50)]:.4f}"
    if args.text:
        known = sum(1 for i in result.item_ids if i in (inputs.item_text or {}))
        base = plain.metrics["two_tower"][("recall", 50)]
        print(
            f"recall@50 with text embeddings {tt:.4f} vs without {base:.4f} ({tt / base if base else 0:.2f}x); "
            f"items with a text embedding {known:,}/{len(result.item_ids):,}"
        )
    ratio = tt / pop if pop else float("inf")
    print(
        f"{line}; two-tower/popularity {ratio:.2f}x (target >= 1.5x: {'met' if ratio >= 1.5 else 'NOT met'})"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
