"""Daily import of the app database and app events into `raw` (then `dbt_run` follows, by asset)."""

from airflow.sdk import dag

from data_gcp.orchestration import LAST_DAY, cli_task, dag_kwargs, get_spec, outlets_for

DAG_ID = "import_applicative_database"


@dag(**dag_kwargs(DAG_ID))
def import_applicative_database() -> None:
    cli_task(
        "import_applicative",
        ["import", "applicative", "--date", LAST_DAY],
        job=get_spec(DAG_ID).job,
        outlets=outlets_for(DAG_ID),
    )


import_applicative_database()
