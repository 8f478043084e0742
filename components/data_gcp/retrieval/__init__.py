"""Candidate retrieval: an item index (a 4-bit scan of every item from 20k items, LanceDB below) with
filters, tops, similar offers, fallbacks, and a health that runs a real query through each engine."""

from data_gcp.retrieval.filters import (
    COLUMN_ALIASES,
    DEFAULT_VENUE_RADIUS_KM,
    FILTER_COLUMNS,
    MAX_STRING,
    OPERATORS,
    FilterError,
    checked_string,
    columns_of,
    conjoin,
    exclude_items,
    params_json_schema,
    parse_filters,
    to_arrow,
    to_sql,
)
from data_gcp.retrieval.health import CatalogInfo, FallbackWindow
from data_gcp.retrieval.index import Hits, IndexParams, ItemIndex, normalise_catalog
from data_gcp.retrieval.layout import (
    CATALOG_FILE,
    INDEX_ARCHIVE,
    ITEM_EMBEDDINGS_FILE,
    LATEST_KEY,
    META_FILE,
    METRICS_FILE,
    MODEL_FILE,
    SPACE_FILE,
    USER_EMBEDDINGS_FILE,
    run_prefix,
    write_run_manifest,
)
from data_gcp.retrieval.loading import build_index_archive, load_service
from data_gcp.retrieval.reload import reload_until_healthy
from data_gcp.retrieval.service import Answer, ModelType, Query, RetrievalService, RetrievalUnavailable
from data_gcp.retrieval.workdir import clean_stale_index_dirs

__all__ = [
    "CATALOG_FILE",
    "INDEX_ARCHIVE",
    "ITEM_EMBEDDINGS_FILE",
    "LATEST_KEY",
    "META_FILE",
    "METRICS_FILE",
    "MODEL_FILE",
    "SPACE_FILE",
    "USER_EMBEDDINGS_FILE",
    "COLUMN_ALIASES",
    "DEFAULT_VENUE_RADIUS_KM",
    "FILTER_COLUMNS",
    "MAX_STRING",
    "OPERATORS",
    "Answer",
    "CatalogInfo",
    "FallbackWindow",
    "FilterError",
    "Hits",
    "IndexParams",
    "ItemIndex",
    "ModelType",
    "Query",
    "RetrievalService",
    "RetrievalUnavailable",
    "build_index_archive",
    "checked_string",
    "clean_stale_index_dirs",
    "columns_of",
    "conjoin",
    "exclude_items",
    "load_service",
    "normalise_catalog",
    "params_json_schema",
    "parse_filters",
    "reload_until_healthy",
    "run_prefix",
    "to_arrow",
    "to_sql",
    "write_run_manifest",
]
