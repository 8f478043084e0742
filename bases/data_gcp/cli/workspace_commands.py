"""Workspace commands: `data-gcp test [--changed]`, `data-gcp new ...`, `data-gcp projects ...`."""

from __future__ import annotations

import json
import subprocess
import sys

import typer

from data_gcp.cli_kit import err, out

new_app = typer.Typer(
    help="Scaffold a new connector, ML job or service (wraps `poly create`).", no_args_is_help=True
)
projects_app = typer.Typer(help="The deployable projects and their bricks.", no_args_is_help=True)


def test(
    ctx: typer.Context,
    changed: bool = typer.Option(
        False, "--changed", help="only the tests of bricks changed since REF and their dependents"
    ),
    since: str | None = typer.Option(
        None, "--since", help="ref to compare with (default: merge base with the main branch)"
    ),
    list_only: bool = typer.Option(False, "--list", help="print the selection, run nothing"),
    as_json: bool = typer.Option(False, "--json", help="with --list: the selection as JSON (for CI)"),
) -> None:
    """Run the test suite, or with --changed only what the changes can break. Extra args go to pytest."""
    from data_gcp.changed_bricks import select_since
    from data_gcp.config import workspace_root

    root = workspace_root()
    paths = ["test"]
    if changed or since:
        selection = select_since(root, since)
        paths = selection.test_paths
        if list_only:
            if as_json:
                typer.echo(json.dumps(selection.as_dict(), indent=2))
                return
            typer.echo(f"base: {selection.base}")
            typer.echo(f"changed bricks: {', '.join(sorted(selection.changed_bricks)) or '-'}")
            typer.echo(f"selected bricks: {', '.join(sorted(selection.selected_bricks)) or '-'}")
            if selection.source_readers:
                typer.echo(
                    f"bricks reading changed dbt/ or orchestration/: {', '.join(sorted(selection.source_readers))}"
                )
            if selection.run_all:
                typer.echo(f"everything: {selection.run_all}")
            typer.echo(f"affected projects: {', '.join(selection.projects) or '-'}")
            typer.echo("tests:")
            for path in paths:
                typer.echo(f"  {path}")
            return
        if not paths:
            err.print(f"no test is affected by the changes since {selection.base[:12]}")
            return
        err.print(f"running {len(paths)} test folder(s) affected since {selection.base[:12]}")
    elif list_only:
        out.print("tests:\n  test")
        return
    rc = subprocess.run([sys.executable, "-m", "pytest", *paths, *ctx.args], cwd=root, check=False).returncode
    raise typer.Exit(rc)


def _scaffold(kind: str, name: str) -> None:
    from data_gcp.config import workspace_root
    from data_gcp.scaffold import scaffold

    result = scaffold(workspace_root(), kind, name)
    out.print(f"[green]created {kind} {name}[/] (nothing committed):")
    for path in result.files:
        typer.echo(f"  {path}")
    for line in result.next_steps:
        out.print(f"[dim]next:[/] {line}")


@new_app.command("connector")
def new_connector(name: str = typer.Argument(..., help="snake_case system name, e.g. appsflyer")) -> None:
    """A connector component (etl_core pattern), its tests, its registry line and DAG schedule."""
    _scaffold("connector", name)


@new_app.command("ml-job")
def new_ml_job(name: str = typer.Argument(..., help="snake_case job name, e.g. clusterisation")) -> None:
    """An ML job component and its tests; it prints the steps that give it a command and a schedule."""
    _scaffold("ml-job", name)


@new_app.command("service")
def new_service(name: str = typer.Argument(..., help="snake_case service name, e.g. similar_offers")) -> None:
    """A FastAPI base, its tests, and a Cloud Run project with its Dockerfile."""
    _scaffold("service", name)


@projects_app.command("sync")
def projects_sync(
    check: bool = typer.Option(False, "--check", help="report drift and exit 1, write nothing"),
) -> None:
    """Recompute each project's bricks and dependencies from the import graph (and the root's bricks)."""
    from data_gcp.brick_graph import sync_projects
    from data_gcp.config import workspace_root

    drifts = sync_projects(workspace_root(), write=not check)
    dirty = False
    for d in drifts:
        for label, items in (
            ("bricks missing", d.missing_bricks),
            ("bricks not imported", d.extra_bricks),
            ("dependencies missing", d.missing_dependencies),
            ("dependencies not imported", d.extra_dependencies),
            ("roots not written yet", d.pending_roots),
        ):
            if items:
                out.print(f"{d.project}: {label}: {', '.join(items)}")
        if d.static_version:
            done = "" if check else " (written)"
            out.print(
                f"{d.project}: a fixed version, not the commit's (projects/version.py){done}", markup=False
            )
        if d.undeclared_roots:
            written = "" if check else " (written from its bases)"
            message = (
                f"{d.project}: [tool.data-gcp] roots not declared{written}; add the project's base to its "
                "roots, and a [tool.data-gcp.deploy] table to deploy it"
            )
            out.print(message, markup=False)
        for module, files in d.undeclared_imports.items():
            out.print(
                f"{d.project}: {module} is imported ({', '.join(files[:2])}{', ...' if len(files) > 2 else ''}) "
                "but installed by none of its requirements: add its distribution to the root "
                "[project.dependencies], then run `data-gcp projects sync` and `uv lock`",
                markup=False,
            )
        dirty |= not d.clean
    if check and dirty:
        err.print("[red]projects out of date[/]: run `data-gcp projects sync`, then `uv lock`")
        raise typer.Exit(1)
    if not check and any(d.missing_dependencies or d.extra_dependencies for d in drifts):
        err.print("dependencies changed: run `uv lock`")
    if not dirty:
        out.print("projects up to date")
    elif not check:
        out.print("projects written")


@projects_app.command("list")
def projects_list() -> None:
    """Each project with its bricks."""
    from data_gcp.brick_graph import list_projects, project_bricks
    from data_gcp.config import workspace_root

    root = workspace_root()
    for name, project in list_projects(root).items():
        bricks = ", ".join(b.name for b in project_bricks(root, project)) or "-"
        out.print(f"[bold]{name}[/] ({project.deploy.get('target', '?')}): {bricks}")


@projects_app.command("rehearse")
def projects_rehearse(
    projects: str = typer.Option(
        "", "--projects", help="comma-separated project names (default: all; a service adds the ML job)"
    ),
) -> None:
    """Each project as deployed: its venv built as its Dockerfile builds it (cached under .rehearsal/),
    every module of its bricks imported there, its entry points run there on a tiny sandbox."""
    from data_gcp.config import workspace_root
    from data_gcp.image_rehearsal import failures, rehearse, results_table

    names = [n.strip() for n in projects.split(",") if n.strip()] or None

    def progress(result) -> None:  # noqa: ANN001
        err.print(f"[dim]{result.project}: {'ok' if result.ok else 'FAILED'}[/]")

    results = rehearse(workspace_root(), names, on_result=progress)
    out.print(results_table(results))
    problems = failures(results)
    for line in problems:
        err.print(line, markup=False)
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("test", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(test)
    app.add_typer(new_app, name="new")
    app.add_typer(projects_app, name="projects")
