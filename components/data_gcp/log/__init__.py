"""Logging shared by every brick: one line per event, secret values redacted."""

from data_gcp.log.core import (
    RedactingFilter,
    get_logger,
    redact,
    register_sensitive,
    setup_logging,
)

__all__ = ["RedactingFilter", "get_logger", "redact", "register_sensitive", "setup_logging"]
