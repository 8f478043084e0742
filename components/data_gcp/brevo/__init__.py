"""Brevo (formerly Sendinblue): newsletter campaign stats and transactional e-mail events."""

from data_gcp.brevo.connector import AUDIENCES, CONNECTOR, BrevoConnector

__all__ = ["AUDIENCES", "CONNECTOR", "BrevoConnector"]
