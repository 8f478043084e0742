"""Two runs of the same day give identical raw rows, and the run summary counts the same rows.

The raw layer of a run is the app-database import and every connector of the chain, loaded from the
sandbox and the fake vendor servers. Rows are compared whole, every column but the load stamps (the
moment a row was written, which a second run must change). The summary once counted dlt's bookkeeping
(`_dlt_loads` gains a row per load), so a second run of a day showed more "raw rows" than the first.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from data_gcp.config import get_settings
from data_gcp.execution import run_in_process
from data_gcp.local_run import layer_counts
from data_gcp.orchestration import chain_order
from data_gcp.vendor_servers import start_all
from data_gcp.warehouse import get_warehouse

DAY = "2026-11-20"
LOAD_STAMPS = {"loaded_at", "imported_at", "_dlt_load_id", "_dlt_id", "inserted_at"}
# what each import did (rows loaded: all the first time, the new ones after): one row per table either way
RUN_LOGS = {"applicative_import_watermarks"}


def _load_day(settings) -> None:  # noqa: ANN001
    with start_all(settings=settings, apply_env=True):
        run_in_process(["import", "applicative", "--date", DAY])
        for dag_id in chain_order():
            if dag_id.startswith("etl_"):
                run_in_process(["etl", "run", dag_id.removeprefix("etl_"), "--start", DAY, "--end", DAY])


def _raw_rows(settings) -> dict[str, tuple[int, str]]:  # noqa: ANN001
    """Data table of raw -> (rows, digest of the sorted rows without their load stamps; of a run log,
    the row count only)."""
    wh = get_warehouse(settings)
    out = {}
    for table in wh.list_tables("raw"):
        if table.startswith("_dlt_"):
            continue
        data = wh.query(f"select * from {wh.physical('raw.' + table)}")
        columns = [] if table in RUN_LOGS else sorted(c for c in data.column_names if c not in LOAD_STAMPS)
        rows = sorted(json.dumps([str(r[c]) for c in columns]) for r in data.to_pylist())
        out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


@pytest.mark.slow
def test_two_runs_of_the_same_day_give_identical_raw_rows(isolated_env):
    settings = get_settings()
    run_in_process(["sandbox", "generate", "--scale", "0.001"])
    _load_day(settings)
    first, first_counts = _raw_rows(settings), layer_counts(settings)
    _load_day(settings)
    second, second_counts = _raw_rows(settings), layer_counts(settings)
    assert len(first) >= 10 and sum(n for n, _ in first.values()) > 1000, first
    changed = {
        t: (first.get(t), second.get(t))
        for t in first.keys() | second.keys()
        if first.get(t) != second.get(t)
    }
    assert not changed, changed
    assert first_counts["raw"] == second_counts["raw"], (first_counts, second_counts)
