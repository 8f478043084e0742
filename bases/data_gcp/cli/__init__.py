"""The developer's `data-gcp` command (belongs to no deployable): every job's commands plus `run`,
`sandbox`, `serve`, `new`, `projects`, `test --changed` and `deploy`."""

from data_gcp.cli.main import app, main

__all__ = ["app", "main"]
