"""Candidate retrieval: a LanceDB item index with pushed-down filters, tops, similar offers, fallbacks."""

from data_gcp.retrieval.filters import (
    FILTER_COLUMNS,
    OPERATORS,
    FilterError,
    conjoin,
    exclude_items,
    parse_filters,
    to_arrow,
    to_sql,
)
from data_gcp.retrieval.index import IndexParams, ItemIndex, normalise_catalog
from data_gcp.retrieval.service import (
    Answer,
    ModelType,
    Query,
    RetrievalService,
    RetrievalUnavailable,
    build_index_archive,
    load_service,
)

__all__ = [
    "FILTER_COLUMNS",
    "OPERATORS",
    "Answer",
    "FilterError",
    "IndexParams",
    "ItemIndex",
    "ModelType",
    "Query",
    "RetrievalService",
    "RetrievalUnavailable",
    "build_index_archive",
    "conjoin",
    "exclude_items",
    "load_service",
    "normalise_catalog",
    "parse_filters",
    "to_arrow",
    "to_sql",
]
