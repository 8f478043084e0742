"""No usage telemetry: Cosmos (and the other libraries) send nothing from where Airflow runs, locally
and in Composer. Checked in a fresh interpreter with the environment each place gets, through the
library's own switch (`cosmos.telemetry.should_emit`, read when Cosmos is imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from data_gcp.brick_graph import list_projects
from data_gcp.config import get_settings, workspace_root
from data_gcp.deploy import build_plan, deploy_target

PROBE = "import cosmos.telemetry as t; print(t.should_emit())"


def _cosmos_emits(extra_env: dict[str, str]) -> bool:
    # the environment of a worker: none of our switches inherited from this test process
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS")}
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__COSMOS__")}
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1] == "True"


def test_cosmos_would_post_telemetry_without_the_switches():
    """The probe can fail: Cosmos' default is to send."""
    assert _cosmos_emits({}) is True


def test_the_local_airflow_sends_no_cosmos_telemetry(isolated_env):
    from data_gcp.local_run import airflow_environment

    assert _cosmos_emits(airflow_environment(get_settings())) is False


def test_composer_sends_no_cosmos_telemetry():
    """The Composer environment's variables, as the deploy plan sets them."""
    project = list_projects(workspace_root(Path(__file__).parent))["composer"]
    plan = build_plan(project, deploy_target("prod"), "0123456789ab")
    updates = [list(s.argv) for s in plan.steps if "--update-env-variables" in s.argv]
    assert len(updates) == 1
    value = updates[0][updates[0].index("--update-env-variables") + 1]
    env = dict(item.split("=", 1) for item in value.split(","))
    assert _cosmos_emits(env) is False
