"""The HTTP contract of the ranking service (close to the reference: `instances` in, `predictions` out).

Request fields are generated from the ranker's declared feature list, so the OpenAPI document names
every feature a caller may send; unknown fields are refused (a typo would otherwise silently become a
missing feature), numeric features are numbers or null (null = missing), categorical ones strings,
integers or null (null or an unseen value = the model's unknown bucket).
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, Required

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from data_gcp.ranking import BOOLEAN_FEATURES, CATEGORICAL_FEATURES, DERIVED_FEATURES, RAW_NUMERIC_FEATURES

MAX_INSTANCES = 5000

_row_fields: dict[str, Any] = {
    "offer_id": Required[
        Annotated[str, Field(min_length=1, max_length=200, description="the candidate offer")]
    ],
}
# Strict numbers: a string "12" or a boolean where a number is expected is a caller's bug, refused.
_Number = Annotated[float, Field(strict=True)]
# Strict flags: a JSON boolean (or a number, as 1/0); "0" or "yes" are refused, not read as booleans.
_Flag = Annotated[bool, Field(strict=True)]
for _name in RAW_NUMERIC_FEATURES:
    if _name in BOOLEAN_FEATURES:
        _row_fields[_name] = NotRequired[
            Annotated[_Flag | _Number | None, Field(description="flag: true/false or 1/0; null = missing")]
        ]
    else:
        _row_fields[_name] = NotRequired[
            Annotated[_Number | None, Field(description="numeric feature; null = missing")]
        ]
for _name in CATEGORICAL_FEATURES:
    _row_fields[_name] = NotRequired[
        Annotated[
            Annotated[str, Field(max_length=200)] | Annotated[int, Field(strict=True)] | None,
            Field(description="categorical feature; null or unseen = unknown"),
        ]
    ]

# A TypedDict rather than a model: validated rows stay plain dicts, which is what the encoder reads,
# and validating 500 of them is about a quarter cheaper than building 500 model instances.
OfferFeatures = TypedDict("OfferFeatures", _row_fields, total=False)  # type: ignore[misc]
OfferFeatures.__doc__ = (
    "One candidate: its offer id and its features (user and context features repeated per row)."
)
OfferFeatures.__pydantic_config__ = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[attr-defined]
# What a served model may use: the fields above plus the ratios derived from them server-side.
DECLARED_FEATURES = frozenset([*RAW_NUMERIC_FEATURES, *DERIVED_FEATURES, *CATEGORICAL_FEATURES])


class PredictRequest(BaseModel):
    """Candidates to score for one call."""

    model_config = ConfigDict(extra="forbid")

    instances: list[OfferFeatures] = Field(  # type: ignore[valid-type]
        max_length=MAX_INSTANCES, description=f"candidate rows, at most {MAX_INSTANCES}"
    )
    call_id: str | None = Field(default=None, max_length=200, description="echoed in logs")


class Prediction(BaseModel):
    offer_id: str
    score: float = Field(description="P(consulted) + P(booked)")


class PredictResponse(BaseModel):
    """Candidates sorted by score, best first."""

    predictions: list[Prediction]
    model_version: str


class Health(BaseModel):
    status: str
    model_version: str | None = None
    detail: str | None = None


class Problem(BaseModel):
    """A request that could not be read at all (e.g. a body that is not UTF-8)."""

    detail: str


def request_schemas() -> dict[str, Any]:
    """`PredictRequest` and the schemas it refers to, as OpenAPI components (the route parses the body
    itself, so FastAPI does not register them)."""
    schema = PredictRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})
    return {**nested, "PredictRequest": schema}
