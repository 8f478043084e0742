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
