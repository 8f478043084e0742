"""Inputs of the two-tower model: loading, the per-user time split and the feature space.

Why frames and not SQL: the model's preparation is tested on small frames built in the test; only
`load_inputs` talks to the warehouse. Column names follow docs/contracts.md (dataset `ml`).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from data_gcp.config import DataGcpError
from data_gcp.warehouse import Warehouse, get_warehouse

CLICKS_TABLE = "ml.ml_reco__click_training"
ITEMS_TABLE = "ml.ml_reco__recommendable_item"
USERS_TABLE = "ml.ml_reco__user_features"
TEXT_TABLE = "ml.item_embedding"  # written by `data-gcp ml embed` (item_id, model, content_hash, vector)

CLICK_COLUMNS = ["user_id", "item_id", "event_timestamp"]
ITEM_CATEGORICAL = ["category_id", "subcategory_id"]
USER_CATEGORICAL = ["user_department_code", "deposit_type"]
MAX_TOKENS = 16
HISTORY = 20
_TOKEN_RE = re.compile(r"[^\W_]{2,}", re.UNICODE)


class TwoTowerDataError(DataGcpError):
    """The training inputs are missing or unusable."""


@dataclass
class Inputs:
    """The frames the model learns from (the dbt ML tables)."""

    clicks: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    item_text: dict[str, np.ndarray] | None = None  # item id -> text embedding (ml.item_embedding)


def load_inputs(warehouse: Warehouse | None = None, text_model: str | None = None) -> Inputs:
    """Read the dbt ML tables from the warehouse (and the items' text embeddings of `text_model`)."""
    wh = warehouse or get_warehouse()
    for table in (CLICKS_TABLE, ITEMS_TABLE):
        if not wh.table_exists(table):
            raise TwoTowerDataError(
                f"table {table} not found in the warehouse: build the ML models first "
                "(`data-gcp dbt build --select ml`)"
            )

    def read(table: str) -> pd.DataFrame:
        return wh.query(f"select * from {wh.physical(table)}").to_pandas()

    users = read(USERS_TABLE) if wh.table_exists(USERS_TABLE) else pd.DataFrame({"user_id": []})
    item_text = None
    if text_model:
        if not wh.table_exists(TEXT_TABLE):
            raise TwoTowerDataError(f"table {TEXT_TABLE} not found: run `data-gcp ml embed` first")
        model = text_model.replace("'", "''")
        rows = wh.query(
            f"select item_id, vector from {wh.physical(TEXT_TABLE)} where model = '{model}'"
        ).to_pylist()
        item_text = {r["item_id"]: np.asarray(r["vector"], dtype=np.float32) for r in rows}
    return Inputs(clicks=read(CLICKS_TABLE), items=read(ITEMS_TABLE), users=users, item_text=item_text)


@dataclass
class Split:
    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame


def time_split(clicks: pd.DataFrame, validation_share: float = 0.1, test_share: float = 0.1) -> Split:
    """Per-user time split: each user's latest clicks go to test, the ones before to validation.

    Why per user: every evaluated user has a past to learn from, and nothing from a user's future
    leaks into their training. Users with fewer than 3 clicks stay in train only.
    """
    missing = [c for c in CLICK_COLUMNS if c not in clicks.columns]
    if missing:
        raise TwoTowerDataError(f"click frame lacks columns {missing}")
    df = clicks.sort_values(["user_id", "event_timestamp", "item_id"], kind="stable").reset_index(drop=True)
    n = df.groupby("user_id")["item_id"].transform("size").to_numpy()
    pos = df.groupby("user_id").cumcount().to_numpy()
    eligible = n >= 3
    n_test = np.where(eligible, np.maximum(1, np.round(n * test_share)), 0)
    n_val = np.where(eligible, np.maximum(1, np.round(n * validation_share)), 0)
    from_end = n - pos  # 1 for the latest click
    is_test = from_end <= n_test
    is_val = ~is_test & (from_end <= n_test + n_val)
    return Split(
        train=df[~is_test & ~is_val].reset_index(drop=True),
        validation=df[is_val].reset_index(drop=True),
        test=df[is_test].reset_index(drop=True),
    )


def tokenize(text: Any) -> list[str]:
    if not isinstance(text, str):
        return []
    return _TOKEN_RE.findall(text.lower())


@dataclass
class Vocabulary:
    """Values -> indices. 0 is padding/missing, 1..oov_buckets hash unknown values, then known values.

    Why hashed unknown buckets: a new category or department at serving time still gets a learned
    (shared) vector instead of colliding with "missing".
    """

    values: list[str]
    oov_buckets: int = 1
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {v: i + 1 + self.oov_buckets for i, v in enumerate(self.values)}

    @classmethod
    def fit(cls, values: Any, oov_buckets: int = 1, min_count: int = 1, max_size: int | None = None):
        counts = Counter(
            str(v) for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))
        )
        kept = [v for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]
        return cls(kept[:max_size] if max_size else kept, oov_buckets)

    @property
    def size(self) -> int:
        return len(self.values) + 1 + self.oov_buckets

    def lookup(self, value: Any) -> int:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return 0
        s = str(value)
        idx = self._index.get(s)
        if idx is not None:
            return idx
        if self.oov_buckets == 0:
            return 0
        return 1 + zlib.crc32(s.encode()) % self.oov_buckets

    def encode(self, values: Any) -> np.ndarray:
        return np.fromiter((self.lookup(v) for v in values), dtype=np.int64, count=len(values))

    def to_json(self) -> dict[str, Any]:
        return {"values": self.values, "oov_buckets": self.oov_buckets}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vocabulary:
        return cls(list(data["values"]), int(data["oov_buckets"]))


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame), dtype=np.float32)
    return pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("float64").to_numpy()


