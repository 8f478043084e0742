"""The applicative import: full, idempotent, incremental after `sandbox advance`, strict about the source."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest
import sqlalchemy as sa
import sqlglot

from data_gcp.applicative_import import (
    WATERMARK_TABLE,
    ImportError_,
    columns_check_sql,
    external_query_sql,
    finalize_script,
    history_table,
    import_applicative,
    import_tables,
    plan_table,
    postgres_query,
)
from data_gcp.applicative_schema import TABLES, table_spec
from data_gcp.config import Settings
from data_gcp.sandbox import advance
from data_gcp.warehouse import get_warehouse

from .conftest import RUN_DATE


def source_counts(url: str, run_date: dt.date) -> dict[str, int]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    counts = {}
    for spec in TABLES:
        where = f" WHERE {spec.partition_column} <= '{run_date}'" if spec.partition_column else ""
        counts[spec.name] = con.execute(f'SELECT count(*) FROM "{spec.name}"{where}').fetchone()[0]
    con.close()
    return counts


def snapshot(wh, table: str, keys: list[str]):  # noqa: ANN001
    return wh.query(f"SELECT * FROM {wh.physical(table)} ORDER BY {', '.join(keys)}")


def test_full_then_idempotent(source: str, settings: Settings) -> None:
    wh = get_warehouse(settings)
    first = import_applicative(RUN_DATE, database_url=source, settings=settings)
    assert {t.mode for t in first.tables} == {"full"}
    expected = source_counts(source, RUN_DATE)
    for t in first.tables:
        assert t.rows_after == expected[t.table], t.table
        spec = table_spec(t.table)
        if spec.primary_key:
            keys = ", ".join(spec.primary_key)
            distinct = wh.query(
                f"SELECT count(*) AS n FROM (SELECT DISTINCT {keys} FROM {wh.physical(spec.raw_table)})"
            )
            assert distinct.column("n")[0].as_py() == t.rows_after
    # referential integrity survives the copy
    orphans = wh.query(
        "SELECT count(*) AS n FROM raw.applicative_database_booking b "
        "LEFT JOIN raw.applicative_database_stock s USING (stock_id) WHERE s.stock_id IS NULL"
    )
    assert orphans.column("n")[0].as_py() == 0
    # the referential has one producer in every environment (the api_referentials connector)
    assert not wh.table_exists("raw.subcategories")
    schema = wh.schema("raw.applicative_database_booking")
    assert str(schema.field("booking_creation_date").type).startswith("timestamp")
    before = {
        s.name: snapshot(
            wh, s.raw_table, list(s.primary_key) or ["event_timestamp", "session_id", "event_name"]
        )
        for s in TABLES
    }
    second = import_applicative(RUN_DATE, database_url=source, settings=settings)
    assert {t.table: t.mode for t in second.tables}["booking"] == "incremental"
    for s in TABLES:
        after = snapshot(
            wh, s.raw_table, list(s.primary_key) or ["event_timestamp", "session_id", "event_name"]
        )
        assert after.equals(before[s.name]), s.name
    hist = wh.query(f"SELECT DISTINCT snapshot_date FROM {wh.physical(history_table(table_spec('offer')))}")
    assert hist.column("snapshot_date").to_pylist() == [RUN_DATE]


def test_incremental_after_advance(source: str, settings: Settings) -> None:
    wh = get_warehouse(settings)
    import_applicative(RUN_DATE, database_url=source, settings=settings)
    marks = {
        r["table_name"]: r["cursor_value"]
        for r in wh.query(f"SELECT * FROM {wh.physical(WATERMARK_TABLE)}").to_pylist()
    }
    booked = {
        r["booking_id"]: r["booking_status"]
        for r in wh.query(
            "SELECT booking_id, booking_status FROM raw.applicative_database_booking"
        ).to_pylist()
    }
    moved = advance(4, source)
    result = import_applicative(moved.end_date, database_url=source, settings=settings)
    modes = {t.table: t.mode for t in result.tables}
    assert modes["booking"] == modes["offer"] == modes["app_event"] == "incremental"
    assert modes["sandbox_truth_user_taste"] == "incremental"  # append-only: new users' rows only
    expected = source_counts(source, moved.end_date)
    for t in result.tables:
        assert t.rows_after == expected[t.table], t.table  # nothing lost, nothing duplicated
    read = {t.table: t.rows_read for t in result.tables}
    assert 0 < read["booking"] < expected["booking"]  # only what changed was read
    assert 0 < read["sandbox_truth_user_taste"] < expected["sandbox_truth_user_taste"]
    src = sqlite3.connect(source.removeprefix("sqlite:///"))
    truth = dict(src.execute("SELECT booking_id, booking_status FROM booking").fetchall())
    now = {
        r["booking_id"]: r["booking_status"]
        for r in wh.query(
            "SELECT booking_id, booking_status FROM raw.applicative_database_booking"
        ).to_pylist()
    }
    assert now == truth
    assert sum(booked[b] != now[b] for b in booked) > 0  # updated rows were updated
    new_marks = {
        r["table_name"]: r["cursor_value"]
        for r in wh.query(f"SELECT * FROM {wh.physical(WATERMARK_TABLE)}").to_pylist()
    }
    assert new_marks["booking"] > marks["booking"] and new_marks["app_event"] == str(moved.end_date)
    days = wh.query(
        "SELECT DISTINCT snapshot_date FROM clean.applicative_database_booking_history ORDER BY 1"
    )
    assert days.column("snapshot_date").to_pylist() == [RUN_DATE, moved.end_date]
    dupes = wh.query(
        "SELECT count(*) - count(DISTINCT (call_id, position)) AS n FROM raw.applicative_database_reco_display_log"
    )
    assert dupes.column("n")[0].as_py() == 0
    src.close()


@pytest.mark.parametrize("change", ["drop_table", "drop_column", "retype_column"])
def test_bad_source_fails_before_writing(source: str, settings: Settings, change: str) -> None:
    wh = get_warehouse(settings)
    import_applicative(RUN_DATE, database_url=source, settings=settings)
    before = wh.query(f"SELECT * FROM {wh.physical(WATERMARK_TABLE)} ORDER BY table_name")
    con = sqlite3.connect(source.removeprefix("sqlite:///"))
    con.execute("UPDATE booking SET booking_status = 'USED' WHERE booking_id = 1")
    if change == "drop_table":
        con.execute("DROP TABLE favorite")
        expected = "'favorite' is missing"
    elif change == "drop_column":
        con.execute("ALTER TABLE stock DROP COLUMN stock_price")
        expected = "'stock' has no column 'stock_price'"
    else:
        con.execute("ALTER TABLE offer RENAME COLUMN offer_updated_date TO x")
        con.execute("ALTER TABLE offer ADD COLUMN offer_updated_date TEXT")
        expected = "offer.offer_updated_date has type 'str'"
    con.commit()
    con.close()
    with pytest.raises(ImportError_, match=expected):
        import_applicative(RUN_DATE, database_url=source, settings=settings)
    assert wh.query(f"SELECT * FROM {wh.physical(WATERMARK_TABLE)} ORDER BY table_name").equals(before)


def test_cloud_sql_parses_and_matches_the_spec() -> None:
    settings = Settings(env="prod", project_id="proj", cloudsql_connection_id="proj.europe-west1.app-replica")
    specs = import_tables(cloud=True)
    assert not any(s.local_only for s in specs)
    staged = []
    for spec in specs:
        for watermark in (None, "2026-11-20 10:00:00.000000"):
            plan = plan_table(spec, watermark, dt.date(2026, 11, 27), False, True)
            inner = postgres_query(plan)
            parsed = sqlglot.parse_one(inner, read="postgres")
            assert [e.alias_or_name for e in parsed.expressions] == spec.column_names
            staging = f"`proj.tmp_prod.applicative_import_{spec.name}_x`"
            outer = sqlglot.parse_one(
                external_query_sql(plan, settings.cloudsql_connection_id, staging), read="bigquery"
            )
            assert [e.alias_or_name for e in outer.expression.expressions] == spec.column_names
            assert outer.find(sqlglot.exp.Anonymous).args["expressions"][1].this == inner
        staged.append((plan, staging, 10, "2026-11-27 00:00:00.000000"))
    physical = lambda t: f"`proj.{t.split('.')[0]}_prod.{t.split('.')[1]}`"  # noqa: E731
    script = finalize_script(settings, staged, dt.date(2026, 11, 27), physical)
    statements = sqlglot.parse(script, read="bigquery")
    assert len([s for s in statements if s is not None]) > 2 * len(staged)
    assert "MERGE `proj.raw_prod.applicative_database_booking`" in script
    assert "`proj.clean_prod.applicative_database_offer_history`" in script
    sqlglot.parse_one(columns_check_sql(settings.cloudsql_connection_id, specs), read="bigquery")


@pytest.mark.postgres
def test_import_from_postgres_equals_import_from_sqlite(source: str, settings: Settings, tmp_path) -> None:  # noqa: ANN001
    from data_gcp.sandbox import generate

    from ..sandbox.conftest import postgres_database
    from .conftest import DAYS, SCALE, SEED, START

    gen = postgres_database()
    pg_url = next(gen)
    try:
        generate(SCALE, SEED, pg_url, START, DAYS)
        import_applicative(RUN_DATE, database_url=source, settings=settings)
        other = Settings(data_dir=tmp_path / "pg")
        import_applicative(RUN_DATE, database_url=pg_url, settings=other)
        a, b = get_warehouse(settings), get_warehouse(other)
        for spec in TABLES:
            keys = list(spec.primary_key) or ["event_timestamp", "session_id", "event_name"]
            left, right = snapshot(a, spec.raw_table, keys), snapshot(b, spec.raw_table, keys)
            assert left.num_rows == right.num_rows, spec.name
            # PostgreSQL stores JSON as jsonb (keys reordered): compare JSON by value
            json_cols = [c.name for c in spec.columns if c.type == "json"]

            def norm(rows: list[dict], cols: list[str] = json_cols) -> list[dict]:
                return [{k: json.loads(v) if k in cols and v else v for k, v in r.items()} for r in rows]

            assert norm(left.to_pylist()) == norm(right.to_pylist()), spec.name
        advance(2, pg_url)
        result = import_applicative(RUN_DATE + dt.timedelta(days=2), database_url=pg_url, settings=other)
        engine = sa.create_engine(pg_url)
        with engine.connect() as con:
            assert (
                con.execute(sa.text("SELECT count(*) FROM booking")).scalar()
                == {t.table: t.rows_after for t in result.tables}["booking"]
            )
        engine.dispose()
    finally:
        gen.close()


def test_a_source_without_planted_truth_is_a_plain_app_database(source: str, settings: Settings) -> None:
    con = sqlite3.connect(source.removeprefix("sqlite:///"))
    con.execute("DROP TABLE sandbox_truth_user_taste")
    con.execute("DROP TABLE sandbox_truth_offer_topic")
    con.execute("DROP TABLE sandbox_truth_offer_work")
    con.commit()
    con.close()
    result = import_applicative(RUN_DATE, database_url=source, settings=settings)
    assert {t.table for t in result.tables} == {s.name for s in import_tables(cloud=True)}
    assert not get_warehouse(settings).table_exists("raw.sandbox_truth_user_taste")


def test_an_unreachable_source_is_named_without_its_password(settings: Settings) -> None:
    with pytest.raises(ImportError_, match="cannot read the app database") as info:
        import_applicative(
            RUN_DATE, database_url="postgresql://postgres:hunter2@127.0.0.1:1/app", settings=settings
        )
    assert "hunter2" not in str(info.value)
    assert not get_warehouse(settings).table_exists(WATERMARK_TABLE)


def test_a_failure_midway_rolls_every_table_back(source: str, settings: Settings) -> None:
    """A bad value found while loading a late table undoes the tables already replaced before it."""
    wh = get_warehouse(settings)
    import_applicative(RUN_DATE, database_url=source, settings=settings)
    tables = [s for s in TABLES if s.name in ("user", "offer", "app_event")]
    keys = {s.name: list(s.primary_key) or ["event_timestamp", "session_id", "event_name"] for s in tables}
    before = {s.name: snapshot(wh, s.raw_table, keys[s.name]) for s in tables}
    marks = wh.query(f"SELECT * FROM {wh.physical(WATERMARK_TABLE)} ORDER BY table_name")
    con = sqlite3.connect(source.removeprefix("sqlite:///"))
    con.execute("UPDATE user SET user_city = 'Nowhere'")  # read (in full) before the bad table
    con.execute("UPDATE favorite SET favorite_creation_date = 'not a date' WHERE rowid = 1")
    con.commit()
    con.close()
    with pytest.raises(
        ImportError_, match="'favorite' into raw.applicative_database_favorite failed.*not a date"
    ):
        import_applicative(RUN_DATE, database_url=source, settings=settings, full=True)
    for s in tables:
        assert snapshot(wh, s.raw_table, keys[s.name]).equals(before[s.name]), s.name
    assert wh.query(f"SELECT * FROM {wh.physical(WATERMARK_TABLE)} ORDER BY table_name").equals(marks)


def test_native_and_fallback_readers_load_the_same_rows(source: str, settings: Settings, tmp_path) -> None:  # noqa: ANN001
    """ADBC (with its NULL sentinels) and the DBAPI reader agree value for value, NULLs included."""
    from data_gcp.applicative_import.local import run_local

    con = sqlite3.connect(source.removeprefix("sqlite:///"))
    # NULLs first in columns of every family, so that type inference from the first rows is tested
    con.execute(
        "UPDATE venue SET venue_latitude = NULL, venue_public_name = NULL, venue_creation_date = NULL"
    )
    con.execute("UPDATE offer SET offer_extra_data = NULL WHERE offer_id % 2 = 0")
    con.commit()
    con.close()
    other = Settings(data_dir=tmp_path / "fallback")
    a, b = get_warehouse(settings), get_warehouse(other)
    native = run_local(a, source, RUN_DATE, False, native=True)
    fallback = run_local(b, source, RUN_DATE, False, native=False)
    assert [(t.table, t.rows_read, t.watermark) for t in native] == [
        (t.table, t.rows_read, t.watermark) for t in fallback
    ]
    for spec in TABLES:
        keys = list(spec.primary_key) or ["event_timestamp", "session_id", "event_name"]
        left, right = snapshot(a, spec.raw_table, keys), snapshot(b, spec.raw_table, keys)
        assert left.schema == right.schema, spec.name
        assert left.equals(right), spec.name
    venue = snapshot(a, "raw.applicative_database_venue", ["venue_id"])
    assert venue.column("venue_latitude").null_count == venue.num_rows


def _delete_unbooked_offers(con, n: int = 3) -> list[int]:  # noqa: ANN001 - sqlite3 or psycopg
    """Delete `n` offers never booked, with their stocks and favourites, as a pro would; their ids."""
    ids = [
        r[0]
        for r in con.execute(
            "SELECT offer_id FROM offer o WHERE NOT EXISTS (SELECT 1 FROM stock s JOIN booking b "
            "ON b.stock_id = s.stock_id WHERE s.offer_id = o.offer_id) ORDER BY offer_id LIMIT 3"
        ).fetchall()
    ][:n]
    inside = ", ".join(str(i) for i in ids)
    for table in ("favorite", "stock", "offer"):
        con.execute(f"DELETE FROM {table} WHERE offer_id IN ({inside})")
    return ids


def _raw_keys(wh, table: str, key: str) -> set[int]:  # noqa: ANN001
    return set(wh.query(f"SELECT {key} FROM raw.applicative_database_{table}").column(key).to_pylist())


@pytest.mark.parametrize("native", [True, False], ids=["adbc", "dbapi"])
def test_an_incremental_import_drops_the_rows_deleted_in_the_source(
    source: str, settings: Settings, native: bool
) -> None:
    from data_gcp.applicative_import.local import run_local

    wh = get_warehouse(settings)
    run_local(wh, source, RUN_DATE, False, native=native)
    con = sqlite3.connect(source.removeprefix("sqlite:///"))
    gone = _delete_unbooked_offers(con)
    favourite = con.execute("SELECT min(favorite_id) FROM favorite").fetchone()[0]
    con.execute("DELETE FROM favorite WHERE favorite_id = ?", (favourite,))  # a user removes a favourite
    con.commit()
    truth = {
        t: {r[0] for r in con.execute(f"SELECT {t}_id FROM {t}")} for t in ("offer", "stock", "favorite")
    }
    con.close()
    assert gone and set(gone) <= _raw_keys(wh, "offer", "offer_id")
    result = {t.table: t for t in run_local(wh, source, RUN_DATE, False, native=native)}
    assert result["offer"].mode == "incremental"
    for table, keys in truth.items():
        assert _raw_keys(wh, table, f"{table}_id") == keys, table
        assert result[table].rows_after == len(keys), table
    assert result["offer"].rows_deleted == len(gone)
    assert result["favorite"].rows_deleted >= 1
    # the daily history of the night has the deleted offers no more
    hist = wh.query(
        f"SELECT offer_id FROM {wh.physical(history_table(table_spec('offer')))} WHERE snapshot_date = DATE '{RUN_DATE}'"
    )
    assert not set(gone) & set(hist.column("offer_id").to_pylist())


def test_a_failure_after_a_deletion_rolls_it_back(source: str, settings: Settings) -> None:
    wh = get_warehouse(settings)
    import_applicative(RUN_DATE, database_url=source, settings=settings)
    before = snapshot(wh, "raw.applicative_database_offer", ["offer_id"])
    con = sqlite3.connect(source.removeprefix("sqlite:///"))
    gone = _delete_unbooked_offers(con)
    # a bad value in a table read after `offer` (and its keys): the whole import fails
    con.execute(
        "UPDATE favorite SET favorite_creation_date = 'not a date' WHERE rowid = (SELECT max(rowid) FROM favorite)"
    )
    con.commit()
    con.close()
    with pytest.raises(ImportError_, match="'favorite'.*not a date"):
        import_applicative(RUN_DATE, database_url=source, settings=settings)
    after = snapshot(wh, "raw.applicative_database_offer", ["offer_id"])
    assert set(gone) <= set(after.column("offer_id").to_pylist())
    assert after.equals(before)


@pytest.mark.postgres
@pytest.mark.parametrize("native", [True, False], ids=["adbc", "copy"])
def test_deletions_are_seen_in_a_postgresql_source(settings: Settings, tmp_path, native: bool) -> None:  # noqa: ANN001
    import psycopg

    from data_gcp.applicative_import.local import run_local
    from data_gcp.sandbox import generate

    from ..sandbox.conftest import postgres_database
    from .conftest import DAYS, SCALE, SEED, START

    gen = postgres_database()
    pg_url = next(gen)
    try:
        generate(SCALE, SEED, pg_url, START, DAYS)
        wh = get_warehouse(settings)
        run_local(wh, pg_url, RUN_DATE, False, native=native)
        with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as con:
            gone = _delete_unbooked_offers(con)
            keys = {r[0] for r in con.execute("SELECT offer_id FROM offer").fetchall()}
        assert gone and set(gone) <= _raw_keys(wh, "offer", "offer_id")
        result = {t.table: t for t in run_local(wh, pg_url, RUN_DATE, False, native=native)}
        assert result["offer"].mode == "incremental" and result["offer"].rows_deleted == len(gone)
        assert _raw_keys(wh, "offer", "offer_id") == keys
    finally:
        gen.close()


def test_cloud_sql_deletes_the_rows_whose_key_left_the_source() -> None:
    """The finalize script of an incremental run deletes, after the MERGE, the raw rows whose key is not
    in the staged keys; its statements, transpiled, run on DuckDB against staged tables."""
    import duckdb

    from data_gcp.applicative_import import keys_plan

    settings = Settings(env="prod", project_id="proj", cloudsql_connection_id="proj.europe-west1.app-replica")
    spec = table_spec("offer")
    plan = plan_table(spec, "2026-11-20 10:00:00.000000", dt.date(2026, 11, 27), False, True)
    keys = keys_plan(spec)
    inner = sqlglot.parse_one(postgres_query(keys), read="postgres")
    assert [e.alias_or_name for e in inner.expressions] == ["offer_id"]  # only the key, whole table
    assert inner.find(sqlglot.exp.Where) is None
    outer = sqlglot.parse_one(external_query_sql(keys, settings.cloudsql_connection_id, "k"), read="bigquery")
    assert [e.alias_or_name for e in outer.expression.expressions] == ["offer_id"]
    physical = lambda t: t  # noqa: E731
    script = finalize_script(
        settings, [(plan, "s", 1, None)], dt.date(2026, 11, 27), physical, {"offer": "k"}
    )
    without = finalize_script(settings, [(plan, "s", 1, None)], dt.date(2026, 11, 27), physical)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE SCHEMA clean")
    cols = ", ".join(f'"{c}" VARCHAR' for c in spec.column_names if c != "offer_id")
    for table in ("raw.applicative_database_offer", "s"):
        con.execute(f"CREATE TABLE {table} (offer_id BIGINT, {cols})")
    con.execute(
        "INSERT INTO raw.applicative_database_offer (offer_id, offer_name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"
    )
    con.execute("INSERT INTO s (offer_id, offer_name) VALUES (3, 'c2'), (4, 'd')")  # changed rows
    con.execute("CREATE TABLE k (offer_id BIGINT)")
    con.execute("INSERT INTO k VALUES (1), (3), (4)")  # offer 2 was deleted in the source

    def run(sql: str) -> list[tuple]:
        statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
        merges = [s for s in statements if isinstance(s, sqlglot.exp.Merge | sqlglot.exp.Delete)]
        raw = [
            s
            for s in merges
            if "applicative_database_offer" in s.this.sql() and "history" not in s.this.sql()
        ]
        con.execute("DELETE FROM raw.applicative_database_offer")
        con.execute(
            "INSERT INTO raw.applicative_database_offer (offer_id, offer_name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"
        )
        for statement in raw:
            con.execute(statement.sql(dialect="duckdb"))
        return con.execute(
            "SELECT offer_id, offer_name FROM raw.applicative_database_offer ORDER BY 1"
        ).fetchall()

    assert run(script) == [(1, "a"), (3, "c2"), (4, "d")]
    assert run(without) == [(1, "a"), (2, "b"), (3, "c2"), (4, "d")]


def test_cloud_tables_are_created_partitioned_by_their_day() -> None:
    """In BigQuery, a raw table read by day is created partitioned by that day: the event tables by
    their date column, the display log (merged on its key, a log that grows by day) by the day of its
    timestamp, so the nightly's reads of a few days are billed for those days only."""
    settings = Settings(env="prod", project_id="proj")
    staged = [
        (plan_table(spec, None, dt.date(2026, 11, 27), False, False), f"s_{spec.name}", 1, None)
        for spec in import_tables(cloud=True)
    ]
    script = finalize_script(settings, staged, dt.date(2026, 11, 27), lambda t: t)
    partitions = {}
    for statement in sqlglot.parse(script, read="bigquery"):
        target = statement.find(sqlglot.exp.Table) if isinstance(statement, sqlglot.exp.Create) else None
        if target is not None and target.db == "raw":
            prop = statement.find(sqlglot.exp.PartitionedByProperty)
            partitions[target.name] = prop.this.sql(dialect="bigquery") if prop else None
    assert partitions["applicative_database_reco_display_log"] == "DATE(`displayed_at`)"
    assert partitions["applicative_database_booking"] is None
    for spec in import_tables(cloud=True):
        if spec.partition_column:
            assert partitions[spec.raw_table.split(".")[1]] == f"`{spec.partition_column}`"


