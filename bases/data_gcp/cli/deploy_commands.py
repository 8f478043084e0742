"""`data-gcp deploy <project> --env dev|stg|prod [--dry-run]`."""

from __future__ import annotations

import os
import subprocess

import typer

from data_gcp.cli_kit import err


def deploy(
    project: str = typer.Argument(..., help="a folder of projects/: composer, etl_job, ml_job, ..."),
    env: str = typer.Option(..., "--env", help="dev, stg or prod"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the commands, run nothing"),
    tag: str | None = typer.Option(
        None, help="image tag (default: the commit, git rev-parse --short=12 HEAD)"
    ),
) -> None:
    """Build and deploy one project: Composer bundle or Cloud Run image + job/service."""
    from data_gcp.brick_graph import get_project
    from data_gcp.config import get_settings, workspace_root
    from data_gcp.deploy import OVERRIDE_VARS, DeployError, build_plan, deploy_target, run_plan

    root = workspace_root()
    if tag is None:
        result = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, check=False
        )
        tag = result.stdout.strip()
        if result.returncode != 0 or not tag:
            raise DeployError(f"cannot read the commit of {root} for the image tag: pass --tag")
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
