"""`data-gcp sandbox generate|advance`: thin wrappers over `data_gcp.sandbox`."""

from __future__ import annotations

import datetime as dt

import typer
from rich.table import Table

from data_gcp.cli_kit import out
from data_gcp.config import DataGcpError


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DataGcpError(f"{option} must be a date YYYY-MM-DD (got {value!r})") from None


def _print(result, title: str) -> None:  # noqa: ANN001 - SandboxResult, imported lazily
    table = Table(
        "table", "rows", title=f"{title}: {result.database} ({result.start_date} to {result.end_date})"
    )
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)
    gone = result.removed
    if gone.offers or gone.venues or gone.offerers:
        out.print(
            f"deleted by the backend: {len(gone.offers)} offers, {len(gone.venues)} venues, "
            f"{len(gone.offerers)} offerers"
        )
    out.print(f"seed {result.seed}, scale {result.scale}, {result.seconds:.1f}s")


def generate(
    scale: float = typer.Option(0.01, "--scale", help="1 = ~100k users, 40k offers, 1M bookings, 5M events"),
    seed: int = typer.Option(42, "--seed", help="random seed (same seed, same database)"),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="sqlite:///path or postgresql://... (default: SQLite under the data folder)",
    ),
    start_date: str | None = typer.Option(
        None, "--start-date", help="first simulated day (default: days before yesterday)"
    ),
    days: int | None = typer.Option(None, "--days", help="simulated days (default 365, ending yesterday)"),
) -> None:
    """(Re)create the synthetic app database with a planted taste signal."""
    from data_gcp.sandbox import generate as run

    _print(
        run(scale, seed, database_url, _date(start_date, "--start-date"), days, progress=True), "generated"
    )


def advance(
    days: int | None = typer.Option(
        None, "--days", help="days to simulate after the last simulated one (default 1)"
    ),
    to: str | None = typer.Option(
        None, "--to", help="simulate up to this day YYYY-MM-DD (a day already simulated: nothing changes)"
    ),
    database_url: str | None = typer.Option(None, "--database-url", help="default: the sandbox SQLite file"),
) -> None:
    """Simulate the next days: new users and offers, bookings, cancellations, updates, and the app
    events that arrive on those days (late ones of the 3 days before included)."""
    from data_gcp.sandbox import advance as run

    result = run(days, database_url, progress=True, to=_date(to, "--to"))
    if not result.simulated_days:
        out.print(f"the sandbox already holds {result.end_date}: nothing changed")
        return
    _print(result, "advanced")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The synthetic pass Culture app database.", no_args_is_help=True)
    group.command("generate")(generate)
    group.command("advance")(advance)
    app.add_typer(group, name="sandbox")
