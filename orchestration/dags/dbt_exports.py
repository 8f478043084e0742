"""The partners' export files (dated Parquet in the bucket), once the dbt models are built.

Triggered by the models' asset: the run has no logical date, so its day is the one the asset event
names (`TRIGGER_DAY`), never `{{ ds }}`."""

from airflow.sdk import dag

from data_gcp.orchestration import TRIGGER_DAY, cli_task, dag_kwargs, get_spec

DAG_ID = "dbt_exports"


@dag(**dag_kwargs(DAG_ID))
def dbt_exports() -> None:
    cli_task(
        "export_ministry", ["dbt", "export", "ministry", "--date", TRIGGER_DAY], job=get_spec(DAG_ID).job
    )


dbt_exports()
