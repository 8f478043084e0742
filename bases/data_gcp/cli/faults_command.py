"""`data-gcp dbt faults`: plant the catalogued faults in copies of a small warehouse and score the
data tests (development only: it generates a sandbox and rebuilds dbt several times)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from data_gcp.cli_kit import out


def faults(
    isolated: bool = typer.Option(
        False,
        "--isolated",
        help="plant each fault alone (one dbt build per fault: slower, exact attribution)",
    ),
    only: list[str] | None = typer.Option(None, "--only", help="a fault's name (repeatable)"),
    base: Path | None = typer.Option(
        None,
        "--base",
        help="a data folder whose warehouse.duckdb is already built and passes its tests (default: build one)",
    ),
    scale: float | None = typer.Option(None, "--scale", help="sandbox scale of the base (default 0.003)"),
    markdown: Path | None = typer.Option(None, "--markdown", help="also write the table of faults there"),
) -> None:
    """Plant each catalogued fault in a copy of the raw layer, run dbt, and print which tests catch it,
    the score per class, and the data tests that no fault makes fail. Exits 1 unless every fault is
    caught and every data test fails on some fault (or is kept on purpose)."""
    from data_gcp.dbt_faults import BASE_SCALE, CATALOGUE, markdown_table, prepare_base, run_catalogue

    chosen = [f for f in CATALOGUE if not only or f.name in only]
    unknown = sorted(set(only or ()) - {f.name for f in CATALOGUE})
    if unknown:
        raise typer.BadParameter(f"no such fault: {', '.join(unknown)}", param_hint="--only")
    with tempfile.TemporaryDirectory(prefix="dbt-faults-") as tmp:
        work = Path(tmp)
        target = work / "target"
        if base is None:
            base = work / "base"
            out.print(f"building a fault-free warehouse in {base} (sandbox scale {scale or BASE_SCALE})")
            prepare_base(base, target, scale=scale or BASE_SCALE)

        def progress(i: int, batch: list, failed: set, note: str) -> None:
            out.print(f"batch {i}: {', '.join(f.name for f in batch)}: {len(failed)} failing {note}".rstrip())

        report = run_catalogue(base, work / "batches", target, chosen, isolated=isolated, on_batch=progress)
    out.print(report.render())
    if markdown is not None:
        markdown.write_text(markdown_table(report) + "\n", encoding="utf-8")
    if only:
        if report.uncaught:
            raise typer.Exit(1)
    elif not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `faults` to the `dbt` group the ETL job's commands registered."""
    for info in app.registered_groups:
        if info.name == "dbt" and info.typer_instance is not None:
            info.typer_instance.command("faults")(faults)
            return
    raise RuntimeError("the dbt command group must be registered before `dbt faults`")
