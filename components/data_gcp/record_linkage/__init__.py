"""Record linkage: offers of the same work -> one item id (`ml.offer_item_link`), see `core` for the steps."""

from data_gcp.record_linkage.core import (
    FEATURES,
    LINK_TABLE,
    WEIGHTS,
    Linkage,
    LinkResult,
    Node,
    blocking_pairs,
    build_nodes,
    exact_name_links,
    link_nodes,
    match_probability,
    match_score,
    normalise,
    pair_features,
    run_linkage,
)

__all__ = [
    "FEATURES",
    "LINK_TABLE",
    "WEIGHTS",
    "LinkResult",
    "Linkage",
    "Node",
    "build_nodes",
    "exact_name_links",
    "blocking_pairs",
    "link_nodes",
    "match_probability",
    "match_score",
    "normalise",
    "pair_features",
    "run_linkage",
]
