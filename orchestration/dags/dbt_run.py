"""The dbt models, one task per model with its tests, then the cross-model and source tests; triggered
when every raw producer has landed (see the schedule table)."""

from airflow.sdk import dag

from data_gcp.orchestration import asset_task, dag_kwargs, dbt_task_group, outlets_for

DAG_ID = "dbt_run"


@dag(**dag_kwargs(DAG_ID))
def dbt_run() -> None:
    _first, last = dbt_task_group("dbt")
    last >> asset_task("models_ready", outlets_for(DAG_ID))


dbt_run()
