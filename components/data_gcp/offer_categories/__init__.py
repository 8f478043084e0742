"""The offer taxonomy (subcategory -> category -> search group) shared by the sandbox, dbt and ML.

In production this comes from the backend's `/native/v1/subcategories/v2` referential; locally the
same rows are written to `raw.subcategories` so that dbt reads one table in both cases.
"""

from data_gcp.offer_categories.core import (
    CATEGORY_BOOKING_WEIGHTS,
    SUBCATEGORIES,
    Subcategory,
    subcategories_table,
    subcategory,
)

__all__ = ["CATEGORY_BOOKING_WEIGHTS", "SUBCATEGORIES", "Subcategory", "subcategories_table", "subcategory"]
