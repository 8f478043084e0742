"""Request and response models of the retrieval service (the reference contract, strictly typed).

Strict: `size` is a JSON integer, `debug` a JSON boolean (no "10", no 0/"yes"); `params` is described
field by field (see `data_gcp.retrieval.params_json_schema`), so the OpenAPI document says exactly what
is accepted. The reference service's extra fields are accepted: `offer_id` (one offer for
similar_offer), `prefilter`, `re_rank` and `vector_column_name` (ignored: filters are always pushed
into the search, there is no re-rank step and one vector column; a debug note says so).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from data_gcp.retrieval import MAX_STRING, ModelType, params_json_schema

MAX_SIZE = 1000
MAX_ITEMS = 1000

PARAMS_SCHEMA, PARAMS_DEFINITIONS = params_json_schema()

Id = Annotated[str, Field(max_length=MAX_STRING, pattern=r"^[^\x00]*$")]
# the reference's flags: a JSON boolean or 1 / 0
Flag = Annotated[bool, Field(strict=True)] | Literal[0, 1]


class Instance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_type: ModelType = Field(ModelType.recommendation, description="what to retrieve")
    user_id: str | None = Field(None, max_length=100, description="for recommendation")
    items: list[Id] | None = Field(
        None, max_length=MAX_ITEMS, description="offer ids (or item ids) for similar_offer"
    )
    offer_id: Id | None = Field(None, description="reference alias: one offer for similar_offer")
    excluded_items: list[Id] | None = Field(
        None, max_length=MAX_ITEMS, description="offer or item ids to drop"
    )
    size: int = Field(500, ge=1, le=MAX_SIZE, strict=True, description="how many items to return")
    params: Annotated[dict[str, Any] | None, WithJsonSchema(PARAMS_SCHEMA)] = None
    call_id: str | None = Field(None, max_length=200)
    debug: bool = Field(False, strict=True, description="add distances, item metadata and notes")
    prefilter: Flag | None = Field(
        None, description="reference field, ignored: filters are always pushed down"
    )
    re_rank: Flag | None = Field(None, description="reference field, ignored: ranking is the next service")
    vector_column_name: Id | None = Field(None, description="reference field, ignored: one vector column")

    def notes(self) -> list[str]:
        """What the reference fields did here (returned with `debug`)."""
        notes = []
        if self.offer_id is not None:
            notes.append(
                "offer_id: used as an item of similar_offer"
                if self.model_type is ModelType.similar_offer
                else "offer_id: ignored outside similar_offer"
            )
        if self.prefilter is not None:
            notes.append("prefilter: ignored, filters are always applied inside the vector search")
        if self.re_rank is not None:
            notes.append("re_rank: ignored, ranking is done by the ranking service")
        if self.vector_column_name is not None:
            notes.append("vector_column_name: ignored, the index has one vector column")
        return notes


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

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
    notes: list[str] | None = Field(None, description="with debug: how the reference fields were handled")


class CatalogFreshness(BaseModel):
    source: str
    date: str | None = None
    age_hours: float | None = None
    max_age_hours: float | None = None


class HealthResponse(BaseModel):
    status: str
    model_version: str | None = None
    items: int = 0
    indexed_items: int = 0
    users: int = 0
    catalog: CatalogFreshness | None = None
    problems: list[str] = []


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(BaseModel):
    """422: each wrong field with where it is (`loc`) and what is wrong (`msg`)."""

    detail: list[FieldProblem]
