"""`data-gcp etl run <system>` and `data-gcp etl list`: thin wrappers over `data_gcp.etl_core`."""

from __future__ import annotations

import typer
from rich.table import Table

from data_gcp.cli_kit import err, out


def run(
    system: str = typer.Argument(..., help="source system: brevo, qualtrics, dms, contentful, batch, siren"),
    start: str | None = typer.Option(None, "--start", help="first day YYYY-MM-DD (default: yesterday)"),
    end: str | None = typer.Option(None, "--end", help="last day YYYY-MM-DD, inclusive (default: --start)"),
    object_: list[str] | None = typer.Option(
        None, "--object", help="only this object or table (repeatable; default: all)"
    ),
) -> None:
    """Extract one system for a window and load its raw tables (all or nothing)."""
    from data_gcp.etl_core import run_connector

    with err.status(f"etl {system}..."):
        result = run_connector(system, start, end, object_ or None)
    out.print(result.summary())


def list_() -> None:
    """List the connectors with their raw tables, schedules and secrets (names only)."""
    from data_gcp.etl_core import list_connectors

    table = Table("system", "schedule", "tables", "write", "secrets", title="connectors")
    for connector in list_connectors():
        table.add_row(
            connector.name,
            connector.schedule,
            "\n".join(f"raw.{t.name}" for t in connector.tables),
            "\n".join(t.write for t in connector.tables),
            ", ".join(connector.secrets),
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="External source connectors (dlt into raw.<system>_<object>).", no_args_is_help=True
    )
    group.command("run")(run)
    group.command("list")(list_)
    app.add_typer(group, name="etl")
