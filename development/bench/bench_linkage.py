"""Record linkage vs exact normalised-name match on the sandbox's planted works (precision, recall, F1, time).

Builds the sandbox at the given scale in its own data folder (generate -> import; dbt is not needed),
then links the items before linkage (products and offers without product) and scores both methods on
pairs of items against `sandbox_truth_offer_work`. Targets: precision >= 0.98, F1 >= 0.95, time at
scale 1 under 2 minutes. Uses `ml.item_embedding` for nearest neighbours when it exists there.

    uv run python development/bench/bench_linkage.py [--scale 0.1] [--data-dir /tmp/bench_items] [--no-build]
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
    ap.add_argument("--no-embeddings", action="store_true", help="blocking and string similarity only")
    args = ap.parse_args()
    env = {**os.environ, "DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"}
    os.environ.update({"DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"})
    if not args.no_build:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        build(args.scale, env)

    from rich.console import Console
    from rich.table import Table

    from data_gcp.item_content import load_item_contents
    from data_gcp.item_embedding import EMBEDDING_TABLE
    from data_gcp.planted_truth import item_works, pairwise_scores
    from data_gcp.record_linkage import exact_name_links, run_linkage
    from data_gcp.warehouse import get_warehouse

    wh = get_warehouse()
    truth = item_works(wh)
    use_embeddings = not args.no_embeddings and wh.table_exists(EMBEDDING_TABLE)
    t = time.perf_counter()
    baseline = exact_name_links(load_item_contents(wh))
    t_base = time.perf_counter() - t
    t = time.perf_counter()
    result = run_linkage(use_embeddings=use_embeddings)
    t_link = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    rows = [
        ("exact normalised name", pairwise_scores(baseline, truth), t_base),
        (
            "linkage (blocking + Jaro-Winkler" + (" + embedding NN)" if use_embeddings else ")"),
            pairwise_scores(result.item_of, truth),
            t_link,
        ),
    ]
    table = Table(title=f"record linkage at scale {args.scale}: {len(truth):,} items before linkage")
    for col in ("method", "precision", "recall", "F1", "true pairs", "predicted pairs", "seconds"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, s, secs in rows:
        table.add_row(
            name,
            f"{s['precision']:.4f}",
            f"{s['recall']:.4f}",
            f"{s['f1']:.4f}",
            f"{int(s['true_pairs']):,}",
            f"{int(s['pairs']):,}",
            f"{secs:.1f}",
        )
    Console(width=130).print(table)
    s = rows[1][1]
    methods = result.links["method"].value_counts().to_dict()
    print(
        f"offers {len(result.links):,}, items after linkage {result.links['item_id'].nunique():,}, "
        f"candidate pairs {result.candidates:,}, links {result.matches:,}, methods {methods}, peak RSS {peak:.2f} GiB"
    )
    ok = s["precision"] >= 0.98 and s["f1"] >= 0.95
    print(
        f"targets precision >= 0.98 and F1 >= 0.95: {'met' if ok else 'NOT met'}; time {t_link:.1f}s (target < 120s at scale 1)"
    )


if __name__ == "__main__":
    main()
