"""Run a plan: each step in turn from the workspace root; the first failure stops the deploy."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from data_gcp.deploy.plans import DeployError, Plan
from data_gcp.log import get_logger

log = get_logger(__name__)


# Where to get each program a plan runs; a program not listed is named alone.
INSTALL_HINTS = {
    "gcloud": "https://cloud.google.com/sdk/docs/install",
    "docker": "https://docs.docker.com/get-docker/",
    "uv": "https://docs.astral.sh/uv/getting-started/installation/",
}


def missing_tools(plan: Plan) -> list[str]:
    """The programs the plan's steps run that are not on PATH (gcloud, docker, ...), in plan order."""
    programs = dict.fromkeys(step.argv[0] for step in plan.steps)
    return [p for p in programs if shutil.which(p) is None]


def image_tag(root: Path, tag: str | None = None, allow_dirty: bool = False) -> str:
    """The image tag to deploy: `tag`, else the checkout's commit (`git rev-parse --short=12 HEAD`).

    A tree with uncommitted changes would ship code no commit holds under a commit's tag: refused
    whether or not the tag is given (CI always gives one), unless `allow_dirty`, which appends
    `-dirty` to the tag (and says so).
    """

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            raise DeployError(
                "git is not installed: cannot check that the working tree is committed"
            ) from None

    if tag is None:
        head = git("rev-parse", "--short=12", "HEAD")
        if head.returncode != 0 or not head.stdout.strip():
            raise DeployError(f"cannot read the commit of {root} for the image tag (not a git checkout?)")
        tag = head.stdout.strip()
    status = git("status", "--porcelain")
    if status.returncode != 0:
        raise DeployError(
            f"cannot read the state of {root} (git status failed: {status.stderr.strip()}): "
            "deploy from a git checkout"
        )
    changed = [line[3:] for line in status.stdout.splitlines() if line.strip()]
    if not changed:
        return tag
    listed = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    if not allow_dirty:
        raise DeployError(
            f"the working tree has uncommitted changes ({listed}): commit or stash them, "
            f"or deploy with --allow-dirty (tag {tag}-dirty)"
        )
    log.warning("uncommitted changes (%s): the image is tagged %s-dirty", listed, tag)
    return f"{tag}-dirty"


def commit_tag(root: Path, allow_dirty: bool = False) -> str:
    """The checkout's commit as the image tag (see `image_tag`)."""
    return image_tag(root, None, allow_dirty)


def run_plan(plan: Plan, root: Path) -> None:
    """Execute `plan`; raise DeployError naming the failed step (its command, never an env value).

    Every program the plan needs is checked first: a missing gcloud or docker fails at once, before
    any build step runs.
    """
    missing = missing_tools(plan)
    if missing:
        how = "; ".join(f"{p}: {INSTALL_HINTS[p]}" if p in INSTALL_HINTS else p for p in missing)
        raise DeployError(
            f"deploy {plan.project} to {plan.env} needs {', '.join(missing)}, not found on PATH: "
            f"install {'it' if len(missing) == 1 else 'them'} ({how}) and retry"
        )
    for i, step in enumerate(plan.steps, 1):
        log.info("deploy %s/%s step %d/%d: %s", plan.project, plan.env, i, len(plan.steps), step.why)
        try:
            result = subprocess.run(list(step.argv), cwd=root, env={**os.environ, **step.env}, check=False)
        except FileNotFoundError:
            raise DeployError(
                f"deploy {plan.project} to {plan.env}: step {i} needs {step.argv[0]!r}, which is not installed"
            ) from None
        if result.returncode != 0:
            raise DeployError(
                f"deploy {plan.project} to {plan.env}: step {i} ({step.why}) failed with exit code "
                f"{result.returncode}: {step.shell()}"
            )
