"""Composer's Airflow: the project names the image its environment is created with, and the workspace
(every DAG test, `data-gcp run`) runs exactly the Airflow that image carries, so no newer API is used."""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tomllib

from packaging.requirements import Requirement

from data_gcp.brick_graph import get_project
from data_gcp.config import workspace_root

ROOT = workspace_root()
IMAGE = re.compile(r"composer-3-airflow-(?P<airflow>\d+\.\d+\.\d+)-build\.\d+")


def _image_airflow() -> str:
    image = get_project(ROOT, "composer").deploy.get("image-version", "")
    match = IMAGE.fullmatch(image)
    assert match, (
        "projects/composer/pyproject.toml must name its Composer image in [tool.data-gcp.deploy] "
        f"image-version = 'composer-3-airflow-X.Y.Z-build.N' (got {image!r})"
    )
    return match["airflow"]


def test_the_workspace_pins_exactly_the_airflow_of_the_composer_image() -> None:
    airflow = _image_airflow()
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = [Requirement(s) for s in root["project"]["dependencies"]]
    (spec,) = [s for s in specs if s.name == "apache-airflow"]
    assert str(spec.specifier) == f"=={airflow}", f"root pyproject: pin apache-airflow=={airflow}"
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["version"] for p in lock["package"] if p["name"] in ("apache-airflow", "apache-airflow-core")}
    assert locked == {airflow}, f"uv.lock holds Airflow {sorted(locked)}; run `uv lock`"
    assert metadata.version("apache-airflow-core") == airflow, (
        "run `uv sync`: the venv's Airflow is not the lock's"
    )


def test_the_readme_says_which_image_to_create_the_environment_with() -> None:
    image = get_project(ROOT, "composer").deploy["image-version"]
    assert f"--image-version {image}" in (ROOT / "README.md").read_text()
