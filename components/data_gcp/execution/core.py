"""Where a job runs: in this process locally, as a Cloud Run job execution in the cloud.

Why one place decides: DAG tasks, people and Cloud Run jobs all run the same `data-gcp ...` argv, so
the only difference between a laptop and production is who executes it. DAG files never branch on
the environment; they call `run_job(argv, job=...)`.

Locally the argv goes to the CLI's Typer app in this process (the console script `data-gcp`'s own
app, found through its entry point, so this component does not import the CLI base). In the cloud
the Cloud Run job `job` (deployed with the same image, whose entrypoint is `data-gcp`) is executed
with the argv as container override args, through the Cloud Run Admin API v2 (REST), and this call
waits for the execution to finish.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from typing import Any

import httpx

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.log import get_logger, redact

log = get_logger(__name__)

CLI_SCRIPT = "data-gcp"
RUN_API = "https://run.googleapis.com/v2"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


class Backend(StrEnum):
    in_process = "in_process"
    cloud_run = "cloud_run"


class JobError(DataGcpError):
    """A job failed; the message names the argv (redacted), the backend and where its logs are."""


@dataclass(frozen=True)
class JobResult:
    backend: Backend
    argv: tuple[str, ...]
    seconds: float
    execution: str | None = None  # Cloud Run execution name
    log_uri: str | None = None


def backend_for(settings: Settings | None = None) -> Backend:
    """In-process locally, Cloud Run jobs in dev/stg/prod."""
    settings = settings or get_settings()
    return Backend.cloud_run if settings.is_cloud else Backend.in_process


def _check_argv(argv: list[str]) -> list[str]:
    if not argv or not all(isinstance(a, str) for a in argv):
        raise JobError(f"a job's argv must be a non-empty list of strings, got {argv!r}")
    if argv[0] == CLI_SCRIPT:
        raise JobError(f"argv starts after the program name: drop the leading {CLI_SCRIPT!r} in {argv!r}")
    return list(argv)


def _cli_app() -> Any:
    """The Typer app behind the installed `data-gcp` console script (whichever base provides it).

    Found through the entry point, never by name: this component must not depend on a base, and each
    environment installs exactly one `data-gcp` (the developer's CLI, or an image's job entry point).
    """
    entries = [e for e in metadata.entry_points(group="console_scripts") if e.name == CLI_SCRIPT]
    if len(entries) != 1:
        raise JobError(
            f"cannot run a job in process: {len(entries)} `{CLI_SCRIPT}` console scripts are installed "
            "(expected one); run `uv sync` in the workspace, or install exactly one project"
        )
    return importlib.import_module(entries[0].module).app


def _cli_exception_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(exit, usage error) exception classes of click and of the click copy some typer versions ship."""
    exits: list[type] = []
    usage: list[type] = []
    import click

    exits.append(click.exceptions.Exit)
    usage.append(click.ClickException)
    try:
        import typer
        from typer._click import exceptions as typer_click

        exits.append(typer.Exit)
        usage.append(typer_click.ClickException)
    except ImportError:
        pass
    return tuple(exits), tuple(usage)


def run_in_process(argv: list[str]) -> Any:
    """Call the CLI with `argv` in this process; its exceptions propagate (the task fails with them)."""
    argv = _check_argv(argv)
    exits, usage = _cli_exception_types()
    shown = redact(" ".join(argv))
    try:
        return _cli_app()(args=argv, prog_name=CLI_SCRIPT, standalone_mode=False)
    except exits as exc:  # `raise typer.Exit(code)` inside a command
        code = getattr(exc, "exit_code", 1)
        if code:
            raise JobError(f"`{CLI_SCRIPT} {shown}` exited with code {code}") from None
        return None
    except usage as exc:  # usage errors: wrong option, unknown command
        raise JobError(f"`{CLI_SCRIPT} {shown}`: {exc.format_message()}") from None


def job_resource_name(job: str, settings: Settings) -> str:
    return f"projects/{settings.project_id}/locations/{settings.region}/jobs/{job}"


def _check_tasks(tasks: object) -> int:
    if isinstance(tasks, bool) or not isinstance(tasks, int) or tasks < 1:
        raise JobError(f"a job's task count must be an integer >= 1, got {tasks!r}")
    return tasks


def build_run_job_request(argv: list[str], *, job: str, settings: Settings, tasks: int = 1) -> dict[str, Any]:
    """The Cloud Run Admin API v2 `jobs.run` request: resource name and body (pure, for tests and logs).

    The container keeps the job's image and entrypoint (`data-gcp`); only its args and the task count
    are overridden, so the job runs exactly the command a person would type, as `tasks` parallel tasks
    (Cloud Run sets `CLOUD_RUN_TASK_INDEX` / `CLOUD_RUN_TASK_COUNT` in each; a sharded command does
    its share, any other command must be run with 1).
    """
    argv = _check_argv(argv)
    return {
        "name": job_resource_name(job, settings),
        "body": {"overrides": {"containerOverrides": [{"args": argv}], "taskCount": _check_tasks(tasks)}},
    }


