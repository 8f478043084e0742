"""`data-gcp run`: the local daily chain end to end through Airflow, with progress and a summary."""

from __future__ import annotations

import datetime as dt
import os
import sys

import typer
from rich.console import Console
from rich.table import Table

from data_gcp.cli_kit import err, out


def _fmt(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 120 else f"{seconds / 60:.1f}min"


def run(
    date: dt.datetime | None = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="the day to run (default: yesterday)"
    ),
    days: int | None = typer.Option(None, "--days", help="run the N days ending yesterday, oldest first"),
    scale: float = typer.Option(0.01, "--scale", help="sandbox size when it has to be generated"),
) -> None:
    """Run the daily chain (import -> connectors -> dbt) through a local Airflow, then print a summary."""
    from data_gcp.local_run import ChainFailed, run_chain, run_dates

    dates = run_dates(date.date() if date else None, days)
    # Progress goes to a copy of the terminal's stderr: the run sends fds 1/2 to its log file.
    console = Console(file=os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1), highlight=False)
    live = console.status("preparing", spinner="dots")

    def on_step(name: str) -> None:
        live.update(f"{name} ...")
        console.print(f"[dim]-[/] {name}")

    def reporter(event: str, dag_id: str, task_id: str, outcome) -> None:  # noqa: ANN001
        if event == "start":
            live.update(f"[bold]{dag_id}[/] > {task_id} ...")
            return
        mark = "[green]ok[/]" if outcome.state == "success" else "[red]FAILED[/]"
        console.print(f"  {mark} {dag_id} > {task_id} [dim]{_fmt(outcome.seconds)}[/]")

    days_text = (
        ", ".join(d.isoformat() for d in dates)
        if len(dates) <= 3
        else (f"{dates[0].isoformat()} .. {dates[-1].isoformat()} ({len(dates)} days)")
    )
    console.print(f"[bold]data-gcp run[/] for {days_text}")
    with live:
        try:
            report = run_chain(dates, scale=scale, reporter=reporter, on_step=on_step)
        except ChainFailed as exc:
            live.stop()
            err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            raise typer.Exit(1) from None
    _summary(report)
    if not report.ok:
        raise typer.Exit(1)


def _summary(report) -> None:  # noqa: ANN001 - ChainReport, imported lazily with Airflow
    # One row per DAG run (the per-task lines were printed as the tasks finished).
    several_days = len(report.dates) > 1
    tasks = Table(title="DAG runs" if several_days else f"DAG runs for {report.dates[0].isoformat()}")
    columns = (["day"] if several_days else []) + ["dag", "ok", "failed", "time", "slowest task"]
    for col in columns:
        tasks.add_column(
            col, justify="right" if col in ("ok", "failed", "time") else "left", no_wrap=col != "slowest task"
        )
    for dag in report.dags:
        n_failed = sum(1 for t in dag.tasks if t.state != "success")
        slowest = max(dag.tasks, key=lambda t: t.seconds, default=None)
        tasks.add_row(
            *([dag.logical_date.isoformat()] if several_days else []),
            dag.dag_id,
            str(len(dag.tasks) - n_failed),
            f"[red]{n_failed}[/]" if n_failed else "0",
            _fmt(dag.seconds),
            f"{slowest.task_id} ({_fmt(slowest.seconds)})" if slowest else "-",
        )
    out.print(tasks)
    layers = Table(title="warehouse rows per layer")
    layers.add_column("layer")
    layers.add_column("tables", justify="right")
    layers.add_column("rows", justify="right")
    for label, (n_tables, n_rows) in report.rows_per_layer.items():
        layers.add_row(label, str(n_tables), f"{n_rows:,}")
    out.print(layers)
    n_ok = sum(1 for t in report.tasks if t.state == "success")
    out.print(
        f"{len(report.tasks)} task(s) run: {n_ok} succeeded, {len(report.failed)} failed, "
        f"in {_fmt(report.seconds)} (setup: "
        + ", ".join(f"{name} {_fmt(s)}" for name, s in report.steps if s >= 0.05)
        + ")",
        soft_wrap=True,
    )
    out.print(f"warehouse: {report.warehouse}", soft_wrap=True)
    out.print(f"full log:  {report.log_file}", soft_wrap=True)
    if report.failed:
        for t in report.failed:
            out.print(
                f"[bold red]failed:[/] {t.dag_id} > {t.task_id}: {t.error or 'see log'}", soft_wrap=True
            )
            out.print(f"  log: {t.log_path or report.log_file}", soft_wrap=True)
        return
    out.print(
        'query it:  uv run data-gcp sql "SELECT * FROM analytics.mrt_global__daily_booking_kpi LIMIT 10"',
        soft_wrap=True,
    )
    out.print(
        "serve it:  uv run data-gcp serve retrieval   |   uv run data-gcp serve ranking", soft_wrap=True
    )


def register(app: typer.Typer) -> None:
    app.command("run")(run)
