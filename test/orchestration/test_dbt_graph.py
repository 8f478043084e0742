"""The dbt DAG against the manifest: every data test runs in some task, every source has a producer
that dbt waits for in the cloud plan, and a stale manifest is refused."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from data_gcp.config import DataGcpError, Env, get_settings, reset_settings
from data_gcp.orchestration import etl_dag_id, raw_asset, read_manifest, schedule_table


def _dbt_tasks(dag):  # noqa: ANN001, ANN202
    """(command, selectors, indirect selection) of every task of the dbt DAG that runs dbt."""
    for task in dag.tasks:
        if type(task).__name__.startswith("DbtBuild"):
            select = task.select if isinstance(task.select, list) else [task.select]
            yield "build", select, task.indirect_selection
        elif getattr(task, "op_args", None) and task.op_args[0] in (["test"], ["build"]):
            yield task.op_args[0][0], task.op_args[1], None


@pytest.fixture(scope="module")
def parsed_project(tmp_path_factory):  # noqa: ANN001, ANN201
    """(dbt's parsed manifest object, its target folder): parsed once for both ways of running the
    DAG below (a full parse of the project each time otherwise)."""
    from data_gcp.dbt_runner import invoke

    target = tmp_path_factory.mktemp("dbt_ls") / "target"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_GCP_ENV", "local")
        mp.setenv("DATA_GCP_DATA_DIR", str(target.parent / "data"))
        reset_settings()
        try:
            return invoke(["parse"], target_path=target).raw, target
        finally:
            reset_settings()


@pytest.mark.parametrize("execution", ["per_model", "single_build"])
def test_every_data_test_of_the_manifest_runs_in_a_task_of_the_dag(
    load_dagbag, current_manifest, parsed_project, monkeypatch, execution
):
    """Asks dbt itself (`dbt ls`, with each task's own selection) which tests each task runs, for
    both ways the DAG runs the project (a task per model in the cloud, one build locally)."""
    from dbt.cli.main import dbtRunner

    from data_gcp.dbt_runner import dbt_env, project_dir

    monkeypatch.setenv("DATA_GCP_DBT_EXECUTION", execution)
    dag = load_dagbag().dags["dbt_run"]
    # dbt_build, models_ready, dbt_source_freshness
    assert (len(dag.tasks) == 3) == (execution == "single_build")
    expected = {uid for uid, n in current_manifest["nodes"].items() if n["resource_type"] == "test"}
    manifest, target = parsed_project
    base = ["--project-dir", str(project_dir()), "--profiles-dir", str(project_dir()), "--target", "local"]
    base += ["--target-path", str(target), "--resource-type", "test", "--output", "json"]
    base += ["--output-keys", "unique_id", "--quiet"]
    ran: dict[str, set[str]] = {}
    saved = dict(os.environ)
    os.environ.update(dbt_env(get_settings(), "local"))
    try:
        for command, select, indirect in _dbt_tasks(dag):
            args = ["ls", *base, *(["--select", *select] if select else [])]
            if indirect:
                args += ["--indirect-selection", indirect]
            res = dbtRunner(manifest=manifest).invoke(args)
            assert res.success, (select, res.exception)
            for line in res.result:
                ran.setdefault(json.loads(line)["unique_id"], set()).add(f"{command} {' '.join(select)[:60]}")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    missing = sorted(expected - set(ran))
    assert not missing, f"{len(missing)} of {len(expected)} data tests run in no task of dbt_run: {missing}"
    assert set(ran) == expected


def _raw_tables_by_dag() -> dict[str, set[str]]:
    """Each DAG's declared output tables: connector TableSpecs and the app-database import's spec."""
    from data_gcp.applicative_import import import_tables
    from data_gcp.etl_core import list_connectors

    out = {"import_applicative_database": {t.raw_table for t in import_tables(cloud=True)}}
    for connector in list_connectors():
        out[etl_dag_id(connector.name)] = {t.qualified_name for t in connector.tables}
    return out


def _asset_uris(condition) -> set[str]:  # noqa: ANN001
    if condition is None:
        return set()
    if hasattr(condition, "uri"):
        return {condition.uri}
    return set().union(*(_asset_uris(o) for o in getattr(condition, "objects", [])))


def test_every_dbt_source_has_a_cloud_producer_that_dbt_waits_for(load_dagbag, current_manifest, monkeypatch):
    monkeypatch.setenv("DATA_GCP_ENV", "prod")
    monkeypatch.setenv("DATA_GCP_PROJECT_ID", "test-project")
    reset_settings()
    bag = load_dagbag()
    assert bag.import_errors == {}
    table = schedule_table()
    producers: dict[str, set[str]] = {}
    for dag_id, tables in _raw_tables_by_dag().items():
        assert dag_id in table and table[dag_id].cron_for(Env.prod), f"{dag_id} is not scheduled in prod"
        for name in tables:
            producers.setdefault(name, set()).add(dag_id)
    waited = _asset_uris(bag.dags["dbt_run"].timetable.asset_condition)
    no_producer, not_waited = [], []
    for source in current_manifest["sources"].values():
        schema = "raw" if source["schema"].startswith("raw") else source["schema"]
        name = f"{schema}.{source['identifier']}"
        if name not in producers:
            no_producer.append(name)
            continue
        for dag_id in producers[name]:
            if (
                not set(
                    bag.dags[dag_id].tasks[-1].outlets and [a.uri for a in bag.dags[dag_id].tasks[-1].outlets]
                )
                & waited
            ):
                not_waited.append(f"{name} <- {dag_id}")
    assert not no_producer, f"dbt sources no cloud DAG writes: {sorted(no_producer)}"
    assert not not_waited, f"dbt does not wait for the producer of: {sorted(not_waited)}"
    assert raw_asset("brevo") in waited  # a connector, not only the app import


def test_a_stale_manifest_is_refused(current_manifest, tmp_path):
    from data_gcp.dbt_runner import FINGERPRINT_FILE
    from data_gcp.orchestration import dbt_manifest_path

    target = tmp_path / "target"
    target.mkdir()
    shutil.copy(dbt_manifest_path(), target / "manifest.json")
    # a manifest with no fingerprint (plain `dbt parse`, or copied from elsewhere)
    with pytest.raises(DataGcpError, match="stale manifest"):
        read_manifest(target / "manifest.json")
    # a fingerprint of other dbt files: a model deleted or edited since
    (target / FINGERPRINT_FILE).write_text("0" * 64)
    with pytest.raises(DataGcpError, match="dbt files changed"):
        read_manifest(target / "manifest.json")
    shutil.copy(dbt_manifest_path().parent / FINGERPRINT_FILE, target / FINGERPRINT_FILE)
    assert read_manifest(target / "manifest.json")["nodes"]


def test_source_freshness_fails_the_cloud_task_and_only_warns_locally(settings):
    """A raw table past its error threshold (users created 10 days ago; error after 7) fails the
    freshness task where it is strict (the cloud) and is a warning on a laptop's ageing sandbox."""
    import datetime as dt

    from data_gcp.dbt_runner import DbtRunError
    from data_gcp.orchestration.tasks import check_source_freshness
    from data_gcp.warehouse import get_warehouse

    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=10)
    wh = get_warehouse(settings)
    wh.execute("CREATE SCHEMA IF NOT EXISTS raw")
    wh.execute(
        f"CREATE TABLE raw.applicative_database_user AS SELECT 'u1' AS user_id, TIMESTAMP '{old:%Y-%m-%d %H:%M:%S}' AS user_creation_date"
    )

    with pytest.raises(DbtRunError, match="applicative_database_user"):
        check_source_freshness(strict=True)
    check_source_freshness(strict=False)  # logged, not raised
    # a command that failed after parsing still wrote a manifest of the current files: the DAG trusts it
    from data_gcp.dbt_runner import stale_manifest_reason
    from data_gcp.orchestration import dbt_manifest_path, dbt_project_dir

    assert stale_manifest_reason(dbt_manifest_path(), dbt_project_dir()) is None
