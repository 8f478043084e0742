"""What the import copies, and the checks a source must pass before anything is written.

The tables come from `data_gcp.applicative_schema`; this module adds the import's view of them:
which raw table each lands in, the source column types it accepts, and the predicate that selects
the rows changed since the last watermark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import sqlalchemy as sa

from data_gcp.applicative_schema import APP_TABLES, TABLES, TableSpec
from data_gcp.config import DataGcpError

WATERMARK_TABLE = "raw.applicative_import_watermarks"
HISTORY_DATASET = "clean"
EPOCH = dt.datetime(1970, 1, 1)


class ImportError_(DataGcpError):
    """The source database does not match what the import expects; the message names table and column."""


# the families of source types each logical type accepts
ACCEPTED = {
    "int": {"int"},
    "float": {"float", "int"},
    "str": {"str"},
    "json": {"json", "str"},
    "bool": {"bool"},
    "ts": {"ts"},
    "date": {"date"},
}
# PostgreSQL `information_schema.columns.data_type` -> family (the cloud check reads these)
POSTGRES_FAMILIES = {
    "smallint": "int",
    "integer": "int",
    "bigint": "int",
    "double precision": "float",
    "real": "float",
    "numeric": "float",
    "text": "str",
    "character varying": "str",
    "character": "str",
    "uuid": "str",
    "boolean": "bool",
    "timestamp without time zone": "ts",
    "timestamp with time zone": "ts",
    "date": "date",
    "json": "json",
    "jsonb": "json",
}


def sqlalchemy_family(t: sa.types.TypeEngine) -> str:
    """The family of a reflected SQLAlchemy type (SQLite and PostgreSQL)."""
    if isinstance(t, sa.Boolean):
        return "bool"
    if isinstance(t, sa.Integer):
        return "int"
    if isinstance(t, sa.Float | sa.Numeric):
        return "float"
    if isinstance(t, sa.DateTime):
        return "ts"
    if isinstance(t, sa.Date):
        return "date"
    if isinstance(t, sa.JSON):
        return "json"
    if isinstance(t, sa.String):
        return "str"
    return type(t).__name__.lower()


def check_columns(spec: TableSpec, found: dict[str, str] | None) -> None:
    """Fail, naming table and column, when a table is missing or a column is absent or mistyped."""
    if found is None:
        raise ImportError_(
            f"source table {spec.name!r} is missing from the app database: nothing was imported "
            f"(generate the sandbox with `data-gcp sandbox generate`, or check the source URL)"
        )
    for col in spec.columns:
        family = found.get(col.name)
        if family is None:
            raise ImportError_(
                f"source table {spec.name!r} has no column {col.name!r}: nothing was imported "
                f"(the import expects {', '.join(spec.column_names)}; a local sandbox made by an "
                "older version gets them from `data-gcp sandbox generate`)"
            )
        if family not in ACCEPTED[col.type]:
            raise ImportError_(
                f"source column {spec.name}.{col.name} has type {family!r} where the import expects "
                f"{col.type!r}: nothing was imported"
            )


@dataclass(frozen=True)
class Plan:
    """How one table is read this run: in full, or rows since `since` / event days in [first, last].

    `keys_only`: the whole table's primary keys (its spec reduced to them, see `keys_plan`), read to
    find the rows the source deleted.
    """

    spec: TableSpec
    full: bool
    since: dt.datetime | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    since_key: int | None = None
    keys_only: bool = False

    @property
    def mode(self) -> str:
        return "full" if self.full else "incremental"


def keys_plan(spec: TableSpec) -> Plan:
    """Read every primary key of a table (only those columns: cheap next to the rows themselves)."""
    keys = tuple(c for c in spec.columns if c.name in spec.primary_key)
    only_keys = replace(
        spec,
        columns=keys,
        cursor_columns=(),
        partition_column=None,
        timestamp_partition=None,
        append_key=None,
        history=False,
        indexes=(),
    )
    return Plan(only_keys, True, keys_only=True)


def detects_deletions(plan: Plan) -> bool:
    """An incremental read of a table the app deletes rows from: its keys are read after its rows."""
    return plan.spec.deletes and bool(plan.spec.primary_key) and not plan.full and not plan.keys_only


def import_tables(cloud: bool) -> tuple[TableSpec, ...]:
    """Every app table; the planted truth only locally (production has none)."""
    return APP_TABLES if cloud else TABLES


def plan_table(
    spec: TableSpec, watermark: str | None, run_date: dt.date, full: bool, target_exists: bool
) -> Plan:
    """Full on `--full`, on the first run (no watermark or no target table), or for tables without cursor."""
    first_run = watermark is None or not target_exists
    if spec.partition_column:
        if full or first_run:
            return Plan(spec, True, last_day=run_date)
        first = min(dt.date.fromisoformat(watermark[:10]), run_date) - dt.timedelta(days=spec.late_days)
        return Plan(spec, False, first_day=first, last_day=run_date)
    if spec.append_key and not (full or first_run):
        return Plan(spec, False, since_key=int(watermark))
    if full or first_run or not spec.cursor_columns:
        return Plan(spec, True)
    return Plan(spec, False, since=dt.datetime.fromisoformat(watermark))


def where_clause(plan: Plan, placeholder: str = "?") -> tuple[str, list]:
    """The row filter of a plan in the source's SQL, with its parameters (`?` or `%s` style)."""
    spec = plan.spec
    if spec.partition_column:
        col = f'"{spec.partition_column}"'
        if plan.full:
            return f" WHERE {col} <= {placeholder}", [plan.last_day]
        return f" WHERE {col} >= {placeholder} AND {col} <= {placeholder}", [plan.first_day, plan.last_day]
    if plan.full:
        return "", []
    if plan.since_key is not None:
        return f' WHERE "{spec.append_key}" >= {placeholder}', [plan.since_key]
    ors = " OR ".join(f'"{c}" >= {placeholder}' for c in spec.cursor_columns)
    return f" WHERE ({ors})", [plan.since] * len(spec.cursor_columns)


def history_tables() -> list[TableSpec]:
    return [t for t in TABLES if t.history]


def history_table(spec: TableSpec) -> str:
    return f"{HISTORY_DATASET}.applicative_database_{spec.name}_history"
