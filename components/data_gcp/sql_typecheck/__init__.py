"""BigQuery's type rules on the dbt project, offline: every compiled node is type-checked against
the declared tables (connectors, app database import) and the models' contracts (see core)."""

from data_gcp.sql_typecheck.core import (
    TypeProblem,
    TypeReport,
    check_manifest,
    check_project,
    check_sql,
    compatible,
    partition_filter_problems,
    required_partition_filters,
    source_columns,
)

__all__ = [
    "TypeProblem",
    "TypeReport",
    "check_manifest",
    "check_project",
    "check_sql",
    "compatible",
    "partition_filter_problems",
    "required_partition_filters",
    "source_columns",
]
