"""`data-gcp import applicative`: thin wrapper over `data_gcp.applicative_import`."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from data_gcp.cli_kit import out
from data_gcp.config import DataGcpError


def applicative(
    date: str | None = typer.Option(
        None, "--date", help="run date YYYY-MM-DD: newest event day, history snapshot (default: yesterday)"
    ),
    full: bool = typer.Option(False, "--full", help="reload every table in full"),
    database_url: str | None = typer.Option(
        None, "--database-url", help="local source (default: the sandbox)"
    ),
) -> None:
    """Copy the app database into raw.applicative_database_* and raw.firebase_events."""
    from data_gcp.applicative_import import import_applicative

    try:
        run_date = dt.date.fromisoformat(date) if date else None
    except ValueError:
        raise DataGcpError(f"--date must be a date YYYY-MM-DD (got {date!r})") from None
    result = import_applicative(run_date, full, database_url, progress=True)
    table = Table(
        "source",
        "target",
        "mode",
        "rows read",
        "rows deleted",
        "rows after",
        title=f"import for {result.run_date} ({result.engine})",
    )
    for t in result.tables:
        table.add_row(
            t.table, t.target, t.mode, f"{t.rows_read:,}", f"{t.rows_deleted:,}", f"{t.rows_after:,}"
        )
    out.print(table)
    out.print(f"{result.rows_read:,} rows read in {result.seconds:.1f}s")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Imports into the raw layer.", no_args_is_help=True)
    group.command("applicative")(applicative)
    app.add_typer(group, name="import")
