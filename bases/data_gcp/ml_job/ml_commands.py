"""`data-gcp ml train two-tower|ranker`, `ml embed|cluster|link`: thin commands over the ML components.

Each command imports its component lazily, so `data-gcp --help` does not pay for torch/lightgbm.
Add a training command with `@train_app.command("<name>")`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from data_gcp.cli_kit import out

ml_app = typer.Typer(
    help="Machine-learning jobs: item embeddings, clusters, record linkage, training.", no_args_is_help=True
)
train_app = typer.Typer(help="Train a model, evaluate it and publish its artifacts.", no_args_is_help=True)
ml_app.add_typer(train_app, name="train")

# Providers of reference recommenders evaluated next to the two-tower model, each called with the
# warehouse: the developer CLI adds the sandbox's planted-taste oracle; a production image adds none.
reference_providers: list[Callable[[Any], dict[str, Any]]] = []


@train_app.command("two-tower")
def train_two_tower(
    epochs: int = typer.Option(10, help="training epochs"),
    batch_size: int = typer.Option(512, help="in-batch softmax batch size"),
    embedding_dim: int = typer.Option(64, help="output dimension of both towers"),
    learning_rate: float = typer.Option(3e-3, help="Adam learning rate"),
    seed: int = typer.Option(0, help="random seed"),
    max_users: int | None = typer.Option(None, help="train on at most this many users (quick runs)"),
    max_steps_per_epoch: int | None = typer.Option(None, help="cap the batches per epoch (quick runs)"),
    track: bool = typer.Option(True, help="log the run to MLflow (Settings.tracking_uri)"),
) -> None:
    """Train the two-tower retrieval model on `ml.ml_reco__click_training`, evaluate it against the
    popularity baseline (and, from the developer CLI on sandbox data, the planted-taste oracle), write embeddings and metrics to
    the `ml` dataset and the model + item index to the bucket."""
    from data_gcp.two_tower import TrainConfig, format_metrics_table, run_training
    from data_gcp.warehouse import get_warehouse

    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        embedding_dim=embedding_dim,
        learning_rate=learning_rate,
        seed=seed,
        max_users=max_users,
        max_steps_per_epoch=max_steps_per_epoch,
    )
    references = {}
    if reference_providers:
        warehouse = get_warehouse()
        for provide in reference_providers:
            references.update(provide(warehouse))
    result = run_training(config, track=track, references=references)
    out.print(format_metrics_table(result.metrics, title=f"two-tower run {result.run_id}"))
    out.print(f"model: {result.artifact_uri}")


@train_app.command("ranker")
def train_ranker(
    num_boost_round: int = typer.Option(300, help="boosting rounds at most (early stopping on validation)"),
    learning_rate: float = typer.Option(0.05, help="LightGBM learning rate"),
    num_leaves: int = typer.Option(31, help="leaves per tree"),
    test_fraction: float = typer.Option(0.2, help="share of the newest calls kept for the test split"),
    min_category_count: int = typer.Option(5, help="rarer categorical values go to the unknown bucket"),
    seed: int = typer.Option(0, help="random seed"),
    threads: int = typer.Option(1, help="LightGBM threads (more only on a dedicated machine)"),
    track: bool = typer.Option(True, help="log the run to MLflow (Settings.tracking_uri)"),
) -> None:
    """Train the LightGBM ranker (seen / consulted / booked) on `ml.ml_reco__ranking_training`, compare it
    with the retrieval order (log-loss, NDCG@10), publish the model to the bucket and the metrics to
    `ml.ranker_metrics`."""
    from rich.table import Table

    from data_gcp.ranking import TrainConfig
    from data_gcp.ranking_job import run_training

    config = TrainConfig(
        num_boost_round=num_boost_round,
        learning_rate=learning_rate,
        num_leaves=num_leaves,
        test_fraction=test_fraction,
        min_category_count=min_category_count,
        seed=seed,
        num_threads=threads,
    )
    result = run_training(config, track=track)
    table = Table("metric", "value", title=f"ranker run {result.run_id}")
    for name, value in sorted(result.metrics.items()):
        table.add_row(name, f"{value:.4f}" if not float(value).is_integer() else f"{int(value)}")
    out.print(table)
    top = list(result.feature_importance.items())[:8]
    out.print("top features (gain): " + ", ".join(f"{n} {g:.0f}" for n, g in top))
    out.print(f"model: {result.model_uri}")


@ml_app.command("embed")
def embed(
    model: str | None = typer.Option(None, help="sentence-transformers model (default: the setting)"),
    batch_size: int = typer.Option(128, help="texts per batch (sorted by length)"),
    limit: int | None = typer.Option(None, help="embed at most this many changed items (quick runs)"),
) -> None:
    """Embed the items whose text changed into `ml.item_embedding` (merged; unchanged items are skipped).

    In a Cloud Run job with several tasks, each task embeds its shard of the items
    (CLOUD_RUN_TASK_INDEX of CLOUD_RUN_TASK_COUNT) and merges its own rows."""
    from data_gcp.item_embedding import run_embedding

    result = run_embedding(model=model, batch_size=batch_size, limit=limit, progress=True)
    rate = f", {result.items_per_second:.0f} items/s" if result.embedded else ""
    task = f" (task {result.task_index} of {result.task_count})" if result.task_count > 1 else ""
    out.print(
        f"{result.model}{task}: {result.items} items, {result.embedded} embedded in {result.seconds:.1f}s{rate}"
    )


@ml_app.command("cluster")
def cluster(
    default_count: int | None = typer.Option(
        None,
        "--default-count",
        "--clusters",
        help="fix the topics (per category group with --per-group; default: chosen from the data)",
    ),
    per_group: bool = typer.Option(
        False, help="cluster each category group apart instead of topics shared by all groups"
    ),
    books: int | None = typer.Option(None, help="fix the clusters of the LIVRE group (with --per-group)"),
    max_clusters: int = typer.Option(50, help="the most clusters (per group) when chosen from the data"),
    min_size: int = typer.Option(20, help="never fewer items than this per cluster"),
    text_weight: float = typer.Option(
        1.0, help="weight of the TF-IDF text block vs the text embedding (1: text only, 0: embedding only)"
    ),
    seed: int = typer.Option(0, help="random seed"),
) -> None:
    """Topic clusters (TF-IDF + SVD of the item text, KMeans, the count chosen by the silhouette) into
    `ml.item_cluster`: topics shared by all category groups, or each group apart (--per-group)."""
    from data_gcp.item_clusters import ClusterConfig, run_clustering

    if books and not per_group:
        raise typer.BadParameter(
            "--books fixes the LIVRE group's count: add --per-group", param_hint="--books"
        )
    config = ClusterConfig(
        per_group=per_group,
        counts={"LIVRE": books} if books else {},
        default_count=default_count,
        max_count=max_clusters,
        min_size=min_size,
        text_weight=text_weight,
        seed=seed,
    )
    result = run_clustering(config=config)
    out.print(f"{len(result.clusters)} items in {result.n_clusters} clusters ({result.seconds:.1f}s)")
    if result.left_out:
        out.print(
            f"{len(result.left_out)} items left out: no embedding (e.g. {', '.join(result.left_out[:3])}); "
            "run `data-gcp ml embed` first"
        )


@ml_app.command("link")
def link(
    embeddings: bool = typer.Option(
        True, help="also compare embedding nearest neighbours (ml.item_embedding)"
    ),
) -> None:
    """Link offers of the same work to one item id into `ml.offer_item_link`."""
    from data_gcp.record_linkage import run_linkage

    result = run_linkage(use_embeddings=embeddings)
    before = len(result.item_of)
    after = result.links["item_id"].nunique()
    out.print(
        f"{len(result.links)} offers: {before} items before linkage, {after} after "
        f"({result.matches} links from {result.candidates} candidate pairs, {result.seconds:.1f}s)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(ml_app, name="ml")
