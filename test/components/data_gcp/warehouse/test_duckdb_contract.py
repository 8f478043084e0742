"""The warehouse contract, proven for real on the DuckDB engine.

How each operation is proven:
- DuckDB engine: every operation below runs against a real DuckDB file (this module).
- BigQuery engine: see test_bigquery_engine.py (SQL generation parsed with sqlglot's BigQuery dialect,
  request construction checked against a fake client, since no BigQuery is reachable here).
"""

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_gcp.warehouse import DuckDBWarehouse, WarehouseError, WriteMode, get_warehouse

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


@pytest.fixture
def wh(settings):
    w = get_warehouse(settings)
    assert isinstance(w, DuckDBWarehouse)
    return w


def rows(wh, table, order="1"):
    return wh.query(f"select * from {wh.physical(table)} order by {order}").to_pylist()


def events(day, ids, value="a"):
    return pa.table({"event_date": [day] * len(ids), "id": ids, "v": [value] * len(ids)})


def test_execute_and_query_with_parameters(wh):
    wh.create_dataset("tmp")
    wh.execute("create table tmp.t as select * from range(10) r(x)")
    out = wh.query("select count(*) as n from tmp.t where x >= $low", {"low": 7})
    assert out.to_pylist() == [{"n": 3}]


def test_append_creates_then_appends(wh):
    r1 = wh.load("raw.t", pa.table({"id": [1, 2]}), "append")
    r2 = wh.load("raw.t", pa.table({"id": [3]}), WriteMode.append)
    assert (r1.rows_after, r2.rows_after, r2.rows_loaded) == (2, 3, 1)
    assert wh.table_exists("raw.t") and wh.row_count("raw.t") == 3


def test_append_adds_new_columns(wh):
    wh.load("raw.t", pa.table({"id": [1]}), "append")
    wh.load("raw.t", pa.table({"id": [2], "extra": ["x"]}), "append")
    assert rows(wh, "raw.t", "id") == [{"id": 1, "extra": None}, {"id": 2, "extra": "x"}]


def test_replace_swaps_contents_and_schema(wh):
    wh.load("raw.t", pa.table({"id": [1, 2, 3]}), "replace")
    wh.load("raw.t", pa.table({"id": [9], "name": ["n"]}), "replace")
    assert rows(wh, "raw.t") == [{"id": 9, "name": "n"}]
    assert wh.schema("raw.t").names == ["id", "name"]


def test_replace_partition_rerun_leaves_no_duplicates(wh):
    wh.load(
        "raw.ev", events(D1, [1, 2]), "replace_partition", partition_column="event_date", partition_date=D1
    )
    wh.load("raw.ev", events(D2, [3]), "replace_partition", partition_column="event_date", partition_date=D2)
    # re-run of D1 with changed content: D1 replaced, D2 untouched
    for _ in range(2):
        wh.load(
            "raw.ev",
            events(D1, [1, 2, 5], "b"),
            "replace_partition",
            partition_column="event_date",
            partition_date=D1,
        )
    got = rows(wh, "raw.ev", "id")
    assert [(r["event_date"], r["id"], r["v"]) for r in got] == [
        (D1, 1, "b"),
        (D1, 2, "b"),
        (D2, 3, "a"),
        (D1, 5, "b"),
    ]


def test_replace_partition_refuses_rows_of_other_days(wh):
    data = pa.table({"event_date": [D1, D2], "id": [1, 2]})
    with pytest.raises(WarehouseError, match="rows of other days"):
        wh.load("raw.ev", data, "replace_partition", partition_column="event_date", partition_date=D1)
    assert not wh.table_exists("raw.ev")


def test_replace_partition_on_timestamp_column(wh):
    ts = [dt.datetime(2026, 11, 1, 10), dt.datetime(2026, 11, 1, 23, 59)]
    wh.load(
        "raw.ev",
        pa.table({"ts": ts, "id": [1, 2]}),
        "replace_partition",
        partition_column="ts",
        partition_date=D1,
    )
    wh.load(
        "raw.ev",
        pa.table({"ts": ts[:1], "id": [1]}),
        "replace_partition",
        partition_column="ts",
        partition_date=D1,
    )
    assert wh.row_count("raw.ev") == 1


