"""Topic clusters of items inside each category group.

Features per item: TF-IDF of the item text (words of 4+ letters, accents kept, the STOP words out),
reduced by a truncated SVD and L2-normalised, optionally next to the item's text embedding; then, per
category group, PCA to `dims` and KMeans. The vocabulary and the SVD are fitted on a bounded sample of
items and every item is transformed in chunks, so memory is linear in items with a fixed vocabulary cap.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from data_gcp.config import Settings, get_settings
from data_gcp.item_content import load_item_contents
from data_gcp.item_embedding import read_embeddings
from data_gcp.log import get_logger
from data_gcp.warehouse import get_warehouse

if TYPE_CHECKING:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

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


# Items transformed at once (TF-IDF then SVD): bounds the sparse matrix held in memory.
CHUNK = 10_000


def words(text: str) -> list[str]:
    """The words of an item's text that may say its topic: lower case, 4+ letters, accents kept, no STOP."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOP]


@dataclass
class ClusterConfig:
    """Clusters per category group: chosen from the data (the silhouette), unless `counts` (per group) or
    `default_count` fix them; never fewer than `min_size` items per cluster, never more than `max_count`.

    Features per item: `text_weight` x the text block (TF-IDF, truncated SVD, unit rows) next to
    (1 - `text_weight`) x the unit text embedding; per group, PCA to `dims` when wider, then KMeans.
    """

    dims: int = 32  # PCA dimensions per group (features no wider than this are clustered as they are)
    counts: dict[str, int] = field(default_factory=dict)  # fixed cluster counts of these groups
    default_count: int | None = None  # fixed count of the other groups; None: chosen from the data
    max_count: int = 50  # the most clusters a group is given when chosen from the data
    select_sample: int = 3_000  # items of a group the silhouette is computed on (drawn with the seed)
    min_size: int = 20  # never fewer items than this per cluster (fewer clusters in small groups)
    top_terms: int = 3  # words of a cluster's topic_label
    seed: int = 0  # sample, SVD, PCA and KMeans: the same seed gives the same clusters
    text_weight: float = 1.0  # 1: text block only (no embedding), 0: embedding only, between: both
    max_features: int = 50_000  # vocabulary cap: the most frequent words of the sample
    min_df: int = 2  # a word counts when it is in this many sampled items or more
    svd_dims: int = 24  # dimensions the TF-IDF is reduced to (truncated SVD)
    fit_sample: int = 100_000  # items the vocabulary and the SVD are fitted on (drawn with the seed)
    n_init: int = 10  # KMeans starts, the best kept
    minibatch: bool = False  # MiniBatchKMeans (3 starts, batches of 2,048): cheaper on huge groups
    # False: topics are learned over all items at once (one count chosen from the data) and shared by
    # the groups, so a topic with few items in a group is still found where it is common; True: each
    # category group is clustered apart (its own count, `counts`, `dims`)
    per_group: bool = False

    def most(self, n_items: int) -> int:
        """The most clusters a group of n items may have (`min_size` items each)."""
        return max(1, n_items // self.min_size)

    def count(self, group: str, n_items: int) -> int | None:
        """The fixed count of a group (capped by its size), or None when it is chosen from the data."""
        fixed = self.counts.get(group, self.default_count)
        return None if fixed is None else max(1, min(fixed, self.most(n_items)))


def candidate_counts(most: int) -> list[int]:
    """2, 3, ... 8, then steps of about 20%, up to `most`: what the silhouette chooses from."""
    out, k = [], 2
    while k <= most:
        out.append(k)
        k = k + 1 if k < 8 else int(round(k * 1.2))
    return out


def choose_count(x: np.ndarray, most: int, config: ClusterConfig) -> int:
    """The cluster count whose KMeans (3 starts) has the highest mean silhouette on a sample.

    Why the silhouette: it needs no answer, only the items; it prefers clusters that are both tight and
    apart, so it stops splitting a topic once the pieces overlap. Computed on at most `select_sample`
    items, so the cost per candidate is bounded whatever the group's size.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    candidates = candidate_counts(min(most, config.max_count))
    if not candidates:
        return 1
    if len(x) > config.select_sample:
        rng = np.random.default_rng(config.seed)
        x = x[np.sort(rng.choice(len(x), size=config.select_sample, replace=False))]
    best, best_score = candidates[0], -2.0
    for k in candidates:
        labels = KMeans(n_clusters=k, random_state=config.seed, n_init=3).fit_predict(x)
        if len(set(labels)) < 2:
            continue
        score = float(silhouette_score(x, labels))
        if score > best_score + 1e-9:
            best, best_score = k, score
    return best


def top_terms(texts: list[str], labels: np.ndarray, n: int) -> dict[int, str]:
    """Each cluster's most distinctive words: frequency in the cluster x log(clusters / clusters using it)."""
    per: dict[int, Counter] = {}
    for text, label in zip(texts, labels, strict=True):
        per.setdefault(int(label), Counter()).update(set(words(text)))
    df = Counter(w for c in per.values() for w in c)
    k = len(per)
    out = {}
    for label, counts in per.items():
        scored = sorted(counts.items(), key=lambda wc: (-wc[1] * np.log((k + 1) / df[wc[0]]), wc[0]))
        out[label] = " ".join(w for w, _ in scored[:n])
    return out


@dataclass
class TextBlock:
    """The fitted TF-IDF vocabulary (at most `max_features` words) and SVD (None: the vocabulary is narrower)."""

    vectorizer: TfidfVectorizer
    svd: TruncatedSVD | None

    @classmethod
    def fit(cls, texts: list[str], config: ClusterConfig) -> TextBlock | None:
        """Fitted on at most `fit_sample` texts drawn with the seed; None when no word is left in them."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        fit = np.arange(len(texts))
        if len(texts) > config.fit_sample:
            rng = np.random.default_rng(config.seed)
            fit = np.sort(rng.choice(len(texts), size=config.fit_sample, replace=False))
        vectorizer = TfidfVectorizer(
            analyzer=words,
            min_df=min(config.min_df, max(1, len(fit))),
            max_features=config.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        try:
            sample = vectorizer.fit_transform([texts[i] for i in fit])
        except ValueError:  # no word left in the sample
            return None
        dims = min(config.svd_dims, sample.shape[1] - 1, sample.shape[0] - 1)
        svd = TruncatedSVD(n_components=dims, random_state=config.seed).fit(sample) if dims >= 1 else None
        return cls(vectorizer, svd)

    @property
    def width(self) -> int:
        return self.svd.n_components if self.svd is not None else len(self.vectorizer.vocabulary_)

    def transform(self, texts: list[str]) -> np.ndarray:
        """One unit row (float32) per text, `CHUNK` texts at a time; a text without a known word is zeros."""
        from sklearn.preprocessing import normalize

        out = np.empty((len(texts), self.width), dtype=np.float32)
        for start in range(0, len(texts), CHUNK):
            x = self.vectorizer.transform(texts[start : start + CHUNK])
            out[start : start + CHUNK] = self.svd.transform(x) if self.svd is not None else x.toarray()
        return normalize(out, copy=False)


def text_features(texts: list[str], config: ClusterConfig) -> np.ndarray:
    """The text block of every item (one zero column when the texts have no word to keep)."""
    block = TextBlock.fit(texts, config)
    return block.transform(texts) if block is not None else np.zeros((len(texts), 1), dtype=np.float32)


def item_features(vectors: np.ndarray, texts: list[str], config: ClusterConfig) -> np.ndarray:
    """text_weight x the text block next to (1 - text_weight) x the unit embedding (either alone at 1 or 0)."""
    from sklearn.preprocessing import normalize

    weight = config.text_weight
    if weight >= 1:
        return text_features(texts, config)
    embedding = normalize(np.asarray(vectors, dtype=np.float32))
    if weight <= 0:
        return embedding
    return np.hstack([weight * text_features(texts, config), (1 - weight) * embedding])


def cluster_items(
    item_ids: list[str], vectors: np.ndarray, groups: list[str], texts: list[str], config: ClusterConfig
) -> pd.DataFrame:
    """item_id, group, cluster_id ('<group>-<n>'), topic_label, one row per item; deterministic for a seed."""
    from sklearn.decomposition import PCA

    frame = pd.DataFrame({"item_id": item_ids, "group": groups, "text": texts})
    features = item_features(vectors, texts, config) if len(frame) else np.zeros((0, 1), dtype=np.float32)
    if not config.per_group:
        return _shared_topics(frame, features, config)
    parts = []
    for group, rows in frame.groupby("group", sort=True):
        idx = rows.index.to_numpy()
        x = features[idx]
        k = config.count(str(group), len(idx))
        most = config.most(len(idx))
        if (k or most) > 1:
            dims = min(config.dims, len(idx) - 1)
            # narrower features skip it: PCA to every dimension is a rotation, which KMeans ignores
            if dims < x.shape[1]:
                x = PCA(n_components=dims, random_state=config.seed).fit_transform(x)
            k = k or choose_count(x, most, config)
        labels = _kmeans(x, k or 1, config)
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


def _kmeans(x: np.ndarray, k: int, config: ClusterConfig) -> np.ndarray:
    """KMeans labels (`n_init` starts, or MiniBatchKMeans), all zeros for one cluster."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if k <= 1:
        return np.zeros(len(x), dtype=np.int64)
    if config.minibatch:
        km = MiniBatchKMeans(n_clusters=k, random_state=config.seed, n_init=3, batch_size=2048, max_iter=200)
    else:
        km = KMeans(n_clusters=k, random_state=config.seed, n_init=config.n_init)
    return km.fit_predict(x)


def _shared_topics(frame: pd.DataFrame, features: np.ndarray, config: ClusterConfig) -> pd.DataFrame:
    """Topics over all items (the count chosen by the silhouette, or `default_count`); an item's cluster
    is its topic (`topic-<n>`, the same id in every group), its group its category group."""
    if config.counts:
        raise ValueError(
            f"cluster counts per group ({sorted(config.counts)}) need per_group=True (`--per-group`): "
            "shared topics have one count for all items"
        )
    n = len(frame)
    most = config.most(n)
    k = max(1, min(config.default_count, most)) if config.default_count else None
    if k is None:
        k = choose_count(features, most, config) if most > 1 else 1
    labels = _kmeans(features, k, config)
    terms = top_terms(frame["text"].tolist(), labels, config.top_terms)
    return pd.DataFrame(
        {
            "item_id": frame["item_id"].to_numpy(),
            "group": frame["group"].astype(str).to_numpy(),
            "cluster_id": [f"topic-{int(label)}" for label in labels],
            "topic_label": [terms[int(label)] for label in labels],
        }
    )


@dataclass
class ClusterResult:
    clusters: pd.DataFrame
    seconds: float
    left_out: list[str] = field(default_factory=list)  # items not clustered: no embedding of the model

    @property
    def n_clusters(self) -> int:
        return int(self.clusters["cluster_id"].nunique())


def run_clustering(
    settings: Settings | None = None, config: ClusterConfig | None = None, model: str | None = None
) -> ClusterResult:
    """`data-gcp ml cluster`: cluster the items per category group and replace `ml.item_cluster`.

    At `text_weight` 1 (the default) the features are the item text alone: every item is clustered and
    `ml.item_embedding` is not read. Below 1 the embedding is a feature: items without one (not embedded
    yet) are left out, listed in `left_out` and logged, never dropped silently.
    """
    from data_gcp.item_content import item_text

    settings = settings or get_settings()
    config = config or ClusterConfig()
    warehouse = get_warehouse(settings)
    start = time.perf_counter()
    items = load_item_contents(warehouse)
    left_out: list[str] = []
    if config.text_weight >= 1:
        ids = items["item_id"].tolist()
        vectors = np.zeros((len(ids), 0), dtype=np.float32)
    else:
        embedded, all_vectors = read_embeddings(warehouse, model, settings)
        position = {item: i for i, item in enumerate(embedded)}
        known = items["item_id"].map(position)
        left_out = items.loc[known.isna(), "item_id"].tolist()
        items = items[known.notna()].reset_index(drop=True)
        ids = items["item_id"].tolist()
        vectors = all_vectors[known.dropna().astype(int).to_numpy()] if ids else all_vectors[:0]
        if left_out:
            log.warning(
                "item clusters: %d items left out, they have no embedding of model %s (e.g. %s): "
                "run `data-gcp ml embed`, or cluster on the text alone (--text-weight 1)",
                len(left_out),
                model or settings.embedding_model,
                ", ".join(left_out[:3]),
            )
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
    result = ClusterResult(clusters, time.perf_counter() - start, left_out)
    log.info(
        "item clusters: %d items in %d clusters, %d left out (%.1fs)",
        len(clusters),
        result.n_clusters,
        len(left_out),
        result.seconds,
    )
    return result
