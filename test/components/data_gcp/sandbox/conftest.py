"""A small sandbox generated once per module (SQLite), and the PostgreSQL server for `postgres` tests."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from data_gcp.sandbox import generate

SCALE = 0.004
SEED = 7
START = dt.date(2026, 8, 1)
DAYS = 45
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def sandbox_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox") / "app.sqlite"
    generate(SCALE, SEED, f"sqlite:///{path}", START, DAYS)
    return path


@pytest.fixture
def sq(sandbox_file: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(sandbox_file)
    yield con
    con.close()


def postgres_database() -> Iterator[str]:
    """A fresh, uniquely named database; fails (not skips) in CI when the server is missing."""
    import psycopg

    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI on 127.0.0.1:5432: {err}")
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432 ({err})")
    name = f"sandbox_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from postgres_database()
