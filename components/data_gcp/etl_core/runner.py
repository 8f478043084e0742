"""`run_connector`: the one function behind `data-gcp etl run` and the Airflow tasks."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.etl_core.pipeline import clear_units, create_empty_tables, load_tables
from data_gcp.etl_core.registry import get_connector
from data_gcp.etl_core.spec import Connector, RunContext, TableSpec
from data_gcp.etl_core.window import DateWindow
from data_gcp.log import get_logger

if TYPE_CHECKING:
    from data_gcp.http_client import Clock, RetryPolicy

log = get_logger(__name__)


class EmptySourceError(DataGcpError):
    """A snapshot came back empty: never a silent success."""


class PartialRunError(DataGcpError):
    """Some tables failed on their own (`RunContext.fail_table`); the others were loaded."""


@dataclass
class RunResult:
    system: str
    window: DateWindow
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    requests: int = 0
    dry_run: bool = False
    failed: dict[str, str] = field(default_factory=dict)  # table -> why (the table was left as it was)
    datasets: dict[str, str] = field(default_factory=dict)  # table -> logical dataset (default raw)

    def summary(self) -> str:
        tables = (
            ", ".join(f"{self.datasets.get(t, 'raw')}.{t}={n}" for t, n in self.rows.items()) or "no table"
        )
        prefix = "DRY RUN (nothing written), would load " if self.dry_run else ""
        return f"{self.system} {self.window}: {prefix}{tables} in {self.seconds:.1f}s"


def base_url_for(connector: type[Connector], settings: Settings | None = None) -> str:
    """`DATA_GCP_<SYSTEM>_BASE_URL` when set (local vendor servers), else the vendor's real URL."""
    return os.environ.get(f"DATA_GCP_{connector.name.upper()}_BASE_URL") or connector.default_base_url


def select_objects(connector: type[Connector], objects: Iterable[str] | str | None) -> frozenset[str]:
    """`--object` accepts an object name (`transactional`) or a table name (`brevo_transactional`)."""
    if objects is None:
        return frozenset(connector.objects())
    wanted = [objects] if isinstance(objects, str) else list(objects)
    chosen = set()
    for item in wanted:
        for part in item.split(","):
            part = part.strip()
            match = [t.object for t in connector.tables if part in (t.object, t.name)]
            if not match:
                raise DataGcpError(
                    f"{connector.name} has no object {part!r}: expected one of {', '.join(connector.objects())}"
                )
            chosen.update(match)
    return frozenset(chosen)


def collect(connector: Connector, ctx: RunContext) -> dict[str, pa.Table]:
    """Run the extraction to the end and gather its batches per table, conformed to each schema."""
    specs = {t.name: t for t in connector.tables}
    batches: dict[str, list[pa.Table]] = {t.name: [] for t in connector.tables if t.object in ctx.objects}
    for table_name, batch in connector.extract(ctx):
        if table_name in ctx.failures:
            continue
        if table_name not in batches:
            raise DataGcpError(f"{connector.name}: extract produced rows for unexpected table {table_name!r}")
        batches[table_name].append(_conform(specs[table_name], batch))
    out: dict[str, pa.Table] = {}
    for name, parts in batches.items():
        if name in ctx.failures:
            continue
        spec = specs[name]
        table = pa.concat_tables(parts) if parts else spec.arrow_schema.empty_table()
        if table.num_rows == 0 and not spec.allow_empty:
            raise EmptySourceError(
                f"{connector.name}: {spec.qualified_name} came back empty for {ctx.window}; a snapshot is never "
                "empty, so nothing was written (check the source and the credentials' scope)"
            )
        if table.num_rows == 0 and spec.write == "replace":
            continue  # never replace a table by nothing
        out[name] = table
    return out


