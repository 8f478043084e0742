"""MLflow tracking shared by the training jobs (two-tower, ranker): one call logs a whole run.

Why a brick: every job logs the same things (params, metrics, artifact files, tags) to the URI the
settings give (`Settings.tracking_uri`: a local `mlruns` folder, or the team's MLflow server), and
handles the same local quirk: MLflow 3 refuses its file store unless told it is wanted, which is what
a local run uses. A tracking failure is logged and never fails a training whose artifacts are already
published.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from data_gcp.config import Settings, get_settings
from data_gcp.log import get_logger

log = get_logger(__name__)


COMMIT_TAG = "mlflow.source.git.commit"


def source_commit() -> str | None:
    """The workspace's git commit, so runs compare by the code they were trained from (None outside
    a git checkout, e.g. in an image)."""
    import subprocess

    from data_gcp.config import workspace_root

    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=workspace_root(), capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _prepare(uri: str) -> None:
    if uri.startswith("file:") or "://" not in uri:
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def track_run(
    experiment: str,
    run_name: str,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    artifacts: Iterable[Path] = (),
    tags: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    strict: bool = False,
) -> str | None:
    """Log one finished run; returns the MLflow run id, or None if tracking failed (and not `strict`)."""
    settings = settings or get_settings()
    uri = settings.tracking_uri
    try:
        _prepare(uri)
        import mlflow

        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment(experiment)
        with mlflow.start_run(run_name=run_name) as run:
            commit = source_commit()
            if tags or commit:
                mlflow.set_tags(({COMMIT_TAG: commit} if commit else {}) | dict(tags or {}))
            if params:
                mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            if metrics:
                mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
            for path in artifacts:
                mlflow.log_artifact(str(path))
            return run.info.run_id
    except Exception as exc:  # noqa: BLE001 - tracking is best effort, the job's outputs are elsewhere
        if strict:
            raise
        log.warning(
            "MLflow tracking of %s/%s at %s failed: %s", experiment, run_name, uri.split("@")[-1], exc
        )
        return None
