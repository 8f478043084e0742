"""One dbt build of the whole project, shared by the tests of this folder (dbt runs are slow).

The raw layer comes from the real chain: the sandbox generated at a tiny scale, then imported
(`data-gcp sandbox generate` -> `data-gcp import applicative`), as CI runs it. Setting
DBT_TEST_RAW=fixture uses the small hand-written raw layer of fixture_data.py instead (to work on the
models while the sandbox or the import is broken).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from data_gcp.config import Settings, reset_settings

HERE = Path(__file__).parent


@dataclass
class BuiltProject:
    settings: Settings
    target_path: Path
    result: object  # data_gcp.dbt_runner.DbtResult
    raw_source: str


SANDBOX_SCALE = (
    0.003  # ~300 users, ~1.6k bookings, ~15k events: every model gets rows (the fault catalogue's scale)
)


def _load_raw(settings: Settings) -> str:
    """Fill the raw layer; returns which way ("sandbox+import" or "fixture")."""
    if os.environ.get("DBT_TEST_RAW") != "fixture":
        from data_gcp.dbt_faults import load_raw_layer

        load_raw_layer(settings, scale=SANDBOX_SCALE, seed=42)
        return "sandbox+import"
    from data_gcp.warehouse import get_warehouse

    sys.path.insert(0, str(HERE))
    try:
        from fixture_data import write_fixture
    finally:
        sys.path.remove(str(HERE))
    write_fixture(get_warehouse(settings))
    return "fixture"


@pytest.fixture(scope="session")
def dbt_target_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One dbt target folder for the session, so that later invocations reuse the partial parse."""
    return tmp_path_factory.mktemp("dbt_target")


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory, dbt_target_path: Path) -> BuiltProject:
    from data_gcp import dbt_runner

    data_dir = tmp_path_factory.mktemp("dbt_e2e") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_GCP_ENV", "local")
        mp.setenv("DATA_GCP_DATA_DIR", str(data_dir))
        mp.setenv("DBT_TARGET_PATH", str(dbt_target_path))
        reset_settings()
        settings = Settings(env="local", data_dir=data_dir)
        raw_source = _load_raw(settings)
        result = dbt_runner.build(target="ci", settings=settings, check=False)
    reset_settings()
    return BuiltProject(settings=settings, target_path=dbt_target_path, result=result, raw_source=raw_source)
