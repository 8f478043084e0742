"""The `data-gcp` Typer app. Each command group lives in its own module and is registered here."""

from __future__ import annotations

import sys

import typer

from data_gcp.cli import core_commands, dev_references
from data_gcp.cli.console import err
from data_gcp.config import DataGcpError
from data_gcp.log import redact, setup_logging

app = typer.Typer(
    name="data-gcp",
    help="pass Culture data platform: ingestion, dbt, ML and orchestration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("env")(core_commands.env)
app.command("sql")(core_commands.sql)

# Command groups added by later bricks register themselves here, one line each.
for _module, _name in [
    ("data_gcp.cli.run_command", None),
    ("data_gcp.cli.sandbox_commands", "sandbox"),
    ("data_gcp.cli.import_commands", "import"),
    ("data_gcp.cli.etl_commands", "etl"),
    ("data_gcp.cli.dbt_commands", "dbt"),
    ("data_gcp.cli.ml_commands", "ml"),
    ("data_gcp.cli.serve_commands", "serve"),
    ("data_gcp.cli.deploy_commands", "deploy"),
    ("data_gcp.cli.workspace_commands", None),
]:
    try:
        _mod = __import__(_module, fromlist=["register"])
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise
        continue
    _mod.register(app)

# Developer-only: the sandbox oracle next to the two-tower model (reads truth tables only where present).
dev_references.install()


def main() -> None:
    """Console entry point: user errors print one redacted line and exit with their code, no traceback.

    Typer's standalone mode already turns usage errors (bad option, missing argument) into a short
    message and exit code 2; our own errors (DataGcpError) are caught here.
    """
    setup_logging()
    try:
        app()
    except DataGcpError as exc:
        err.print(f"[bold red]error:[/] {redact(str(exc))}", soft_wrap=True)
        sys.exit(exc.exit_code)
