"""`data-gcp ui`: look at local runs in a browser (Airflow UI, dbt docs, model reports). Dev only."""

from __future__ import annotations

import signal
import time

import typer

from data_gcp.cli_kit import err, out


def ui(
    airflow_port: int = typer.Option(
        8088, "--airflow-port", help="port of the Airflow UI on 127.0.0.1 (0: any)"
    ),
    port: int = typer.Option(
        8089, "--port", help="port of the dbt docs and model reports on 127.0.0.1 (0: any)"
    ),
    docs: bool = typer.Option(
        True, help="generate the dbt docs into the data folder when missing (a separate process)"
    ),
) -> None:
    """Serve Airflow (UI, scheduler, DAG processor: Trigger and backfill run) on the local metadata DB
    that `data-gcp run` fills too, the data's health, the ML runs, the dbt docs and the model reports,
    on 127.0.0.1 only, without login. Ctrl-C stops everything it started."""
    from data_gcp.config import get_settings
    from data_gcp.local_ui import find_reports, start_ui

    started = time.monotonic()
    ui_ = start_ui(
        airflow_port=airflow_port,
        portal_port=port,
        generate_docs=docs,
        on_step=lambda s: err.print(f"[dim]-[/] {s}", soft_wrap=True),
    )
    with ui_:
        out.print(
            f"[bold]Airflow[/]        {ui_.airflow_url}   (no login: bound to 127.0.0.1 only)", soft_wrap=True
        )
        out.print(
            f"[bold]dbt docs[/]       {ui_.dbt_docs_url or 'not generated yet (data-gcp dbt docs, after a run)'}",
            soft_wrap=True,
        )
        out.print(f"[bold]data health[/]    {ui_.portal_url}health", soft_wrap=True)
        out.print(f"[bold]ML runs[/]        {ui_.portal_url}ml", soft_wrap=True)
        out.print(
            f"[bold]model reports[/]  {ui_.portal_url}   ({len(find_reports(get_settings()))} report(s))",
            soft_wrap=True,
        )
        out.print(f"ready in {time.monotonic() - started:.1f}s - Ctrl-C to stop", soft_wrap=True)
        # `kill` (SIGTERM) stops as cleanly as Ctrl-C (SIGINT).
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            ui_.wait()
        except KeyboardInterrupt:
            err.print("stopping ...")
    out.print("stopped")


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
