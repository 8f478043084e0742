"""The recommendation tables, written to a real PostgreSQL and read back: one day replaces itself,
the views show the newest day, a failed night leaves the previous one whole, an unreachable database
says what to do."""

from __future__ import annotations

import datetime as dt
import socket

import psycopg
import pyarrow as pa
import pytest

from data_gcp.config import Settings
from data_gcp.reco_cloudsql import (
    RECO_TABLES,
    RecoDatabaseUnreachable,
    RecoExportError,
    export_reco_tables,
)
from data_gcp.warehouse import get_warehouse

DAY1, DAY2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)


def _rows(spec, n: int, tag: str) -> pa.Table:  # noqa: ANN001
    """`n` rows for a table: ids `<tag>-<i>`, a null in the second row of every other column, a text
    value with a comma and a quote (CSV's hard cases)."""
    data = {}
    for name, pg_type in spec.columns:
        if pg_type in ("varchar", "text"):
            values = [f'{tag}-{i}, "q"' if name not in ("user_id", "item_id", "offer_id", "id") else f"{tag}-{i}"
                      for i in range(n)]  # fmt: skip
            kind = pa.string()
        elif pg_type == "timestamp":
            values, kind = (
                [dt.datetime(2026, 1, 1, 12, 30) + dt.timedelta(days=i) for i in range(n)],
                pa.timestamp("us"),
            )
        elif pg_type == "boolean":
            values, kind = [i % 2 == 0 for i in range(n)], pa.bool_()
        elif pg_type == "integer":
            values, kind = list(range(n)), pa.int64()
        else:
            values, kind = [i + 0.25 for i in range(n)], pa.float64()
        if n > 1 and name not in ("user_id", "item_id", "offer_id", "id"):
            values[1] = None
        data[name] = pa.array(values, kind)
    return pa.table(data)


def _load(settings: Settings, n: int, tag: str, skip: str | None = None) -> None:
    wh = get_warehouse(settings)
    for spec in RECO_TABLES:
        if spec.name != skip:
            wh.load(spec.model, _rows(spec, n, tag), mode="replace")


def _query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_a_day_replaces_itself_and_the_views_show_the_newest_day(settings, postgres_schema) -> None:
    url, schema = postgres_schema
    _load(settings, 4, "a")
    export_reco_tables(DAY1, settings=settings, url=url, schema=schema)
    _load(settings, 3, "b")
    export_reco_tables(DAY2, settings=settings, url=url, schema=schema)
    written = export_reco_tables(DAY2, settings=settings, url=url, schema=schema)  # a re-run of the day
    assert {w.table: (w.rows, w.days_kept) for w in written} == {s.name: (3, 2) for s in RECO_TABLES}
    for spec in RECO_TABLES:
        per_day = _query(
            url, f'SELECT import_date, count(*) FROM "{schema}".{spec.name} GROUP BY 1 ORDER BY 1'
        )
        assert per_day == [(DAY1, 4), (DAY2, 3)], spec.name  # nothing duplicated by the re-run
        view = _query(url, f'SELECT * FROM "{schema}".{spec.view} ORDER BY 1')
        assert len(view) == 3 and all(str(r[0]).startswith("b-") for r in view), spec.name
    user = _query(url, f'SELECT * FROM "{schema}".enriched_user_mv ORDER BY user_id')
    assert user[0][:2] == ("b-0", dt.datetime(2026, 1, 1, 12, 30))
    assert user[1][1:] == (None,) * 7  # nulls stay null
    offer = _query(url, f'SELECT unique_id, is_geolocated, stock_price FROM "{schema}".recommendable_offers_raw_mv '
                   "ORDER BY offer_id")  # fmt: skip
    assert offer[0] == ('b-0, "q"', True, 0.25) and offer[1] == (None, None, None)


