"""Settings read from the environment and `.env.local`.

Why one model: every brick asks the same questions (which warehouse, which dataset, which bucket,
where is the local data folder), and answering them in one place keeps local and cloud runs identical
apart from the engine behind each interface.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATASETS = ("raw", "clean", "analytics", "ml", "seed", "tmp")
ENV_PREFIX = "DATA_GCP_"


class DataGcpError(Exception):
    """An error meant for a person: its message says what failed and what to do; no traceback needed."""

    exit_code = 1


class ConfigError(DataGcpError):
    """A setting is missing or wrong; the message names the environment variable."""

    exit_code = 2


class Env(StrEnum):
    local = "local"
    dev = "dev"
    stg = "stg"
    prod = "prod"

    @property
    def is_cloud(self) -> bool:
        return self is not Env.local


def workspace_root(start: Path | None = None) -> Path:
    """The folder holding `workspace.toml` above `start` (default: cwd), else cwd.

    Why: the local data folder and `.env.local` live at the workspace root whatever folder a command
    is started from (tests, dbt, Airflow tasks all chdir).
    """
    env_root = os.environ.get("DATA_GCP_WORKSPACE_ROOT")
    if env_root:
        return Path(env_root).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "workspace.toml").is_file():
            return folder
    source_guess = Path(__file__).resolve().parents[3]
    if (source_guess / "workspace.toml").is_file():
        return source_guess
    return here


class Settings(BaseSettings):
    """All settings; each field is read from `DATA_GCP_<FIELD>` (or `.env.local` at the workspace root)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=None,
        extra="ignore",
        case_sensitive=False,
    )

    env: Env = Env.local
    project_id: str | None = Field(default=None, description="GCP project id; required in the cloud")
    region: str = "europe-west1"
    bq_location: str = "europe-west1"
    data_dir: Path | None = Field(default=None, description="local data folder (default: <workspace>/.data)")
    bucket: str | None = Field(default=None, description="data bucket; default data-bucket-<env>")
    cloudsql_connection_id: str | None = Field(
        default=None, description="BigQuery connection id of the app's Cloud SQL read replica"
    )
    source_database_url: str | None = Field(
        default=None, description="the app database (local default: SQLite file of the sandbox)"
    )
    reco_database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL the app reads its recommendation tables from (Cloud SQL in the cloud, where the "
            "secret reco-database-url gives it when unset; locally postgresql://postgres@127.0.0.1:5432/test)"
        ),
    )
    reco_database_schema: str = Field(
        default="public", description="schema of the recommendation tables in that database"
    )
    clickhouse_url: str | None = Field(
        default=None,
        description=(
            "ClickHouse server of the pro portal's statistics, http(s)://user@host:port (password: secret "
            "clickhouse-password); unset locally: an embedded ClickHouse (chdb) in the data folder"
        ),
    )
    mlflow_tracking_uri: str | None = None
    embedding_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="sentence-transformers model of the item embeddings (a name or a local folder)",
    )
    embedding_precision: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto",
        description=(
            "weights of the embedding model: bfloat16 ran 2 to 2.6x faster on CPUs with bfloat16 units (AMX, "
            "AVX512-BF16) for vectors within 1e-4 cosine of float32; auto picks it where the CPU has them"
        ),
    )
    # The task of a Cloud Run job execution (Cloud Run sets both, unprefixed): sharded jobs take their part.
    task_index: int = Field(
        default=0, ge=0, validation_alias=AliasChoices("CLOUD_RUN_TASK_INDEX", "DATA_GCP_TASK_INDEX")
    )
    task_count: int = Field(
        default=1, ge=1, validation_alias=AliasChoices("CLOUD_RUN_TASK_COUNT", "DATA_GCP_TASK_COUNT")
    )
    artifact_registry: str | None = None
    service_account: str | None = None
    dbt_execution: Literal["per_model", "single_build"] | None = Field(
        default=None,
        description=(
            "how the dbt DAG runs the project: a `dbt build` task per model (per_model, the default "
            "in the cloud) or one `dbt build` task for the whole project (single_build, the default locally)"
        ),
    )
    duckdb_memory_limit: str = Field(
        default="3GB",
        pattern=r"^\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$",
        description=(
            "memory DuckDB may use in a local dbt build (e.g. 3GB, 8GiB): past it, joins, sorts and "
            "aggregates spill to disk next to the warehouse file instead of growing, so a full "
            "rebuild at a large sandbox scale stays within a laptop's memory"
        ),
    )

    @model_validator(mode="after")
    def _cloud_needs_project(self) -> Settings:
        if self.env.is_cloud and not self.project_id:
            raise ValueError(
                f"{ENV_PREFIX}PROJECT_ID is required when {ENV_PREFIX}ENV={self.env.value} "
                f"(set it in the environment or .env.local)"
            )
        return self

    # --- derived values -------------------------------------------------------------------
    @property
    def is_cloud(self) -> bool:
        return self.env.is_cloud

    @property
    def dbt_single_build(self) -> bool:
        """Whether the dbt DAG runs the whole project as one `dbt build` task.

        Why locally: each dbt invocation costs about 2.5 s of start-up, so a task per model takes
        minutes for the project on a laptop where one build takes 40 s; in the cloud a task per model
        keeps per-model retries, logs and timings in Airflow.
        """
        if self.dbt_execution is not None:
            return self.dbt_execution == "single_build"
        return not self.is_cloud

    @property
    def local_data_dir(self) -> Path:
        return (self.data_dir or workspace_root() / ".data").resolve()

    def dataset(self, name: str) -> str:
        """Physical dataset/schema for a logical one: `raw` locally, `raw_prod` in prod."""
        if name not in DATASETS and not name.startswith(("int_", "export", "snapshot")):
            raise ConfigError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
        return f"{name}_{self.env.value}" if self.is_cloud else name

    @property
    def duckdb_path(self) -> Path:
        return self.local_data_dir / "warehouse.duckdb"

    @property
    def bucket_name(self) -> str:
        return self.bucket or f"data-bucket-{self.env.value}"

    @property
    def local_bucket_dir(self) -> Path:
        return self.local_data_dir / "bucket" / self.bucket_name

    @property
    def source_url(self) -> str:
        if self.source_database_url:
            return self.source_database_url
        return f"sqlite:///{self.local_data_dir / 'sandbox' / 'app.sqlite'}"

    @property
    def airflow_home(self) -> Path:
        return self.local_data_dir / "airflow"

    @property
    def tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return (self.local_data_dir / "mlruns").as_uri()


def _format_validation_error(err: ValidationError) -> str:
    parts = []
    for item in err.errors():
        loc = [str(x) for x in item.get("loc", ()) if x != "__root__"]
        msg = item.get("msg", "invalid value").removeprefix("Value error, ")
        if loc:
            var = ENV_PREFIX + loc[0].upper()
            parts.append(f"{var}: {msg}")
        else:
            parts.append(msg)
    return "invalid configuration: " + "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Build settings from env + `.env.local`; any problem becomes a ConfigError naming the variable."""
    env_file = workspace_root() / ".env.local"
    try:
        return Settings(_env_file=env_file if env_file.is_file() else None, **overrides)  # type: ignore[call-arg]
    except ValidationError as err:
        raise ConfigError(_format_validation_error(err)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `reset_settings()` after changing the env)."""
    return load_settings()


def reset_settings() -> None:
    get_settings.cache_clear()


@contextmanager
def temporary_env(values: Mapping[str, str | None]) -> Iterator[dict[str, str | None]]:
    """Set environment variables for the duration of a block, then restore them exactly.

    A value of None unsets the variable for the block. A variable that did not exist before is
    removed afterwards (not left as an empty string). Not thread-safe: the environment is global.
    """
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield dict(values)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
