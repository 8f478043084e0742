"""The dlt pipeline factory and the load of one run's batches.

Destination by environment: DuckDB file `Settings.duckdb_path`, dataset (schema) `raw` locally;
BigQuery dataset `raw_<env>` in the cloud. Tables land as `raw.<system>_<object>` exactly (dlt's
snake_case naming keeps our names unchanged).

What dlt adds, documented in docs/connectors.md:
- Arrow batches get no `_dlt_id`/`_dlt_load_id` columns (dlt's defaults for Arrow), so the tables hold
  exactly the spec's columns;
- dlt's own bookkeeping tables `_dlt_loads`, `_dlt_version`, `_dlt_pipeline_state` in `raw`, and a
  staging schema `raw_staging` used by merge / replace (rows are copied from it in one transaction).

Atomicity: every HTTP call of a run happens before dlt sees a row (batches are collected first), so a
failed extraction writes nothing; the pipeline working folder is a fresh temporary folder per run, so
no half-extracted package from a failed run can be loaded later; replace uses `insert-from-staging`
and merge runs as one SQL transaction per table.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from data_gcp.config import DataGcpError, Settings
from data_gcp.etl_core.spec import TableSpec
from data_gcp.log import get_logger, redact

log = get_logger(__name__)

_DLT_ENV = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",  # no network calls of our own making
    "PROVIDERS__ENABLE_AIRFLOW_SECRETS": "false",  # importing Airflow costs ~25 s; secrets are ours
    "DESTINATION__REPLACE_STRATEGY": "insert-from-staging",
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "false",
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID": "false",
    "RUNTIME__LOG_LEVEL": "WARNING",
    "RESTORE_FROM_DESTINATION": "false",  # no dlt state to restore: the window is the state
}


class LoadError(DataGcpError):
    """The destination refused a load; names the system and the tables."""


def destination_for(settings: Settings) -> Any:
    """dlt destination for the environment (created lazily, nothing is opened here)."""
    import dlt

    if settings.is_cloud:
        from dlt.common.configuration.specs import GcpServiceAccountCredentials

        credentials = GcpServiceAccountCredentials()
        credentials.project_id = settings.project_id  # other fields: application default credentials
        return dlt.destinations.bigquery(credentials=credentials, location=settings.bq_location)
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    return dlt.destinations.duckdb(credentials=str(settings.duckdb_path))


@contextmanager
def dlt_pipeline(system: str, settings: Settings, dataset: str = "raw") -> Iterator[Any]:
    """A dlt pipeline in a fresh temporary working folder, removed afterwards.

    Why fresh: state lives in our window arguments, not in dlt's state, so a re-run of a window is
    reproducible and a failed run leaves no pending package behind.
    """
    import dlt

    for key, value in _DLT_ENV.items():
        os.environ.setdefault(key, value)
    workdir = tempfile.mkdtemp(prefix=f"dlt_{system}_")
    try:
        pipeline = dlt.pipeline(
            pipeline_name=f"data_gcp_{system}" + ("" if dataset == "raw" else f"_{dataset}"),
            destination=destination_for(settings),
            dataset_name=settings.dataset(dataset),
            pipelines_dir=workdir,
            progress=None,
        )
        yield pipeline
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def dlt_resource(spec: TableSpec, data: Any) -> Any:
    """One `dlt.resource` per table, with the spec's write disposition and keys.

    `data`: an Arrow table, or a spooled table (anything with `batches()`), read batch by batch.
    """
    import dlt

    hints: dict[str, Any] = {"name": spec.name, "table_name": spec.name}
    if spec.write == "replace":
        hints["write_disposition"] = "replace"
    else:
        hints["write_disposition"] = {"disposition": "merge", "strategy": "delete-insert"}
        if spec.write == "upsert":
            hints["primary_key"] = list(spec.primary_key)
        else:
            hints["merge_key"] = list(spec.merge_key)
    if spec.partition:
        hints["columns"] = {spec.partition: {"partition": True}}
    rows = data.batches() if hasattr(data, "batches") else [data]
    return dlt.resource(rows, **hints)


def load_tables(
    system: str, settings: Settings, specs: Mapping[str, TableSpec], data: Mapping[str, Any]
) -> dict[str, int]:
    """Load every table of one run, one dlt run per dataset (`TableSpec.dataset`); rows per table.

    `data`: Arrow tables, or spooled tables (`etl_core.runner.SpooledTable`) read batch by batch.
    """
    if not data:
        return {}
    by_dataset: dict[str, list[str]] = {}
    for name in data:
        by_dataset.setdefault(specs[name].dataset, []).append(name)
    for dataset, names in by_dataset.items():
        resources = [dlt_resource(specs[name], data[name]) for name in names]
        with dlt_pipeline(system, settings, dataset) as pipeline:
            try:
                pipeline.run(resources)
            except Exception as err:  # dlt wraps destination errors in PipelineStepFailed
                cause = err.__cause__ or err
                raise LoadError(
                    f"{system}: loading {', '.join(names)} into {settings.dataset(dataset)} failed: "
                    f"{redact(str(cause))[:500]}"
                ) from None
            finally:
                _close_duckdb(pipeline)
    return {name: table.num_rows for name, table in data.items()}


def _close_duckdb(pipeline: Any) -> None:
    """DuckDB allows one writer per file: make sure dlt holds no connection once the run is over."""
    try:
        credentials = pipeline.destination_client().config.credentials
        close = getattr(credentials, "close_conn", None) or getattr(credentials, "return_conn", None)
        if getattr(credentials, "_conn", None) is not None and close:
            close()
    except Exception:  # best effort: nothing to close on BigQuery
        pass


def _literal(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat()}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if "\\" in text:  # DuckDB and BigQuery read a backslash differently: never guess
        raise LoadError(f"a scope value with a backslash cannot be cleared: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def create_empty_tables(settings: Settings, specs: list[TableSpec]) -> list[str]:
    """Create, empty with their declared schema, the tables of `specs` that do not exist yet.

    Why: dlt creates a table only when it loads rows, so a table whose first runs had none (Batch
    stats in a quiet week) was missing, and the dbt models reading it failed with "Not found".
    Returns the tables created.
    """
    import pyarrow as pa

    from data_gcp.warehouse import get_warehouse

    if not specs:
        return []
    tables = {s.qualified_name: pa.schema([f.with_nullable(True) for f in s.arrow_schema]) for s in specs}
    partitions = {s.qualified_name: s.partition for s in specs if s.partition}
    return get_warehouse(settings).create_missing_tables(tables, partitions)


def clear_units(
    system: str,
    settings: Settings,
    specs: Mapping[str, TableSpec],
    units: Mapping[str, list[tuple[Any, ...]]],
) -> list[str]:
    """Delete the rows of each (partition, *scope) unit: days a run read in full that now have none.

    Why: dlt's delete-insert only replaces the merge-key values it receives, so a re-run of a day
    that now returns zero rows would keep that day's old rows. Runs after the load, so a failed
    load never clears anything. Returns the units cleared, as text.
    """
    from data_gcp.warehouse import get_warehouse

    done: list[str] = []
    if not any(units.values()):
        return done
    wh = get_warehouse(settings)
    for name, table_units in units.items():
        spec = specs[name]
        if not table_units or not wh.table_exists(spec.qualified_name):
            continue
        columns = [spec.partition or "", *spec.scope]
        conditions = " OR ".join(
            "(" + " AND ".join(f"{c} = {_literal(v)}" for c, v in zip(columns, unit, strict=True)) + ")"
            for unit in table_units
        )
        try:
            wh.execute(f"DELETE FROM {wh.physical(spec.qualified_name)} WHERE {conditions}")
        except Exception as err:
            raise LoadError(
                f"{system}: clearing emptied days of {spec.qualified_name} failed: {redact(str(err))[:300]}"
            ) from None
        done.extend(f"{name}[{'/'.join(str(v) for v in unit)}]" for unit in table_units)
    return done
