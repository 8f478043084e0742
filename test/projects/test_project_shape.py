"""The shape of each deployable: its bricks, the packages its image must never hold, its version.

Why exact sets for the projects named here: these fail when a deployable quietly grows (a base
importing one more brick pulls a whole stack into an image). Change them on purpose, with the image
sizes in mind (`development/bench/bench_projects.py`). The connectors come from the registry (what
`data-gcp new connector` adds); a project not named here (`data-gcp new service`, `poly create
project`) is held to the rules every project follows (no development-only brick, its commit version).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from data_gcp.brick_graph import get_project, list_projects, project_bricks
from data_gcp.config import workspace_root
from data_gcp.deploy import export_argv
from data_gcp.etl_core import CONNECTOR_MODULES

ROOT = workspace_root(Path(__file__).parent)

# every connector of the registry ships in the ETL job and in Composer (whose DAGs run it)
CONNECTORS = {module.split(".")[1] for module in CONNECTOR_MODULES.values()}
EXPECTED_BRICKS = {
    "etl_job": {
        "etl_job", "cli_kit", "config", "log", "secrets", "warehouse", "http_client", "etl_core",
        "dbt_runner", "applicative_import", "applicative_schema", "exports", "storage", "table_catalog",
        "reco_cloudsql", "pro_clickhouse", "processes", *CONNECTORS,
    },
    "ml_job": {
        "ml_job", "cli_kit", "config", "log", "storage", "warehouse", "ml_tracking", "reco_metrics",
        "retrieval", "two_tower", "ranking", "ranking_job", "model_report", "item_content", "item_embedding",
        "item_clusters", "record_linkage", "offer_categories", "manifest", "processes",
    },
    "composer": {
        "alerts", "config", "log", "secrets", "warehouse", "http_client", "etl_core", "dbt_runner",
        "execution", "orchestration", "storage", "table_catalog", "applicative_schema", "processes",
        *CONNECTORS,
    },
    "retrieval_endpoint": {
        "retrieval_api", "api_kit", "retrieval", "manifest", "config", "log", "storage", "warehouse",
        "processes",
    },
    "ranking_endpoint": {
        "ranking_api", "api_kit", "ranking", "manifest", "reco_metrics", "config", "log", "storage",
    },
}  # fmt: skip

# Development-only bricks: test support, local tooling. No deployable may hold one.
DEVELOPMENT_ONLY = {
    "cli", "vendor_servers", "sandbox", "local_run", "scaffold", "deploy", "brick_graph", "changed_bricks",
    "local_ui", "planted_truth", "dbt_faults",
}  # fmt: skip

AIRFLOW = r"apache-airflow.*"
DBT = r"dbt-.*"
CUDA = r"nvidia-.*"
FORBIDDEN_PACKAGES = {
    "etl_job": [r"torch", CUDA, r"lightgbm", r"lancedb", r"fastapi", r"chdb.*"],  # chdb: a dev engine, 530 MB
    "ml_job": [AIRFLOW, DBT, r"astronomer-cosmos"],
    "retrieval_endpoint": [AIRFLOW, DBT, r"dlt", r"torch", CUDA],
    "ranking_endpoint": [AIRFLOW, DBT, r"dlt"],
    "composer": [AIRFLOW, r"torch", CUDA, r"lightgbm", r"lancedb"],
}


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to export the projects' requirements (pip install uv)"
    return uv


def _exported(project_name: str) -> set[str]:
    """The package names of the requirements the project's image installs (deploy's own export)."""
    project = get_project(ROOT, project_name)
    argv = list(export_argv(project))
    result = subprocess.run([_uv(), *argv[1:]], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    names = set()
    for line in result.stdout.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-e", "./", "-")):
            names.add(Requirement(line.split(";")[0]).name.lower())
    return names


def test_the_expected_projects_exist() -> None:
    missing = set(EXPECTED_BRICKS) - set(list_projects(ROOT))
    assert not missing, f"projects gone: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(EXPECTED_BRICKS))
def test_project_holds_exactly_its_bricks(name: str) -> None:
    bricks = {b.name for b in project_bricks(ROOT, get_project(ROOT, name))}
    assert bricks == EXPECTED_BRICKS[name], (
        f"{name}: unexpected {sorted(bricks - EXPECTED_BRICKS[name])}, "
        f"missing {sorted(EXPECTED_BRICKS[name] - bricks)}"
    )


@pytest.mark.parametrize("name", sorted(list_projects(ROOT)))
def test_no_project_ships_a_development_only_brick(name: str) -> None:
    bricks = {b.name for b in project_bricks(ROOT, get_project(ROOT, name))}
    assert not bricks & DEVELOPMENT_ONLY, f"{name} ships development-only bricks {bricks & DEVELOPMENT_ONLY}"


def test_each_project_is_rooted_at_one_base_of_its_own() -> None:
    roots = {}
    for project in list_projects(ROOT).values():
        bases = [b.name for b in project_bricks(ROOT, project) if b.kind == "base"]
        assert len(bases) <= 1, f"{project.name} holds several bases: {bases}"
        for base in bases:
            assert base not in roots, f"{project.name} and {roots[base]} share the base {base}"
            roots[base] = project.name
    assert set(EXPECTED_BRICKS["etl_job"]) != set(EXPECTED_BRICKS["ml_job"])


@pytest.mark.parametrize("name", sorted(FORBIDDEN_PACKAGES))
def test_project_image_never_installs_forbidden_packages(name: str) -> None:
    packages = _exported(name)
    assert packages, f"{name}: empty export"
    bad = sorted(p for p in packages if any(re.fullmatch(f, p) for f in FORBIDDEN_PACKAGES[name]))
    assert not bad, f"{name}'s image would install {bad}"


def test_composer_export_keeps_what_its_dags_need() -> None:
    packages = _exported("composer")
    assert {"astronomer-cosmos", "dbt-bigquery", "dlt"} <= packages
    # the image's own packages are not pinned again (a pin would upgrade or downgrade them)
    assert not packages & {"google-cloud-bigquery", "pyarrow", "pandas", "numpy", "apache-airflow"}


def test_project_version_changes_with_the_commit() -> None:
    sha = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    assert sha, "the workspace is a git checkout"
    for project in list_projects(ROOT).values():
        assert re.fullmatch(rf"0\.1\.0\+g{sha}(\.dirty)?", project.built_version), project.name
        assert project.built_version in project.wheel_name


# System libraries a package's wheel links without shipping them, which the slim base image lacks.
SYSTEM_LIBRARIES = {"lightgbm": "libgomp1"}


@pytest.mark.parametrize("name", sorted(n for n in FORBIDDEN_PACKAGES if n != "composer"))
def test_image_installs_the_system_libraries_its_packages_link(name: str) -> None:
    dockerfile = (ROOT / "projects" / name / "Dockerfile").read_text(encoding="utf-8")
    needed = {lib for pkg, lib in SYSTEM_LIBRARIES.items() if pkg in _exported(name)}
    missing = sorted(lib for lib in needed if not re.search(rf"apt-get install [^\n]*\b{lib}\b", dockerfile))
    assert not missing, f"{name}'s image installs packages that need {missing}: add them to its Dockerfile"
