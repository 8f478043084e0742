"""`data-gcp serve retrieval|ranking`: run a model service with uvicorn (port 8080 as on Cloud Run).

Each command imports its base lazily so the CLI starts fast. Add a service with
`@serve_app.command("<name>")`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import typer

serve_app = typer.Typer(help="Serve a model over HTTP (FastAPI + uvicorn).", no_args_is_help=True)


def _port(port: int | None) -> int:
    return port if port is not None else int(os.environ.get("PORT", "8080"))


def _serve(
    create_app: Callable[[], Any],
    model_env: str,
    model_path: str | None,
    host: str,
    port: int | None,
    workers: int,
) -> None:
    """Run one FastAPI app factory under uvicorn (several workers need the factory's import path)."""
    import uvicorn

    if model_path:
        os.environ[model_env] = model_path
    if workers > 1:
        factory = f"{create_app.__module__}:{create_app.__name__}"
        uvicorn.run(factory, factory=True, host=host, port=_port(port), workers=workers)
        return
    uvicorn.run(create_app(), host=host, port=_port(port))


@serve_app.command("retrieval")
def serve_retrieval(
    host: str = typer.Option("0.0.0.0", help="interface to bind"),  # noqa: S104 - a container service
    port: int | None = typer.Option(None, help="port (default $PORT or 8080)"),
    model_path: str | None = typer.Option(
        None, help="local model folder; default: the latest two-tower run in the bucket"
    ),
    workers: int = typer.Option(1, help="uvicorn worker processes"),
) -> None:
    """Serve candidate retrieval: POST /predict, GET /isalive."""
    from data_gcp.retrieval_api import create_app

    _serve(create_app, "DATA_GCP_RETRIEVAL_MODEL_PATH", model_path, host, port, workers)


@serve_app.command("ranking")
def serve_ranking(
    host: str = typer.Option("0.0.0.0", help="interface to bind"),  # noqa: S104 - a container service
    port: int | None = typer.Option(None, help="port (default $PORT or 8080)"),
    model_path: str | None = typer.Option(
        None, help="local model folder; default: models/ranker/latest in the bucket"
    ),
    workers: int = typer.Option(1, help="uvicorn worker processes"),
) -> None:
    """Serve candidate ranking: POST /predict, GET /isalive."""
    from data_gcp.ranking_api import create_app

    _serve(create_app, "DATA_GCP_RANKER_MODEL_PATH", model_path, host, port, workers)


def register(app: typer.Typer) -> None:
    app.add_typer(serve_app, name="serve")
