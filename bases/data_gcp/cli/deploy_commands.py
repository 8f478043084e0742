"""`data-gcp deploy <project> --env dev|stg|prod [--dry-run]`."""

from __future__ import annotations

import os

import typer

from data_gcp.cli_kit import err


def deploy(
    project: str = typer.Argument(..., help="a folder of projects/: composer, etl_job, ml_job, ..."),
    env: str = typer.Option(..., "--env", help="dev, stg or prod"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the commands, run nothing"),
    tag: str | None = typer.Option(
        None,
        help="image tag (default: the commit, git rev-parse --short=12 HEAD); a dirty tree is refused either way",
    ),
    allow_dirty: bool = typer.Option(
        False, "--allow-dirty", help="deploy uncommitted changes, tagged <commit>-dirty (default: refuse)"
    ),
) -> None:
    """Build and deploy one project: Composer bundle or Cloud Run image + job/service."""
    from data_gcp.brick_graph import get_project
    from data_gcp.config import get_settings, workspace_root
    from data_gcp.deploy import OVERRIDE_VARS, build_plan, deploy_target, image_tag, run_plan

    root = workspace_root()
    # the dirty-tree check runs whatever the tag: an explicit tag names the image, it proves nothing
    # about the code; a dry run runs nothing, so it shows the plan a dirty tree would get (`-dirty`)
    tag = image_tag(root, tag, allow_dirty=allow_dirty or dry_run)
    overrides = {var: os.environ[var] for var in OVERRIDE_VARS.values() if os.environ.get(var)}
    target = deploy_target(env, get_settings(), overrides)
    plan = build_plan(get_project(root, project), target, tag)
    if dry_run:
        typer.echo(plan.render())
        return
    err.print(f"deploying [bold]{project}[/] to [bold]{target.env.value}[/] ({len(plan.steps)} steps)")
    run_plan(plan, root)
    err.print(f"[green]deployed {project} to {target.env.value}[/]")


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
