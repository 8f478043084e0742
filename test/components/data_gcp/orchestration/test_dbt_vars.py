"""The days a dbt run gives the incremental models: the run's own, or the backfill's from the params."""

import datetime as dt
from types import SimpleNamespace

import pytest

from data_gcp.config import DataGcpError
from data_gcp.orchestration import dbt_vars


def _triggered(first: str, last: str) -> SimpleNamespace:
    """A dbt_run triggered by the app import's asset event naming the days first..last."""
    event = {
        "asset": {"uri": "warehouse://raw/applicative_database"},
        "extra": {"first_day": first, "last_day": last},
    }
    return SimpleNamespace(dag_id="dbt_run", consumed_asset_events=[event], run_id="r", run_after=None)


def test_a_triggered_run_processes_its_days_with_the_project_look_back() -> None:
    assert dbt_vars(_triggered("2026-10-24", "2026-10-25"), {}) == {
        "first_day": "2026-10-24",
        "last_day": "2026-10-25",
        "lookback_days": "",
    }


def test_backfill_params_name_exactly_their_days() -> None:
    params = {"first_day": "2026-09-01", "last_day": "2026-09-03", "full_refresh": False}
    assert dbt_vars(_triggered("2026-10-24", "2026-10-24"), params) == {
        "first_day": "2026-09-01",
        "last_day": "2026-09-03",
        "lookback_days": "0",
    }
    one_day = dbt_vars(_triggered("2026-10-24", "2026-10-24"), {"first_day": "2026-09-01", "last_day": None})
    assert (one_day["first_day"], one_day["last_day"]) == ("2026-09-01", "2026-09-01")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"first_day": "2026-09-03", "last_day": "2026-09-01"}, "after last_day"),
        ({"first_day": "3 Sept"}, "must be a date"),
    ],
)
def test_bad_backfill_params_are_refused_saying_why(params: dict, message: str) -> None:
    with pytest.raises(DataGcpError, match=message):
        dbt_vars(_triggered("2026-10-24", "2026-10-24"), params)


def test_the_runner_refuses_reversed_days() -> None:
    from data_gcp.dbt_runner import DbtRunError, run_day_vars

    with pytest.raises(DbtRunError, match="--from <= --to"):
        run_day_vars(dt.date(2026, 9, 3), dt.date(2026, 9, 1))
