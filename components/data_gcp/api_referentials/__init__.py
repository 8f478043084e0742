"""pass Culture backend referentials: offer subcategories and offer types (`raw.subcategories`,
`raw.offer_types`)."""

from data_gcp.api_referentials.connector import (
    CONNECTOR,
    OFFER_TYPES,
    SUBCATEGORIES,
    ApiReferentialsConnector,
    referential_tables,
)

__all__ = ["CONNECTOR", "OFFER_TYPES", "SUBCATEGORIES", "ApiReferentialsConnector", "referential_tables"]
