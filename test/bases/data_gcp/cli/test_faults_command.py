"""`data-gcp dbt faults`: wired under `dbt`, refuses an unknown fault and a base without a warehouse
(the catalogue's dbt runs are in test/dbt/test_fault_catalogue.py)."""

from __future__ import annotations

from typer.testing import CliRunner

from data_gcp.cli.main import app
from data_gcp.dbt_faults import FaultRunError


def test_an_unknown_fault_is_refused_by_name() -> None:
    result = CliRunner().invoke(app, ["dbt", "faults", "--only", "nope", "--only", "deposit_overspent"])
    assert result.exit_code == 2
    assert "no such fault: nope" in result.output


def test_a_base_without_a_warehouse_says_what_to_build(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["dbt", "faults", "--base", str(tmp_path), "--only", "deposit_overspent"]
    )
    assert isinstance(result.exception, FaultRunError)
    assert f"no warehouse at {tmp_path}/warehouse.duckdb" in str(result.exception)
