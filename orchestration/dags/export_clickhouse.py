"""The pro portal's statistics (ClickHouse), once the models are built.

Triggered by the models' asset: its day is the one the asset event names (`TRIGGER_DAY`). Each day
replaces its own partitions, so a re-run duplicates nothing."""

from airflow.sdk import dag

from data_gcp.orchestration import TRIGGER_DAY, cli_task, dag_kwargs, get_spec

DAG_ID = "export_clickhouse"


@dag(**dag_kwargs(DAG_ID))
def export_clickhouse() -> None:
    cli_task(
        "export_clickhouse", ["dbt", "export", "clickhouse", "--date", TRIGGER_DAY], job=get_spec(DAG_ID).job
    )


export_clickhouse()
