"""Task builders for the DAG files: a `data-gcp ...` command as a task, the dbt models as a task group.

Why builders: every task of the platform is a CLI argv run by `data_gcp.execution.run_job` (in-process
locally, a Cloud Run job in the cloud); the DAG files only wire them. Airflow and Cosmos are imported
inside the functions so that reading the schedule table never imports Airflow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from data_gcp.config import Settings, get_settings, workspace_root

DBT_PROJECT_NAME = "data_gcp"


def run_cli_job(argv: list[str], job: str) -> None:
    """The callable of every CLI task (kept at module level so its name is stable in logs)."""
    from data_gcp.execution import run_job

    run_job(argv, job=job)


def cli_task(task_id: str, argv: list[str], *, job: str = "etl-job", outlets: list[Any] | None = None) -> Any:
    """A TaskFlow task running `data-gcp <argv>`; argv items are Jinja-templated (`FIRST_DAY`, `LAST_DAY`)."""
    from airflow.sdk import task

    return task(run_cli_job, task_id=task_id, outlets=outlets or [])(argv, job)


def dbt_project_dir() -> Path:
    return workspace_root() / "dbt"


def dbt_manifest_path() -> Path:
    """The manifest `data-gcp dbt parse` writes; Cosmos renders the dbt task group from it."""
    return dbt_project_dir() / "target" / "manifest.json"


def dbt_env(settings: Settings | None = None) -> dict[str, str]:
    """Environment dbt's profile reads (target, warehouse file or BigQuery project), from dbt_runner."""
    from data_gcp.dbt_runner import dbt_env as runner_env
    from data_gcp.dbt_runner import target_for

    settings = settings or get_settings()
    return runner_env(settings, target_for(settings))


def dbt_task_group(group_id: str = "dbt", settings: Settings | None = None) -> Any:
    """One Airflow task per dbt model (`dbt build --select <model>`: the model, then its tests), rendered
    by Cosmos from the precompiled `dbt/target/manifest.json` so parsing the DAG never runs dbt.

    Without a manifest (a fresh clone before `data-gcp dbt parse`) the DAG still parses: one task runs
    `data-gcp dbt build` for the whole project.
    """
    settings = settings or get_settings()
    manifest = dbt_manifest_path()
    if not manifest.is_file():
        return cli_task(f"{group_id}_build", ["dbt", "build"], job="dbt-job")

    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    project_dir = dbt_project_dir()
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=project_dir,
            manifest_path=manifest,
            project_name=DBT_PROJECT_NAME,
            env_vars=dbt_env(settings),
            install_dbt_deps=False,
            partial_parse=True,
        ),
        profile_config=ProfileConfig(
            profile_name=DBT_PROJECT_NAME,
            target_name=dbt_env(settings)["DBT_TARGET"],
            profiles_yml_filepath=project_dir / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            emit_datasets=False,
        ),
        # A test on several models (relationships) runs with the last of them to be built, never
        # before its other parents exist ("buildable"; dbt's default "eager" would run it too early).
        operator_args={"indirect_selection": "buildable"},
    )


def _assets_updated() -> None:
    """Nothing to do: the task exists to emit its outlets once everything upstream succeeded."""


def asset_task(task_id: str, outlets: list[Any]) -> Any:
    """A task that only marks `outlets` as updated (after a task group that cannot carry outlets)."""
    from airflow.sdk import task

    return task(_assets_updated, task_id=task_id, outlets=outlets)()
