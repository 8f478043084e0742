"""No usage telemetry: Cosmos (and the other libraries) send nothing from where Airflow runs, locally
and in Composer. Checked in a fresh interpreter with the environment each place gets: Cosmos' own
emission (`emit_usage_metrics_if_enabled`, what its listeners call after every Cosmos task and DAG run)
is called with every host lookup and connection recorded and refused. Cosmos swallows the failure of
its call, so the record, not an error, shows the attempt."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from data_gcp.brick_graph import list_projects
from data_gcp.config import get_settings, workspace_root
from data_gcp.deploy import build_plan, deploy_target

PROBE = """
import socket, sys
attempts = []

def hook(event, args):
    if event in ("socket.getaddrinfo", "socket.connect"):
        attempts.append(repr(args[0] if event == "socket.getaddrinfo" else args[1]))
        raise OSError(101, "network cut")

sys.addaudithook(hook)
from cosmos import telemetry
telemetry.emit_usage_metrics_if_enabled("dag_run", {"dag_hash": "x", "status": "success", "task_count": 1})
print(bool(attempts))
"""


def _cosmos_emits(extra_env: dict[str, str]) -> bool:
    # the environment of a worker: none of our switches inherited from this test process
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS")}
    env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW__COSMOS__")}
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1] == "True"


def test_cosmos_would_post_telemetry_without_the_switches():
    """The probe can fail: by default Cosmos calls its telemetry host."""
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
