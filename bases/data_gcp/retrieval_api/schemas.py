"""Request and response models of the retrieval service (close to the reference contract)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from data_gcp.retrieval import ModelType

MAX_SIZE = 1000
MAX_ITEMS = 1000


class Instance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_type: ModelType = Field(ModelType.recommendation, description="what to retrieve")
    user_id: str | None = Field(None, max_length=100, description="for recommendation")
    items: list[str] | None = Field(
        None, max_length=MAX_ITEMS, description="offer ids (or item ids) for similar_offer"
    )
    excluded_items: list[str] | None = Field(
        None, max_length=MAX_ITEMS, description="offer or item ids to drop"
    )
    size: int = Field(500, ge=1, le=MAX_SIZE, description="how many items to return")
    params: dict[str, Any] | None = Field(
        None,
        description="filters on item columns with $eq $ne $lt $gt $lte $gte $in $nin $and $or, "
        'e.g. {"category_id": {"$in": ["LIVRE"]}, "price": {"$lte": 20}}',
    )
    call_id: str | None = Field(None, max_length=200)
    debug: bool = Field(False, description="add distances and item metadata")


class PredictRequest(BaseModel):
    instances: list[Instance] = Field(..., min_length=1, max_length=1, description="exactly one instance")


class Prediction(BaseModel):
    model_config = ConfigDict(extra="allow")

    idx: int
    item_id: str
    offer_id: str | None = None


class PredictResponse(BaseModel):
    predictions: list[Prediction]
    model_type: str
    fallback: str | None = None
    model_version: str | None = None
    call_id: str | None = None


class HealthResponse(BaseModel):
    status: str
    model_version: str | None = None
    items: int = 0
    indexed_items: int = 0
    users: int = 0
    problems: list[str] = []
