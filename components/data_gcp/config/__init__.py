"""Environment model of the platform: one place decides engines, datasets, buckets and paths."""

from data_gcp.config.core import (
    DATASETS,
    ConfigError,
    DataGcpError,
    Env,
    Settings,
    get_settings,
    reset_settings,
    temporary_env,
    workspace_root,
)
from data_gcp.config.days import (
    TIMEZONE,
    ProcessedDays,
    paris_date,
    processed_days,
    processing_day,
    scheduled_moment,
)
from data_gcp.config.telemetry import NO_TELEMETRY_ENV, disable_telemetry

__all__ = [
    "NO_TELEMETRY_ENV",
    "disable_telemetry",
    "DATASETS",
    "TIMEZONE",
    "ProcessedDays",
    "paris_date",
    "processed_days",
    "processing_day",
    "scheduled_moment",
    "ConfigError",
    "DataGcpError",
    "Env",
    "Settings",
    "get_settings",
    "reset_settings",
    "temporary_env",
    "workspace_root",
]
