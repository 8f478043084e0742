"""Record linkage: offers of the same work -> one item id (`ml.offer_item_link`), see `core` for the steps."""

from data_gcp.record_linkage.core import (
    LINK_TABLE,
    Linkage,
    LinkResult,
    Node,
    build_nodes,
    exact_name_links,
    link_nodes,
    match_score,
    normalise,
    run_linkage,
)

__all__ = [
    "LINK_TABLE",
    "LinkResult",
    "Linkage",
    "Node",
    "build_nodes",
    "exact_name_links",
    "link_nodes",
    "match_score",
    "normalise",
    "run_linkage",
]
