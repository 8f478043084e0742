"""What the ML jobs know of an item's content: name, author or performer, description, taxonomy.

Items here are the app's own grouping before record linkage: `product-<id>` for offers with a product,
`offer-<id>` otherwise (docs/contracts.md). The embedding, clustering and linkage jobs share this
reader so that one item has one text and one content hash everywhere.
"""

from data_gcp.item_content.core import (
    OFFER_TABLE,
    PRODUCT_TABLE,
    ItemContentError,
    content_hash,
    item_text,
    load_item_contents,
    offer_items,
)

__all__ = [
    "OFFER_TABLE",
    "PRODUCT_TABLE",
    "ItemContentError",
    "content_hash",
    "item_text",
    "load_item_contents",
    "offer_items",
]
