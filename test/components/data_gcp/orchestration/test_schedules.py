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
    raw_asset,
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
                # producers landing daily in every cloud env must all land first; a weekly one, or one
                # scheduled in some envs only, triggers a run of its own
                crons = [spec.cron_for(env) for env in (Env.dev, Env.stg, Env.prod)]
                daily = all(c and sched.fires_daily(c) for c in crons)
                assert asset in (dbt.after if daily else dbt.after_any), dag_id
    order = chain_order()
    raw_producers = [d for d in order if any(a.startswith("warehouse://raw/") for a in table[d].produces)]
    assert all(order.index(d) < order.index("dbt_run") for d in raw_producers)


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
    from data_gcp import etl_core as etl  # a broken import must fail the test, never skip it

    for connector in etl.list_connectors():
        spec = get_spec(f"etl_{connector.name}")
        assert spec.cron_for(Env.prod) == connector.schedule
        assert {e for e in (Env.dev, Env.stg, Env.prod) if spec.cron_for(e)} == {
            Env(e) for e in connector.cloud_envs
        }
        assert spec.local_chain


def test_referentials_and_seed_files_run_before_dbt_in_the_local_chain():
    order = chain_order()
    for dag_id in ("etl_api_referentials", "etl_seed_files"):
        assert order.index(dag_id) < order.index("dbt_run"), order
    # the daily seed files hold dbt back; the weekly referential only triggers one more run
    dbt = get_spec("dbt_run")
    assert raw_asset("seed_files") in dbt.after
    assert raw_asset("api_referentials") in dbt.after_any and raw_asset("api_referentials") not in dbt.after
    assert get_spec("etl_api_referentials").cron_for(Env.prod) == "0 3 * * 1"


def test_chain_order_puts_the_producers_of_any_asset_first(monkeypatch):
    reader = DagSpec("reader", "", "o", ("t",), after=("asset://a",), after_any=("asset://ref",))
    a = DagSpec("a", "", "o", ("t",), produces=("asset://a",))
    ref = DagSpec("ref", "", "o", ("t",), produces=("asset://ref",), after=("asset://a",))
    monkeypatch.setattr(sched, "schedule_table", lambda: {"reader": reader, "a": a, "ref": ref})
    assert chain_order(["reader", "a", "ref"]) == ["a", "ref", "reader"]


def test_metabase_governance_is_scheduled_in_production_only():
    spec = get_spec("etl_metabase")
    assert spec.cron_for(Env.prod) == "0 8 * * *"
    assert spec.cron_for(Env.dev) is None and spec.cron_for(Env.stg) is None


def test_a_run_with_no_data_interval_processes_the_day_before_it_runs() -> None:
    """A Trigger with no logical date: `data_interval_*` are not in the task's context (Jinja gives
    an undefined value); the run processes the Paris day before now, like any run started by hand."""
    import datetime as dt

    from jinja2 import StrictUndefined, Undefined

    from data_gcp.config import processing_day
    from data_gcp.orchestration.defaults import run_processed_days

    today_before = processing_day()
    for missing in (None, Undefined(name="data_interval_start"), StrictUndefined(name="data_interval_end")):
        days = run_processed_days(missing, missing)
        assert (days.start, days.end) == (today_before, today_before)
    # a run with an interval (a backfill's day in Paris, 2026-03-05) keeps its own day
    start = dt.datetime(2026, 3, 4, 23, tzinfo=dt.UTC)
    days = run_processed_days(start, start + dt.timedelta(days=1))
    assert (days.start, days.end) == (dt.date(2026, 3, 5), dt.date(2026, 3, 5))
