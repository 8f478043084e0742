"""The DAGs folder: loads without errors, matches the schedule table, and follows the platform policy."""

from __future__ import annotations

import datetime as dt
import json

from data_gcp.config import Env, get_settings, reset_settings
from data_gcp.orchestration import (
    DBT_MODELS,
    LOCAL_CRON,
    RAW_APPLICATIVE,
    chain_order,
    dbt_manifest_path,
    schedule_table,
    task_failure_alert,
)


def _cron(dag) -> str | None:  # noqa: ANN001
    return getattr(dag.timetable, "expression", None)


def _uris(condition) -> set[str]:  # noqa: ANN001
    if condition is None:
        return set()
    if hasattr(condition, "uri"):
        return {condition.uri}
    return set().union(*(_uris(o) for o in getattr(condition, "objects", [])))


def _asset_uris(dag) -> set[str]:  # noqa: ANN001
    return _uris(getattr(dag.timetable, "asset_condition", None))


def _has_cycle(dag) -> bool:  # noqa: ANN001
    state: dict[str, int] = {}

    def visit(task_id: str) -> bool:
        if state.get(task_id) == 1:
            return True
        if state.get(task_id) == 2:
            return False
        state[task_id] = 1
        if any(visit(d) for d in dag.task_dict[task_id].downstream_task_ids):
            return True
        state[task_id] = 2
        return False

    return any(visit(t) for t in dag.task_dict)


def test_dagbag_loads_without_import_errors(load_dagbag):
    bag = load_dagbag()
    assert bag.import_errors == {}
    assert bag.dags, "no DAG found in orchestration/dags"


def test_table_and_dags_match_and_follow_the_policy(load_dagbag):
    bag = load_dagbag()
    table = schedule_table()
    assert set(bag.dags) == set(table), "every table entry needs a DAG and every DAG a table entry"
    for dag_id, dag in bag.dags.items():
        spec = table[dag_id]
        assert not _has_cycle(dag), dag_id
        assert sorted(dag.tags) == sorted(spec.tags), dag_id
        assert dag.owner == spec.owner, dag_id
        assert dag.catchup is False, dag_id
        assert dag.default_args["retries"] == spec.retries_for(Env.local) == 0, dag_id
        for task in dag.tasks:
            assert task.owner == spec.owner, (dag_id, task.task_id)
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert task_failure_alert in callbacks, (dag_id, task.task_id)
        # locally a time-scheduled DAG covers one Paris day per run (Trigger, backfill and
        # `data-gcp run --date` name the day), never by its cloud cron; data-triggered DAGs keep
        # their assets
        assert _cron(dag) == (None if spec.after or spec.after_any else LOCAL_CRON), dag_id
        assert _asset_uris(dag) == set(spec.after) | set(spec.after_any), dag_id


def test_cloud_schedules_and_retries_come_from_the_table(load_dagbag, monkeypatch):
    monkeypatch.setenv("DATA_GCP_ENV", "prod")
    monkeypatch.setenv("DATA_GCP_PROJECT_ID", "test-project")
    reset_settings()
    assert get_settings().env is Env.prod
    bag = load_dagbag()
    assert bag.import_errors == {}
    table = schedule_table()
    for dag_id, dag in bag.dags.items():
        spec = table[dag_id]
        assert _cron(dag) == spec.cron_for(Env.prod), dag_id
        assert dag.default_args["retries"] == spec.retries > 0, dag_id
        assert dag.dagrun_timeout == dt.timedelta(minutes=spec.dagrun_timeout_minutes), dag_id
        for task in dag.tasks:
            assert task.retries == spec.retries, (dag_id, task.task_id)
            assert task.execution_timeout == dt.timedelta(minutes=spec.task_timeout_minutes), (
                dag_id,
                task.task_id,
            )
            assert task.execution_timeout < dag.dagrun_timeout, (dag_id, task.task_id)
    importer = bag.dags["import_applicative_database"]
    assert _cron(importer) == "0 1 * * *"
    # a run covers the interval since the previous tick: the days it processes follow from it
    assert type(importer.timetable).__name__ == "CronDataIntervalTimetable"
    assert str(importer.timezone.name) == "Europe/Paris"  # the reference schedules are Paris wall times


def test_import_triggers_dbt_through_an_asset(load_dagbag):
    bag = load_dagbag()
    importer = bag.dags["import_applicative_database"]
    outlets = {a.uri for t in importer.tasks for a in t.outlets}
    assert RAW_APPLICATIVE in outlets
    dbt = bag.dags["dbt_run"]
    assert RAW_APPLICATIVE in _asset_uris(dbt)
    assert DBT_MODELS in {a.uri for t in dbt.tasks for a in t.outlets}
    assert chain_order().index("import_applicative_database") < chain_order().index("dbt_run")


def test_dbt_dag_has_one_task_per_model_from_the_manifest(load_dagbag, current_manifest, monkeypatch):
    monkeypatch.setenv("DATA_GCP_DBT_EXECUTION", "per_model")  # the cloud's default
    manifest = dbt_manifest_path()
    nodes = json.loads(manifest.read_text())["nodes"].values()
    models = {n["name"] for n in nodes if n["resource_type"] == "model" and n["package_name"] == "data_gcp"}
    dag = load_dagbag().dags["dbt_run"]
    model_tasks = {
        t.task_id.split(".")[-1].removesuffix("_model_build") for t in dag.tasks if "_model_" in t.task_id
    }
    assert models and model_tasks == models
    # a model's task runs after the tasks of the models it selects from
    for node in nodes:
        if node["resource_type"] != "model" or node["package_name"] != "data_gcp":
            continue
        task = dag.task_dict[f"dbt.{node['name']}_model_build"]
        for parent in node["depends_on"]["nodes"]:
            name = parent.split(".")[-1]
            if parent.startswith("model.data_gcp."):
                assert f"dbt.{name}_model_build" in task.upstream_task_ids, (node["name"], name)


def test_local_dbt_dag_is_one_build_of_the_whole_project_and_the_cloud_one_a_task_per_model(
    load_dagbag, monkeypatch
):
    local = load_dagbag().dags["dbt_run"]
    assert set(local.task_dict) == {"dbt_build", "models_ready", "dbt_source_freshness"}
    assert list(local.task_dict["dbt_build"].op_args[:2]) == [["build"], []]
    monkeypatch.setenv("DATA_GCP_ENV", "prod")
    monkeypatch.setenv("DATA_GCP_PROJECT_ID", "test-project")
    cloud = load_dagbag().dags["dbt_run"]
    assert "dbt_build" not in cloud.task_dict
    assert sum(t.task_id.endswith("_model_build") for t in cloud.tasks) > 80


def test_dbt_dag_parses_without_a_manifest(load_dagbag, monkeypatch, tmp_path):
    import data_gcp.orchestration.tasks as tasks

    monkeypatch.setenv("DATA_GCP_DBT_EXECUTION", "per_model")
    monkeypatch.setattr(tasks, "dbt_manifest_path", lambda: tmp_path / "missing" / "manifest.json")
    bag = load_dagbag()
    assert bag.import_errors == {}
    dag = bag.dags["dbt_run"]
    assert set(dag.task_dict) == {"dbt_build", "models_ready", "dbt_source_freshness"}
    assert dag.task_dict["dbt_build"].op_args[0] == ["build"]  # the whole project, on the worker
