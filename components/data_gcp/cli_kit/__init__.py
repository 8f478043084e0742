"""Shared pieces of the command-line entry points: consoles, the app factory, the error boundary."""

from data_gcp.cli_kit.console import err, out
from data_gcp.cli_kit.entry import new_app, run_app

__all__ = ["err", "new_app", "out", "run_app"]
