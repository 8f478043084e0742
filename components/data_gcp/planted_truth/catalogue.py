"""The sandbox's planted catalogue truth (works, topics) and the scores the ML jobs are measured with."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pandas as pd

from data_gcp.config import Settings
from data_gcp.warehouse import Warehouse

WORK_TABLE = "raw.sandbox_truth_offer_work"
TOPIC_TABLE = "raw.sandbox_truth_offer_topic"
OFFER_TABLE = "raw.applicative_database_offer"


def build_planted_warehouse(
    settings: Settings, scale: float = 0.004, days: int = 30, seed: int = 7, start: dt.date | None = None
) -> None:
    """A small sandbox generated and imported into the settings' local warehouse (tests, quick benches)."""
    from data_gcp.applicative_import import import_applicative
    from data_gcp.sandbox import generate

    start = start or dt.date(2026, 6, 1)
    generate(scale, seed, settings.source_url, start, days, settings=settings)
    import_applicative(start + dt.timedelta(days=days - 1), full=True, settings=settings)


def _offer_item(warehouse: Warehouse) -> pd.DataFrame:
    offers = warehouse.query(
        "select cast(offer_id as string) as offer_id, cast(offer_product_id as string) as product_id "
        f"from {warehouse.physical(OFFER_TABLE)}"
    ).to_pandas()
    has = offers["product_id"].notna()
    offers["item_id"] = ("offer-" + offers["offer_id"]).where(
        ~has, "product-" + offers["product_id"].astype(str)
    )
    offers["_n"] = pd.to_numeric(offers["offer_id"])
    return offers.sort_values("_n")


def item_works(warehouse: Warehouse) -> dict[str, str]:
    """Item before linkage -> its true work (every offer of an item sells one work)."""
    works = warehouse.query(
        f"select cast(offer_id as string) as offer_id, work_id from {warehouse.physical(WORK_TABLE)}"
    ).to_pandas()
    merged = _offer_item(warehouse).merge(works, on="offer_id").drop_duplicates("item_id")
    return dict(zip(merged["item_id"], merged["work_id"], strict=True))


def item_topics(warehouse: Warehouse) -> dict[str, int]:
    """Item before linkage -> its main planted topic (the heaviest topic of its lowest offer)."""
    topics = warehouse.query(
        f"select cast(offer_id as string) as offer_id, topic_id, weight from {warehouse.physical(TOPIC_TABLE)}"
    ).to_pandas()
    topics = topics.sort_values("weight", ascending=False).drop_duplicates("offer_id")
    merged = _offer_item(warehouse).merge(topics, on="offer_id").drop_duplicates("item_id")
    return dict(zip(merged["item_id"], merged["topic_id"].astype(int), strict=True))


def pairwise_scores(predicted: dict[str, str], truth: dict[str, str]) -> dict[str, float]:
    """Precision, recall and F1 over pairs of items put together (predicted) vs same work (truth)."""
    keys = [k for k in predicted if k in truth]

    def pairs(counter: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = pairs(Counter((predicted[k], truth[k]) for k in keys))
    pred = pairs(Counter(predicted[k] for k in keys))
    true = pairs(Counter(truth[k] for k in keys))
    precision = both / pred if pred else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": float(true),
        "pairs": float(pred),
    }


def nmi(labels: list, truth: list) -> float:
    """Normalised mutual information (arithmetic mean normalisation, as scikit-learn's default)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(np.asarray(truth), np.asarray(labels)))
