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
    assert request["body"]["overrides"]["taskCount"] == 1  # one task unless the caller shards it


def test_request_runs_the_task_count_asked():
    request = build_run_job_request(["ml", "embed"], job="ml-job", settings=cloud_settings(), tasks=4)
    assert request["body"]["overrides"]["taskCount"] == 4


@pytest.mark.parametrize("tasks", [0, -1, True, "4", 2.0])
def test_bad_task_count_is_refused(tasks):
    with pytest.raises(JobError, match="task count"):
        build_run_job_request(["ml", "embed"], job="ml-job", settings=cloud_settings(), tasks=tasks)


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


EXECUTION = "projects/p/locations/r/jobs/etl-job/executions/etl-job-abc"
LOG_URI = "https://console.cloud.google.com/logs/etl-job-abc"


class FakeCloudRun:
    """A local Run Admin API v2: `POST .../jobs/{job}:run`, `GET {operation}` (long-running operation,
    metadata: the Execution), and `POST /token` standing in for Google's token endpoint.

    Only the latest token minted is accepted, and it expires after `token_polls` polls (401, as the
    API answers an expired token). `flaky` maps request numbers (1-based) to a status answered
    instead (429, 503). The execution finishes after `polls` polls, with `failed` failed tasks.
    """

    def __init__(self, failed: int = 0, polls: int = 1, token_polls: int = 10**6, flaky: dict | None = None):
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        self.tokens_minted = 0
        self.valid_token: str | None = None
        self.polls_with_token = 0
        self.polls = 0
        fake = self
        flaky = flaky or {}

        class Handler(BaseHTTPRequestHandler):
            def _send(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {fake.valid_token}":
                    self._send({"error": {"code": 401, "status": "UNAUTHENTICATED"}}, 401)
                    return False
                return True

            def _flaky(self) -> bool:
                status = flaky.get(len(fake.requests))
                if status:
                    self._send({"error": {"code": status, "message": "try again"}}, status)
                return bool(status)

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path == "/token":
                    fake.tokens_minted += 1
                    fake.valid_token, fake.polls_with_token = f"tok-{fake.tokens_minted}", 0
                    return self._send({"access_token": fake.valid_token, "expires_in": 3600})
                fake.requests.append(("POST", self.path, body, self.headers.get("Authorization")))
                if self._flaky() or not self._authorized():
                    return
                if not self.path.endswith(":run"):
                    return self._send({"error": {"message": "not found"}}, 404)
                self._send({"name": "projects/p/locations/r/operations/op1", "done": False})

            def do_GET(self):  # noqa: N802
                fake.requests.append(("GET", self.path, None, self.headers.get("Authorization")))
                if self._flaky() or not self._authorized():
                    return
                fake.polls_with_token += 1
                if fake.polls_with_token >= token_polls:
                    fake.valid_token = None  # expired: the next call with it gets a 401
                fake.polls += 1
                execution = {
                    "name": EXECUTION,
                    "succeededCount": 0 if failed else 1,
                    "failedCount": failed,
                    "logUri": LOG_URI,
                }
                done = fake.polls >= polls
                self._send(
                    {
                        "name": "projects/p/locations/r/operations/op1",
                        "done": done,
                        ("response" if done else "metadata"): execution,
                    }
                )

            def log_message(self, *args):  # noqa: ANN002
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_port}"
        self.url = f"{self.root}/v2"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class FakeCredentials:
    """google-auth credentials whose refresh asks the fake's token endpoint (as a service account's
    credentials ask Google's); `valid` until the API says otherwise."""

    def __init__(self, token_url: str) -> None:
        self.token_url = token_url
        self.token: str | None = None
        self.refreshes = 0

    @property
    def valid(self) -> bool:
        return self.token is not None

    def refresh(self, request) -> None:  # noqa: ANN001 - google.auth.transport.Request
        import httpx

        self.refreshes += 1
        self.token = httpx.post(self.token_url).json()["access_token"]


def _run(fake: FakeCloudRun, argv: list[str], job: str = "etl-job", **kwargs):  # noqa: ANN003, ANN202
    from data_gcp.http_client import FakeClock, RetryPolicy

    credentials = kwargs.pop("credentials", None) or FakeCredentials(f"{fake.root}/token")
    return run_cloud_run_job(
        argv,
        job=job,
        settings=cloud_settings(),
        api_url=fake.url,
        credentials=credentials,
        poll_seconds=10,
        policy=RetryPolicy(max_attempts=4),
        clock=FakeClock(),
        **kwargs,
    )


def test_cloud_run_job_is_executed_and_awaited():
    fake = FakeCloudRun()
    try:
        result = _run(fake, ["etl", "run", "brevo"], tasks=3)
    finally:
        fake.server.shutdown()
    method, path, body, auth = fake.requests[0]
    assert (method, path) == ("POST", "/v2/projects/pc-data-prod/locations/europe-west1/jobs/etl-job:run")
    assert body["overrides"]["containerOverrides"][0]["args"] == ["etl", "run", "brevo"]
    assert body["overrides"]["taskCount"] == 3
    assert auth == "Bearer tok-1"
    assert fake.requests[1][:2] == ("GET", "/v2/projects/p/locations/r/operations/op1")
    assert result.backend is Backend.cloud_run
    assert result.execution == EXECUTION and result.log_uri == LOG_URI


def test_a_long_execution_survives_token_expiry_and_transient_api_errors():
    # the token expires every 3 polls; requests 2 and 6 get 429, request 9 gets 503
    fake = FakeCloudRun(polls=12, token_polls=3, flaky={2: 429, 6: 503, 9: 503})
    credentials = FakeCredentials(f"{fake.root}/token")
    try:
        result = _run(fake, ["import", "applicative"], job="import-job", credentials=credentials)
    finally:
        fake.server.shutdown()
    assert fake.polls == 12 and result.execution == EXECUTION
    assert credentials.refreshes >= 4  # a fresh token after each expiry, never the stale one again
    statuses_retried = {2, 6, 9}
    assert len(fake.requests) >= 13 + len(statuses_retried)


def test_a_failed_cloud_run_execution_names_the_execution_and_its_logs():
    fake = FakeCloudRun(failed=1, polls=3, flaky={3: 503})
    try:
        with pytest.raises(JobError) as info:
            _run(fake, ["etl", "run", "brevo"])
    finally:
        fake.server.shutdown()
    message = str(info.value)
    assert EXECUTION in message and LOG_URI in message and "1 task(s) failed" in message


def test_the_api_answering_errors_past_the_retry_budget_fails_the_task_with_the_job_name():
    fake = FakeCloudRun(polls=5, flaky=dict.fromkeys(range(2, 10), 503))
    try:
        with pytest.raises(JobError, match="jobs/etl-job.*503.*4 attempt"):
            _run(fake, ["etl", "run", "brevo"])
    finally:
        fake.server.shutdown()
