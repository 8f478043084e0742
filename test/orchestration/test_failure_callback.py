"""The failure callback posts DAG, task, run and log URL to the alerts webhook, for scheduled runs only."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from data_gcp.orchestration import task_failure_alert


@pytest.fixture
def webhook(monkeypatch):
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SLACK_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
    yield received
    server.shutdown()


def _context(run_type: str) -> dict:
    ti = SimpleNamespace(
        dag_id="dbt_run",
        task_id="dbt.mrt_global__user_model_build",
        run_id=f"{run_type}__2026-11-26T00:00:00+00:00",
        log_url="http://airflow.example/dags/dbt_run/runs/x/tasks/y",
    )
    dag_run = SimpleNamespace(run_type=run_type, run_id=ti.run_id, dag_id="dbt_run")
    return {"ti": ti, "task_instance": ti, "dag_run": dag_run, "exception": ValueError("model failed")}


@pytest.mark.parametrize("run_type", ["scheduled", "asset_triggered"])
def test_scheduled_failures_are_posted(webhook, run_type):
    assert task_failure_alert(_context(run_type)) is True
    (message,) = webhook
    text = message["text"]
    for expected in (
        "dbt_run",
        "dbt.mrt_global__user_model_build",
        f"{run_type}__2026-11-26",
        "http://airflow.example/",
    ):
        assert expected in text
    assert "model failed" in text


@pytest.mark.parametrize("run_type", ["manual", "backfill"])
def test_manual_and_test_runs_are_not_posted(webhook, run_type):
    assert task_failure_alert(_context(run_type)) is False
    assert webhook == []


def test_an_unreachable_webhook_does_not_raise(monkeypatch):
    monkeypatch.setenv("SLACK_ALERT_WEBHOOK", "http://127.0.0.1:9/unreachable")
    assert task_failure_alert(_context("scheduled")) is False
