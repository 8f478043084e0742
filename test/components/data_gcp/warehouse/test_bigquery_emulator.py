"""The BigQuery engine against crucible, a local BigQuery REST API emulator (DuckDB-backed).

Proven here, through the real google-cloud-bigquery client over HTTP: dataset creation, queries,
table_exists / row_count / schema / list_tables / drop_table, and the MERGE our `merge` mode issues
(run twice: no duplicates).
Not proven here (the emulator does not support them): Parquet load jobs, query parameters, DELETE and
multi-statement transactions (so `replace_partition`); those are covered by SQL parsing and
request-construction tests in test_bigquery_engine.py.
"""

import socket
import subprocess
import sys
import time

import pytest

from data_gcp.config.core import load_settings
from data_gcp.warehouse import BigQueryWarehouse
from data_gcp.warehouse.bigquery_engine import merge_sql

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def emulator_endpoint():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crucible.cli", "serve", "--dialect", "bigquery", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the crucible BigQuery emulator did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def bq(emulator_endpoint):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project="p", credentials=AnonymousCredentials(), client_options={"api_endpoint": emulator_endpoint}
    )
    wh = BigQueryWarehouse(load_settings(env="dev", project_id="p"), client=client)
    wh.create_dataset("raw")
    wh.create_dataset("tmp")
    return wh


def test_metadata_operations(bq):
    bq.execute("CREATE OR REPLACE TABLE `p.raw_dev.meta` AS SELECT 1 AS id, 'a' AS name")
    assert bq.table_exists("raw.meta")
    assert not bq.table_exists("raw.never_created")
    assert bq.row_count("raw.meta") == 1
    assert bq.schema("raw.meta").names == ["id", "name"]
    assert "meta" in bq.list_tables("raw")
    bq.drop_table("raw.meta")
    assert not bq.table_exists("raw.meta")


def test_merge_statement_updates_inserts_and_reruns_cleanly(bq):
    bq.execute("CREATE OR REPLACE TABLE `p.raw_dev.u` AS SELECT 1 AS id, 'a' AS name UNION ALL SELECT 2, 'b'")
    bq.execute(
        "CREATE OR REPLACE TABLE `p.tmp_dev.stg_u` AS SELECT 2 AS id, 'B' AS name UNION ALL SELECT 3, 'c'"
    )
    sql = merge_sql("`p.raw_dev.u`", "`p.tmp_dev.stg_u`", ["id", "name"], ["id"])
    for _ in range(2):
        bq.execute(sql)
    rows = bq.query("SELECT id, name FROM `p.raw_dev.u` ORDER BY id").to_pylist()
    assert rows == [{"id": 1, "name": "a"}, {"id": 2, "name": "B"}, {"id": 3, "name": "c"}]


def test_declared_tables_are_created_empty_with_their_bigquery_types(bq, monkeypatch):
    """A fresh environment: every table a producer declares exists before its producer ever ran,
    typed as the producer's load creates it (through the real client: DDL script, listing, schema).

    crucible refuses `OPTIONS (require_partition_filter = TRUE)` on purpose (ignoring it would change
    results), and partitioning by the day of a timestamp (`PARTITION BY DATE(ts)`, the display log):
    the script BigQuery gets carries both (asserted here, on exactly the declared tables), the
    emulator gets the same script without them."""
    import re

    from data_gcp.table_catalog import declared_tables, ensure_tables

    option = " OPTIONS (require_partition_filter = TRUE)"
    by_day_of_timestamp = re.compile(r" PARTITION BY DATE\(`\w+`\)")
    scripts: list[str] = []
    execute = bq.execute

    def execute_on_the_emulator(sql, params=None):  # noqa: ANN001, ANN202
        scripts.append(sql)
        return execute(by_day_of_timestamp.sub("", sql.replace(option, "")), params)

    monkeypatch.setattr(bq, "execute", execute_on_the_emulator)
    declared = declared_tables()
    created = ensure_tables(bq)
    assert set(created) == set(declared)
    with_option = {
        statement.split()[5]  # CREATE TABLE IF NOT EXISTS `p.raw_dev.x` (...
        for script in scripts
        for statement in script.split(";\n")
        if option in statement
    }
    assert "`p.raw_dev.firebase_events`" in with_option
    by_day = {
        statement.split()[5]: by_day_of_timestamp.search(statement).group(0)
        for script in scripts
        for statement in script.split(";\n")
        if by_day_of_timestamp.search(statement)
    }
    assert by_day == {
        bq.physical(name): f" PARTITION BY DATE(`{t.partition}`)"
        for name, t in declared.items()
        if t.partition and t.bigquery_columns()[t.partition] == "TIMESTAMP"
    }
    assert (
        by_day[bq.physical("raw.applicative_database_reco_display_log")]
        == " PARTITION BY DATE(`displayed_at`)"
    )
    assert with_option == {
        bq.physical(name) for name, t in declared.items() if t.partition and t.require_partition_filter
    }
    stats = bq.client.get_table("p.raw_dev.batch_campaign_stats")
    assert stats.num_rows == 0
    assert {f.name: f.field_type for f in stats.schema} == {
        name: {"BOOL": "BOOLEAN", "INT64": "INTEGER", "FLOAT64": "FLOAT"}.get(kind, kind)
        for name, kind in declared["raw.batch_campaign_stats"].bigquery_columns().items()
    }
    events = bq.client.get_table("p.raw_dev.firebase_events")
    assert events.time_partitioning.field == "event_date"
    assert ensure_tables(bq) == []  # a second run finds them all
