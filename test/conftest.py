"""Every test runs against its own local data folder and a clean local environment.

Why autouse: a test must never read a developer's `.data/` or `.env.local`, nor leak settings into
the next test (the settings object is cached process-wide).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from data_gcp.config import Settings, get_settings, reset_settings

# Tests read the CLI's output as text. GitHub's runner sets GITHUB_ACTIONS, with which typer and rich
# force a colour terminal (ANSI codes in every captured output and in the `data-gcp` subprocesses'
# output): unset before typer is first imported (it reads them once, at import).
for _var in ("GITHUB_ACTIONS", "FORCE_COLOR", "PY_COLORS"):
    os.environ.pop(_var, None)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("DATA_GCP_") and key != "DATA_GCP_WORKSPACE_ROOT":
            monkeypatch.delenv(key, raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_GCP_ENV", "local")
    monkeypatch.setenv("DATA_GCP_DATA_DIR", str(data_dir))
    reset_settings()
    yield data_dir
    reset_settings()


@pytest.fixture
def settings(isolated_env: Path) -> Settings:
    """Local settings whose data folder is this test's tmp folder."""
    return get_settings()


@pytest.fixture(scope="module")
def connector_server(request: pytest.FixtureRequest):
    """One vendor server per connector test module (fast), built from the module's `HARNESS` dict:
    `{"system": "brevo", **server options}` (e.g. `"data": fake_data(...)`, `"events_per_day": 3000`)."""
    from data_gcp.vendor_servers import connector_harness

    options = dict(request.module.HARNESS)
    with connector_harness(options.pop("system"), **options) as harness:
        yield harness


@pytest.fixture
def vendor(connector_server):
    """The module's `ConnectorHarness`, reset for this test (no faults, requests or sleeps left)."""
    return connector_server.reset()


# A small planted sandbox, imported and embedded once per session, for the item ML jobs' tests.
@pytest.fixture(scope="session")
def planted_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data folder with the sandbox (scale 0.006, 30 days) imported and every item embedded."""
    from data_gcp.item_embedding import run_embedding
    from data_gcp.planted_truth import build_planted_warehouse

    folder = tmp_path_factory.mktemp("planted_catalogue")
    settings = Settings(env="local", data_dir=folder)
    build_planted_warehouse(settings, scale=0.006, days=30)
    run_embedding(settings)
    return folder


@pytest.fixture
def planted_settings(planted_catalogue: Path, tmp_path: Path) -> Settings:
    """A private copy of the planted catalogue (tests may change it)."""
    folder = tmp_path / "planted"
    shutil.copytree(planted_catalogue, folder)
    return Settings(env="local", data_dir=folder)


@pytest.fixture(scope="session")
def current_manifest():
    """`dbt/target/manifest.json`, rebuilt first when missing or older than the dbt files (the DAG
    refuses a stale one), as `data-gcp dbt parse` does; returns it loaded. One process parses at a
    time (parallel workers share the workspace's `dbt/target`)."""
    import fcntl
    import json

    from data_gcp.dbt_runner import parse, stale_manifest_reason
    from data_gcp.orchestration import dbt_manifest_path, dbt_project_dir

    manifest = dbt_manifest_path()
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".pytest-parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stale_manifest_reason(manifest, dbt_project_dir()):
            parse()
        return json.loads(manifest.read_text(encoding="utf-8"))


# --- Parallel runs (pytest-xdist) -------------------------------------------------------------------
# `uv run pytest` runs the suite on `-n auto` workers (pyproject's addopts, `--dist loadgroup`). The
# unit of distribution is a group of tests that must share a worker:
# - every test of a heavy session fixture (built once per worker: on one worker, built once);
# - the tests of a folder that shares one resource outside the test's tmp folder (the workspace's
#   `dbt/target`, which `data-gcp run` and the DAG tests write and read);
# - otherwise the tests of one file (its module fixtures are then built once).
# The groups known to be long run first, so that no worker is left with a long one at the end.

# session fixtures (or their consumers) whose tests share a worker, by group name
SESSION_GROUPS = {
    "built_project": "dbt_built_project",
    "dbt_target_path": "dbt_built_project",
    "planted_catalogue": "planted_catalogue",
}
# folders (or files) whose tests share a resource outside their tmp folders, by group name
FOLDER_GROUPS = {
    "test/orchestration/": "workspace_dbt_target",  # the chain runs, the DAG parses
    "test/components/data_gcp/local_ui/test_local_ui.py": "workspace_dbt_target",  # the dbt docs
}
# Groups (or test files) started first, longest first: CPU seconds each takes on the 2-core CI machine.
LONG_FIRST = [
    "test/components/data_gcp/scaffold/test_scaffold.py",
    "workspace_dbt_target",
    "dbt_built_project",
    "test/components/data_gcp/local_ui/test_browser.py",
    "planted_catalogue",
]


def _group(item: pytest.Item) -> str:
    for fixture, group in SESSION_GROUPS.items():
        if fixture in item.fixturenames:
            return group
    path = item.nodeid.split("::", 1)[0]
    for folder, group in FOLDER_GROUPS.items():
        if path.startswith(folder):
            return group
    return path


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("dist", "no") == "no":
        return
    for item in items:
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(_group(item)))
    rank = {name: i for i, name in enumerate(LONG_FIRST)}

    def key(item: pytest.Item) -> int:
        marker = item.get_closest_marker("xdist_group")
        name = marker.args[0] if marker and marker.args else marker.kwargs.get("name") if marker else None
        return rank.get(name, rank.get(item.nodeid.split("::", 1)[0], len(rank)))

    items.sort(key=key)  # stable: the order within a group, and of the other groups, is kept


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for `-n auto`: one per CPU (at most 4: each worker holds dbt, Airflow and torch in
    memory); none (in process) when only files or single tests are named (one file is one group)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    if config.args and all(".py" in arg for arg in config.args if not arg.startswith("-")):
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cpus, 4) if cpus > 1 else 0
