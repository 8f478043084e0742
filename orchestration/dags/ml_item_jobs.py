"""Item embeddings (changed items only), then topic clusters and record linkage, after the raw import."""

from airflow.sdk import dag

from data_gcp.orchestration import cli_task, dag_kwargs, get_spec, outlets_for

DAG_ID = "ml_item_jobs"


@dag(**dag_kwargs(DAG_ID))
def ml_item_jobs() -> None:
    spec = get_spec(DAG_ID)
    job = spec.job
    # each Cloud Run task embeds its shard of the changed items (CLOUD_RUN_TASK_INDEX / COUNT)
    embed = cli_task("embed_items", ["ml", "embed"], job=job, tasks=spec.task_count("embed_items"))
    cluster = cli_task("cluster_items", ["ml", "cluster"], job=job)
    link = cli_task("link_offers", ["ml", "link"], job=job, outlets=outlets_for(DAG_ID))
    embed >> [cluster, link]


ml_item_jobs()
