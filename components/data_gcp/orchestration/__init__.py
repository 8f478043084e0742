"""Orchestration policy: the schedule table, DAG defaults and failure alerts, task builders for DAG files.

Reading the table imports neither Airflow nor Cosmos; the builders import them when called.
"""

from data_gcp.orchestration.defaults import (
    ALERTED_RUN_TYPES,
    FIRST_DAY,
    LAST_DAY,
    dag_kwargs,
    default_args,
    outlets_for,
    schedule_for,
    task_failure_alert,
)
from data_gcp.orchestration.schedules import (
    DBT_MODELS,
    RAW_APPLICATIVE,
    TIMEZONE,
    DagSpec,
    UnknownDagError,
    chain_order,
    etl_dag_id,
    fires_daily,
    get_spec,
    raw_asset,
    schedule_table,
)
from data_gcp.orchestration.tasks import (
    asset_task,
    cli_task,
    dbt_env,
    dbt_manifest_path,
    dbt_project_dir,
    dbt_task_group,
    freshness_task,
    read_manifest,
    run_cli_job,
    run_dbt,
    tests_outside_model_tasks,
)
from data_gcp.orchestration.trigger import TRIGGER_DAY, event_days, run_days, trigger_day

__all__ = [
    "asset_task",
    "ALERTED_RUN_TYPES",
    "FIRST_DAY",
    "LAST_DAY",
    "DBT_MODELS",
    "RAW_APPLICATIVE",
    "TIMEZONE",
    "DagSpec",
    "UnknownDagError",
    "chain_order",
    "cli_task",
    "dag_kwargs",
    "dbt_env",
    "dbt_manifest_path",
    "dbt_project_dir",
    "dbt_task_group",
    "freshness_task",
    "default_args",
    "etl_dag_id",
    "fires_daily",
    "get_spec",
    "outlets_for",
    "raw_asset",
    "read_manifest",
    "run_dbt",
    "tests_outside_model_tasks",
    "run_cli_job",
    "schedule_for",
    "schedule_table",
    "task_failure_alert",
    "TRIGGER_DAY",
    "event_days",
    "run_days",
    "trigger_day",
]
