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

__all__ = [
    "DATASETS",
    "ConfigError",
    "DataGcpError",
    "Env",
    "Settings",
    "get_settings",
    "reset_settings",
    "temporary_env",
    "workspace_root",
]
