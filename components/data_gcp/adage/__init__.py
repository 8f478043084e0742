"""Adage (Education ministry, Omogen gateway): cultural partners and pass Culture school statistics."""

from data_gcp.adage.connector import CONNECTOR, AdageConnector, school_year_id, school_year_of

__all__ = ["CONNECTOR", "AdageConnector", "school_year_id", "school_year_of"]
