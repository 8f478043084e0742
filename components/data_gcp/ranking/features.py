"""The ranker's declared features and how a batch of rows becomes LightGBM's input matrix.

Why a declared list: the training table, the saved model and the service's request body must agree on
names and order. The list lives here once; the spec saved next to the model (with the categorical
vocabularies learnt at training time) is what serving reads, so a model never sees columns in a
different order or codes from a different vocabulary.

Encoding: numeric features are float64 (missing -> NaN, which LightGBM routes natively); each
categorical feature is coded with a fixed vocabulary where code 0 is the "unknown" bucket. Values seen
fewer than `min_category_count` times at training time, values never seen and missing values all land
in that bucket, so the trees learn what to do with it instead of meeting a code they never split on.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from data_gcp.config import DataGcpError

UNKNOWN = "__unknown__"
LABELS = ("seen", "consulted", "booked")

# Columns of `ml.ml_reco__ranking_training` that are not features.
ID_COLUMN = "offer_id"
GROUP_COLUMN = "call_id"
TIME_COLUMN = "displayed_at"
LABEL_COLUMN = "label"
POSITION_COLUMN = "position"

# Numeric columns of `ml.ml_reco__ranking_training` (user, item, display context); booleans count as 0/1.
RAW_NUMERIC_FEATURES: tuple[str, ...] = (
    "user_age",
    "user_remaining_credit",
    "user_booking_count",
    "user_consult_count",
    "price",
    "is_digital",
    "is_event",
    "is_underage_recommendable",
    "offer_booking_count",
    "offer_favorite_count",
    "offer_age_days",
    "display_hour",
    "display_day_of_week",
    "is_user_favorite_category",
)

# The 0/1 flags among them (BOOL in the warehouse; callers may send true/false).
BOOLEAN_FEATURES: tuple[str, ...] = tuple(n for n in RAW_NUMERIC_FEATURES if n.startswith("is_"))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / den


# Ratios the trees cannot build from splits on single columns; computed from the raw columns of the
# encoded matrix, so training and serving derive them identically (callers never send them).
DERIVED_FEATURES: dict[str, tuple[tuple[str, str], Any]] = {
    "price_to_credit_ratio": (("price", "user_remaining_credit"), lambda p, c: _ratio(p, np.maximum(c, 1.0))),
    "offer_bookings_per_day": (
        ("offer_booking_count", "offer_age_days"),
        lambda b, a: _ratio(b, np.maximum(a, 0.0) + 1.0),
    ),
    "offer_favorites_per_booking": (
        ("offer_favorite_count", "offer_booking_count"),
        lambda f, b: _ratio(f, b + 1.0),
    ),
    "user_bookings_per_consult": (
        ("user_booking_count", "user_consult_count"),
        lambda b, c: _ratio(b, c + 1.0),
    ),
}
NUMERIC_FEATURES: tuple[str, ...] = (*RAW_NUMERIC_FEATURES, *DERIVED_FEATURES)
CATEGORICAL_FEATURES: tuple[str, ...] = ("category_id", "context")


class FeatureError(DataGcpError):
    """Rows or a table do not match the ranker's feature spec; the message names the columns."""


