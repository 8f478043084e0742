"""The import graph and project membership on a small workspace written by the test."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from data_gcp.brick_graph import (
    dependencies,
    dependents,
    import_graph,
    list_projects,
    project_bricks,
    sync_projects,
    workspace_bricks,
)

PROJECT = """[project]
name = "{name}"
version = "0.1.0"
dependencies = []

[tool.polylith.bricks]

[tool.data-gcp]
roots = {roots}
extra-dependencies = {extra}
"""


def _write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """shared <- conn_a, conn_b; registry names conn_a/conn_b as strings; api (base) -> registry."""
    root = tmp_path / "ws"
    _write(root, "workspace.toml", "[tool.polylith]\nnamespace = 'data_gcp'\n")
    _write(
        root,
        "pyproject.toml",
        '[project]\nname = "root"\ndependencies = ["pyarrow>=16", "httpx>=0.27", "uvicorn>=0.30"]\n',
    )
    _write(root, "components/data_gcp/shared/__init__.py", "import pyarrow\n")
    _write(root, "components/data_gcp/conn_a/__init__.py", "from data_gcp.shared import x\nimport httpx\n")
    _write(root, "components/data_gcp/conn_b/core.py", "import data_gcp.shared.core\n")
    _write(
        root,
        "components/data_gcp/registry/__init__.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from data_gcp.conn_b import y\n"
        'MODULES = {"a": "data_gcp.conn_a", "b": "data_gcp.conn_b", "z": "data_gcp.not_a_brick"}\n',
    )
    _write(root, "components/data_gcp/lonely/__init__.py", "")
    _write(root, "bases/data_gcp/api/main.py", "from data_gcp import registry\n")
    _write(root, "orchestration/dags/dag.py", "from data_gcp.registry import MODULES\n")
    _write(
        root,
        "projects/svc/pyproject.toml",
        PROJECT.format(name="svc", roots='["bases/data_gcp/api"]', extra='["uvicorn"]'),
    )
    _write(
        root,
        "projects/bundle/pyproject.toml",
        PROJECT.format(name="bundle", roots='["orchestration"]', extra="[]"),
    )
    _write(
        root,
        "projects/later/pyproject.toml",
        PROJECT.format(name="later", roots='["bases/data_gcp/nope"]', extra="[]"),
    )
    return root


def test_static_graph_ignores_strings_and_type_checking(ws: Path) -> None:
    graph = import_graph(ws)
    assert graph["conn_a"] == {"shared"}
    assert graph["conn_b"] == {"shared"}
    assert graph["registry"] == frozenset()
    assert graph["api"] == {"registry"}
    assert set(workspace_bricks(ws)) == {"shared", "conn_a", "conn_b", "registry", "lonely", "api"}


def test_plugin_graph_follows_module_strings_of_known_bricks(ws: Path) -> None:
    assert import_graph(ws, plugins=True)["registry"] == {"conn_a", "conn_b"}


def test_closures_both_ways(ws: Path) -> None:
    graph = import_graph(ws)
    assert dependents(graph, ["shared"]) == {"shared", "conn_a", "conn_b"}
    assert dependents(graph, ["conn_a"]) == {"conn_a"}
    assert dependencies(import_graph(ws, plugins=True), ["api"]) == {
        "api",
        "registry",
        "conn_a",
        "conn_b",
        "shared",
    }


def test_project_bricks_are_the_closure_of_its_roots(ws: Path) -> None:
    projects = list_projects(ws)
    assert [b.name for b in project_bricks(ws, projects["svc"])] == [
        "api",
        "conn_a",
        "conn_b",
        "registry",
        "shared",
    ]
    # a folder root: the bricks its files import, then their closure
    assert {b.name for b in project_bricks(ws, projects["bundle"])} == {
        "registry",
        "conn_a",
        "conn_b",
        "shared",
    }
    assert project_bricks(ws, projects["later"]) == []


def test_sync_writes_bricks_and_dependencies_then_is_clean(ws: Path) -> None:
    drifts = {d.project: d for d in sync_projects(ws, write=False)}
    assert "../../components/data_gcp/shared" in drifts["svc"].missing_bricks
    assert drifts["later"].pending_roots == ["bases/data_gcp/nope"]
    assert "components/data_gcp/lonely" in drifts["development"].missing_bricks

    sync_projects(ws, write=True)
    svc = tomllib.loads((ws / "projects/svc/pyproject.toml").read_text())
    assert svc["tool"]["polylith"]["bricks"]["../../bases/data_gcp/api"] == "data_gcp/api"
    assert len(svc["tool"]["polylith"]["bricks"]) == 5
    assert svc["project"]["dependencies"] == ["httpx>=0.27", "pyarrow>=16", "uvicorn>=0.30"]
    root = tomllib.loads((ws / "pyproject.toml").read_text())
    assert len(root["tool"]["polylith"]["bricks"]) == 6
    assert all(d.clean for d in sync_projects(ws, write=False))


def test_an_import_no_requirement_installs_is_drift(ws: Path) -> None:
    """pandas arrives in the workspace venv as another package's dependency, never in the image."""
    sync_projects(ws, write=True)
    _write(
        ws,
        "components/data_gcp/conn_a/core.py",
        "import json\nimport pandas as pd\nfrom google.api_core.exceptions import NotFound\n"
        "from google.cloud import storage\n",
    )
    drifts = {d.project: d for d in sync_projects(ws, write=False)}
    assert not drifts["svc"].clean and not drifts["bundle"].clean, (
        "a planted `import pandas` passes the check"
    )
    assert drifts["svc"].undeclared_imports == {
        "google.api_core": ["components/data_gcp/conn_a/core.py"],
        "google.cloud": ["components/data_gcp/conn_a/core.py"],
        "pandas": ["components/data_gcp/conn_a/core.py"],
    }
    _write(
        ws,
        "pyproject.toml",
        '[project]\nname = "root"\ndependencies = ["pyarrow>=16", "httpx>=0.27", "uvicorn>=0.30", '
        '"pandas>=2", "google-api-core>=2", "google-cloud-storage>=2"]\n',
    )
    # declared at the root, not yet in the project: `projects sync --check` still fails (CI)
    drifts = {d.project: d for d in sync_projects(ws, write=False)}
    assert "pandas>=2" in drifts["svc"].missing_dependencies and not drifts["svc"].clean
    sync_projects(ws, write=True)
    assert all(d.clean for d in sync_projects(ws, write=False))
    svc = tomllib.loads((ws / "projects/svc/pyproject.toml").read_text())
    assert "pandas>=2" in svc["project"]["dependencies"]


