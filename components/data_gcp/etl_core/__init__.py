"""The connector pattern: specs, registry, date windows, the dlt pipeline factory and the runner.

See docs/connectors.md for how to add a connector.
"""

from data_gcp.etl_core.guards import BadRecords, BadRecordsError, MassActionError, guard_mass_action
from data_gcp.etl_core.pipeline import LoadError, clear_units, destination_for, dlt_pipeline, load_tables
from data_gcp.etl_core.registry import CONNECTOR_MODULES, get_connector, list_connectors
from data_gcp.etl_core.runner import (
    EmptySourceError,
    PartialRunError,
    RunResult,
    base_url_for,
    build_context,
    collect,
    extract_tables,
    run_connector,
    select_objects,
    spool,
    units_to_clear,
)
from data_gcp.etl_core.spec import Batch, Column, Connector, RunContext, TableSpec
from data_gcp.etl_core.values import email_hash, email_hash_column, utc_timestamp, utc_timestamp_column
from data_gcp.etl_core.window import DateWindow

__all__ = [
    "BadRecords",
    "BadRecordsError",
    "MassActionError",
    "guard_mass_action",
    "CONNECTOR_MODULES",
    "Batch",
    "Column",
    "Connector",
    "DateWindow",
    "EmptySourceError",
    "LoadError",
    "PartialRunError",
    "RunContext",
    "RunResult",
    "TableSpec",
    "base_url_for",
    "build_context",
    "clear_units",
    "email_hash",
    "email_hash_column",
    "spool",
    "units_to_clear",
    "utc_timestamp",
    "utc_timestamp_column",
    "extract_tables",
    "collect",
    "destination_for",
    "dlt_pipeline",
    "get_connector",
    "list_connectors",
    "load_tables",
    "run_connector",
    "select_objects",
]
