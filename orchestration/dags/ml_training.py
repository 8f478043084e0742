"""Weekly training of the recommendation models on the `ml` tables built by dbt."""

from airflow.sdk import dag

from data_gcp.orchestration import cli_task, dag_kwargs, get_spec

DAG_ID = "ml_training"


@dag(**dag_kwargs(DAG_ID))
def ml_training() -> None:
    job = get_spec(DAG_ID).job
    two_tower = cli_task("train_two_tower", ["ml", "train", "two-tower"], job=job)
    ranker = cli_task("train_ranker", ["ml", "train", "ranker"], job=job)
    two_tower >> ranker


ml_training()
