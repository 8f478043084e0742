"""`data-gcp sandbox generate|advance` and `data-gcp import applicative` on the default local paths."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from data_gcp.cli.main import app
from data_gcp.warehouse import get_warehouse


def test_generate_advance_import_through_the_cli(isolated_env: Path) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "250"}
    gen = runner.invoke(
        app, ["sandbox", "generate", "--scale", "0.002", "--start-date", "2026-10-01", "--days", "5"], env=env
    )
    assert gen.exit_code == 0, gen.output
    assert (isolated_env / "sandbox" / "app.sqlite").is_file()  # default: SQLite under the data folder
    assert "booking" in gen.output and "2026-10-05" in gen.output
    adv = runner.invoke(app, ["sandbox", "advance", "--days", "1"], env=env)
    assert adv.exit_code == 0, adv.output
    assert "2026-10-06" in adv.output
    again = runner.invoke(app, ["sandbox", "advance", "--to", "2026-10-06"], env=env)
    assert again.exit_code == 0 and "already holds 2026-10-06: nothing changed" in again.output
    both = runner.invoke(app, ["sandbox", "advance", "--days", "1", "--to", "2026-10-07"], env=env)
    assert both.exit_code != 0 and "not both" in str(both.exception)
    imp = runner.invoke(app, ["import", "applicative", "--date", "2026-10-06"], env=env)
    assert imp.exit_code == 0, imp.output
    assert "raw.applicative_database_booking" in imp.output and "full" in imp.output
    # off a terminal (a log file, an Airflow task's log) the progress bar leaves no empty line behind
    for step in (gen, adv, imp):
        assert "" not in step.stderr.splitlines(), step.stderr[:500]
    assert get_warehouse().row_count("raw.firebase_events") > 0
    bad = runner.invoke(app, ["import", "applicative", "--date", "06/10/2026"], env=env)
    assert bad.exit_code != 0
