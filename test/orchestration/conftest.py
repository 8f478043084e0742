"""Airflow for the DAG tests: its home in a temporary folder, never ~/airflow.

Why at import time: Airflow reads its configuration when it is first imported, which may happen while
collecting the tests of this folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from data_gcp.config import workspace_root

_HOME = Path(tempfile.mkdtemp(prefix="airflow-test-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_HOME))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(workspace_root() / "orchestration" / "dags")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_HOME / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")

DAGS_FOLDER = workspace_root() / "orchestration" / "dags"


@pytest.fixture
def load_dagbag(current_manifest):
    """Parse the DAGs folder now (in the current environment) and return the DagBag (the dbt DAG
    rendered from a current manifest: the DAG refuses a stale one)."""

    def _load():
        from airflow.dag_processing.dagbag import DagBag

        from data_gcp.config import reset_settings

        reset_settings()
        return DagBag(dag_folder=str(DAGS_FOLDER), safe_mode=False)

    return _load
