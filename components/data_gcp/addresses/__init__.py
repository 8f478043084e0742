"""Base Adresse Nationale: geocoding of the users' postal addresses."""

from data_gcp.addresses.connector import CONNECTOR, LOW_SCORE, AddressesConnector, address_query

__all__ = ["CONNECTOR", "LOW_SCORE", "AddressesConnector", "address_query"]
