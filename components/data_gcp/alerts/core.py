"""Post alerts to Slack. The webhook URL is a secret (`slack-alert-webhook`), never logged."""

from __future__ import annotations

import httpx

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.log import get_logger, redact, register_sensitive
from data_gcp.secrets import get_secret

WEBHOOK_SECRET = "slack-alert-webhook"
log = get_logger(__name__)


class AlertError(DataGcpError):
    """The alert could not be delivered (status code given, never the URL)."""


def format_task_failure(
    dag_id: str, task_id: str, run_id: str, log_url: str | None, error: str | None = None
) -> str:
    """The Slack text for a failed Airflow task."""
    lines = [f":red_circle: Task failed: *{dag_id}.{task_id}*", f"Run: `{run_id}`"]
    if log_url:
        lines.append(f"Logs: <{log_url}|open>")
    if error:
        lines.append(f"Error: {redact(error)[:500]}")
    return "\n".join(lines)


def send_alert(
    text: str, *, settings: Settings | None = None, webhook_url: str | None = None, timeout: float = 10.0
) -> bool:
    """Send `text`; returns True when posted, False when only logged (local env without a webhook).

    Locally a webhook is used only if one is given or the secret is set, so a laptop never posts.
    """
    settings = settings or get_settings()
    url = webhook_url
    if url is None:
        from data_gcp.secrets import has_secret

        if settings.is_cloud or has_secret(WEBHOOK_SECRET, settings):
            url = get_secret(WEBHOOK_SECRET, settings)
    register_sensitive(url)
    if not url:
        log.warning("alert (not posted, no webhook locally): %s", text)
        return False
    try:
        response = httpx.post(url, json={"text": redact(text)}, timeout=timeout)
    except httpx.HTTPError as err:
        raise AlertError(f"Slack alert not delivered: {type(err).__name__}") from None
    if response.status_code >= 300:
        raise AlertError(f"Slack alert not delivered: HTTP {response.status_code}")
    return True
