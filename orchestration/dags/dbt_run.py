"""The dbt models, one task per model with its tests, triggered when the raw imports have landed."""

from airflow.sdk import dag

from data_gcp.orchestration import asset_task, dag_kwargs, dbt_task_group, outlets_for

DAG_ID = "dbt_run"


@dag(**dag_kwargs(DAG_ID))
def dbt_run() -> None:
    dbt_task_group("dbt") >> asset_task("models_ready", outlets_for(DAG_ID))


dbt_run()