def test_merge_updates_and_inserts_without_duplicates(wh):
    wh.load("raw.u", pa.table({"id": [1, 2], "name": ["a", "b"]}), "merge", key_columns=["id"])
    for _ in range(2):  # a re-run of the same merge changes nothing
        wh.load("raw.u", pa.table({"id": [2, 3], "name": ["B", "c"]}), "merge", key_columns=["id"])
    assert rows(wh, "raw.u", "id") == [{"id": 1, "name": "a"}, {"id": 2, "name": "B"}, {"id": 3, "name": "c"}]


def test_merge_on_composite_key(wh):
    first = pa.table({"app": ["ios", "android"], "id": [1, 1], "n": [10, 20]})
    wh.load("raw.c", first, "merge", key_columns=["app", "id"])
    wh.load("raw.c", pa.table({"app": ["ios"], "id": [1], "n": [11]}), "merge", key_columns=["app", "id"])
    assert rows(wh, "raw.c", "app") == [
        {"app": "android", "id": 1, "n": 20},
        {"app": "ios", "id": 1, "n": 11},
    ]


def test_merge_refuses_duplicate_keys_in_data(wh):
    with pytest.raises(WarehouseError, match="more than once"):
        wh.load("raw.u", pa.table({"id": [1, 1], "name": ["a", "b"]}), "merge", key_columns=["id"])


def test_merge_needs_keys(wh):
    with pytest.raises(WarehouseError, match="key_columns"):
        wh.load("raw.u", pa.table({"id": [1]}), "merge")


def test_failed_load_leaves_table_unchanged(wh):
    wh.load("raw.u", pa.table({"id": [1, 2], "name": ["a", "b"]}), "replace")
    bad = pa.table({"id": ["not-an-int"], "name": ["x"]})
    with pytest.raises(WarehouseError, match=r"merge load into raw\.u failed"):
        wh.load("raw.u", bad, "merge", key_columns=["id"])
    assert rows(wh, "raw.u", "id") == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


def test_load_from_parquet_file(wh, tmp_path):
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3]}), path)
    assert wh.load("raw.p", path, "replace").rows_after == 3
    with pytest.raises(WarehouseError, match="no Parquet data"):
        wh.load("raw.p", tmp_path / "missing.parquet", "replace")


def test_schema_row_count_and_listing(wh):
    assert not wh.table_exists("raw.none")
    wh.load("raw.a", pa.table({"id": pa.array([1], pa.int64()), "s": ["x"]}), "replace")
    wh.load("raw.b", pa.table({"id": [1]}), "replace")
    assert wh.schema("raw.a").field("id").type == pa.int64()
    assert wh.list_tables("raw") == ["a", "b"]
    wh.drop_table("raw.b")
    assert wh.list_tables("raw") == ["a"]
    with pytest.raises(WarehouseError, match="does not exist"):
        wh.row_count("raw.none")


@pytest.mark.parametrize("name", ["raw", "raw.t;drop", "a.b.c", "raw.t t"])
def test_bad_table_names_are_refused(wh, name):
    with pytest.raises(WarehouseError):
        wh.load(name, pa.table({"id": [1]}), "append")


def test_create_missing_tables_makes_empty_tables_typed_as_a_load_would(wh):
    schema = pa.schema(
        [("day", pa.date32()), ("at", pa.timestamp("us", tz="UTC")), ("n", pa.int64()), ("s", pa.string())]
    )
    assert wh.create_missing_tables({"raw.never_loaded": schema}, {"raw.never_loaded": "day"}) == [
        "raw.never_loaded"
    ]
    assert wh.row_count("raw.never_loaded") == 0
    created = wh.schema("raw.never_loaded")
    assert created.names == schema.names
    assert [created.field(n).type for n in ("day", "n", "s")] == [
        schema.field(n).type for n in ("day", "n", "s")
    ]
    assert created.field("at").type.tz in ("UTC", "Etc/UTC")  # TIMESTAMPTZ, as a load of it creates
    wh.load("raw.loaded", pa.table({"n": [1]}))
    # existing tables are left as they are, whatever the declared schema says
    assert wh.create_missing_tables({"raw.never_loaded": schema, "raw.loaded": schema}) == []
    assert wh.schema("raw.loaded").names == ["n"] and wh.row_count("raw.loaded") == 1
