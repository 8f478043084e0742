"""The tiny world the rehearsed entry points run in: a sandbox warehouse, a bucket folder, a dbt copy.

Built once per rehearsal by the workspace (the sandbox and the planted tables are test support, in no
project), then read and written by the jobs and services running in their own venvs, one after the
other, exactly as the images would in a local environment.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from data_gcp.config import Settings

SANDBOX_SCALE = 0.003
SANDBOX_DAYS = 20
SANDBOX_START = dt.date(2026, 6, 1)
# Variables of the developer's shell that must not leak into an image's process.
_DROPPED_PREFIXES = ("DATA_GCP_", "AIRFLOW", "VIRTUAL_ENV", "UV_", "PYTHON", "CONDA")


@dataclass(frozen=True)
class Stage:
    """Folders shared by the rehearsed jobs and services."""

    work: Path
    data: Path  # DATA_GCP_DATA_DIR: warehouse, bucket, sandbox source
    workspace: Path  # DATA_GCP_WORKSPACE_ROOT: a copy of dbt/ (the image's /home/app)

    @property
    def last_day(self) -> dt.date:
        return SANDBOX_START + dt.timedelta(days=SANDBOX_DAYS - 1)

    @property
    def manifest(self) -> Path:
        return self.workspace / "dbt" / "target" / "manifest.json"

    def settings(self) -> Settings:
        return Settings(env="local", data_dir=self.data)

    def environ(self, venv: Path | None, **overrides: str) -> dict[str, str]:
        """The environment of a process of an image: local settings on this stage, its venv first on
        PATH and the workspace venv off it (a job spawning `dbt` must find the image's own)."""
        workspace_bin = str(Path(sys.executable).parent)
        path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != workspace_bin]
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        env.update(
            PATH=os.pathsep.join(([str(venv / "bin")] if venv else []) + path),
            DATA_GCP_ENV="local",
            DATA_GCP_DATA_DIR=str(self.data),
            DATA_GCP_WORKSPACE_ROOT=str(self.workspace),
            HF_HUB_OFFLINE="1",
            PYTHONDONTWRITEBYTECODE="1",
            COLUMNS="200",
        )
        env.update(overrides)
        return env


def _load_planted_ml_tables(settings: Settings) -> None:
    """The dbt ML tables the training jobs read, from the planted-taste generator (no dbt run)."""
    from data_gcp.planted_truth import make_planted, synthetic_training_table
    from data_gcp.warehouse import get_warehouse

    inputs, _ = make_planted(60, 90, clicks_per_user=8, seed=1)
    warehouse = get_warehouse(settings)
    warehouse.create_dataset("ml")
    for table, frame in (
        ("ml.ml_reco__click_training", inputs.clicks),
        ("ml.ml_reco__recommendable_item", inputs.items),
        ("ml.ml_reco__user_features", inputs.users),
    ):
        warehouse.load(table, pa.Table.from_pandas(frame, preserve_index=False), mode="replace")
    warehouse.load(
        "ml.ml_reco__ranking_training",
        synthetic_training_table(n_calls=60, per_call=8, seed=2),
        mode="replace",
    )


def build_stage(root: Path, work: Path) -> Stage:
    """A sandbox (generated and imported), the planted ML tables, and a copy of the dbt project."""
    from data_gcp.planted_truth import build_planted_warehouse

    if work.exists():
        shutil.rmtree(work)
    stage = Stage(work=work, data=work / "data", workspace=work / "workspace")
    stage.workspace.mkdir(parents=True)
    shutil.copytree(
        root / "dbt", stage.workspace / "dbt", ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    settings = stage.settings()
    build_planted_warehouse(settings, scale=SANDBOX_SCALE, days=SANDBOX_DAYS, start=SANDBOX_START)
    _load_planted_ml_tables(settings)
    return stage
