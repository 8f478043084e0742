"""The planted-taste oracle: what the sandbox really used to make the clicks, as a reference recommender.

Why here and not in the model's brick: it reads the sandbox's truth tables, which exist only on local
sandbox data; production code never imports it. Dev commands, tests and benches pass it to the
two-tower evaluation as a reference (`train_and_evaluate(..., references={"oracle": truth.oracle()})`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_gcp.two_tower import EvalContext, Reference, top_k_chunked
from data_gcp.warehouse import Warehouse

TRUTH_TASTE_TABLE = "raw.sandbox_truth_user_taste"
TRUTH_TOPIC_TABLE = "raw.sandbox_truth_offer_topic"
OFFER_TABLE = "raw.applicative_database_offer"


def offer_item_map(offer_ids: pd.Series, product_ids: pd.Series | None) -> pd.DataFrame:
    """offer_id -> item_id with the contract's rule: 'product-<id>' when the offer has a product."""
    offers = offer_ids.astype(str).reset_index(drop=True)
    if product_ids is None:
        return pd.DataFrame({"offer_id": offers, "item_id": "offer-" + offers})
    products = product_ids.reset_index(drop=True)
    has = products.notna() & (products.astype(str) != "")
    item = ("offer-" + offers).where(~has, "product-" + products.astype(str).str.removesuffix(".0"))
    return pd.DataFrame({"offer_id": offers, "item_id": item})


@dataclass
class Truth:
    """The sandbox's planted taste per user and topic per offer, and every offer's item."""

    user_taste: pd.DataFrame  # user_id, topic_id, weight
    offer_topic: pd.DataFrame  # offer_id, topic_id, weight
    offer_item: pd.DataFrame  # offer_id, item_id

    def oracle(self) -> Reference:
        """Score = planted taste · planted topic per (user, item); ties broken by training popularity."""
        return lambda ctx: oracle_top_k(self, ctx)


def oracle_top_k(truth: Truth, ctx: EvalContext) -> list[list[str]]:
    """Top-k of the oracle for the context's users, scored one block of users at a time (float32).

    An item's topics are the mean of its offers' topics (items group the offers of one work). The
    mapping of the clicks wins over the static offer -> item rule (the ML tables' item ids are truth).
    """
    topics = sorted(set(truth.user_taste["topic_id"]) | set(truth.offer_topic["topic_id"]))
    t_index = {t: i for i, t in enumerate(topics)}
    u_index = {u: i for i, u in enumerate(ctx.users)}
    i_index = {it: i for i, it in enumerate(ctx.item_ids)}
    taste = np.zeros((len(ctx.users), len(topics)), dtype=np.float32)
    ut = truth.user_taste.assign(user_id=truth.user_taste["user_id"].astype(str))
    ut = ut[ut["user_id"].isin(u_index)]
    taste[ut["user_id"].map(u_index).to_numpy(), ut["topic_id"].map(t_index).to_numpy()] = ut["weight"]
    mapping = [truth.offer_item.assign(offer_id=truth.offer_item["offer_id"].astype(str))]
    if "offer_id" in ctx.past.columns:
        mapping.insert(0, ctx.past[["offer_id", "item_id"]].dropna().astype(str))
    offer_item = pd.concat(mapping, ignore_index=True).drop_duplicates("offer_id")
    ot = truth.offer_topic.assign(offer_id=truth.offer_topic["offer_id"].astype(str)).merge(
        offer_item, on="offer_id"
    )
    ot = ot[ot["item_id"].isin(i_index)]
    agg = ot.groupby(["item_id", "topic_id"], as_index=False)["weight"].mean()
    topic = np.zeros((len(ctx.item_ids), len(topics)), dtype=np.float32)
    topic[agg["item_id"].map(i_index).to_numpy(), agg["topic_id"].map(t_index).to_numpy()] = agg["weight"]
    # equal taste scores (one topic per item) are ordered by training popularity, not by item order
    counts = ctx.past["item_id"].astype(str).value_counts()
    tie = (1e-5 * np.log1p(np.array([counts.get(i, 0) for i in ctx.item_ids], dtype=np.float64))).astype(
        np.float32
    )
    topic_t = np.ascontiguousarray(topic.T)
    return top_k_chunked(
        lambda a, b: taste[a:b] @ topic_t + tie[None, :], len(ctx.users), ctx.item_ids, ctx.seen, ctx.k
    )


def load_truth(warehouse: Warehouse) -> Truth | None:
    """The sandbox truth from the local warehouse's raw layer, or None where it is absent (production)."""
    if not all(warehouse.table_exists(t) for t in (TRUTH_TASTE_TABLE, TRUTH_TOPIC_TABLE, OFFER_TABLE)):
        return None

    def read(sql_table: str, columns: str = "*") -> pd.DataFrame:
        return warehouse.query(f"select {columns} from {warehouse.physical(sql_table)}").to_pandas()

    names = warehouse.schema(OFFER_TABLE).names
    product = next((c for c in ("offer_product_id", "product_id") if c in names), None)
    offers = read(OFFER_TABLE, "offer_id" + (f", {product}" if product else ""))
    return Truth(
        user_taste=read(TRUTH_TASTE_TABLE, "user_id, topic_id, weight"),
        offer_topic=read(TRUTH_TOPIC_TABLE, "offer_id, topic_id, weight"),
        offer_item=offer_item_map(offers["offer_id"], offers[product] if product else None),
    )


def sandbox_references(warehouse: Warehouse) -> dict[str, Reference]:
    """{"oracle": ...} on sandbox data, {} elsewhere: what the dev command passes to the evaluation."""
    truth = load_truth(warehouse)
    return {"oracle": truth.oracle()} if truth is not None else {}
