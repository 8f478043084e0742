"""Topic clusters of items inside each category group (PCA 32 + MiniBatchKMeans), labelled by top terms."""

from data_gcp.item_clusters.core import (
    CLUSTER_TABLE,
    ClusterConfig,
    ClusterResult,
    cluster_items,
    run_clustering,
    top_terms,
)

__all__ = ["CLUSTER_TABLE", "ClusterConfig", "ClusterResult", "cluster_items", "run_clustering", "top_terms"]
