"""AppsFlyer: install attribution (aggregated and raw reports) and in-app events, per app."""

from data_gcp.appsflyer.connector import CONNECTOR, AppsFlyerConnector, read_csv, report_window

__all__ = ["CONNECTOR", "AppsFlyerConnector", "read_csv", "report_window"]
