"""`data-gcp etl run <system>`, `data-gcp etl list` and `data-gcp etl init`: thin wrappers over
`data_gcp.etl_core` and `data_gcp.table_catalog`."""

from __future__ import annotations

import typer
from rich.table import Table

from data_gcp.cli_kit import err, out


def run(
    system: str = typer.Argument(..., help="source system (see `data-gcp etl list`)"),
    start: str | None = typer.Option(None, "--start", help="first day YYYY-MM-DD (default: yesterday)"),
    end: str | None = typer.Option(None, "--end", help="last day YYYY-MM-DD, inclusive (default: --start)"),
    object_: list[str] | None = typer.Option(
        None, "--object", help="only this object or table (repeatable; default: all)"
    ),
    dry_run: bool | None = typer.Option(
        None,
        "--dry-run/--no-dry-run",
        help="list what the run would do, change nothing, load nothing (default: the connector's, "
        "e.g. metabase outside prod)",
    ),
) -> None:
    """Extract one system for a window and load its raw tables (all or nothing)."""
    from data_gcp.etl_core import run_connector

    with err.status(f"etl {system}..."):
        result = run_connector(system, start, end, object_ or None, dry_run=dry_run)
    out.print(result.summary())


def list_() -> None:
    """List the connectors with their raw tables, schedules and secrets (names only)."""
    from data_gcp.etl_core import list_connectors

    table = Table("system", "schedule", "tables", "write", "secrets", title="connectors")
    for connector in list_connectors():
        table.add_row(
            connector.name,
            connector.schedule
            + ("" if len(connector.cloud_envs) == 3 else f" ({', '.join(connector.cloud_envs)} only)"),
            "\n".join(t.qualified_name for t in connector.tables),
            "\n".join(t.write for t in connector.tables),
            ", ".join(connector.secrets),
        )
    out.print(table)


def init() -> None:
    """Create every declared raw table missing from the warehouse (connectors and app database
    import), empty with its schema: in a fresh environment, no dbt source is "not found"."""
    from data_gcp.config import get_settings
    from data_gcp.table_catalog import ensure_tables
    from data_gcp.warehouse import get_warehouse

    created = ensure_tables(get_warehouse(get_settings()))
    out.print(f"created {len(created)} empty table(s)" + (f": {', '.join(created)}" if created else ""))


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="External source connectors (dlt into raw.<system>_<object>).", no_args_is_help=True
    )
    group.command("run")(run)
    group.command("list")(list_)
    group.command("init")(init)
    app.add_typer(group, name="etl")
