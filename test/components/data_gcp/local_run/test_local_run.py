"""Pieces of `data-gcp run` that do not need Airflow: dates, Airflow's environment, layer counts."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from data_gcp.config import DataGcpError
from data_gcp.local_run import airflow_environment, layer_counts, run_dates
from data_gcp.warehouse import get_warehouse


def test_run_dates():
    today = dt.date(2026, 11, 27)
    assert run_dates(None, None, today) == [dt.date(2026, 11, 26)]
    assert run_dates(dt.date(2026, 1, 5), None, today) == [dt.date(2026, 1, 5)]
    assert run_dates(None, 3, today) == [dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 26)]
    with pytest.raises(DataGcpError):
        run_dates(dt.date(2026, 1, 5), 2, today)
    with pytest.raises(DataGcpError):
        run_dates(None, 0, today)


def test_airflow_lives_under_the_data_folder(settings):
    env = airflow_environment(settings)
    home = settings.local_data_dir / "airflow"
    assert env["AIRFLOW_HOME"] == str(home)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{home / 'airflow.db'}"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("orchestration/dags")
    assert (
        env["AIRFLOW__API_AUTH__JWT_SECRET"] == airflow_environment(settings)["AIRFLOW__API_AUTH__JWT_SECRET"]
    )


def test_layer_counts(settings):
    wh = get_warehouse(settings)
    wh.load("raw.a", pa.table({"x": [1, 2, 3]}), mode="replace")
    wh.load("raw.b", pa.table({"x": [1]}), mode="replace")
    wh.load("analytics.m", pa.table({"x": [1, 2]}), mode="replace")
    assert layer_counts(settings) == {"raw": (2, 4), "marts": (1, 2)}
