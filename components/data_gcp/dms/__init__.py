"""Démarches Simplifiées (DMS): applications ("dossiers") of the young users' and pros' procedures."""

from data_gcp.dms.connector import CONNECTOR, DOSSIERS_QUERY, DmsConnector, dossier_row

__all__ = ["CONNECTOR", "DOSSIERS_QUERY", "DmsConnector", "dossier_row"]
