"""`development/ci/workflow_job.py`: a workflow job's shell steps, run here as GitHub's runner would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from development.ci import workflow_job  # imported, so that a change to it selects this test

SCRIPT = Path(workflow_job.__file__)

WORKFLOW = """
jobs:
  plan:
    steps:
      - uses: actions/checkout@v4
      - name: reads CI and the step env
        env:
          BEFORE: ${{ github.event.before }}
        run: |
          echo "ci=$CI before=${BEFORE:-none} ref=$GITHUB_REF_NAME" >> "$GITHUB_OUTPUT"
      - name: fails
        run: |
          false
          echo "never" >> "$GITHUB_OUTPUT"
      - run: echo "after a failure" >> "$GITHUB_OUTPUT"
"""


def test_runs_the_shell_steps_with_ci_true_and_stops_at_the_first_failure(tmp_path: Path) -> None:
    (tmp_path / "wf.yml").write_text(WORKFLOW)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x"],
        cwd=tmp_path, check=True,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "wf.yml", "plan", "--ref-name", "production"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[1] actions/checkout@v4: a `uses:` step, not run here" in result.stdout
    assert "[2] exit 0" in result.stdout and "[3] exit 1" in result.stdout
    assert "[4]" not in result.stdout  # `bash -e`: the failing step stops the job, like the runner

    (tmp_path / "wf.yml").write_text(WORKFLOW.split("      - name: fails")[0])
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "wf.yml", "plan", "--ref-name", "production"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "outputs: ci=true before=none ref=production" in result.stdout
