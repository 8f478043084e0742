from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data_gcp.two_tower import FeatureSpace, TwoTowerDataError, Vocabulary, time_split
from data_gcp.two_tower.data import item_frame, tokenize, user_frame


def clicks_of(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    t0 = dt.datetime(2026, 1, 1)
    return pd.DataFrame(
        [(u, i, t0 + dt.timedelta(hours=h)) for u, i, h in rows],
        columns=["user_id", "item_id", "event_timestamp"],
    )


def test_time_split_puts_each_users_latest_clicks_in_test() -> None:
    rows = [("u1", f"i{h}", h) for h in range(10)] + [("u2", "a", 1), ("u2", "b", 2)]
    split = time_split(clicks_of(rows))
    assert split.test["item_id"].tolist() == ["i9"]
    assert split.validation["item_id"].tolist() == ["i8"]
    assert set(split.train["item_id"]) == {f"i{h}" for h in range(8)} | {"a", "b"}  # u2 too short: train only
    latest_train = split.train[split.train.user_id == "u1"]["event_timestamp"].max()
    assert latest_train < split.validation["event_timestamp"].min() < split.test["event_timestamp"].min()


def test_time_split_needs_the_columns() -> None:
    with pytest.raises(TwoTowerDataError, match="lacks columns"):
        time_split(pd.DataFrame({"user_id": ["u"]}))


def test_vocabulary_reserves_padding_and_hashes_unknowns() -> None:
    vocab = Vocabulary.fit(["b", "a", "a", None], oov_buckets=3)
    assert vocab.values == ["a", "b"]  # most frequent first
    assert vocab.lookup(None) == 0
    assert vocab.lookup("a") == 4 and vocab.lookup("b") == 5
    unknown = vocab.lookup("zzz")
    assert 1 <= unknown <= 3 and vocab.lookup("zzz") == unknown  # stable
    assert vocab.size == 6
    assert Vocabulary.from_json(vocab.to_json()).lookup("b") == 5


def test_feature_space_encodes_and_round_trips() -> None:
    clicks = clicks_of([("u1", "i1", 1), ("u1", "i2", 2), ("u2", "i1", 3)])
    clicks["user_age"] = [17, 17, 18]
    clicks["offer_name"] = ["Le Petit Prince", "Jazz à Juan", "Le Petit Prince"]
    users = user_frame(
        pd.DataFrame({"user_id": ["u1"], "user_age": [17], "deposit_type": ["GRANT_18"]}), clicks
    )
    items = item_frame(
        pd.DataFrame({"item_id": ["i3"], "offer_name": ["Petit jazz"], "price": [5.0]}), clicks
    )
    assert set(users["user_id"]) == {"u1", "u2"} and set(items["item_id"]) == {"i1", "i2", "i3"}
    space = FeatureSpace.fit(clicks, users, items)
    enc = space.encode_items(items)
    assert enc.tokens.shape[1] == 16 and enc.tokens[enc.ids.index("i1")].any()
    assert np.isfinite(enc.numeric).all()
    again = FeatureSpace.from_json(space.to_json()).encode_items(items)
    np.testing.assert_array_equal(again.categorical, enc.categorical)
    np.testing.assert_allclose(again.numeric, enc.numeric)
    assert tokenize("Jazz à Juan-les-Pins!") == ["jazz", "juan", "les", "pins"]
