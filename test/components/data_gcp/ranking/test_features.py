import math

import numpy as np
import pyarrow as pa
import pytest

from data_gcp.ranking import (
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
    RAW_NUMERIC_FEATURES,
    FeatureError,
    FeatureSpec,
)


def _table(categories: list[str | None], contexts: list[str | None], n_numeric_missing: int = 0) -> pa.Table:
    n = len(categories)
    data = {name: pa.array([float(i) for i in range(n)]) for name in RAW_NUMERIC_FEATURES}
    data[RAW_NUMERIC_FEATURES[0]] = pa.array(
        [None] * n_numeric_missing + [1.5] * (n - n_numeric_missing), pa.float64()
    )
    data["category_id"] = pa.array(categories)
    data["context"] = pa.array(contexts)
    return pa.table(data)


def test_vocabulary_keeps_frequent_values_and_unknown_is_code_zero() -> None:
    table = _table(["LIVRE"] * 3 + ["CINEMA"] * 2 + ["JEU"], ["home"] * 6)
    spec = FeatureSpec().fit(table, min_category_count=2)
    assert spec.vocabularies["category_id"] == ("CINEMA", "LIVRE")  # JEU is too rare
    codes = spec.codes("category_id")
    matrix = spec.matrix(table)
    col = spec.names.index("category_id")
    assert list(matrix[:, col]) == [codes["LIVRE"]] * 3 + [codes["CINEMA"]] * 2 + [0]
    assert 0 not in codes.values()


def test_unseen_missing_and_numeric_ids_map_consistently() -> None:
    spec = FeatureSpec().fit(
        _table(["12", "12", "7", "7"], ["home", "home", None, None]), min_category_count=1
    )
    rows = [
        {"category_id": 12, "context": "home"},  # an int id from JSON matches the SQL string
        {"category_id": "999", "context": "nowhere"},  # never seen
        {"category_id": None},  # missing
    ]
    m = spec.matrix_from_rows(rows)
    cat, ctx = spec.names.index("category_id"), spec.names.index("context")
    assert m[0, cat] == spec.codes("category_id")["12"] and m[0, ctx] == spec.codes("context")["home"]
    assert m[1, cat] == 0 and m[1, ctx] == 0
    assert m[2, cat] == 0 and m[2, ctx] == 0
    assert all(math.isnan(v) for v in m[2, : len(NUMERIC_FEATURES)])  # absent numeric -> NaN


def test_rows_and_columns_encode_identically() -> None:
    table = _table(["LIVRE", "CINEMA", None], ["home", "search", "home"], n_numeric_missing=1)
    spec = FeatureSpec().fit(table, min_category_count=1)
    from_columns = spec.matrix(table)
    from_rows = spec.matrix_from_rows(table.to_pylist())
    np.testing.assert_array_equal(from_columns, from_rows)
    assert math.isnan(from_columns[0, 0])
    assert spec.names == [*NUMERIC_FEATURES, *CATEGORICAL_FEATURES]


def test_spec_round_trips_through_json() -> None:
    spec = FeatureSpec().fit(_table(["A", "B"], ["x", "y"]), min_category_count=1)
    again = FeatureSpec.from_json(spec.to_json())
    assert again == spec
    assert again.codes("context") == {"x": 1, "y": 2}


def test_missing_columns_are_named() -> None:
    table = _table(["A"], ["x"]).drop(["user_age", "context"])
    with pytest.raises(FeatureError, match="user_age, context"):
        FeatureSpec().fit(table)


def test_derived_ratios_are_computed_from_the_raw_columns() -> None:
    spec = FeatureSpec().fit(_table(["A"], ["x"]), min_category_count=1)
    row = {"price": 30.0, "user_remaining_credit": 150.0, "offer_booking_count": 10, "offer_age_days": 4}
    m = spec.matrix_from_rows([row, {"price": 5.0, "user_remaining_credit": 0.0}, {"price": 5.0}])
    ratio, per_day = spec.names.index("price_to_credit_ratio"), spec.names.index("offer_bookings_per_day")
    assert m[0, ratio] == pytest.approx(0.2) and m[0, per_day] == pytest.approx(2.0)
    assert m[1, ratio] == pytest.approx(5.0)  # no credit left: divided by 1, not 0
    assert math.isnan(m[2, ratio])  # unknown credit stays unknown
    # A spec with a ratio but without its inputs is refused rather than silently zero.
    with pytest.raises(FeatureError, match="price_to_credit_ratio"):
        FeatureSpec(numeric=("price_to_credit_ratio",), categorical=()).matrix_from_rows([{}])
