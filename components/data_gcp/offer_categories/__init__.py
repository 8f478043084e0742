"""The offer taxonomy (subcategory -> category -> search group) shared by the sandbox, dbt and ML.

In production `raw.subcategories` comes from the backend's `/native/v1/subcategories/v2` referential
(the `api_referentials` connector); locally a fake backend serves `backend_subcategories_v2()`, built
from this taxonomy, and the same connector loads it, so dbt reads one table from one producer.
"""

from data_gcp.offer_categories.backend import GENRE_TREES, SEARCH_GROUP_LABELS, backend_subcategories_v2
from data_gcp.offer_categories.core import (
    CATEGORY_BOOKING_WEIGHTS,
    SUBCATEGORIES,
    Subcategory,
    subcategories_table,
    subcategory,
)

__all__ = [
    "CATEGORY_BOOKING_WEIGHTS",
    "GENRE_TREES",
    "SEARCH_GROUP_LABELS",
    "SUBCATEGORIES",
    "Subcategory",
    "backend_subcategories_v2",
    "subcategories_table",
    "subcategory",
]
