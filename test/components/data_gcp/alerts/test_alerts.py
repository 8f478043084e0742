"""Alerts against a local HTTP server standing in for Slack's webhook."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from data_gcp.alerts import AlertError, format_task_failure, send_alert
from data_gcp.config.core import load_settings


@pytest.fixture
def slack():
    received = []
    status = {"code": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(status["code"])
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/SECRETPART123"
    yield url, received, status
    server.shutdown()


def test_posts_to_webhook_from_secret(slack, monkeypatch):
    url, received, _ = slack
    monkeypatch.setenv("SLACK_ALERT_WEBHOOK", url)
    assert send_alert("task failed") is True
    assert received == [("/services/T000/B000/SECRETPART123", {"text": "task failed"})]


def test_local_without_webhook_only_logs(caplog):
    with caplog.at_level(logging.WARNING):
        assert send_alert("hello") is False
    assert "hello" in caplog.text


def test_failure_status_raises_without_url(slack):
    url, _, status = slack
    status["code"] = 500
    with pytest.raises(AlertError) as exc:
        send_alert("x", webhook_url=url)
    assert "HTTP 500" in str(exc.value) and "SECRETPART123" not in str(exc.value)


def test_unreachable_raises_without_url():
    with pytest.raises(AlertError) as exc:
        send_alert("x", webhook_url="http://127.0.0.1:9/hook/SECRETPART999", timeout=1)
    assert "SECRETPART999" not in str(exc.value)


def test_cloud_requires_secret(monkeypatch):
    from data_gcp.secrets import MissingSecretError

    settings = load_settings(env="prod", project_id="p")
    monkeypatch.setattr(
        "data_gcp.alerts.core.get_secret", lambda name, s: (_ for _ in ()).throw(MissingSecretError(name))
    )
    with pytest.raises(MissingSecretError):
        send_alert("x", settings=settings)


def test_format_task_failure():
    text = format_task_failure("dag_a", "task_b", "scheduled__2026", "http://airflow/log", "boom")
    assert (
        "dag_a.task_b" in text
        and "scheduled__2026" in text
        and "http://airflow/log" in text
        and "boom" in text
    )
