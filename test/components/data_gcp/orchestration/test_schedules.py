"""The schedule table: crons per environment, data-triggered DAGs, the order of the local chain."""

from __future__ import annotations

import pytest

from data_gcp.config import DataGcpError, Env
from data_gcp.orchestration import (
    RAW_APPLICATIVE,
    DagSpec,
    UnknownDagError,
    chain_order,
    get_spec,
    schedule_table,
)
from data_gcp.orchestration import schedules as sched


def test_every_entry_has_owner_tags_and_a_schedule_or_trigger():
    for dag_id, spec in schedule_table().items():
        assert spec.owner and spec.tags, dag_id
        assert spec.after or any(spec.cron.get(e) for e in (Env.dev, Env.stg, Env.prod)), dag_id
        assert spec.cron_for(Env.local) is None, dag_id
        assert spec.retries_for(Env.local) == 0 and spec.retries_for(Env.prod) == spec.retries > 0


def test_import_runs_at_one_and_dbt_waits_for_every_raw_producer():
    assert get_spec("import_applicative_database").cron_for(Env.prod) == "0 1 * * *"
    dbt = get_spec("dbt_run")
    assert RAW_APPLICATIVE in dbt.after
    table = schedule_table()
    for dag_id, spec in table.items():
        for asset in spec.produces:
            if asset.startswith("warehouse://raw/"):
                # daily producers must all land first; a weekly one triggers a run of its own
                daily = sched.fires_daily(spec.cron_for(Env.prod) or "* * * * *")
                assert asset in (dbt.after if daily else dbt.after_any), dag_id
    order = chain_order()
    assert all(order.index(d) < order.index("dbt_run") for d in order if d != "dbt_run")


def test_fires_daily_reads_the_day_fields_of_a_cron():
    assert sched.fires_daily("0 1 * * *") and sched.fires_daily("0 */6 * * *")
    assert not sched.fires_daily("0 4 * * 1") and not sched.fires_daily("0 0 1 * *")


def test_unknown_dag_names_the_table():
    with pytest.raises(UnknownDagError, match="schedules.py"):
        get_spec("nope")


def test_cron_and_assets_are_exclusive():
    with pytest.raises(DataGcpError):
        DagSpec("x", "", "o", ("t",), cron={Env.prod: "0 1 * * *"}, after=("warehouse://raw/x",))


def test_chain_order_follows_assets_and_detects_cycles(monkeypatch):
    a = DagSpec("a", "", "o", ("t",), after=("asset://b",), produces=("asset://a",))
    b = DagSpec("b", "", "o", ("t",), produces=("asset://b",))
    c = DagSpec("c", "", "o", ("t",), after=("asset://a",))
    monkeypatch.setattr(sched, "schedule_table", lambda: {"c": c, "a": a, "b": b})
    assert chain_order(["c", "a", "b"]) == ["b", "a", "c"]
    cyclic = DagSpec("b", "", "o", ("t",), after=("asset://a",), produces=("asset://b",))
    monkeypatch.setattr(sched, "schedule_table", lambda: {"a": a, "b": cyclic})
    with pytest.raises(DataGcpError, match="cycle"):
        chain_order(["a", "b"])


def test_connectors_of_the_registry_get_a_dag_each():
    etl = pytest.importorskip("data_gcp.etl_core")
    for connector in etl.list_connectors():
        spec = get_spec(f"etl_{connector.name}")
        assert spec.cron_for(Env.prod) == connector.schedule
        assert spec.local_chain
