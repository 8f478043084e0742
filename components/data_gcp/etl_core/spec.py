"""What a connector is: its tables (schemas, keys, write dispositions) and how it extracts them.

A connector is a subclass of `Connector` whose class attributes describe it (no I/O at import, so
`list_connectors()` is cheap for the DAG generator) and whose `extract(ctx)` yields Arrow batches per
table. The core (`run_connector`) does the rest: window, secrets, HTTP client, dlt load, atomicity.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import pyarrow as pa

from data_gcp.config import ConfigError, Settings, workspace_root
from data_gcp.etl_core.window import DateWindow

if TYPE_CHECKING:
    from data_gcp.http_client import Clock, HttpClient, RateLimiter, RetryPolicy

ColumnType = Literal["string", "int", "float", "bool", "date", "timestamp", "json"]
_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),  # JSON text: the same on DuckDB and BigQuery, parsed in dbt
}

# How a table is written (dlt write disposition behind each):
#   snapshot_day: rows of one snapshot day replace that day (dlt merge, merge_key=partition [+ keys])
#   window: rows of the window's days replace those days (dlt merge, merge_key=partition [+ scope])
#   upsert: rows replace the rows with the same primary key (dlt merge, primary_key)
#   replace: the whole table is replaced (dlt replace, insert-from-staging)
WriteKind = Literal["snapshot_day", "window", "upsert", "replace"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "string"
    description: str = ""
    nullable: bool = True


@dataclass(frozen=True)
class TableSpec:
    """One raw table `raw.<name>`; `object` is what `--object` selects."""

    name: str
    object: str
    columns: tuple[Column, ...]
    write: WriteKind
    description: str = ""
    primary_key: tuple[str, ...] = ()
    partition: str | None = None
    # extra columns of the replace scope besides the partition (e.g. `app`, `audience`): a run for
    # one app replaces that app's day only, never the other's
    scope: tuple[str, ...] = ()
    allow_empty: bool = True
    # logical dataset the table lands in: `raw` (`raw_<env>` in BigQuery), or `seed` for reference files
    dataset: str = "raw"

    @property
    def qualified_name(self) -> str:
        """`<dataset>.<name>`: the table this spec writes (what dbt sources read)."""
        return f"{self.dataset}.{self.name}"

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, _ARROW[c.type], nullable=c.nullable) for c in self.columns])

    def to_arrow(self, rows: list[dict[str, Any]] | dict[str, list[Any]]) -> pa.Table:
        """Rows (or columns) -> an Arrow table with exactly this schema (missing columns null)."""
        schema = self.arrow_schema
        if isinstance(rows, dict):
            n = len(next(iter(rows.values()), []))
            arrays = [pa.array(rows.get(f.name, [None] * n), type=f.type) for f in schema]
            return pa.Table.from_arrays(arrays, schema=schema)
        return pa.Table.from_pylist(rows, schema=schema)

    @property
    def merge_key(self) -> tuple[str, ...]:
        if self.write in ("snapshot_day", "window"):
            return (self.partition or "", *self.scope)
        return ()


@dataclass
class RunContext:
    """Everything `extract` needs; built by the core, so connectors never read env or secrets directly."""

    system: str
    settings: Settings
    window: DateWindow
    objects: frozenset[str]
    base_url: str
    clock: Clock
    options: dict[str, str] = field(default_factory=dict)
    policy: RetryPolicy | None = None
    timeout: float = 60.0
    run_date: dt.date = field(default_factory=dt.date.today)
    # a dry run performs no side effect at the source and loads nothing (see `Connector.dry_run_default`)
    dry_run: bool = False
    # tables that failed on their own (`fail_table`): the others still load, then the run fails
    failures: dict[str, str] = field(default_factory=dict)

    def fail_table(self, table: str, message: str) -> None:
        """Mark one table as failed (its previous content stays); the run loads the rest, then fails.

        Why: independent tables (one file each) should not wait for a malformed neighbour.
        """
        self.failures[table] = message

    # (table, partition values, scope) units this run read in full: see `covers`
    coverage: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)

    def covers(self, table: str, partitions: Any, **scope: Any) -> None:
        """Declare that this run read `table`'s `partitions` (days) for `scope` in full.

        The core then clears, after the load, every such day x scope that came back with zero rows:
        a re-run of a day that now has nothing removes that day's old rows. Without a declaration,
        an unscoped `window` table covers the run's window and an unscoped `snapshot_day` table its
        end day; a scoped table (`scope=("app",)`...) must declare what it read.
        """
        values = tuple(partitions) if not isinstance(partitions, (str, dt.date)) else (partitions,)
        self.coverage.append((table, values, dict(scope)))

    # (table, partition values, scope, why) units the source could not give in full: see `keep`
    kept: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = field(default_factory=list)

    def keep(self, table: str, partitions: Any, reason: str, **scope: Any) -> None:
        """Keep what is loaded for `table`'s `partitions` (days) x `scope`: the source's answer for
        them is partial or "not yet" (a report not available, a capped report).

        The core drops any row the run extracted for these units, never clears them, and warns.
        Why: a partial answer must never delete or shorten a day that was loaded in full.
        """
        values = tuple(partitions) if not isinstance(partitions, (str, dt.date)) else (partitions,)
        self.kept.append((table, values, dict(scope), reason))

    def kept_units(self, table: str, spec_scope: tuple[str, ...] = ()) -> set[tuple[Any, ...]]:
        """The (partition, *scope) units of `table` marked with `keep`."""
        return {
            (value, *(scope.get(c) for c in spec_scope))
            for name, values, scope, _ in self.kept
            if name == table
            for value in values
        }

    def secret(self, name: str) -> str:
        """A secret by name (registered with the log redactor as it is read)."""
        from data_gcp.secrets import get_secret

        return get_secret(name, self.settings)

    def option(self, key: str, default: str | None = None) -> str:
        """`DATA_GCP_<SYSTEM>_<KEY>` (environment, then `.env.local`), else default, else ConfigError."""
        var = f"DATA_GCP_{self.system.upper()}_{key.upper()}"
        value = self.options.get(key) or os.environ.get(var) or _env_file_value(var)
        if value:
            return value
        if default is not None:
            return default
        raise ConfigError(f"{self.system}: setting {var} is required (environment or .env.local)")

    def wants(self, obj: str) -> bool:
        return obj in self.objects

    def http(
        self,
        *,
        secret_headers: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        base_url: str | None = None,
        rate_limiter: RateLimiter | None = None,
        **kwargs: Any,
    ) -> HttpClient:
        from data_gcp.http_client import HttpClient

        return HttpClient(
            self.system,
            base_url or self.base_url,
            headers=headers,
            secret_headers=secret_headers,
            policy=self.policy,
            rate_limiter=rate_limiter,
            timeout=kwargs.pop("timeout", self.timeout),
            clock=self.clock,
            **kwargs,
        )


def _env_file_value(var: str) -> str | None:
    path = workspace_root() / ".env.local"
    if not path.is_file():
        return None
    for raw in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = raw.strip().removeprefix("export ").partition("=")
        if sep and key.strip() == var:
            return value.strip().strip("'\"") or None
    return None


Batch = tuple[str, pa.Table]


class Connector:
    """Base class of every connector; subclasses set the class attributes and implement `extract`."""

    name: ClassVar[str]
    description: ClassVar[str]
    schedule: ClassVar[str]  # cron, Europe/Paris wall time as in the reference
    default_base_url: ClassVar[str]
    secrets: ClassVar[tuple[str, ...]] = ()
    tables: ClassVar[tuple[TableSpec, ...]] = ()
    # options read with `ctx.option(...)`, listed for `etl list` and the docs: {KEY: help}
    settings_help: ClassVar[dict[str, str]] = {}
    # cloud environments where the DAG is scheduled (the others get the DAG, unscheduled)
    cloud_envs: ClassVar[tuple[str, ...]] = ("dev", "stg", "prod")

    @classmethod
    def dry_run_default(cls, settings: Settings) -> bool:
        """Whether a run is a dry run unless told otherwise (`--dry-run/--no-dry-run`). Default: no."""
        return False

    # the vendor's documented minimum pause per HTTP status (e.g. {429: 5.0}): applied to the run's
    # retry policy, whatever policy the caller passes
    retry_min_wait: ClassVar[dict[int, float]] = {}
    # seconds of waiting one request may spend on retries (None: the policy's, 900 s by default)
    retry_budget: ClassVar[float | None] = None

    @classmethod
    def objects(cls) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.object for t in cls.tables))

    @classmethod
    def table(cls, name: str) -> TableSpec:
        for spec in cls.tables:
            if spec.name == name:
                return spec
        raise KeyError(f"{cls.name} has no table {name!r}")

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        """Yield `(table_name, arrow_table)` batches for the objects in `ctx.objects`."""
        raise NotImplementedError
