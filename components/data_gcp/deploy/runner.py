"""Run a plan: each step in turn from the workspace root; the first failure stops the deploy."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from data_gcp.deploy.plans import DeployError, Plan
from data_gcp.log import get_logger

log = get_logger(__name__)


def run_plan(plan: Plan, root: Path) -> None:
    """Execute `plan`; raise DeployError naming the failed step (its command, never an env value)."""
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
