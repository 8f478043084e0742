"""The recommendation tables the app reads back (its PostgreSQL, Cloud SQL), once the models are built.

Triggered by the models' asset: its day is the one the asset event names (`TRIGGER_DAY`). The day's
rows replace that day's in every table, so a re-run duplicates nothing."""

from airflow.sdk import dag

from data_gcp.orchestration import TRIGGER_DAY, cli_task, dag_kwargs, get_spec

DAG_ID = "export_reco_cloudsql"


@dag(**dag_kwargs(DAG_ID))
def export_reco_cloudsql() -> None:
    cli_task(
        "export_reco_cloudsql",
        ["dbt", "export", "reco_cloudsql", "--date", TRIGGER_DAY],
        job=get_spec(DAG_ID).job,
    )


export_reco_cloudsql()