@dataclass(frozen=True)
class FeatureSpec:
    """Feature names in model order, plus each categorical feature's vocabulary (code 0 = unknown)."""

    numeric: tuple[str, ...] = NUMERIC_FEATURES
    categorical: tuple[str, ...] = CATEGORICAL_FEATURES
    vocabularies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """Column order of the model's matrix: numeric features first, then categorical ones."""
        return [*self.numeric, *self.categorical]

    @property
    def categorical_indices(self) -> list[int]:
        return list(range(len(self.numeric), len(self.numeric) + len(self.categorical)))

    def codes(self, name: str) -> dict[str, int]:
        """Value -> code for one categorical feature (0 is the unknown bucket, not listed)."""
        return {v: i + 1 for i, v in enumerate(self.vocabularies.get(name, ()))}

    # --- fitting -----------------------------------------------------------------------------
    def fit(self, table: pa.Table | Mapping[str, Sequence[Any]], min_category_count: int = 5) -> FeatureSpec:
        """A spec with vocabularies learnt from training data: values seen at least `min_category_count`
        times, sorted so that the same data always gives the same codes."""
        columns = _columns(table)
        self.check_columns(columns.keys(), where="training data")
        vocab: dict[str, tuple[str, ...]] = {}
        for name in self.categorical:
            counts = Counter(_as_key(v) for v in _pylist(columns[name]))
            counts.pop(None, None)
            vocab[name] = tuple(sorted(v for v, c in counts.items() if c >= max(1, min_category_count)))
        return FeatureSpec(self.numeric, self.categorical, vocab)

    @property
    def input_names(self) -> list[str]:
        """Columns a caller provides (the model's features less the derived ones)."""
        return [n for n in self.names if n not in DERIVED_FEATURES]

    def check_columns(self, available: Iterable[str], where: str) -> None:
        missing = [n for n in self.input_names if n not in set(available)]
        if missing:
            raise FeatureError(
                f"{where} lacks the ranker feature column(s) {', '.join(missing)}: "
                "rebuild the dbt model ml_reco__ranking_training or update data_gcp.ranking.features"
            )

    # --- encoding ----------------------------------------------------------------------------
    def matrix(self, table: pa.Table | Mapping[str, Sequence[Any]]) -> np.ndarray:
        """Encode columnar data (Arrow table or dict of columns) as one float64 matrix in model order."""
        columns = _columns(table)
        self.check_columns(columns.keys(), where="input")
        n = len(columns[self.input_names[0]]) if self.input_names else 0
        out = np.empty((n, len(self.names)), dtype=np.float64)
        for j, name in enumerate(self.numeric):
            if name not in DERIVED_FEATURES:
                out[:, j] = _numeric(columns[name], name)
        self._derive(out)
        for j, name in zip(self.categorical_indices, self.categorical, strict=True):
            codes = self.codes(name)
            out[:, j] = [codes.get(_as_key(v), 0) for v in _pylist(columns[name])]
        return out

    def matrix_from_rows(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode row dicts (the service's request) as the model matrix; absent keys count as missing.

        Built column-block by column-block with numpy (None -> NaN in the float conversion), because
        this runs on every request: 500 rows must encode in well under a millisecond."""
        out = np.empty((len(rows), len(self.names)), dtype=np.float64)
        num_idx = [j for j, name in enumerate(self.numeric) if name not in DERIVED_FEATURES]
        num_names = [self.numeric[j] for j in num_idx]
        try:
            values = np.array([[row.get(n) for n in num_names] for row in rows], dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as exc:
            raise FeatureError(f"a numeric feature is not a number: {exc}") from None
        out[:, num_idx] = values.reshape(len(rows), len(num_names))
        for j, name in zip(self.categorical_indices, self.categorical, strict=True):
            codes = self.codes(name)
            out[:, j] = [codes.get(_as_key(row.get(name)), 0) for row in rows]
        self._derive(out)
        return out

    def _derive(self, out: np.ndarray) -> None:
        index = {name: j for j, name in enumerate(self.names)}
        for name, (inputs, fn) in DERIVED_FEATURES.items():
            if name in index:
                if any(i not in index for i in inputs):
                    raise FeatureError(f"derived feature {name!r} needs {', '.join(inputs)} in the spec")
                out[:, index[name]] = fn(*(out[:, index[i]] for i in inputs))

    # --- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "vocabularies": {k: list(v) for k, v in self.vocabularies.items()},
            "unknown_code": 0,
        }

    @classmethod
    def from_dict(cls, data: Any) -> FeatureSpec:
        """The spec a model was trained with; anything but the documented shape (an object with lists
        of names `numeric`, `categorical`, and `vocabularies`: name -> list of values) is refused."""

        def names(key: str) -> tuple[str, ...]:
            value = data.get(key)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise FeatureError(f"invalid ranker feature spec: {key!r} must be a list of names")
            return tuple(value)

        if not isinstance(data, Mapping):
            raise FeatureError(
                f"invalid ranker feature spec: expected an object with numeric, categorical and "
                f"vocabularies, got {type(data).__name__}"
            )
        numeric, categorical = names("numeric"), names("categorical")
        vocabularies = data.get("vocabularies", {})
        if not isinstance(vocabularies, Mapping):
            raise FeatureError("invalid ranker feature spec: 'vocabularies' must be an object")
        vocab: dict[str, tuple[str, ...]] = {}
        for name, values in vocabularies.items():
            if name not in categorical:
                raise FeatureError(
                    f"invalid ranker feature spec: vocabulary of {name!r}, not a categorical feature"
                )
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise FeatureError(
                    f"invalid ranker feature spec: the vocabulary of {name!r} must be a list of strings"
                )
            vocab[name] = tuple(values)
        return cls(numeric=numeric, categorical=categorical, vocabularies=vocab)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FeatureSpec:
        return cls.from_dict(json.loads(text))


def _columns(table: pa.Table | Mapping[str, Sequence[Any]]) -> Mapping[str, Sequence[Any]]:
    if isinstance(table, pa.Table):
        return {name: table.column(name) for name in table.column_names}
    if hasattr(table, "columns") and hasattr(table, "__getitem__") and not isinstance(table, Mapping):
        return {name: table[name] for name in table.columns}  # a pandas DataFrame
    return table


def _pylist(values: Any) -> list[Any]:
    if isinstance(values, pa.ChunkedArray | pa.Array):
        return values.to_pylist()
    return list(values)


def _numeric(values: Any, name: str) -> np.ndarray:
    """A column as float64 with nulls as NaN (Arrow nulls, None, pandas NA alike)."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        try:
            return values.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise FeatureError(f"feature {name!r} is not numeric ({values.type}): {exc}") from None
    try:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FeatureError(f"feature {name!r} is not numeric: {exc}") from None


def _as_key(value: Any) -> str | None:
    """Categorical values are compared as strings (ids arrive as ints from SQL, as strings over HTTP)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
