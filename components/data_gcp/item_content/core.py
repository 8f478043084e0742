"""Reading item contents from the raw app tables (available right after the import, before dbt)."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from data_gcp.config import DataGcpError
from data_gcp.offer_categories import SUBCATEGORIES
from data_gcp.warehouse import Warehouse

OFFER_TABLE = "raw.applicative_database_offer"
PRODUCT_TABLE = "raw.applicative_database_product"
_CATEGORY = {s.id: s.category_id for s in SUBCATEGORIES}
_LABEL = {s.id: s.app_label for s in SUBCATEGORIES}
COLUMNS = ["item_id", "product_id", "subcategory_id", "category_id", "name", "author", "description"]


class ItemContentError(DataGcpError):
    """The app tables the ML jobs read are missing."""


def _person(extra: object) -> str | None:
    """Author, else performer, from an `*_extra_data` JSON string (None when absent or unreadable)."""
    if not isinstance(extra, str) or not extra:
        return None
    try:
        data = json.loads(extra)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    who = data.get("author") or data.get("performer")
    return str(who) if who else None


def offer_items(warehouse: Warehouse) -> pd.DataFrame:
    """Every offer with its item before linkage: offer_id, item_id, subcategory_id, name, author, description."""
    for table in (OFFER_TABLE, PRODUCT_TABLE):
        if not warehouse.table_exists(table):
            raise ItemContentError(
                f"table {table} not found in the warehouse: import the app database first "
                "(`data-gcp import applicative`)"
            )
    offers = warehouse.query(
        "select cast(offer_id as string) as offer_id, cast(offer_product_id as string) as product_id, "
        "offer_subcategory_id as subcategory_id, offer_name as name, offer_description as description, "
        f"offer_extra_data as extra from {warehouse.physical(OFFER_TABLE)}"
    ).to_pandas()
    offers["product_id"] = offers["product_id"].where(offers["product_id"].notna(), None)
    has = offers["product_id"].notna()
    offers["item_id"] = ("offer-" + offers["offer_id"]).where(
        ~has, "product-" + offers["product_id"].astype(str)
    )
    offers["author"] = [_person(x) for x in offers.pop("extra")]
    return offers


def load_item_contents(warehouse: Warehouse) -> pd.DataFrame:
    """One row per item (before linkage), in item id order: the columns of `COLUMNS`.

    A product's item takes the product's name and author, and the description of its lowest offer id;
    an offer's item takes the offer's own.
    """
    offers = offer_items(warehouse)
    products = warehouse.query(
        "select cast(product_id as string) as product_id, product_name, product_extra_data "
        f"from {warehouse.physical(PRODUCT_TABLE)}"
    ).to_pandas()
    products["product_author"] = [_person(x) for x in products.pop("product_extra_data")]
    offers = offers.assign(_oid=pd.to_numeric(offers["offer_id"])).sort_values("_oid", kind="stable")
    items = offers.drop_duplicates("item_id").merge(products, on="product_id", how="left")
    items["name"] = items["product_name"].where(items["product_name"].notna(), items["name"])
    items["author"] = items["product_author"].where(items["product_author"].notna(), items["author"])
    items["category_id"] = items["subcategory_id"].map(_CATEGORY).fillna("AUTRE")
    items = items.sort_values("item_id", kind="stable").reset_index(drop=True)
    return items[COLUMNS]


def item_text(row: pd.Series | dict) -> str:
    """The text embedded for an item: name, author, subcategory label, description (most telling first)."""
    parts = [row.get("name"), row.get("author"), _LABEL.get(str(row.get("subcategory_id")), None)]
    text = ". ".join(str(p) for p in parts if isinstance(p, str) and p)
    desc = row.get("description")
    return f"{text}. {desc}" if isinstance(desc, str) and desc else text


def content_hash(text: str) -> str:
    """A stable fingerprint of the embedded text: an item is re-embedded only when it changes."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]
