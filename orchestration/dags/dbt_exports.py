"""The partners' export files (dated Parquet in the bucket), once the dbt models are built."""

from airflow.sdk import dag

from data_gcp.orchestration import cli_task, dag_kwargs, get_spec

DAG_ID = "dbt_exports"


@dag(**dag_kwargs(DAG_ID))
def dbt_exports() -> None:
    cli_task("export_ministry", ["dbt", "export", "ministry", "--date", "{{ ds }}"], job=get_spec(DAG_ID).job)


dbt_exports()