def test_cloud_merge_of_the_display_log_reads_only_the_days_since_its_watermark() -> None:
    """The display log's MERGE filters the target on its partition timestamp (so BigQuery scans the
    days since the watermark, not the whole log), and still neither duplicates a line sent again
    nor loses an older one: its statements, transpiled, run on DuckDB."""
    import duckdb

    settings = Settings(env="prod", project_id="proj")
    spec = table_spec("reco_display_log")
    plan = plan_table(spec, "2026-11-26 10:00:00.000000", dt.date(2026, 11, 27), False, True)
    script = finalize_script(settings, [(plan, "s", 2, None)], dt.date(2026, 11, 27), lambda t: t)
    (merge,) = [
        s
        for s in sqlglot.parse(script, read="bigquery")
        if isinstance(s, sqlglot.exp.Merge) and s.this.name == "applicative_database_reco_display_log"
    ]
    bounds = [
        c
        for c in merge.args["on"].find_all(sqlglot.exp.GTE)
        if isinstance(c.left, sqlglot.exp.Column) and (c.left.table, c.left.name) == ("T", "displayed_at")
    ]
    assert [b.right.sql(dialect="bigquery") for b in bounds] == ["CAST('2026-11-26 10:00:00' AS TIMESTAMP)"]

    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    cols = "call_id VARCHAR, user_id BIGINT, offer_id BIGINT, position BIGINT, context VARCHAR, model_version VARCHAR, displayed_at TIMESTAMP"
    for table in ("raw.applicative_database_reco_display_log", "s"):
        con.execute(f"CREATE TABLE {table} ({cols})")
    con.execute(
        "INSERT INTO raw.applicative_database_reco_display_log VALUES "
        "('old', 1, 10, 0, 'home', 'v1', '2026-11-20 09:00:00'), ('new', 1, 11, 0, 'home', 'v1', '2026-11-26 11:00:00')"
    )
    con.execute(  # the watermark's line sent again, and a new one
        "INSERT INTO s VALUES ('new', 1, 11, 0, 'home', 'v1', '2026-11-26 11:00:00'), "
        "('next', 2, 12, 0, 'home', 'v1', '2026-11-27 08:00:00')"
    )
    con.execute(merge.sql(dialect="duckdb"))
    rows = con.execute(
        "SELECT call_id, displayed_at FROM raw.applicative_database_reco_display_log ORDER BY displayed_at"
    ).fetchall()
    assert [r[0] for r in rows] == ["old", "new", "next"]
