"""The dbt models with their tests (a task per model in the cloud, one build locally), and the raw
sources' freshness beside them; triggered when every raw producer has landed (see the schedule table).

The incremental models rewrite the days the run processes and their look-back; triggered by hand
with the params `first_day`/`last_day` it re-processes those days instead (a backfill), with
`full_refresh` it rebuilds them from their history."""

from airflow.sdk import dag

from data_gcp.orchestration import (
    asset_task,
    dag_kwargs,
    dbt_params,
    dbt_task_group,
    freshness_task,
    outlets_for,
)

DAG_ID = "dbt_run"


@dag(**dag_kwargs(DAG_ID), params=dbt_params())
def dbt_run() -> None:
    freshness_task("dbt_source_freshness")
    _first, last = dbt_task_group("dbt")
    last >> asset_task("models_ready", outlets_for(DAG_ID))


dbt_run()
