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
from collections.abc import Callable
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


def build_run_job_request(argv: list[str], *, job: str, settings: Settings) -> dict[str, Any]:
    """The Cloud Run Admin API v2 `jobs.run` request: resource name and body (pure, for tests and logs).

    The container keeps the job's image and entrypoint (`data-gcp`); only its args are overridden, so
    the job runs exactly the command a person would type.
    """
    argv = _check_argv(argv)
    return {
        "name": job_resource_name(job, settings),
        "body": {"overrides": {"containerOverrides": [{"args": argv}], "taskCount": 1}},
    }


def _default_token() -> str:
    import google.auth
    import google.auth.transport.requests

    credentials, _ = google.auth.default(scopes=list(SCOPES))
    credentials.refresh(google.auth.transport.requests.Request())
    return credentials.token


def run_cloud_run_job(
    argv: list[str],
    *,
    job: str,
    settings: Settings,
    api_url: str = RUN_API,
    token: Callable[[], str] = _default_token,
    poll_seconds: float = 10.0,
    timeout_seconds: float = 6 * 3600,
    client: httpx.Client | None = None,
) -> JobResult:
    """Execute the Cloud Run job with `argv` and wait for its execution; raise JobError if it failed."""
    request = build_run_job_request(argv, job=job, settings=settings)
    started = time.monotonic()
    owns_client = client is None
    client = client or httpx.Client(timeout=60)
    shown = redact(" ".join(argv))
    try:
        headers = {"Authorization": f"Bearer {token()}"}
        response = client.post(f"{api_url}/{request['name']}:run", json=request["body"], headers=headers)
        if response.status_code >= 300:
            raise JobError(
                f"Cloud Run job {request['name']} did not start for `{shown}`: HTTP {response.status_code} "
                f"{redact(response.text[:300])}"
            )
        operation = response.json()
        while not operation.get("done"):
            if time.monotonic() - started > timeout_seconds:
                raise JobError(f"Cloud Run job {request['name']} still running after {timeout_seconds:.0f} s")
            time.sleep(poll_seconds)
            polled = client.get(f"{api_url}/{operation['name']}", headers=headers)
            if polled.status_code >= 300:
                raise JobError(f"polling {operation['name']} failed: HTTP {polled.status_code}")
            operation = polled.json()
    finally:
        if owns_client:
            client.close()
    execution = operation.get("response") or operation.get("metadata") or {}
    log_uri = execution.get("logUri")
    if "error" in operation:
        message = operation["error"].get("message", "unknown error")
        raise JobError(
            f"Cloud Run job {request['name']} failed for `{shown}`: {redact(message)}"
            + (f" (logs: {log_uri})" if log_uri else "")
        )
    if execution.get("failedCount"):
        raise JobError(
            f"Cloud Run job {request['name']} failed for `{shown}`: {execution['failedCount']} task(s) failed"
            + (f" (logs: {log_uri})" if log_uri else "")
        )
    return JobResult(
        backend=Backend.cloud_run,
        argv=tuple(argv),
        seconds=time.monotonic() - started,
        execution=execution.get("name"),
        log_uri=log_uri,
    )


def run_job(argv: list[str], *, job: str = "etl-job", settings: Settings | None = None) -> JobResult:
    """Run `data-gcp <argv>` where the environment says: here locally, as Cloud Run job `job` in the cloud."""
    settings = settings or get_settings()
    backend = backend_for(settings)
    log.info("job %s: data-gcp %s (%s)", job, redact(" ".join(argv)), backend.value)
    if backend is Backend.cloud_run:
        return run_cloud_run_job(argv, job=job, settings=settings)
    started = time.monotonic()
    run_in_process(argv)
    return JobResult(backend=backend, argv=tuple(argv), seconds=time.monotonic() - started)
