"""run_job: the CLI in-process locally; a Cloud Run job execution (Admin API v2) in the cloud."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from data_gcp.config import Env, Settings
from data_gcp.execution import (
    Backend,
    JobError,
    backend_for,
    build_run_job_request,
    run_cloud_run_job,
    run_in_process,
    run_job,
)
from data_gcp.warehouse import get_warehouse


def cloud_settings() -> Settings:
    return Settings(env=Env.prod, project_id="pc-data-prod", region="europe-west1")


def test_backend_is_decided_by_the_environment(settings):
    assert backend_for(settings) is Backend.in_process
    assert backend_for(cloud_settings()) is Backend.cloud_run


def test_request_overrides_only_the_container_args():
    request = build_run_job_request(
        ["etl", "run", "brevo", "--start", "2026-11-26"], job="etl-job", settings=cloud_settings()
    )
    assert request["name"] == "projects/pc-data-prod/locations/europe-west1/jobs/etl-job"
    assert request["body"]["overrides"]["containerOverrides"] == [
        {"args": ["etl", "run", "brevo", "--start", "2026-11-26"]}
    ]


@pytest.mark.parametrize("argv", [[], ["data-gcp", "env"], ["sql", 3]])
def test_bad_argv_is_refused(argv):
    with pytest.raises(JobError):
        build_run_job_request(argv, job="etl-job", settings=cloud_settings())


def test_in_process_runs_the_cli_command(settings):
    run_job(
        ["sql", "CREATE SCHEMA IF NOT EXISTS tmp; CREATE TABLE tmp.t AS SELECT 42 AS x"], settings=settings
    )
    assert get_warehouse(settings).query("SELECT x FROM tmp.t").to_pylist() == [{"x": 42}]


def test_in_process_errors_propagate(settings):
    with pytest.raises(Exception, match="does_not_exist"):  # the command's own error, unchanged
        run_in_process(["sql", "SELECT * FROM tmp.does_not_exist"])
    with pytest.raises(JobError, match="No such command"):
        run_in_process(["no-such-command"])


class FakeCloudRun:
    """Speaks the two calls we use: `POST .../jobs/{job}:run` and `GET {operation}` (long-running op)."""

    def __init__(self, failed: int = 0) -> None:
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(("POST", self.path, body, self.headers.get("Authorization")))
                if not self.path.endswith(":run"):
                    return self._send({"error": {"message": "not found"}}, 404)
                self._send({"name": "projects/p/locations/r/operations/op1", "done": False})

            def do_GET(self):  # noqa: N802
                fake.requests.append(("GET", self.path, None, self.headers.get("Authorization")))
                execution = {
                    "name": "projects/p/locations/r/jobs/etl-job/executions/etl-job-abc",
                    "succeededCount": 0 if failed else 1,
                    "failedCount": failed,
                    "logUri": "https://console.cloud.google.com/logs/etl-job-abc",
                }
                self._send(
                    {"name": "projects/p/locations/r/operations/op1", "done": True, "response": execution}
                )

            def log_message(self, *args):  # noqa: ANN002
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_cloud_run_job_is_executed_and_awaited():
    fake = FakeCloudRun()
    try:
        result = run_cloud_run_job(
            ["dbt", "build"],
            job="dbt-job",
            settings=cloud_settings(),
            api_url=fake.url,
            token=lambda: "tok-123456",
            poll_seconds=0,
        )
    finally:
        fake.server.shutdown()
    method, path, body, auth = fake.requests[0]
    assert (method, path) == ("POST", "/v2/projects/pc-data-prod/locations/europe-west1/jobs/dbt-job:run")
    assert body["overrides"]["containerOverrides"][0]["args"] == ["dbt", "build"]
    assert auth == "Bearer tok-123456"
    assert fake.requests[1][:2] == ("GET", "/v2/projects/p/locations/r/operations/op1")
    assert result.backend is Backend.cloud_run
    assert result.execution.endswith("etl-job-abc")


def test_a_failed_cloud_run_execution_raises_with_its_logs():
    fake = FakeCloudRun(failed=1)
    try:
        with pytest.raises(JobError, match="failed.*logs: https://console.cloud.google.com/logs/etl-job-abc"):
            run_cloud_run_job(
                ["etl", "run", "brevo"],
                job="etl-job",
                settings=cloud_settings(),
                api_url=fake.url,
                token=lambda: "tok-123456",
                poll_seconds=0,
            )
    finally:
        fake.server.shutdown()
