"""What every `data-gcp` entry point shares: the Typer app's settings and the error boundary.

Why a component: each deployable has its own base (the ETL job, the ML job, the developer CLI) and
each base's console script must behave the same way: user errors (DataGcpError) print one redacted
line and exit with their code, never a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from data_gcp.cli_kit.console import err
from data_gcp.config import DataGcpError, disable_telemetry
from data_gcp.log import redact, setup_logging


def new_app(name: str, help: str) -> typer.Typer:
    """A Typer app with the platform's settings (no pretty tracebacks, no shell completion)."""
    return typer.Typer(
        name=name,
        help=help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )


def run_app(app: typer.Typer) -> None:
    """Run `app` as a console script: logging set up, our errors as one line and their exit code.

    Typer's standalone mode already turns usage errors into a short message and exit code 2.
    """
    disable_telemetry()  # before any library that reads its switch is imported
    setup_logging()
    try:
        app()
    except DataGcpError as exc:
        err.print(f"[bold red]error:[/] {escape(redact(str(exc)))}", soft_wrap=True)
        sys.exit(exc.exit_code)
