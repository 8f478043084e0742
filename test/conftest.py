"""Every test runs against its own local data folder and a clean local environment.

Why autouse: a test must never read a developer's `.data/` or `.env.local`, nor leak settings into
the next test (the settings object is cached process-wide).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
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


LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    """(url, schema): a fresh schema in the local PostgreSQL's `test` database, dropped afterwards.

    Fails (never skips) in CI, where `.ci/run` and the workflows start PostgreSQL; skips elsewhere
    when no server listens on 127.0.0.1:5432."""
    import uuid

    import psycopg

    try:
        admin = psycopg.connect(LOCAL_POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI on 127.0.0.1:5432: {err}")
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 ({err})")
    schema = f"test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield LOCAL_POSTGRES, schema
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


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
# `uv run pytest` runs the suite on `-n auto` workers (pyproject's addopts). The unit of distribution is
# a group of tests that must share a worker, named from the test's path:
# - the tests of a heavy session fixture (built once per worker: on one worker, built once);
# - the tests that share one resource outside their tmp folders (the workspace's `dbt/target`, which
#   `data-gcp run`, the DAG tests and the dbt docs write and read);
# - otherwise the tests of one file (its module fixtures are then built once).
# A new test file using a heavy session fixture outside these folders is still correct, it only
# builds the fixture again on the other worker: add its path here.
# (xdist's own `--dist loadgroup` marks no longer group with pytest 9's node ids: the scheduler below
# groups by path, the rest of `--dist loadscope` unchanged.)

# folders (or files) whose tests share a worker, by group name
GROUPS = {
    "test/orchestration/": "workspace_dbt_target",  # the chain runs, the DAG parses
    "test/components/data_gcp/local_ui/test_local_ui.py": "workspace_dbt_target",  # the dbt docs
    # its own sandbox over two nights, not the built project: free to run beside the dbt group
    "test/dbt/test_removed_exports.py": "test/dbt/test_removed_exports.py",
    "test/dbt/": "dbt_built_project",  # the session's `built_project` (test/dbt/conftest.py)
    # the session's `planted_catalogue` (test/conftest.py)
    "test/bases/data_gcp/cli/test_ml_item_commands.py": "planted_catalogue",
    "test/components/data_gcp/item_clusters/": "planted_catalogue",
    "test/components/data_gcp/item_embedding/": "planted_catalogue",
    "test/components/data_gcp/record_linkage/": "planted_catalogue",
}
# Groups (or test files) started first, longest first (on the 2-core CI machine, minutes each), so
# that no worker is left with a long one at the end.
LONG_FIRST = [
    "workspace_dbt_target",
    "dbt_built_project",
    "test/components/data_gcp/scaffold/test_scaffold.py",
    "test/components/data_gcp/local_ui/test_browser.py",
    "planted_catalogue",
]


def _group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return next((group for folder, group in GROUPS.items() if path.startswith(folder)), path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # in process (`-n 0`): the order of the files
        return
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    # stable: the order within a group, and of the other groups, is kept
    items.sort(key=lambda item: rank.get(_group(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):  # noqa: ANN001, ANN201
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """`--dist loadscope` whose scope is the test's group (`_group`), in collection order."""

        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid)

    return GroupScheduling(config, log)


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
