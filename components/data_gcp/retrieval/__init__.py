"""Candidate retrieval: a LanceDB item index with pushed-down filters, tops, similar offers, fallbacks."""

from data_gcp.retrieval.filters import (
    FILTER_COLUMNS,
    OPERATORS,
    FilterError,
    columns_of,
    conjoin,
    exclude_items,
    parse_filters,
    to_arrow,
    to_sql,
)
from data_gcp.retrieval.index import Hits, IndexParams, ItemIndex, normalise_catalog
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
    "Hits",
    "IndexParams",
    "ItemIndex",
    "ModelType",
    "Query",
    "RetrievalService",
    "RetrievalUnavailable",
    "build_index_archive",
    "columns_of",
    "conjoin",
    "exclude_items",
    "load_service",
    "normalise_catalog",
    "parse_filters",
    "to_arrow",
    "to_sql",
]
