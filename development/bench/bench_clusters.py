"""Topic clusters vs category alone: normalised mutual information with the sandbox's planted topics.

Builds the sandbox at the given scale in its own data folder (generate -> import), embeds every item
(`data-gcp ml embed`, incremental: a reused folder embeds nothing new), clusters per category group and
prints NMI(clusters, planted topic) next to NMI(category, planted topic). Target: NMI >= 0.6.

    uv run python development/bench/bench_clusters.py [--scale 0.05] [--data-dir /tmp/bench_items] [--no-build]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sandbox_setup import add_sandbox_options, build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_sandbox_options(ap, scale=0.05, data_dir="/tmp/bench_items")
    ap.add_argument("--clusters", type=int, default=12, help="clusters per category group")
    ap.add_argument("--min-size", type=int, default=5)
    args = ap.parse_args()
    env = {**os.environ, "DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"}
    os.environ.update({"DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"})
    if not args.no_build:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        build(args.scale, env)

    from rich.console import Console
    from rich.table import Table

    from data_gcp.item_clusters import ClusterConfig, run_clustering
    from data_gcp.item_embedding import run_embedding
    from data_gcp.planted_truth import item_topics, nmi
    from data_gcp.warehouse import get_warehouse

    embedded = run_embedding(progress=True)
    print(f"embeddings: {embedded.items:,} items, {embedded.embedded:,} embedded in {embedded.seconds:.0f}s")
    truth = item_topics(get_warehouse())
    config = ClusterConfig(counts={}, default_count=args.clusters, min_size=args.min_size)
    result = run_clustering(config=config)
    c = result.clusters[result.clusters["item_id"].isin(truth)]
    topics = [truth[i] for i in c["item_id"]]

    def within(labels) -> float:
        """Mean NMI inside each category group, weighted by its items."""
        frame = c.assign(label=list(labels), topic=topics)
        total = sum(len(g) * nmi(g["label"].tolist(), g["topic"].tolist()) for _, g in frame.groupby("group"))
        return total / len(frame)

    table = Table(title=f"clusters at scale {args.scale}: {len(c):,} items, {result.n_clusters} clusters")
    for col in ("labels", "clusters", "NMI with planted topic", "NMI inside groups", "seconds"):
        table.add_column(col, justify="left" if col == "labels" else "right")
    table.add_row(
        "category only", str(c["group"].nunique()), f"{nmi(c['group'].tolist(), topics):.3f}", "0.000", "-"
    )
    table.add_row(
        "PCA 32 + MiniBatchKMeans per group",
        str(result.n_clusters),
        f"{nmi(c['cluster_id'].tolist(), topics):.3f}",
        f"{within(c['cluster_id']):.3f}",
        f"{result.seconds:.1f}",
    )
    Console(width=130).print(table)
    for cid, label in (
        c.drop_duplicates("cluster_id").head(8)[["cluster_id", "topic_label"]].itertuples(index=False)
    ):
        print(f"  {cid}: {label}")


if __name__ == "__main__":
    main()
