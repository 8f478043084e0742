"""`data-gcp dbt build|run|test|compile|parse|docs|freshness`: thin wrappers over data_gcp.dbt_runner."""

from __future__ import annotations

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


def parse(target: str | None = TARGET) -> None:
    """Write dbt/target/manifest.json (Airflow renders its dbt tasks from it)."""
    from data_gcp import dbt_runner

    _report(dbt_runner.parse(target=target))
    out.print(f"manifest: {dbt_runner.manifest_path()}")


def docs(target: str | None = TARGET) -> None:
    """Generate the documentation site files (manifest + catalog) into dbt/target."""
    from data_gcp import dbt_runner

    _report(dbt_runner.docs_generate(target=target))


def freshness(select: list[str] | None = SELECT, target: str | None = TARGET) -> None:
    """Check how late each raw source is against its warn/error thresholds."""
    from data_gcp import dbt_runner

    _report(dbt_runner.source_freshness(select=select, target=target))


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The dbt project (dbt/): build, run, test, compile, parse, docs.", no_args_is_help=True
    )
    for name, fn in [("build", build), ("run", run), ("test", test), ("compile", compile)]:
        group.command(name, context_settings=PASSTHROUGH)(fn)
    for name, fn in [("parse", parse), ("docs", docs), ("freshness", freshness)]:
        group.command(name)(fn)
    app.add_typer(group, name="dbt")
