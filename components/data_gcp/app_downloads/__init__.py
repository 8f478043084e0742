"""App downloads: Apple App Store Connect sales reports and Google Play monthly install exports."""

from data_gcp.app_downloads.connector import (
    CONNECTOR,
    AppDownloadsConnector,
    apple_token,
    downloads_window,
    play_export_key,
)

__all__ = ["CONNECTOR", "AppDownloadsConnector", "apple_token", "downloads_window", "play_export_key"]
