"""`run_connector`: the one function behind `data-gcp etl run` and the Airflow tasks."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.etl_core.pipeline import load_tables
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
    from data_gcp.http_client import SystemClock

    settings = settings or get_settings()
    connector_cls = get_connector(system)
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
    data = collect(connector_cls(), ctx)
    specs = {t.name: t for t in connector_cls.tables}
    if ctx.dry_run:
        rows = {name: table.num_rows for name, table in data.items()}
    else:
        rows = load_tables(system, ctx.settings, specs, data)
    result = RunResult(
        system,
        ctx.window,
        rows,
        time.perf_counter() - started,
        dry_run=ctx.dry_run,
        failed=dict(ctx.failures),
        datasets={name: specs[name].dataset for name in rows},
    )
    log.info("%s", result.summary())
    if ctx.failures:
        details = "; ".join(f"{specs[t].qualified_name}: {why}" for t, why in ctx.failures.items())
        raise PartialRunError(
            f"{system}: {len(ctx.failures)} table(s) failed and were left as they were ({details}); "
            f"loaded: {', '.join(f'{specs[t].qualified_name}={n}' for t, n in rows.items()) or 'none'}"
        )
    return result