def test_only_the_newest_days_are_kept(settings, postgres_schema) -> None:
    url, schema = postgres_schema
    _load(settings, 2, "a")
    for day in range(1, 5):
        export_reco_tables(dt.date(2026, 12, day), settings=settings, url=url, schema=schema, keep_days=3)
    days = _query(url, f'SELECT DISTINCT import_date FROM "{schema}".enriched_user ORDER BY 1')
    assert [d for (d,) in days] == [dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.date(2026, 12, 4)]


def test_a_failed_night_leaves_the_previous_one_whole(settings, postgres_schema) -> None:
    url, schema = postgres_schema
    _load(settings, 3, "a")
    export_reco_tables(DAY1, settings=settings, url=url, schema=schema)
    _load(settings, 2, "b")
    # the third table's rows cannot be written (text in an integer column): the whole night is refused
    bad = RECO_TABLES[1]
    rows = _rows(bad, 2, "b").set_column(
        bad.column_names.index("booking_number"), "booking_number", pa.array(["x", "y"])
    )
    get_warehouse(settings).load(bad.model, rows, mode="replace")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        export_reco_tables(DAY2, settings=settings, url=url, schema=schema)
    for spec in RECO_TABLES:
        per_day = _query(url, f'SELECT import_date, count(*) FROM "{schema}".{spec.name} GROUP BY 1')
        assert per_day == [(DAY1, 3)], spec.name


def test_a_table_whose_columns_changed_is_recreated(settings, postgres_schema) -> None:
    url, schema = postgres_schema
    with psycopg.connect(url) as conn:
        conn.execute(f'CREATE TABLE "{schema}".enriched_user (user_id varchar, import_date date)')
    _load(settings, 2, "a")
    export_reco_tables(DAY1, settings=settings, url=url, schema=schema)
    columns = _query(url, "SELECT count(*) FROM information_schema.columns WHERE table_schema = "
                     f"'{schema}' AND table_name = 'enriched_user'")  # fmt: skip
    assert columns == [(len(RECO_TABLES[0].columns) + 1,)]
    assert _query(url, f'SELECT count(*) FROM "{schema}".enriched_user_mv') == [(2,)]


def test_an_unreachable_database_says_what_to_do_without_its_password(settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _load(settings, 1, "a")
    url = f"postgresql://reco:s3cret-pw@127.0.0.1:{port}/app"
    with pytest.raises(
        RecoDatabaseUnreachable, match=r"Connection refused.*DATA_GCP_RECO_DATABASE_URL"
    ) as err:
        export_reco_tables(DAY1, settings=settings, url=url)
    assert f"postgresql://reco@127.0.0.1:{port}/app" in str(err.value)
    assert "s3cret-pw" not in str(err.value)


def test_a_missing_model_names_the_dbt_command(settings) -> None:
    _load(settings, 1, "a", skip="iris_france")
    with pytest.raises(RecoExportError, match=r"export.export_reco__iris_france does not exist.*dbt build"):
        export_reco_tables(DAY1, settings=settings, url="postgresql://unused@127.0.0.1:1/x")


def test_the_database_is_the_setting_else_the_local_postgres() -> None:
    from data_gcp.reco_cloudsql import database_url

    assert database_url(Settings(env="local")) == "postgresql://postgres@127.0.0.1:5432/test"
    assert (
        database_url(Settings(env="local", reco_database_url="postgresql://x@h/db")) == "postgresql://x@h/db"
    )


def test_locally_an_unreachable_database_can_be_skipped_never_in_the_cloud(settings, caplog) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _load(settings, 1, "a")
    url = f"postgresql://reco@127.0.0.1:{port}/app"
    assert export_reco_tables(DAY1, settings=settings, url=url, skip_unreachable=True) == []
    assert "skipped: cannot connect to the recommendation database" in caplog.text
    cloud = Settings(env="prod", project_id="p", data_dir=settings.local_data_dir)
    with pytest.raises(RecoDatabaseUnreachable):
        export_reco_tables(
            DAY1, settings=cloud, warehouse=get_warehouse(settings), url=url, skip_unreachable=True
        )