class SpooledTable:
    """One table's rows of a run, appended batch by batch to a Parquet file.

    Why: a 90-day backfill holds 90 days of rows; kept in memory until the load they made memory grow
    with the window. Spooled, the run holds one batch at a time and the load still sees every row
    only once the extraction has finished (all or nothing).
    """

    def __init__(self, spec: TableSpec, path: Path) -> None:
        self.spec = spec
        self.path = path
        self.num_rows = 0
        self.units: set[tuple[Any, ...]] = set()  # (partition, *scope) values present
        self._writer: pq.ParquetWriter | None = None

    @property
    def unit_columns(self) -> list[str]:
        return [self.spec.partition, *self.spec.scope] if self.spec.partition else []

    def write(self, batch: pa.Table) -> None:
        if batch.num_rows == 0:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.spec.arrow_schema)
        self._writer.write_table(batch)
        self.num_rows += batch.num_rows
        if self.unit_columns:
            units = (
                batch.select(self.unit_columns).group_by(self.unit_columns, use_threads=False).aggregate([])
            )
            self.units.update(tuple(r[c] for c in self.unit_columns) for r in units.to_pylist())

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def batches(self, rows: int = 100_000) -> Iterator[pa.Table]:
        """The rows back, a batch at a time (what the dlt resource reads)."""
        if self.num_rows == 0:
            return
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=rows):
            yield pa.Table.from_batches([batch], schema=self.spec.arrow_schema)

    def read(self) -> pa.Table:
        return pq.read_table(self.path) if self.num_rows else self.spec.arrow_schema.empty_table()

    def drop_units(self, units: set[tuple[Any, ...]]) -> int:
        """Remove the rows of these (partition, *scope) units (kept as loaded); rows removed."""
        hit = self.units & units
        if not hit or not self.num_rows:
            return 0
        table = self.read()
        columns = self.unit_columns
        keys = list(zip(*(table.column(c).to_pylist() for c in columns), strict=True))
        mask = pa.array([k not in hit for k in keys], pa.bool_())
        kept = table.filter(mask)
        removed = table.num_rows - kept.num_rows
        pq.write_table(kept, self.path)
        self.num_rows = kept.num_rows
        self.units -= hit
        return removed


def spool(connector: Connector, ctx: RunContext, folder: Path) -> dict[str, SpooledTable]:
    """`collect`, with every batch appended to a file instead of kept in memory."""
    specs = {t.name: t for t in connector.tables}
    out = {
        t.name: SpooledTable(t, folder / f"{t.name}.parquet")
        for t in connector.tables
        if t.object in ctx.objects
    }
    try:
        for table_name, batch in connector.extract(ctx):
            if table_name in ctx.failures:  # failed on its own (`ctx.fail_table`): left as it was
                continue
            if table_name not in out:
                raise DataGcpError(
                    f"{connector.name}: extract produced rows for unexpected table {table_name!r}"
                )
            out[table_name].write(_conform(specs[table_name], batch))
            del batch
    finally:
        for table in out.values():
            table.close()
    for name, table in list(out.items()):
        if name in ctx.failures:
            del out[name]
            continue
        _drop_kept(connector, ctx, table)
        if table.num_rows == 0 and not table.spec.allow_empty:
            raise EmptySourceError(
                f"{connector.name}: {table.spec.qualified_name} came back empty for {ctx.window}; a snapshot is never "
                "empty, so nothing was written (check the source and the credentials' scope)"
            )
        if table.num_rows == 0 and table.spec.write == "replace":
            del out[name]  # never replace a table by nothing
    return out


def _drop_kept(connector: Connector, ctx: RunContext, table: SpooledTable) -> None:
    """Rows of units the source could not give in full (`ctx.keep`) are not loaded: the loaded stay."""
    kept = ctx.kept_units(table.spec.name, table.spec.scope)
    if not kept:
        return
    removed = table.drop_units(kept)
    reasons = sorted({why for name, _, _, why in ctx.kept if name == table.spec.name})
    log.warning(
        "%s: %s kept as loaded for %s (%s); %d extracted row(s) of them not loaded",
        connector.name,
        table.spec.qualified_name,
        ", ".join("/".join(str(v) for v in unit) for unit in sorted(kept, key=str)),
        "; ".join(reasons),
        removed,
    )


def units_to_clear(
    connector: Connector, ctx: RunContext, present: dict[str, set[tuple[Any, ...]]]
) -> dict[str, list[tuple[Any, ...]]]:
    """Day x scope units the run read in full (`ctx.covers`, or the defaults) that have no rows now."""
    specs = {t.name: t for t in connector.tables if t.object in ctx.objects}
    coverage = list(ctx.coverage)
    declared = {table for table, _, _ in coverage}
    for spec in specs.values():
        if spec.name in declared or spec.scope or not spec.partition:
            continue
        if spec.write == "window":
            coverage.append((spec.name, tuple(ctx.window.days()), {}))
        elif spec.write == "snapshot_day":
            coverage.append((spec.name, (ctx.window.end,), {}))
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table, partitions, scope in coverage:
        spec = specs.get(table)
        kept = ctx.kept_units(table, spec.scope) if spec is not None else set()
        if spec is None or spec.write not in ("window", "snapshot_day") or not spec.partition:
            continue
        if set(scope) != set(spec.scope):
            raise DataGcpError(
                f"{connector.name}: covers({table}) must name the scope columns {spec.scope}, got {sorted(scope)}"
            )
        for value in partitions:
            unit = (value, *(scope[c] for c in spec.scope))
            if unit not in present.get(table, set()) and unit not in kept:
                out.setdefault(table, []).append(unit)
    return out


