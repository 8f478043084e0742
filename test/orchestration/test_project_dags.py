"""What Composer runs: exactly the expected DAGs, and every task's command exists in the image of the
Cloud Run job that runs it.

Why a fixed list plus the registry's names: the schedule table is derived from the connectors that
load, so comparing the DagBag with it cannot see a DAG that vanished with a module. The connectors'
DAGs come from the names the registry lists (`CONNECTOR_MODULES`: a missing module still has its
name there, so its DAG is still expected; `data-gcp new connector` adds the name); every other DAG
is listed here on purpose.
"""

from __future__ import annotations

import importlib

import click
import pytest
import typer

from data_gcp.brick_graph import list_projects
from data_gcp.config import workspace_root
from data_gcp.etl_core import CONNECTOR_MODULES
from data_gcp.orchestration import etl_dag_id

EXPECTED_DAG_IDS = {
    "import_applicative_database",
    "dbt_run",
    "dbt_exports",
    "export_reco_cloudsql",
    "export_clickhouse",
    "ml_training",
    "ml_item_jobs",
    *(etl_dag_id(name) for name in CONNECTOR_MODULES),
}


def _cli_argv_and_job(task) -> tuple[list[str], str] | None:  # noqa: ANN001
    """(argv, job) of a task built by `cli_task`, None for other tasks (assets, Cosmos dbt nodes)."""
    if getattr(task, "python_callable", None) is None or task.python_callable.__name__ != "run_cli_job":
        return None
    argv, job = task.op_args
    return list(argv), job


def _job_entry_points() -> dict[str, tuple[str, typer.Typer]]:
    """Cloud Run job name -> (project, the Typer app its image's `data-gcp` runs)."""
    found: dict[str, tuple[str, typer.Typer]] = {}
    for project in list_projects(workspace_root()).values():
        jobs = project.deploy.get("jobs", {})
        if not jobs:
            continue
        import tomllib

        data = tomllib.loads((project.path / "pyproject.toml").read_text())
        module, _, _ = data["project"]["scripts"]["data-gcp"].partition(":")
        app = importlib.import_module(module).app
        for job in jobs:
            assert job not in found, f"Cloud Run job {job} is deployed by two projects"
            found[job] = (project.name, app)
    return found


def test_composer_gets_exactly_the_expected_dags(load_dagbag):
    bag = load_dagbag()
    assert bag.import_errors == {}
    assert set(bag.dags) == EXPECTED_DAG_IDS


@pytest.mark.parametrize("env", ["local", "prod"])
def test_every_task_command_exists_in_the_image_that_runs_it(load_dagbag, monkeypatch, env):
    if env == "prod":
        monkeypatch.setenv("DATA_GCP_ENV", "prod")
        monkeypatch.setenv("DATA_GCP_PROJECT_ID", "test-project")
    bag = load_dagbag()
    entry_points = _job_entry_points()
    checked = 0
    for dag in bag.dags.values():
        for task in dag.tasks:
            found = _cli_argv_and_job(task)
            if found is None:
                continue
            argv, job = found
            assert job in entry_points, f"{dag.dag_id}.{task.task_id}: no project deploys the job {job!r}"
            project, app = entry_points[job]
            command = typer.main.get_command(app)
            ctx = click.Context(command)
            words = [a for a in argv if not a.startswith("-") and "{{" not in a]
            group = command
            for word in words:
                if not isinstance(group, click.Group):
                    break
                sub = group.get_command(ctx, word)
                assert sub is not None, f"{dag.dag_id}.{task.task_id}: `{' '.join(argv)}` not in {project}"
                group = sub
            checked += 1
    assert checked >= len(EXPECTED_DAG_IDS) - 1  # every DAG but dbt's Cosmos group has a CLI task


# the commands that split their work over the tasks of a Cloud Run execution (CLOUD_RUN_TASK_INDEX /
# CLOUD_RUN_TASK_COUNT); any other command run as several tasks would run its whole work several times
SHARDED_COMMANDS = {("ml", "embed")}


def test_cloud_run_task_counts_come_from_the_schedule_table(load_dagbag):
    from data_gcp.orchestration import get_spec

    bag = load_dagbag()
    counts = {}
    for dag in bag.dags.values():
        for task in dag.tasks:
            if _cli_argv_and_job(task) is None:
                continue
            argv, _ = _cli_argv_and_job(task)
            tasks = task.op_kwargs.get("tasks", 1)
            assert tasks == get_spec(dag.dag_id).task_count(task.task_id), f"{dag.dag_id}.{task.task_id}"
            if tasks > 1:
                assert tuple(argv[:2]) in SHARDED_COMMANDS, f"{dag.dag_id}.{task.task_id} is not sharded"
            counts[f"{dag.dag_id}.{task.task_id}"] = tasks
    assert counts["ml_item_jobs.embed_items"] > 1  # the embeddings scale out over Cloud Run tasks


def test_a_bad_task_count_in_the_table_is_refused():
    from data_gcp.config import DataGcpError
    from data_gcp.orchestration.schedules import DagSpec

    for bad in (0, True, "4"):
        with pytest.raises(DataGcpError, match="task counts"):
            DagSpec("d", "", "o", (), tasks={"t": bad})
    assert DagSpec("d", "", "o", (), tasks={"t": 3}).task_count("other") == 1
