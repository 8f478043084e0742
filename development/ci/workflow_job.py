"""Run the shell steps of one GitHub workflow job here, in order, as the runner would (`CI=true`).

Why: the CD plan job cannot be run on GitHub from a laptop; its `run:` steps can. `uses:` steps are
listed, not run: provide what they install first (Node.js 20 for setup-node, uv for setup-uv, a
PostgreSQL server on 127.0.0.1:5432 for the service container).

    uv run python development/ci/workflow_job.py .github/workflows/cd.yml plan [--ref-name master]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow", type=Path)
    parser.add_argument("job")
    parser.add_argument("--ref-name", default="master", help="GITHUB_REF_NAME (the pushed branch)")
    parser.add_argument("--before", default="", help="github.event.before (default: none, HEAD~1 is used)")
    args = parser.parse_args()
    job = yaml.safe_load(args.workflow.read_text())["jobs"][args.job]
    temp = Path(tempfile.mkdtemp(prefix="runner-temp-"))
    output = temp / "github_output"
    output.touch()
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    base_env = {
        **os.environ,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_REF_NAME": args.ref_name,
        "GITHUB_SHA": sha,
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(temp),
    }
    expressions = {"${{ github.event.before }}": args.before}
    for i, step in enumerate(job["steps"], 1):
        name = step.get("name") or step.get("uses") or step.get("run", "").splitlines()[0]
        if "run" not in step:
            print(f"[{i}] {name}: a `uses:` step, not run here", flush=True)
            continue
        env = dict(base_env)
        for key, value in step.get("env", {}).items():
            env[key] = expressions.get(str(value), str(value))
        started = time.monotonic()
        print(f"[{i}] {name}", flush=True)
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], env=env, check=False)
        print(f"[{i}] exit {result.returncode} after {time.monotonic() - started:.0f} s", flush=True)
        if result.returncode != 0:
            return result.returncode
    print("outputs:", output.read_text().strip().replace("\n", "; "), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
