"""The declared tables: one per producer's TableSpec, typed as the producer's load creates them,
created empty when missing (DuckDB here; the BigQuery engine in warehouse/test_bigquery_emulator.py)."""

import pyarrow as pa
import pytest

from data_gcp.applicative_schema import APP_TABLES
from data_gcp.etl_core import list_connectors
from data_gcp.table_catalog import APP_IMPORT, DeclaredTable, declared_tables, ensure_tables
from data_gcp.warehouse import get_warehouse


def test_every_producer_table_is_declared_once_with_its_types():
    tables = declared_tables()
    expected = {s.raw_table for s in APP_TABLES} | {
        t.qualified_name for c in list_connectors() for t in c.tables
    }
    assert expected <= set(tables)
    assert "raw.applicative_import_watermarks" in tables
    assert tables["raw.applicative_database_user"].producer == APP_IMPORT
    assert tables["raw.addresses_user_address"].bigquery_columns()["user_id"] == "INT64"
    assert tables["raw.batch_campaign_stats"].bigquery_columns()["loaded_at"] == "TIMESTAMP"
    assert tables["raw.firebase_events"].partition == "event_date"
    # the large event table: BigQuery refuses a query on it without a filter on event_date
    assert tables["raw.firebase_events"].require_partition_filter
    assert not tables["raw.applicative_database_user"].require_partition_filter


def test_fresh_duckdb_warehouse_gets_every_table_empty_then_nothing(settings):
    wh = get_warehouse(settings)
    declared = declared_tables()
    assert sorted(ensure_tables(wh)) == sorted(declared)
    for name, table in declared.items():
        schema = wh.schema(name)
        assert schema.names == table.schema.names, name
        for field in table.schema:
            got = schema.field(field.name).type
            if pa.types.is_timestamp(field.type):  # DuckDB names UTC 'Etc/UTC'
                assert pa.types.is_timestamp(got) and (got.tz is None) == (field.type.tz is None), name
            else:
                assert got == field.type, (name, field.name)
    assert ensure_tables(wh) == []


def test_a_table_its_producer_created_is_left_alone(settings):
    wh = get_warehouse(settings)
    wh.load("raw.batch_campaign_stats", pa.table({"app": ["ios"]}))
    created = ensure_tables(wh)
    assert "raw.batch_campaign_stats" not in created
    assert (
        wh.schema("raw.batch_campaign_stats").names == ["app"]
        and wh.row_count("raw.batch_campaign_stats") == 1
    )


def test_a_table_declared_twice_is_refused(monkeypatch):
    from data_gcp.table_catalog import core

    twice = DeclaredTable("raw.x", pa.schema([("a", pa.string())]), "one")
    monkeypatch.setattr(core, "_app_tables", lambda: [twice, DeclaredTable("raw.x", twice.schema, "two")])
    with pytest.raises(core.CatalogError, match=r"raw.x is declared twice \(one, two\)"):
        declared_tables()
