"""The image rehearsal: a project's venv as its Dockerfile builds it, and what runs there.

The full rehearsal (every project, every entry point) runs in `.ci/run` (`data-gcp projects rehearse`);
these tests pin its parts, and import the ML job's bricks in the ML job's own venv (the workspace venv
holds every project's requirements and hides a missing one).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from data_gcp.brick_graph import get_project, list_projects
from data_gcp.config import workspace_root
from data_gcp.image_rehearsal import (
    ENTRY_POINTS,
    CheckResult,
    ProjectRehearsal,
    Stage,
    build_env,
    dockerfile_cmd,
    failures,
    import_all,
    installed_mb,
    results_table,
)
from data_gcp.image_rehearsal.core import ordered
from data_gcp.image_rehearsal.venvs import provided_requirements

ROOT = workspace_root()


def test_every_project_has_entry_points_to_rehearse() -> None:
    assert set(list_projects(ROOT)) <= set(ENTRY_POINTS)
    assert ordered(["composer", "retrieval_endpoint", "ml_job", "etl_job"]) == [
        "etl_job",
        "ml_job",
        "retrieval_endpoint",
        "composer",
    ]


def test_services_start_with_their_dockerfile_cmd() -> None:
    for name in ("ranking_endpoint", "retrieval_endpoint"):
        cmd = dockerfile_cmd(ROOT / "projects" / name / "Dockerfile")
        assert cmd[0] == "uvicorn" and "--factory" in cmd and cmd[cmd.index("--port") + 1] == "8080"


def test_composer_venv_gets_exactly_the_image_airflow() -> None:
    project = get_project(ROOT, "composer")
    airflow = re.search(r"airflow-(\d+\.\d+\.\d+)-build", project.deploy["image-version"])[1]
    provided = provided_requirements(ROOT, project).splitlines()
    assert f"apache-airflow=={airflow}" in provided
    assert f"apache-airflow-core=={airflow}" in provided


def test_an_image_process_never_sees_the_workspace_venv_or_its_settings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DATA_GCP_PROJECT_ID", "leaked")
    stage = Stage(tmp_path, tmp_path / "data", tmp_path / "ws")
    env = stage.environ(tmp_path / "venv")
    path = env["PATH"].split(os.pathsep)
    assert path[0] == str(tmp_path / "venv" / "bin")
    assert str(Path(sys.executable).parent) not in path
    assert "DATA_GCP_PROJECT_ID" not in env and env["DATA_GCP_DATA_DIR"] == str(tmp_path / "data")


def test_a_failed_import_or_check_fails_the_rehearsal_and_is_named() -> None:
    good = ProjectRehearsal("svc", pins=3, size_mb=12.0, imported=["data_gcp.a"])
    good.checks = [CheckResult("/isalive", True, 0.1, "200")]
    bad = ProjectRehearsal(
        "job", imported=["data_gcp.a"], failed={"data_gcp.b": "ModuleNotFoundError: pandas"}
    )
    bad.checks = [CheckResult("ml embed", False, 1.0, "exit 1: boom")]
    big = ProjectRehearsal("svc2", size_mb=603.0, limit_mb=600.0, checks=list(good.checks))
    assert good.ok and not bad.ok and not big.ok
    assert failures([good, bad, big])[:2] == [
        "job: import data_gcp.b: ModuleNotFoundError: pandas",
        "job: ml embed: exit 1: boom",
    ]
    assert failures([big])[0].startswith("svc2: installs 603 MB, over its max-installed-mb 600")
    assert [c.header for c in results_table([good]).columns][:3] == ["project", "pins", "MB"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_ml_job_module_imports_in_the_ml_job_venv(tmp_path: Path) -> None:
    """pandas is imported by five ML bricks; only the project's own venv shows whether it ships."""
    env = build_env(ROOT, get_project(ROOT, "ml_job"))
    stage = Stage(tmp_path, tmp_path / "data", tmp_path / "ws")
    imported, failed = import_all(env, tmp_path, stage.environ(env.venv))
    assert failed == {}
    assert "data_gcp.two_tower" in imported and "data_gcp.ml_job.main" in imported


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_retrieval_endpoint_fits_its_declared_size_and_the_docs_show_it() -> None:
    """Each service declares what its image may weigh; the docs' figure is the one measured here."""
    project = get_project(ROOT, "retrieval_endpoint")
    limit = project.deploy.get("max-installed-mb")
    assert limit, "projects/retrieval_endpoint: declare [tool.data-gcp.deploy] max-installed-mb"
    size = installed_mb(build_env(ROOT, project))
    assert size <= limit
    docs = (ROOT / "docs" / "benchmarks.md").read_text()
    row = re.search(r"^\| retrieval_endpoint \| \d+ \| (\d+) \| (\d+) \|", docs, re.MULTILINE)
    assert row, "docs/benchmarks.md: the Deployables table has no retrieval_endpoint row"
    assert abs(int(row[1]) - size) <= 0.05 * size, f"docs say {row[1]} MB, measured {size:.0f} MB"
    assert int(row[2]) == limit


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_new_job_project_is_rehearsed_by_its_target_until_it_has_its_own_run(tmp_path: Path) -> None:
    """`data-gcp new` makes projects the table does not name yet: their image must at least start."""
    from data_gcp.image_rehearsal.core import GENERIC

    env = build_env(ROOT, get_project(ROOT, "etl_job"))
    (result,) = GENERIC["cloud-run-job"](env, Stage(tmp_path, tmp_path / "data", tmp_path / "ws"), ROOT)
    assert result.ok, result.detail
    assert set(GENERIC) == {"cloud-run-service", "cloud-run-job"}
