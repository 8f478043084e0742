"""A small planted sandbox, imported and embedded once per session, for the item ML jobs' tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from data_gcp.config import Settings


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