def _bool(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame), dtype=np.float32)
    return frame[col].fillna(False).astype(bool).to_numpy().astype(np.float32)


@dataclass
class Standardizer:
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardizer:
        return cls(x.mean(axis=0).tolist(), np.maximum(x.std(axis=0), 1e-6).tolist())

    def apply(self, x: np.ndarray) -> np.ndarray:
        return ((x - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)


@dataclass
class EncodedUsers:
    ids: list[str]
    categorical: np.ndarray  # [n, 1 + len(USER_CATEGORICAL)] (id first)
    numeric: np.ndarray  # [n, n_user_numeric]


@dataclass
class EncodedItems:
    ids: list[str]
    categorical: np.ndarray  # [n, 1 + len(ITEM_CATEGORICAL)] (id first)
    tokens: np.ndarray  # [n, MAX_TOKENS], 0 = padding
    numeric: np.ndarray  # [n, n_item_numeric]
    text: np.ndarray | None = None  # [n, text_dim] text embeddings (zeros where unknown)


def user_frame(users: pd.DataFrame, clicks: pd.DataFrame) -> pd.DataFrame:
    """One row per user: the user-feature table, completed from the click rows for users it lacks."""
    from_clicks = (
        clicks.sort_values("event_timestamp")
        .groupby("user_id", as_index=False)
        .last()
        .rename(columns={"user_deposit_remaining_credit": "remaining_credit"})
    )
    cols = ["user_id", "user_age", "user_department_code", "remaining_credit"]
    from_clicks = from_clicks[[c for c in cols if c in from_clicks.columns]]
    base = users.copy() if len(users) else pd.DataFrame({"user_id": pd.Series([], dtype=object)})
    base["user_id"] = base["user_id"].astype(str)
    from_clicks["user_id"] = from_clicks["user_id"].astype(str)
    extra = from_clicks[~from_clicks["user_id"].isin(set(base["user_id"]))]
    return pd.concat([base, extra], ignore_index=True).drop_duplicates("user_id", keep="first")


def item_frame(items: pd.DataFrame, clicks: pd.DataFrame) -> pd.DataFrame:
    """One row per item: the recommendable items, plus clicked items no longer recommendable."""
    from_clicks = clicks.sort_values("event_timestamp").groupby("item_id", as_index=False).last()
    cols = ["item_id", "offer_id", "category_id", "subcategory_id", "offer_name", "price"]
    from_clicks = from_clicks[[c for c in cols if c in from_clicks.columns]]
    base = items.copy()
    base["item_id"] = base["item_id"].astype(str)
    from_clicks["item_id"] = from_clicks["item_id"].astype(str)
    extra = from_clicks[~from_clicks["item_id"].isin(set(base["item_id"]))]
    return pd.concat([base, extra], ignore_index=True).drop_duplicates("item_id", keep="first")


@dataclass
class FeatureSpace:
    """Vocabularies and scalings fitted on the training split; saved with the model."""

    user_ids: Vocabulary
    item_ids: Vocabulary
    user_cats: dict[str, Vocabulary]
    item_cats: dict[str, Vocabulary]
    tokens: Vocabulary
    user_scaler: Standardizer
    item_scaler: Standardizer
    item_train_counts: dict[str, float]
    history: int = HISTORY  # length of the consulted-items bag of the user tower (0: none)
    text_dim: int = 0  # size of the items' text embedding fed to the item tower (0: none)

    @classmethod
    def fit(
        cls, train: pd.DataFrame, users: pd.DataFrame, items: pd.DataFrame, history: int = HISTORY
    ) -> FeatureSpace:
        counts = train["item_id"].astype(str).value_counts()
        space = cls(
            user_ids=Vocabulary.fit(train["user_id"].astype(str), oov_buckets=1),
            item_ids=Vocabulary.fit(items["item_id"].astype(str), oov_buckets=1),
            user_cats={
                c: Vocabulary.fit(users.get(c, pd.Series([], dtype=object)), 4) for c in USER_CATEGORICAL
            },
            item_cats={
                c: Vocabulary.fit(items.get(c, pd.Series([], dtype=object)), 4) for c in ITEM_CATEGORICAL
            },
            tokens=Vocabulary.fit(
                (t for name in items.get("offer_name", []) for t in tokenize(name)),
                oov_buckets=0,
                min_count=2,
                max_size=20_000,
            ),
            user_scaler=Standardizer([0.0], [1.0]),
            item_scaler=Standardizer([0.0], [1.0]),
            item_train_counts={str(k): float(v) for k, v in counts.items()},
            history=history,
        )
        space.user_scaler = Standardizer.fit(space._user_numeric(users))
        space.item_scaler = Standardizer.fit(space._item_numeric(items))
        return space

    @staticmethod
    def _user_numeric(users: pd.DataFrame) -> np.ndarray:
        age = _num(users, "user_age")
        credit = np.log1p(np.clip(_num(users, "remaining_credit"), 0, None))
        return np.stack([age, credit, (age == 0).astype(float)], axis=1)

    def _item_numeric(self, items: pd.DataFrame) -> np.ndarray:
        ids = items["item_id"].astype(str)
        train_count = np.log1p(ids.map(self.item_train_counts).fillna(0).astype(float).to_numpy())
        return np.stack(
            [
                np.log1p(np.clip(_num(items, "price"), 0, None)),
                train_count,
                _bool(items, "is_digital"),
                _bool(items, "is_event"),
                _bool(items, "is_underage_recommendable"),
            ],
            axis=1,
        )

    def encode_users(self, users: pd.DataFrame) -> EncodedUsers:
        cats = [self.user_ids.encode(users["user_id"].astype(str).tolist())]
        for c in USER_CATEGORICAL:
            values = users[c].tolist() if c in users.columns else [None] * len(users)
            cats.append(self.user_cats[c].encode(values))
        return EncodedUsers(
            ids=users["user_id"].astype(str).tolist(),
            categorical=np.stack(cats, axis=1),
            numeric=self.user_scaler.apply(self._user_numeric(users)),
        )

    def encode_items(self, items: pd.DataFrame) -> EncodedItems:
        cats = [self.item_ids.encode(items["item_id"].astype(str).tolist())]
        for c in ITEM_CATEGORICAL:
            values = items[c].tolist() if c in items.columns else [None] * len(items)
            cats.append(self.item_cats[c].encode(values))
        tokens = np.zeros((len(items), MAX_TOKENS), dtype=np.int64)
        names = items["offer_name"].tolist() if "offer_name" in items.columns else [None] * len(items)
        for row, name in enumerate(names):
            ids = [i for i in (self.tokens.lookup(t) for t in tokenize(name)) if i][:MAX_TOKENS]
            tokens[row, : len(ids)] = ids
        return EncodedItems(
            ids=items["item_id"].astype(str).tolist(),
            categorical=np.stack(cats, axis=1),
            tokens=tokens,
            numeric=self.item_scaler.apply(self._item_numeric(items)),
        )

    def cardinalities(self) -> dict[str, Any]:
        return {
            "user": [self.user_ids.size, *(self.user_cats[c].size for c in USER_CATEGORICAL)],
            "item": [self.item_ids.size, *(self.item_cats[c].size for c in ITEM_CATEGORICAL)],
            "tokens": self.tokens.size,
            "user_numeric": len(self.user_scaler.mean),
            "item_numeric": len(self.item_scaler.mean),
            "history": self.history,
            "text_dim": self.text_dim,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "user_ids": self.user_ids.to_json(),
            "item_ids": self.item_ids.to_json(),
            "user_cats": {k: v.to_json() for k, v in self.user_cats.items()},
            "item_cats": {k: v.to_json() for k, v in self.item_cats.items()},
            "tokens": self.tokens.to_json(),
            "user_scaler": [self.user_scaler.mean, self.user_scaler.std],
            "item_scaler": [self.item_scaler.mean, self.item_scaler.std],
            "item_train_counts": self.item_train_counts,
            "history": self.history,
            "text_dim": self.text_dim,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpace:
        return cls(
            user_ids=Vocabulary.from_json(data["user_ids"]),
            item_ids=Vocabulary.from_json(data["item_ids"]),
            user_cats={k: Vocabulary.from_json(v) for k, v in data["user_cats"].items()},
            item_cats={k: Vocabulary.from_json(v) for k, v in data["item_cats"].items()},
            tokens=Vocabulary.from_json(data["tokens"]),
            user_scaler=Standardizer(*data["user_scaler"]),
            item_scaler=Standardizer(*data["item_scaler"]),
            item_train_counts={k: float(v) for k, v in data["item_train_counts"].items()},
            history=int(data.get("history", 0)),
            text_dim=int(data.get("text_dim", 0)),
        )


def click_histories(clicks: pd.DataFrame, item_vocab: Vocabulary, length: int = HISTORY) -> np.ndarray:
    """For each click (in the frame's order), the item indices of the same user's `length` previous clicks.

    Why previous only: the clicked item must not be in its own example's history, or the model learns
    to copy the history instead of generalising from it. 0 pads.
    """
    order = np.lexsort((clicks["event_timestamp"].to_numpy(), clicks["user_id"].astype(str).to_numpy()))
    df = clicks.iloc[order]
    idx = pd.Series(item_vocab.encode(df["item_id"].astype(str).tolist()), index=df.index)
    users = df["user_id"].astype(str)
    out = np.zeros((len(df), length), dtype=np.int64)
    for j in range(1, length + 1):
        out[:, j - 1] = idx.groupby(users.to_numpy()).shift(j).fillna(0).astype(np.int64).to_numpy()
    result = np.zeros_like(out)
    result[order] = out
    return result


def user_histories(
    clicks: pd.DataFrame, user_ids: list[str], item_vocab: Vocabulary, length: int = HISTORY
) -> np.ndarray:
    """Each user's `length` latest clicked items (most recent first), as item indices; 0 pads."""
    out = np.zeros((len(user_ids), length), dtype=np.int64)
    if clicks.empty:
        return out
    pos = {u: i for i, u in enumerate(user_ids)}
    df = clicks.sort_values("event_timestamp", ascending=False)
    df = df.assign(_u=df["user_id"].astype(str), _i=item_vocab.encode(df["item_id"].astype(str).tolist()))
    df = df[df["_u"].isin(pos)]
    df = df.assign(_r=df.groupby("_u").cumcount())
    df = df[df["_r"] < length]
    out[df["_u"].map(pos).to_numpy(), df["_r"].to_numpy()] = df["_i"].to_numpy()
    return out
