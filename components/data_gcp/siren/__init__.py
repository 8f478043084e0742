"""INSEE Sirene: legal-unit data (name, legal category, NAF code, dates, size) of the offerers' SIRENs."""

from data_gcp.siren.connector import CONNECTOR, SIREN_DATA, SirenConnector, sirens_to_refresh

__all__ = ["CONNECTOR", "SIREN_DATA", "SirenConnector", "sirens_to_refresh"]
