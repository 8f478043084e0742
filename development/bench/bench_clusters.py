"""Topic clusters vs category alone: normalised mutual information with the sandbox's planted topics.

Builds the sandbox at the given scale in its own data folder (generate -> import), embeds every item
(`data-gcp ml embed`, incremental: a reused folder embeds nothing new), then clusters three times in one
run: the embedding-only method (MiniBatchKMeans on the text embedding, `ClusterConfig(text_weight=0,
minibatch=True)`) as the baseline, each category group apart (`--per-group`), then the job (TF-IDF +
SVD of the item text, KMeans, topics shared by the groups; `ClusterConfig` defaults), which is what
`ml.item_cluster` holds at the end. Prints NMI(labels, planted topic) overall and inside each category
group next to NMI(category, planted topic), each run's seconds and peak RSS (each in a process of its
own) and the load average. Target: NMI >= 0.6 with the job's defaults (the count chosen from the data;
`--clusters N` fixes it).

    uv run python development/bench/bench_clusters.py [--scale 0.05] [--data-dir /tmp/bench_items] [--no-build]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox_setup import add_sandbox_options, build

if TYPE_CHECKING:
    from data_gcp.item_clusters import ClusterConfig, ClusterResult


def run_child(config: ClusterConfig) -> tuple[ClusterResult, float]:
    """In a fresh process (what `data-gcp ml cluster` is): the clustering run and that process's peak RSS, GiB."""
    from data_gcp.item_clusters import run_clustering

    result = run_clustering(config=config)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork + exec, so it would count the parent
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return result, int(line.split()[1]) / 2**20
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_sandbox_options(ap, scale=0.05, data_dir="/tmp/bench_items")
    ap.add_argument(
        "--clusters", type=int, default=None, help="fix the clusters per group (default: the job's choice)"
    )
    ap.add_argument("--min-size", type=int, default=20, help="the job's default")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    env = {**os.environ, "DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"}
    os.environ.update({"DATA_GCP_DATA_DIR": args.data_dir, "DATA_GCP_ENV": "local"})
    if not args.no_build:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        build(args.scale, env, seed=args.sandbox_seed)

    from rich.console import Console
    from rich.table import Table

    from data_gcp.item_clusters import ClusterConfig
    from data_gcp.item_embedding import run_embedding
    from data_gcp.planted_truth import item_topics, nmi
    from data_gcp.warehouse import get_warehouse

    embedded = run_embedding(progress=True)
    print(f"embeddings: {embedded.items:,} items, {embedded.embedded:,} embedded in {embedded.seconds:.0f}s")
    truth = item_topics(get_warehouse())
    common = {"default_count": args.clusters, "min_size": args.min_size, "seed": args.seed}
    runs = {}
    load_before = os.getloadavg()[0]
    for name, config in (
        ("baseline", ClusterConfig(**common, text_weight=0.0, minibatch=True)),
        ("per group", ClusterConfig(**common, per_group=True)),
        ("job", ClusterConfig(**common)),  # last: `ml.item_cluster` ends with the job's clusters
    ):
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs[name] = pool.submit(run_child, config).result()
    load_after = os.getloadavg()[0]
    (baseline, baseline_peak), (job, peak) = runs["baseline"], runs["job"]
    per_group, per_group_peak = runs["per group"]

    def scored(result) -> tuple[list, list, list]:
        c = result.clusters[result.clusters["item_id"].isin(truth)]
        return c["cluster_id"].tolist(), c["group"].tolist(), [truth[i] for i in c["item_id"]]

    def within(labels: list, groups: list, topics: list) -> float:
        """Mean NMI inside each category group, weighted by its items."""
        total = 0.0
        for group in set(groups):
            rows = [i for i, g in enumerate(groups) if g == group]
            total += len(rows) * nmi([labels[i] for i in rows], [topics[i] for i in rows])
        return total / len(labels)

    labels, groups, topics = scored(job)
    count = args.clusters or "chosen from the data (silhouette)"
    table = Table(title=f"clusters at scale {args.scale}: {len(labels):,} items, count {count}")
    for col in (
        "labels",
        "clusters",
        "NMI with planted topic",
        "NMI inside groups",
        "seconds",
        "peak RSS GiB",
    ):
        table.add_column(col, justify="left" if col == "labels" else "right")
    table.add_row("category only", str(len(set(groups))), f"{nmi(groups, topics):.3f}", "0.000", "-", "-")
    for name, result, rss in (
        ("embedding alone: MiniBatchKMeans, shared topics", baseline, baseline_peak),
        ("TF-IDF + SVD, KMeans per group (--per-group)", per_group, per_group_peak),
        ("job: TF-IDF + SVD, KMeans, shared topics", job, peak),
    ):
        labels, groups, topics = scored(result)
        table.add_row(
            name,
            str(result.n_clusters),
            f"{nmi(labels, topics):.3f}",
            f"{within(labels, groups, topics):.3f}",
            f"{result.seconds:.1f}",
            f"{rss:.2f}",
        )
    Console(width=130).print(table)
    print(
        f"job: {job.seconds:.1f}s, peak RSS {peak:.2f} GiB (its own process, as `data-gcp ml cluster`);"
        f" load average {load_before:.1f} -> {load_after:.1f}"
    )
    for cid, label in (
        job.clusters.drop_duplicates("cluster_id")
        .head(8)[["cluster_id", "topic_label"]]
        .itertuples(index=False)
    ):
        print(f"  {cid}: {label}")


if __name__ == "__main__":
    main()
