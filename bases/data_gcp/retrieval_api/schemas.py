"""Request and response models of the retrieval service (the reference contract, strictly typed).

Strict: `size` is a JSON integer, `debug` a JSON boolean (no "10", no 0/"yes"); `params` is described
field by field (see `data_gcp.retrieval.params_json_schema`), so the OpenAPI document says exactly what
is accepted. The reference service's extra fields are accepted: `offer_id` (one offer for
similar_offer), `prefilter`, `re_rank` and `vector_column_name` (ignored: filters are always pushed
into the search, there is no re-rank step and one vector column; a debug note says so).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from data_gcp.retrieval import MAX_STRING, ModelType, params_json_schema

MAX_SIZE = 1000
MAX_ITEMS = 1000

PARAMS_SCHEMA, PARAMS_DEFINITIONS = params_json_schema()
# pydantic cannot follow a reference it did not generate: `params` is a placeholder replaced by
# PARAMS_SCHEMA in the OpenAPI document (see `request_schemas`)
_PARAMS_PLACEHOLDER = {"x-data-gcp": "params"}

Id = Annotated[str, Field(max_length=MAX_STRING, pattern=r"^[^\x00]*$")]


def _json_integer(value: Any) -> int:
    """A JSON integer as JSON Schema defines it (10 or 10.0), never a string, a boolean or a fraction."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a JSON integer is required")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("a JSON integer is required, not a fraction")
    return int(value)


def _json_flag(value: Any) -> bool:
    """The reference's flags: a JSON boolean, or 1 / 0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise ValueError("a JSON boolean (or 1 / 0) is required")


Size = Annotated[
    int,
    BeforeValidator(_json_integer),
    Field(ge=1, le=MAX_SIZE),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_SIZE}),
]
Flag = Annotated[
    bool,
    BeforeValidator(_json_flag),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]}),
]


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
    size: Size = Field(500, description="how many items to return")
    params: Annotated[dict[str, Any] | None, WithJsonSchema(_PARAMS_PLACEHOLDER)] = None
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
    text_indexed_items: int = 0
    catalog: CatalogFreshness | None = None
    error_rate: float = 0.0  # share of the last answers that fell back to tops after a failed search
    fallbacks: dict[str, int] = {}  # answers that fell back to tops since load, by reason
    problems: list[str] = []


def request_schemas() -> dict[str, Any]:
    """`PredictRequest` and every schema it refers to, as OpenAPI components (the route parses the body
    itself, so FastAPI does not register them)."""
    schema = PredictRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    nested = schema.pop("$defs", {})

    def fill(node: Any) -> Any:
        if isinstance(node, dict) and node.get("x-data-gcp") == "params":
            return {**PARAMS_SCHEMA, "default": None}
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        return node

    return fill({**nested, **PARAMS_DEFINITIONS, "PredictRequest": schema})
