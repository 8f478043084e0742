"""Run a `data-gcp ...` argv where the environment says: in-process locally, a Cloud Run job in the cloud."""

from data_gcp.execution.core import (
    Backend,
    JobError,
    JobResult,
    backend_for,
    build_run_job_request,
    job_resource_name,
    run_cloud_run_job,
    run_in_process,
    run_job,
)

__all__ = [
    "Backend",
    "JobError",
    "JobResult",
    "backend_for",
    "build_run_job_request",
    "job_resource_name",
    "run_cloud_run_job",
    "run_in_process",
    "run_job",
]
