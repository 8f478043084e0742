"""Task builders for the DAG files: a `data-gcp ...` command as a task, the dbt models as a task group.

Why builders: every task but dbt's is a CLI argv run by `data_gcp.execution.run_job` (in-process
locally, a Cloud Run job in the cloud); dbt runs on the Airflow workers themselves (Cosmos, dbtRunner,
dbt-bigquery in Composer), as the original platform did. The DAG files only wire them. Airflow and Cosmos are imported
inside the functions so that reading the schedule table never imports Airflow.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from data_gcp.config import Settings, get_settings, workspace_root
from data_gcp.log import get_logger

log = get_logger(__name__)

DBT_PROJECT_NAME = "data_gcp"


@contextmanager
def local_writer(keep_dbt_results: bool = False) -> Iterator[None]:
    """Locally, a task writing the warehouse holds its writer lock (`data_gcp.warehouse.warehouse_writer`):
    a run triggered from `data-gcp ui` and `data-gcp run` take turns instead of failing on DuckDB's
    file lock. A dbt task keeps its `run_results.json`/`sources.json` for the UI's health page. In the
    cloud: nothing (BigQuery takes concurrent jobs)."""
    settings = get_settings()
    if settings.is_cloud:
        yield
        return
    from data_gcp.warehouse import warehouse_writer

    ids = _task_ids()
    what = f"task {ids[0]}.{ids[2]} of run {ids[1]}" if ids else "an Airflow task"
    with warehouse_writer(settings, what, on_wait=log.warning):
        since = time.time()
        try:
            yield
        finally:
            if keep_dbt_results and ids:
                from data_gcp.dbt_runner import keep_artifacts

                keep_artifacts(settings, ids[0], ids[1], ids[2], since)


def _task_ids() -> tuple[str, str, str] | None:
    """(dag id, run id, task id) of the running Airflow task, None outside one."""
    try:
        from airflow.sdk import get_current_context

        ti = get_current_context()["ti"]
    except Exception:  # noqa: BLE001 - called outside a task (a test, a shell)
        return None
    return str(ti.dag_id), str(ti.run_id), str(ti.task_id)


def run_cli_job(argv: list[str], job: str, tasks: int = 1) -> None:
    """The callable of every CLI task (kept at module level so its name is stable in logs).

    `tasks`: the Cloud Run tasks of the execution (the schedule table's `tasks`). A task updating
    assets writes the days its run processed into their events (`trigger`), so the runs they trigger
    process the same days.
    """
    from data_gcp.execution import run_job

    with local_writer():
        run_job(argv, job=job, tasks=tasks)
    _mark_outlets()


def _mark_outlets() -> None:
    from airflow.sdk import get_current_context

    from data_gcp.orchestration.trigger import mark_outlet_days, run_days

    context = get_current_context()
    if context.get("outlets"):
        mark_outlet_days(context, run_days(context["dag_run"]))


def cli_task(
    task_id: str,
    argv: list[str],
    *,
    job: str = "etl-job",
    outlets: list[Any] | None = None,
    tasks: int = 1,
) -> Any:
    """A TaskFlow task running `data-gcp <argv>` as `tasks` Cloud Run tasks (one locally); argv items
    are Jinja-templated (`FIRST_DAY`, `LAST_DAY`)."""
    from airflow.sdk import task

    return task(run_cli_job, task_id=task_id, outlets=outlets or [])(argv, job, tasks=tasks)


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


def run_dbt(
    command: list[str],
    select: list[str],
    vars: dict[str, str] | None = None,
    full_refresh: bool | str = False,
) -> None:
    """The callable of the dbt tasks outside Cosmos: dbt in this worker's process, like Cosmos' own.

    `vars` (rendered from `trigger.DBT_VARS`: the run's days, or the backfill's) name the days the
    incremental models rewrite; an empty value leaves dbt's default. A failure raises DbtRunError
    naming each failing node and dbt's message (the task log shows it).
    """
    from data_gcp.dbt_runner import invoke

    given = {name: value for name, value in (vars or {}).items() if value not in (None, "")}
    refresh = full_refresh if isinstance(full_refresh, bool) else str(full_refresh).lower() == "true"
    with local_writer(keep_dbt_results=True):
        invoke(
            command,
            select=select or None,
            vars=given or None,
            full_refresh=refresh and command[:1] != ["test"],
        )


def check_source_freshness(strict: bool | None = None) -> None:
    """The callable of the freshness task: `dbt source freshness` on the raw sources (thresholds in
    the sources' YAML).

    In the cloud a source past its error threshold fails the task, so the run ends failed and alerts;
    the build still runs with what is there. Locally the sandbox is generated once and ages, so a late
    source is logged as a warning, with what to do, and never stops the chain. `strict` overrides.
    """
    from data_gcp.dbt_runner import source_freshness

    strict = get_settings().is_cloud if strict is None else strict
    with local_writer(keep_dbt_results=True):
        result = source_freshness(check=strict)
    if not result.success:
        late = ", ".join(
            f"{uid.split('.')[-1]} ({msg})"
            for uid, msg in sorted(result.messages.items())
            if result.statuses.get(uid) == "error"
        )
        log.warning(
            "raw sources past their error threshold: %s; locally, regenerate the sandbox "
            "(`data-gcp sandbox generate`) to bring them up to date",
            late or result.exception,
        )


def freshness_task(task_id: str) -> Any:
    from airflow.sdk import task

    return task(check_source_freshness, task_id=task_id)()


def dbt_command_task(task_id: str, command: list[str], select: list[str] | None = None) -> Any:
    from airflow.sdk import task

    from data_gcp.orchestration.trigger import DBT_FULL_REFRESH, DBT_VARS

    return task(run_dbt, task_id=task_id)(command, list(select or []), dict(DBT_VARS), DBT_FULL_REFRESH)


def read_manifest(path: Path | None = None) -> dict[str, Any] | None:
    """The manifest Cosmos renders from, or None without one; a stale one is refused (never trusted:
    it would render tasks for models that no longer exist, or miss new ones)."""
    from data_gcp.config import DataGcpError
    from data_gcp.dbt_runner import stale_manifest_reason

    path = path or dbt_manifest_path()
    if not path.is_file():
        return None
    reason = stale_manifest_reason(path, dbt_project_dir())
    if reason:
        raise DataGcpError(
            f"the dbt DAG is not rendered from a stale manifest: {reason}; run `data-gcp dbt parse`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _ancestors(manifest: dict[str, Any]) -> dict[str, set[str]]:
    parents = {uid: set(n.get("depends_on", {}).get("nodes", [])) for uid, n in manifest["nodes"].items()}
    memo: dict[str, set[str]] = {}

    def up(uid: str) -> set[str]:
        if uid not in memo:
            memo[uid] = set()
            for p in parents.get(uid, ()):
                memo[uid] |= {p} | up(p)
        return memo[uid]

    return {uid: up(uid) for uid in parents}


def tests_outside_model_tasks(manifest: dict[str, Any]) -> list[str]:
    """Names of the data tests no per-model task runs, sorted.

    A model's task (`dbt build --select <model> --indirect-selection buildable`) runs a test of that
    model only when every other parent of the test is upstream of the model. A relationships test
    between two models neither of which is the other's ancestor, and a test of a source (Cosmos renders
    no task for sources), run in the final `tests` task instead.
    """
    ancestors = _ancestors(manifest)
    models = {
        uid for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "snapshot", "seed")
    }
    left = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        parents = set(node.get("depends_on", {}).get("nodes", []))
        covered = any(m in parents and parents <= {m} | ancestors.get(m, set()) for m in parents & models)
        if not covered:
            left.append(node["name"])
    return sorted(left)


def dbt_task_group(group_id: str = "dbt", settings: Settings | None = None) -> Any:
    """One Airflow task per dbt model (`dbt build --select <model>`: the model, then its tests), rendered
    by Cosmos from the precompiled `dbt/target/manifest.json` so parsing the DAG never runs dbt; then a
    `<group_id>_tests` task running the data tests no model task selects (`tests_outside_model_tasks`).

    dbt runs on the Airflow workers (dbtRunner in the task's process; dbt-bigquery in the cloud), as
    every other dbt command of the platform does. Without a manifest (a fresh clone before
    `data-gcp dbt parse`) the DAG still parses: one task runs `dbt build` for the whole project. A
    manifest older than the dbt files is refused (the DAG fails to import, saying so).

    Where `Settings.dbt_single_build` (the local default), the group is that single `dbt build` task
    too: one dbt start-up instead of one per model, and the model reports (`data-gcp ui`) still show
    each node from the run's results.

    Returns (first, last): the tasks to wire the group between.
    """
    settings = settings or get_settings()
    if settings.dbt_single_build:
        # Locally (`Settings.dbt_single_build`): one `dbt build` of the whole project, every test included.
        only = dbt_command_task(f"{group_id}_build", ["build"])
        return only, only
    manifest = read_manifest()
    if manifest is None:
        only = dbt_command_task(f"{group_id}_build", ["build"])
        return only, only

    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    from data_gcp.orchestration.trigger import DBT_FULL_REFRESH, DBT_VARS

    project_dir = dbt_project_dir()
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=project_dir,
            manifest_path=dbt_manifest_path(),
            project_name=DBT_PROJECT_NAME,
            # the run's days (or the backfill's, from the DAG params) for the incremental models, as
            # the environment variables dbt/macros/incremental.sql reads (rendered per task)
            env_vars={
                **dbt_env(settings),
                **{f"DBT_{name.upper()}": value for name, value in DBT_VARS.items()},
            },
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
        # A backfill from the DAG params may ask for a full refresh of the incremental models.
        operator_args={
            "indirect_selection": "buildable",
            "full_refresh": DBT_FULL_REFRESH,
        },
    )
    remaining = tests_outside_model_tasks(manifest)
    if not remaining:
        return group, group
    tests = dbt_command_task(f"{group_id}_tests", ["test"], remaining)
    group >> tests
    return group, tests


def _assets_updated() -> None:
    """Emit the task's outlets once everything upstream succeeded, naming the days the run processed.

    An asset-triggered run that processed no day (a rebuild after an hourly or weekly landing: its
    trigger names no day of the DAG's `day_from` assets) is skipped here, so it emits no event and
    the DAGs downstream do not process a day twice.
    """
    from airflow.exceptions import AirflowSkipException
    from airflow.sdk import get_current_context

    from data_gcp.orchestration.trigger import mark_outlet_days, run_days

    context = get_current_context()
    days = run_days(context["dag_run"])
    if days is None:
        raise AirflowSkipException("this run names no new day (a rebuild): no asset event emitted")
    mark_outlet_days(context, days)


def asset_task(task_id: str, outlets: list[Any]) -> Any:
    """A task that only marks `outlets` as updated (after a task group that cannot carry outlets)."""
    from airflow.sdk import task

    return task(_assets_updated, task_id=task_id, outlets=outlets)()
