"""Topic clusters of items inside each category group (TF-IDF + SVD of the item text, PCA, KMeans), labelled by top terms."""

from data_gcp.item_clusters.core import (
    CLUSTER_TABLE,
    ClusterConfig,
    ClusterResult,
    TextBlock,
    choose_count,
    cluster_items,
    item_features,
    run_clustering,
    text_features,
    top_terms,
)

__all__ = [
    "CLUSTER_TABLE",
    "ClusterConfig",
    "ClusterResult",
    "TextBlock",
    "choose_count",
    "cluster_items",
    "item_features",
    "run_clustering",
    "text_features",
    "top_terms",
]
