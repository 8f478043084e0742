"""The `data-gcp` command line: entry points only, logic lives in components."""

from data_gcp.cli.main import app, main

__all__ = ["app", "main"]
