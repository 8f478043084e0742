"""One DAG per external connector of the registry: `data-gcp etl run <system>` for the days the run processes."""

from airflow.sdk import dag

from data_gcp.orchestration import (
    FIRST_DAY,
    LAST_DAY,
    cli_task,
    dag_kwargs,
    get_spec,
    outlets_for,
    schedule_table,
)


def _connector_dag(dag_id: str, system: str) -> None:
    @dag(**dag_kwargs(dag_id))
    def connector() -> None:
        cli_task(
            f"extract_load_{system}",
            ["etl", "run", system, "--start", FIRST_DAY, "--end", LAST_DAY],
            job=get_spec(dag_id).job,
            outlets=outlets_for(dag_id),
        )

    connector()


for _dag_id in schedule_table():
    if _dag_id.startswith("etl_"):
        _connector_dag(_dag_id, _dag_id.removeprefix("etl_"))
