"""`data-gcp dbt build|run|test|compile|parse|docs|freshness|export`: thin wrappers over data_gcp.dbt_runner
(and data_gcp.exports for the partner files the export models feed)."""

from __future__ import annotations

import datetime as dt
import json

import typer

from data_gcp.cli_kit import err, out

SELECT = typer.Option(
    None, "--select", "-s", help="dbt selector(s), e.g. 'mrt_global__user+' (repeatable, or quoted: 'a b')"
)
EXCLUDE = typer.Option(None, "--exclude", help="dbt selector(s) to leave out (repeatable, or quoted: 'a b')")
# Anything after `--` goes to dbt as is: `data-gcp dbt build -s x -- --fail-fast`.
PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
TARGET = typer.Option(
    None, "--target", "-t", help="profile target (default: local, or dev/stg/prod in the cloud; ci in CI)"
)
FULL_REFRESH = typer.Option(False, "--full-refresh", help="rebuild incremental models and snapshots")
VARS = typer.Option(None, "--vars", help='dbt vars as JSON, e.g. \'{"as_of_date": "2026-01-31"}\'')


def _vars(raw: str | None) -> dict | None:
    if not raw:
        return None
    from data_gcp.dbt_runner import DbtRunError

    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DbtRunError(f"--vars must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise DbtRunError("--vars must be a JSON object")
    return value


def _report(result) -> None:  # noqa: ANN001 - DbtResult, imported lazily (dbt is slow to import)
    out.print(result.summary())
    for node in result.warned:
        err.print(f"[yellow]warn[/]: {node}")


def build(
    ctx: typer.Context,
    select: list[str] | None = SELECT,
    exclude: list[str] | None = EXCLUDE,
    target: str | None = TARGET,
    full_refresh: bool = FULL_REFRESH,
    vars: str | None = VARS,
) -> None:
    """Build snapshots, models and run their tests (unit and data), in dependency order."""
    from data_gcp import dbt_runner

    _report(
        dbt_runner.build(
            select=select,
            exclude=exclude,
            target=target,
            full_refresh=full_refresh,
            vars=_vars(vars),
            extra_args=ctx.args,
        )
    )


def run(
    ctx: typer.Context,
    select: list[str] | None = SELECT,
    exclude: list[str] | None = EXCLUDE,
    target: str | None = TARGET,
    full_refresh: bool = FULL_REFRESH,
    vars: str | None = VARS,
) -> None:
    """Build models only (no tests)."""
    from data_gcp import dbt_runner

    _report(
        dbt_runner.run(
            select=select,
            exclude=exclude,
            target=target,
            full_refresh=full_refresh,
            vars=_vars(vars),
            extra_args=ctx.args,
        )
    )


def test(
    ctx: typer.Context,
    select: list[str] | None = SELECT,
    exclude: list[str] | None = EXCLUDE,
    target: str | None = TARGET,
    vars: str | None = VARS,
) -> None:
    """Run data and unit tests."""
    from data_gcp import dbt_runner

    _report(
        dbt_runner.test(select=select, exclude=exclude, target=target, vars=_vars(vars), extra_args=ctx.args)
    )


def compile(
    ctx: typer.Context,
    select: list[str] | None = SELECT,
    exclude: list[str] | None = EXCLUDE,
    target: str | None = TARGET,
    vars: str | None = VARS,
) -> None:
    """Render every node's SQL into dbt/target/compiled without building anything."""
    from data_gcp import dbt_runner

    _report(
        dbt_runner.compile(
            select=select, exclude=exclude, target=target, vars=_vars(vars), extra_args=ctx.args
        )
    )


def _day(value: str, option: str) -> dt.date:
    from data_gcp.config import DataGcpError

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DataGcpError(f"{option} must be a date YYYY-MM-DD (got {value!r})") from None


def backfill(
    ctx: typer.Context,
    first: str = typer.Option(..., "--from", help="first day to re-process, YYYY-MM-DD"),
    last: str | None = typer.Option(
        None, "--to", help="last day to re-process, YYYY-MM-DD (default: --from)"
    ),
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="rebuild the incremental models from their whole history up to --to"
    ),
    select: list[str] | None = SELECT,
    exclude: list[str] | None = EXCLUDE,
    target: str | None = TARGET,
    vars: str | None = VARS,
) -> None:
    """Re-process the days --from..--to of the incremental models (dbt build; idempotent)."""
    from data_gcp import dbt_runner

    start = _day(first, "--from")
    end = _day(last, "--to") if last else start
    if full_refresh:
        out.print(f"backfill: every incremental model rebuilt from its whole history up to {end}")
    else:
        out.print(f"backfill: days {start}..{end} of the incremental models")
    _report(
        dbt_runner.backfill(
            start,
            end,
            full_refresh=full_refresh,
            select=select,
            exclude=exclude,
            target=target,
            vars=_vars(vars),
            extra_args=ctx.args,
        )
    )


def parse(target: str | None = TARGET) -> None:
    """Write dbt/target/manifest.json (Airflow renders its dbt tasks from it)."""
    from data_gcp import dbt_runner

    _report(dbt_runner.parse(target=target))
    out.print(f"manifest: {dbt_runner.manifest_path()}")


def docs(
    target: str | None = TARGET,
    serve: bool = typer.Option(False, "--serve", help="then serve the site on 127.0.0.1 until Ctrl-C"),
    port: int = typer.Option(8081, "--port", help="port of --serve"),
) -> None:
    """Build the documentation site (models, columns, tests, lineage) into <data>/dbt_docs; --serve it."""
    from data_gcp import dbt_runner

    site = dbt_runner.docs_site(target=target)
    out.print(f"documentation site: {site / 'static_index.html'}")
    if serve:
        server = dbt_runner.docs_server(site, port=port)
        out.print(f"serving http://127.0.0.1:{server.server_address[1]}/static_index.html (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def freshness(select: list[str] | None = SELECT, target: str | None = TARGET) -> None:
    """Check how late each raw source is against its warn/error thresholds."""
    from data_gcp import dbt_runner

    _report(dbt_runner.source_freshness(select=select, target=target))


def export(
    family: str = typer.Argument("ministry", help="export family (ministry)"),
    date: str | None = typer.Option(
        None, "--date", help="day in the files' path YYYY-MM-DD (default: today)"
    ),
) -> None:
    """Write an export family (models export.export__*) as dated Parquet files to the bucket."""
    from data_gcp.config import DataGcpError
    from data_gcp.exports import export_family

    try:
        day = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise DataGcpError(f"--date must be a date YYYY-MM-DD (got {date!r})") from None
    for f in export_family(family, day):
        out.print(f"{f.table}: {f.rows} rows -> {f.key} ({f.bytes} bytes)")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The dbt project (dbt/): build, run, test, compile, backfill, parse, docs, freshness, export.",
        no_args_is_help=True,
    )
    for name, fn in [
        ("build", build),
        ("run", run),
        ("test", test),
        ("compile", compile),
        ("backfill", backfill),
    ]:
        group.command(name, context_settings=PASSTHROUGH)(fn)
    for name, fn in [("parse", parse), ("docs", docs), ("freshness", freshness), ("export", export)]:
        group.command(name)(fn)
    app.add_typer(group, name="dbt")
