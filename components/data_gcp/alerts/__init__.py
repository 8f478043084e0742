"""Failure alerts: a Slack webhook in the cloud, a log line locally."""

from data_gcp.alerts.core import AlertError, format_task_failure, send_alert

__all__ = ["AlertError", "format_task_failure", "send_alert"]