def _conform(spec: TableSpec, batch: pa.Table) -> pa.Table:
    schema = spec.arrow_schema
    missing = [f.name for f in schema if f.name not in batch.column_names]
    extra = [c for c in batch.column_names if c not in schema.names]
    if missing or extra:
        raise DataGcpError(
            f"batch for {spec.qualified_name} does not match its schema: missing {missing}, unexpected {extra}"
        )
    return batch.select(schema.names).cast(schema)


def build_context(
    system: str,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    objects: Iterable[str] | str | None = None,
    *,
    settings: Settings | None = None,
    base_url: str | None = None,
    options: dict[str, str] | None = None,
    clock: Clock | None = None,
    policy: RetryPolicy | None = None,
    timeout: float | None = None,
    dry_run: bool | None = None,
) -> tuple[type[Connector], RunContext]:
    """The connector class and the context of one run (window resolved, objects checked).

    `dry_run=None` takes the connector's default for the environment (`Connector.dry_run_default`).
    """
    from data_gcp.http_client import RetryPolicy, SystemClock

    settings = settings or get_settings()
    connector_cls = get_connector(system)
    policy = (policy or RetryPolicy()).for_vendor(connector_cls.retry_min_wait)
    if connector_cls.retry_budget is not None:
        policy = policy.for_vendor(max_total_wait=connector_cls.retry_budget)
    ctx = RunContext(
        system=system,
        settings=settings,
        window=DateWindow.resolve(start, end),
        objects=select_objects(connector_cls, objects),
        base_url=base_url or base_url_for(connector_cls, settings),
        clock=clock or SystemClock(),
        options=dict(options or {}),
        policy=policy,
        timeout=timeout or 60.0,
        dry_run=connector_cls.dry_run_default(settings) if dry_run is None else dry_run,
    )
    return connector_cls, ctx


def extract_tables(system: str, *args: Any, **kwargs: Any) -> dict[str, pa.Table]:
    """Extraction only, nothing loaded (tests of HTTP behaviour, benchmarks); same arguments as run."""
    connector_cls, ctx = build_context(system, *args, **kwargs)
    return collect(connector_cls(), ctx)


def run_connector(
    system: str,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    objects: Iterable[str] | str | None = None,
    **kwargs: Any,
) -> RunResult:
    """Extract the window from `system` then load it; all or nothing (see `pipeline`).

    Batches are spooled to Parquet files as they come (memory bounded by a batch, not the window),
    and loaded only once the extraction has finished. Then every day x scope the run read in full
    that now has zero rows is cleared (`RunContext.covers`).

    Keyword arguments (tests, local runs): settings, base_url, options, clock, policy, timeout, dry_run.
    A dry run extracts (the connector performs no side effect) and loads nothing. Tables a connector
    failed on their own (`ctx.fail_table`) are left untouched while the others load, then the run
    raises `PartialRunError` naming them.
    """
    connector_cls, ctx = build_context(system, start, end, objects, **kwargs)
    started = time.perf_counter()
    log.info(
        "%s: extracting %s for %s%s",
        system,
        ", ".join(sorted(ctx.objects)),
        ctx.window,
        " (dry run)" if ctx.dry_run else "",
    )
    connector = connector_cls()
    specs = {t.name: t for t in connector_cls.tables}
    cleared: list[str] = []
    with tempfile.TemporaryDirectory(prefix=f"data_gcp_{system}_") as folder:
        data = spool(connector, ctx, Path(folder))
        if ctx.dry_run:
            rows = {name: t.num_rows for name, t in data.items()}
        else:
            clear = units_to_clear(connector, ctx, {name: t.units for name, t in data.items()})
            loaded = {name: t for name, t in data.items() if t.num_rows}
            rows = load_tables(system, ctx.settings, specs, loaded)  # type: ignore[arg-type]
            cleared = clear_units(system, ctx.settings, specs, clear)
            # a table read in full that had no row still exists afterwards, empty with its schema
            empty = [specs[n] for n in data if n not in loaded and n not in ctx.failures]
            created = create_empty_tables(ctx.settings, empty)
            if created:
                log.info("%s: created empty (no rows yet): %s", system, ", ".join(created))
    rows.update({name: 0 for name in data if name not in rows})
    result = RunResult(
        system,
        ctx.window,
        rows,
        time.perf_counter() - started,
        dry_run=ctx.dry_run,
        failed=dict(ctx.failures),
        datasets={name: specs[name].dataset for name in rows},
    )
    if cleared:
        log.info("%s: cleared %d day(s) that now have no rows: %s", system, len(cleared), ", ".join(cleared))
    log.info("%s", result.summary())
    if ctx.failures:
        details = "; ".join(f"{specs[t].qualified_name}: {why}" for t, why in ctx.failures.items())
        raise PartialRunError(
            f"{system}: {len(ctx.failures)} table(s) failed and were left as they were ({details}); "
            f"loaded: {', '.join(f'{specs[t].qualified_name}={n}' for t, n in rows.items()) or 'none'}"
        )
    return result
