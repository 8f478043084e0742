"""Audit before publish: a model whose tests fail is not published, readers keep the previous version.

The planted fault: a user twice in the app database's raw table. `int_applicative__user` is rebuilt
with the duplicate, its `unique` test fails; the table dashboards read (`int_applicative`) keeps the
audited version, while the audit dataset shows the rows that were held back.
"""

from __future__ import annotations

import pytest

from data_gcp.config import reset_settings
from data_gcp.warehouse import get_warehouse

pytestmark = pytest.mark.slow

USER = "int_applicative.int_applicative__user"
AUDIT = "audit_int_applicative.int_applicative__user"
RAW = "raw.applicative_database_user"


def _counts(wh, table: str) -> tuple[int, int]:
    row = wh.query(f"select count(*) as n, count(distinct user_id) as ids from {table}").to_pylist()[0]
    return row["n"], row["ids"]


def _build_user(built_project, monkeypatch):
    from data_gcp import dbt_runner

    monkeypatch.setenv("DATA_GCP_ENV", "local")
    monkeypatch.setenv("DATA_GCP_DATA_DIR", str(built_project.settings.local_data_dir))
    monkeypatch.setenv("DBT_TARGET_PATH", str(built_project.target_path))
    reset_settings()
    try:
        return dbt_runner.build(
            select="int_applicative__user", target="ci", settings=built_project.settings, check=False
        )
    finally:
        reset_settings()


def test_a_model_whose_tests_fail_is_not_published(built_project, monkeypatch) -> None:
    wh = get_warehouse(built_project.settings)
    published = _counts(wh, USER)
    assert published[0] == published[1] > 0  # the full build published it: one row per user
    wh.create_dataset("tmp")
    wh.execute(f"create or replace table tmp.user_backup as select * from {RAW}")
    try:
        wh.execute(f"insert into {RAW} select * from {RAW} order by user_id limit 1")  # the planted duplicate
        result = _build_user(built_project, monkeypatch)
        failed = [n.split(".")[2] for n in result.failed]
        assert any(n.startswith("unique_int_applicative__user_user_id") for n in failed), result.failed
        assert _counts(wh, USER) == published  # readers keep the previous version
        assert _counts(wh, AUDIT) == (published[0] + 1, published[1])  # built, tested, held back
    finally:
        wh.execute(f"create or replace table {RAW} as select * from tmp.user_backup")
        wh.execute("drop table tmp.user_backup")
    # the fault fixed: the next build passes its tests and publishes (dropped first, so that the
    # published table can only be this build's copy, committed)
    wh.drop_table(USER)
    assert _build_user(built_project, monkeypatch).success
    assert _counts(wh, USER) == published == _counts(wh, AUDIT)


def test_a_build_that_leaves_the_tests_out_publishes_nothing(built_project, monkeypatch) -> None:
    from data_gcp import dbt_runner

    wh = get_warehouse(built_project.settings)
    wh.drop_table(USER)
    monkeypatch.setenv("DATA_GCP_ENV", "local")
    monkeypatch.setenv("DATA_GCP_DATA_DIR", str(built_project.settings.local_data_dir))
    monkeypatch.setenv("DBT_TARGET_PATH", str(built_project.target_path))
    reset_settings()
    try:
        untested = dbt_runner.build(
            select="int_applicative__user",
            exclude="test_type:data",
            target="ci",
            settings=built_project.settings,
        )
    finally:
        reset_settings()
    assert untested.success and not wh.table_exists(USER)
    assert _build_user(built_project, monkeypatch).success and wh.table_exists(USER)