def test_what_the_target_provides_is_declared(ws: Path) -> None:
    """An excluded requirement (Composer's own packages) declares its modules and its dependencies'."""
    _write(ws, "components/data_gcp/conn_a/core.py", "import pandas\nimport dateutil\n")
    text = PROJECT.format(name="svc", roots='["bases/data_gcp/api"]', extra='["uvicorn"]')
    _write(ws, "projects/svc/pyproject.toml", text + 'exclude-dependencies = ["pandas"]\n')
    drifts = {d.project: d for d in sync_projects(ws, write=False)}
    assert not drifts["svc"].clean and not drifts["bundle"].clean, (
        "a planted `import pandas` passes the check"
    )
    assert drifts["svc"].undeclared_imports == {}
    assert drifts["bundle"].undeclared_imports.keys() == {"dateutil", "pandas"}


def test_unknown_extra_dependency_is_refused(ws: Path) -> None:
    _write(
        ws,
        "projects/svc/pyproject.toml",
        PROJECT.format(name="svc", roots='["bases/data_gcp/api"]', extra='["flask"]'),
    )
    with pytest.raises(Exception, match="flask.*not a root dependency"):
        sync_projects(ws, write=False)


# What `poly create project --name new --quiet` writes (no [tool.data-gcp] table), bricks added by hand.
POLY_CREATED = """[build-system]
requires = ["hatchling", "hatch-polylith-bricks"]
build-backend = "hatchling.build"

[project]
name = "new"
version = "0.1.0"

requires-python = ">=3.11"

dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["data_gcp"]

[tool.hatch.build.hooks.polylith-bricks]

[tool.polylith.bricks]
{bricks}
"""


@pytest.mark.parametrize("listed", ["", '"../../bases/data_gcp/api" = "data_gcp/api"'])
def test_a_project_made_by_poly_create_is_listed_then_synced(ws: Path, listed: str) -> None:
    _write(ws, "projects/new/pyproject.toml", POLY_CREATED.format(bricks=listed))
    project = list_projects(ws)["new"]  # no `roots` yet: listed, not an error
    assert not project.roots_declared
    assert project.roots == (("bases/data_gcp/api",) if listed else ())
    (drift,) = [d for d in sync_projects(ws, write=False) if d.project == "new"]
    assert drift.undeclared_roots and not drift.clean
    sync_projects(ws, write=True)
    data = tomllib.loads((ws / "projects/new/pyproject.toml").read_text())
    assert data["tool"]["data-gcp"]["roots"] == list(project.roots)
    # the commit's version, like every project (a fixed 0.1.0 would never reinstall on Composer)
    assert "version" not in data["project"] and data["project"]["dynamic"] == ["version"]
    assert data["tool"]["hatch"]["version"] == {"source": "code", "path": "../version.py"}
    (drift,) = [d for d in sync_projects(ws, write=False) if d.project == "new"]
    assert drift.clean
    expected = {"api", "registry", "conn_a", "conn_b", "shared"} if listed else set()
    assert {b.name for b in project_bricks(ws, list_projects(ws)["new"])} == expected
