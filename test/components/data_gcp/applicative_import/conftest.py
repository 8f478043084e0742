"""A small sandbox generated once per module; each test imports from its own copy."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_gcp.sandbox import generate

SCALE = 0.004
SEED = 11
START = dt.date(2026, 9, 1)
DAYS = 30
RUN_DATE = START + dt.timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "app.sqlite"
    generate(SCALE, SEED, f"sqlite:///{path}", START, DAYS)
    return path


@pytest.fixture
def source(pristine: Path, tmp_path: Path) -> Iterator[str]:
    """A copy of the sandbox this test may change."""
    path = tmp_path / "app.sqlite"
    shutil.copy(pristine, path)
    yield f"sqlite:///{path}"
