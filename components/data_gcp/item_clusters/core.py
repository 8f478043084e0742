"""Topic clusters of items inside each category group: PCA to 32 dims, then MiniBatchKMeans per group."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from data_gcp.config import Settings, get_settings
from data_gcp.item_content import load_item_contents
from data_gcp.item_embedding import read_embeddings
from data_gcp.log import get_logger
from data_gcp.warehouse import get_warehouse

log = get_logger(__name__)

CLUSTER_TABLE = "ml.item_cluster"
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)
# Words that say nothing of a topic (French function words, formats, the sandbox's labels).
STOP = set(
    (
        "dans pour avec sans sous vers chez entre leur leurs elle elles nous vous notre votre cette ces "
        "tome édition edition poche broché broche format nouvelle version collector deluxe coffret "
        "complet tournée tournee places famille date dates pack offre spéciale speciale livre papier "
        "numérique numerique audio support physique musique concert spectacle séance seance cinéma cinema "
        "film vinyle abonnement atelier pratique visite guidée guidee festival représentation "
        "representation achat instrument carte illimité illimite"
    ).split()
)


@dataclass
class ClusterConfig:
    """Clusters per category group (`counts`, else `default_count`), never fewer than `min_size` items each."""

    dims: int = 32
    counts: dict[str, int] = field(default_factory=lambda: {"LIVRE": 100})
    default_count: int = 50
    min_size: int = 20
    top_terms: int = 3
    seed: int = 0

    def count(self, group: str, n_items: int) -> int:
        return max(1, min(self.counts.get(group, self.default_count), n_items // self.min_size))


def top_terms(texts: list[str], labels: np.ndarray, n: int) -> dict[int, str]:
    """Each cluster's most distinctive words: frequency in the cluster x log(clusters / clusters using it)."""
    per: dict[int, Counter] = {}
    for text, label in zip(texts, labels, strict=True):
        words = {w for w in _WORD.findall(text.lower()) if w not in STOP}
        per.setdefault(int(label), Counter()).update(words)
    df = Counter(w for c in per.values() for w in c)
    k = len(per)
    out = {}
    for label, counts in per.items():
        scored = sorted(counts.items(), key=lambda wc: (-wc[1] * np.log((k + 1) / df[wc[0]]), wc[0]))
        out[label] = " ".join(w for w, _ in scored[:n])
    return out


def cluster_items(
    item_ids: list[str], vectors: np.ndarray, groups: list[str], texts: list[str], config: ClusterConfig
) -> pd.DataFrame:
    """item_id, group, cluster_id ('<group>-<n>'), topic_label, one row per item; deterministic for a seed."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import PCA

    frame = pd.DataFrame({"item_id": item_ids, "group": groups, "text": texts})
    parts = []
    for group, rows in frame.groupby("group", sort=True):
        idx = rows.index.to_numpy()
        x = vectors[idx]
        k = config.count(str(group), len(idx))
        if k > 1:
            dims = min(config.dims, x.shape[1], len(idx) - 1)
            z = PCA(n_components=dims, random_state=config.seed).fit_transform(x)
            km = MiniBatchKMeans(
                n_clusters=k, random_state=config.seed, n_init=3, batch_size=2048, max_iter=200
            )
            labels = km.fit_predict(z)
        else:
            labels = np.zeros(len(idx), dtype=np.int64)
        terms = top_terms(rows["text"].tolist(), labels, config.top_terms)
        parts.append(
            pd.DataFrame(
                {
                    "item_id": rows["item_id"].to_numpy(),
                    "group": str(group),
                    "cluster_id": [f"{group}-{int(label)}" for label in labels],
                    "topic_label": [terms[int(label)] for label in labels],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["item_id", "group", "cluster_id", "topic_label"])
    return pd.concat(parts, ignore_index=True)


@dataclass
class ClusterResult:
    clusters: pd.DataFrame
    seconds: float

    @property
    def n_clusters(self) -> int:
        return int(self.clusters["cluster_id"].nunique())


def run_clustering(
    settings: Settings | None = None, config: ClusterConfig | None = None, model: str | None = None
) -> ClusterResult:
    """`data-gcp ml cluster`: cluster the embedded items per category group and replace `ml.item_cluster`."""
    from data_gcp.item_content import item_text

    settings = settings or get_settings()
    config = config or ClusterConfig()
    warehouse = get_warehouse(settings)
    start = time.perf_counter()
    ids, vectors = read_embeddings(warehouse, model, settings)
    items = load_item_contents(warehouse)
    items = items[items["item_id"].isin(set(ids))].set_index("item_id").loc[ids].reset_index()
    clusters = cluster_items(
        ids,
        vectors,
        items["category_id"].tolist(),
        [item_text(r) for r in items.to_dict("records")],
        config,
    )
    now = dt.datetime.now(dt.UTC)
    table = pa.Table.from_pandas(clusters.assign(created_at=now), preserve_index=False)
    warehouse.create_dataset("ml")
    warehouse.load(CLUSTER_TABLE, table, mode="replace")
    result = ClusterResult(clusters, time.perf_counter() - start)
    log.info(
        "item clusters: %d items in %d clusters (%.1fs)", len(clusters), result.n_clusters, result.seconds
    )
    return result
