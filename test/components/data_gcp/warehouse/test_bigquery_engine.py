"""The BigQuery engine, proven as far as this machine allows.

- SQL generation (MERGE, partition replacement): parsed with sqlglot's BigQuery dialect.
- Request construction (load jobs, staging table, parameters, dataset names): checked against a fake
  `bigquery.Client`, since BigQuery itself is outside this machine.
- Not proven here: the behaviour of BigQuery itself on those requests.
"""

import datetime as dt

import pyarrow as pa
import pytest
import sqlglot

from data_gcp.config.core import load_settings
from data_gcp.warehouse import BigQueryWarehouse, WarehouseError, get_warehouse
from data_gcp.warehouse.bigquery_engine import merge_sql, query_parameters, replace_partition_sql


class FakeJob:
    def __init__(self, rows=None):
        self.rows = rows

    def result(self):
        return self

    def to_arrow(self):
        return pa.table({"n": [1]})


class FakeTable:
    num_rows = 7


class FakeClient:
    def __init__(self):
        self.calls = []
        self.tables = set()

    def query(self, sql, job_config=None):
        self.calls.append(("query", sql, job_config))
        return FakeJob()

    def load_table_from_file(self, buf, table_id, job_config=None):
        self.calls.append(("load", table_id, job_config))
        self.tables.add(table_id)
        return FakeJob()

    def get_table(self, table_id):
        from google.api_core.exceptions import NotFound

        if table_id not in self.tables:
            raise NotFound(table_id)
        return FakeTable()

    def delete_table(self, table_id, not_found_ok=False):
        self.calls.append(("delete", table_id))


@pytest.fixture
def bq():
    settings = load_settings(env="prod", project_id="pc-data-prod")
    return BigQueryWarehouse(settings, client=FakeClient())


def test_factory_picks_bigquery_in_cloud():
    assert isinstance(get_warehouse(load_settings(env="dev", project_id="p")), BigQueryWarehouse)


def test_physical_names_use_env_suffix(bq):
    assert bq.physical("raw.applicative_database_user") == "`pc-data-prod.raw_prod.applicative_database_user`"


def test_merge_sql_is_valid_bigquery():
    sql = merge_sql("`p.raw_prod.u`", "`p.tmp_prod.stg`", ["id", "app", "name"], ["id", "app"])
    tree = sqlglot.parse_one(sql, read="bigquery")
    assert tree.key == "merge"
    assert "WHEN MATCHED THEN UPDATE SET `name` = S.`name`" in sql
    assert "T.`id` = S.`id` AND T.`app` = S.`app`" in sql


def test_merge_sql_with_only_keys_has_no_update():
    sql = merge_sql("`p.d.t`", "`p.d.s`", ["id"], ["id"])
    sqlglot.parse_one(sql, read="bigquery")
    assert "WHEN MATCHED" not in sql


def test_replace_partition_sql_is_valid_bigquery():
    sql = replace_partition_sql(
        "`p.raw_prod.ev`", "`p.tmp_prod.stg`", ["event_date", "id"], "event_date", dt.date(2026, 11, 1)
    )
    statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
    kinds = [s.key for s in statements]
    assert "delete" in kinds and "insert" in kinds


def test_query_parameters_types():
    params = {
        p.name: p.type_ for p in query_parameters({"d": dt.date(2026, 1, 1), "n": 3, "s": "x", "b": True})
    }
    assert params == {"d": "DATE", "n": "INT64", "s": "STRING", "b": "BOOL"}


def test_merge_goes_through_staging_then_dml(bq):
    bq.load("raw.u", pa.table({"id": [1], "name": ["a"]}), "merge", key_columns=["id"])
    kinds = [c[0] for c in bq.client.calls]
    loads = [c[1] for c in bq.client.calls if c[0] == "load"]
    assert loads[0].startswith("pc-data-prod.tmp_prod.stg_u_")
    assert "pc-data-prod.raw_prod.u" in loads  # empty target created with the data's schema
    merge = next(c[1] for c in bq.client.calls if c[0] == "query")
    assert merge.startswith("MERGE `pc-data-prod.raw_prod.u`")
    assert kinds[-1] == "delete"  # staging dropped


def test_replace_partition_targets_only_that_day(bq):
    day = dt.date(2026, 11, 1)
    data = pa.table({"event_date": [day], "id": [1]})
    bq.load("raw.ev", data, "replace_partition", partition_column="event_date", partition_date=day)
    query = next(c for c in bq.client.calls if c[0] == "query")
    assert "WHERE DATE(`event_date`) = DATE '2026-11-01'" in query[1]
    load = next(c for c in bq.client.calls if c[0] == "load" and c[1] == "pc-data-prod.raw_prod.ev")
    assert load[2].time_partitioning.field == "event_date"


def test_append_allows_field_addition_only_for_new_columns(bq):
    bq.load("raw.a", pa.table({"id": [1]}), "append")
    first = [c for c in bq.client.calls if c[0] == "load"][-1]
    assert not first[2].schema_update_options


def test_validation_runs_before_any_request(bq):
    with pytest.raises(WarehouseError):
        bq.load("raw.u", pa.table({"id": [1, 1]}), "merge", key_columns=["id"])
    assert bq.client.calls == []


def test_create_table_sql_is_bigquery_ddl_partitioned_by_its_day():
    import pyarrow as pa
    import sqlglot

    from data_gcp.warehouse.bigquery_engine import create_table_sql

    schema = pa.schema(
        [("day", pa.date32()), ("at", pa.timestamp("us", tz="UTC")), ("n", pa.int64()), ("ok", pa.bool_())]
    )
    by_day = sqlglot.parse_one(create_table_sql("`p.raw_prod.t`", schema, "day"), read="bigquery")
    assert isinstance(by_day, sqlglot.exp.Create) and by_day.args.get("exists")
    columns = {c.name: c.args["kind"].sql("bigquery") for c in by_day.find_all(sqlglot.exp.ColumnDef)}
    assert columns == {"day": "DATE", "at": "TIMESTAMP", "n": "INT64", "ok": "BOOL"}
    assert by_day.find(sqlglot.exp.PartitionedByProperty).this.name == "day"
    by_ts = sqlglot.parse_one(create_table_sql("`p.raw_prod.t`", schema, "at"), read="bigquery")
    partition = by_ts.find(sqlglot.exp.PartitionedByProperty).this
    assert partition.key == "date" and partition.find(sqlglot.exp.Column).name == "at"


def test_a_table_requiring_a_partition_filter_is_created_so():
    import pyarrow as pa
    import sqlglot

    from data_gcp.warehouse.bigquery_engine import create_table_sql

    schema = pa.schema([("day", pa.date32()), ("n", pa.int64())])
    ddl = create_table_sql("`p.raw_prod.t`", schema, "day", require_partition_filter=True)
    options = {
        p.name: p.args["value"].sql("bigquery")
        for p in sqlglot.parse_one(ddl, read="bigquery").find_all(sqlglot.exp.Property)
        if isinstance(p.args.get("value"), sqlglot.exp.Expression)
    }
    assert options.get("require_partition_filter") == "TRUE"
    assert "require_partition_filter" not in create_table_sql("`p.raw_prod.t`", schema, "day")