def _default_credentials() -> Any:
    """Application default credentials (the Composer worker's service account) for Cloud Run."""
    import google.auth

    credentials, _ = google.auth.default(scopes=list(SCOPES))
    return credentials


class CredentialsAuth(httpx.Auth):
    """Signs each request with a current token of google-auth `credentials`.

    Why not one token for the whole wait: an execution can run for hours and tokens last about one;
    the credentials are refreshed when they say they expired, and again when the API answers 401.
    """

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials

    def _refresh(self) -> None:
        import google.auth.transport.requests

        self.credentials.refresh(google.auth.transport.requests.Request())

    def _sign(self, request: httpx.Request) -> None:
        if not self.credentials.valid:
            self._refresh()
        request.headers["Authorization"] = f"Bearer {self.credentials.token}"

    def auth_flow(self, request: httpx.Request) -> Any:
        self._sign(request)
        response = yield request
        if response.status_code == 401:
            self._refresh()
            request.headers["Authorization"] = f"Bearer {self.credentials.token}"
            yield request


def run_cloud_run_job(
    argv: list[str],
    *,
    job: str,
    settings: Settings,
    api_url: str = RUN_API,
    credentials: Any = None,
    poll_seconds: float = 10.0,
    timeout_seconds: float = 6 * 3600,
    policy: Any = None,
    clock: Any = None,
    tasks: int = 1,
) -> JobResult:
    """Execute the Cloud Run job with `argv` and wait for its execution; raise JobError if it failed.

    Every call (start and each poll) goes through the shared HTTP client: 429 and 5xx answers are
    retried with the shared `RetryPolicy` (the execution keeps running meanwhile), and the token is
    refreshed as it expires. A failed execution raises JobError naming the execution and its logs.
    """
    from data_gcp.http_client import HttpClient, RetryPolicy, SourceError, SystemClock

    request = build_run_job_request(argv, job=job, settings=settings, tasks=tasks)
    clock = clock or SystemClock()
    started = clock.monotonic()
    shown = redact(" ".join(argv))
    auth = CredentialsAuth(credentials if credentials is not None else _default_credentials())
    execution: dict[str, Any] = {}
    with HttpClient("cloud-run", api_url, policy=policy or RetryPolicy(), clock=clock, auth=auth) as http:
        try:
            operation = http.post_json(f"{request['name']}:run", request["body"])
            while not operation.get("done"):
                execution = operation.get("metadata") or execution
                if clock.monotonic() - started > timeout_seconds:
                    raise JobError(
                        f"Cloud Run execution {execution.get('name', operation.get('name'))} of job "
                        f"{request['name']} still running after {timeout_seconds:.0f} s"
                        + (f" (logs: {execution['logUri']})" if execution.get("logUri") else "")
                    )
                clock.sleep(poll_seconds)
                operation = http.get_json(operation["name"])
        except SourceError as err:
            where = execution.get("name") or request["name"]
            raise JobError(
                f"Cloud Run job {request['name']} for `{shown}`: {err}"
                + (f" (execution {where}, logs: {execution['logUri']})" if execution.get("logUri") else "")
            ) from None
    execution = operation.get("response") or operation.get("metadata") or execution
    name = execution.get("name", "?")
    log_uri = execution.get("logUri")
    logs = f" (logs: {log_uri})" if log_uri else ""
    if "error" in operation:
        message = operation["error"].get("message", "unknown error")
        raise JobError(
            f"Cloud Run execution {name} of job {request['name']} failed for `{shown}`: {redact(message)}{logs}"
        )
    if execution.get("failedCount"):
        raise JobError(
            f"Cloud Run execution {name} of job {request['name']} failed for `{shown}`: "
            f"{execution['failedCount']} task(s) failed{logs}"
        )
    return JobResult(
        backend=Backend.cloud_run,
        argv=tuple(argv),
        seconds=clock.monotonic() - started,
        execution=execution.get("name"),
        log_uri=log_uri,
    )


def run_job(
    argv: list[str], *, job: str = "etl-job", settings: Settings | None = None, tasks: int = 1
) -> JobResult:
    """Run `data-gcp <argv>` where the environment says: here locally (one process, all the work), as
    Cloud Run job `job` with `tasks` parallel tasks in the cloud."""
    settings = settings or get_settings()
    backend = backend_for(settings)
    tasks = _check_tasks(tasks)
    log.info("job %s: data-gcp %s (%s, %d task(s))", job, redact(" ".join(argv)), backend.value, tasks)
    if backend is Backend.cloud_run:
        return run_cloud_run_job(argv, job=job, settings=settings, tasks=tasks)
    started = time.monotonic()
    run_in_process(argv)
    return JobResult(backend=backend, argv=tuple(argv), seconds=time.monotonic() - started)
