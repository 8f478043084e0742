"""`data-gcp typecheck`: BigQuery's type rules on every compiled dbt node, offline (run by CI)."""

from __future__ import annotations

import time

import typer

from data_gcp.cli_kit import err, out


def typecheck(
    target: str = typer.Option("prod", "--target", "-t", help="the BigQuery target to compile for"),
) -> None:
    """Compile the dbt project for BigQuery without a connection and type-check every model, snapshot
    and test against the declared tables: a comparison BigQuery refuses fails here, not at night."""
    from data_gcp.sql_typecheck import check_project

    started = time.perf_counter()
    report = check_project(target=target)
    for problem in report.problems:
        err.print(f"[red]type error[/] {problem}")
    for node, why in report.unparsed.items():
        err.print(f"[red]not checked[/] {node}: {why}")
    seconds = time.perf_counter() - started
    if not report.ok:
        err.print(
            f"{len(report.problems)} type error(s), {len(report.unparsed)} node(s) not checked "
            f"(of {report.checked + len(report.unparsed)}): BigQuery would refuse these queries"
        )
        raise typer.Exit(1)
    out.print(f"typecheck --target {target}: {report.checked} nodes, no type error ({seconds:.1f}s)")


def register(app: typer.Typer) -> None:
    app.command("typecheck")(typecheck)
