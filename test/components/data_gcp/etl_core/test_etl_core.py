"""Windows, object selection, the registry, and the dlt load (scopes never overwrite each other)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from data_gcp.config import DataGcpError
from data_gcp.etl_core import (
    CONNECTOR_MODULES,
    Column,
    Connector,
    DateWindow,
    TableSpec,
    email_hash,
    email_hash_column,
    get_connector,
    list_connectors,
    load_tables,
    run_connector,
    select_objects,
    utc_timestamp,
    utc_timestamp_column,
)
from data_gcp.warehouse import get_warehouse

STATS = TableSpec(
    name="toy_stats",
    object="stats",
    columns=(Column("day", "date"), Column("app"), Column("n", "int")),
    write="window",
    partition="day",
    scope=("app",),
)


def test_window_defaults_to_yesterday_and_validates():
    assert DateWindow.resolve(today=dt.date(2026, 3, 1)) == DateWindow(
        dt.date(2026, 2, 28), dt.date(2026, 2, 28)
    )
    assert DateWindow.resolve("2026-01-02") == DateWindow(dt.date(2026, 1, 2), dt.date(2026, 1, 2))
    w = DateWindow.resolve("2026-01-30", "2026-02-02")
    assert w.n_days == 4 and list(w.days())[-1] == dt.date(2026, 2, 2)
    assert w.last_days(7).start == dt.date(2026, 1, 27)
    with pytest.raises(DataGcpError, match="after end"):
        DateWindow.resolve("2026-02-02", "2026-01-01")
    with pytest.raises(DataGcpError, match="YYYY-MM-DD"):
        DateWindow.resolve("yesterday")


# raw tables whose names the source contract fixes (not `<system>_<object>`)
CONTRACT_TABLE_NAMES = {"raw.subcategories", "raw.offer_types"}


def test_registry_lists_the_systems_without_io():
    assert list(CONNECTOR_MODULES)[:6] == ["brevo", "qualtrics", "dms", "contentful", "batch", "siren"]
    assert {"api_referentials", "seed_files", "metabase"} <= set(CONNECTOR_MODULES)
    assert {"adage", "addresses", "appsflyer", "app_downloads"} <= set(CONNECTOR_MODULES)
    names = [c.name for c in list_connectors()]
    assert {"brevo", "dms", "contentful", "api_referentials", "seed_files", "metabase"} <= set(names)
    written: list[str] = []
    for connector in list_connectors():
        assert connector.schedule.count(" ") == 4, connector.name
        for t in connector.tables:
            written.append(t.qualified_name)
            if t.dataset == "raw" and t.qualified_name not in CONTRACT_TABLE_NAMES:
                assert t.name.startswith(connector.name + "_"), t.qualified_name
    assert len(written) == len(set(written))  # one producer per table
    with pytest.raises(DataGcpError, match="unknown source system 'nope'"):
        get_connector("nope")


def test_object_selection_by_object_or_table_name():
    brevo = get_connector("brevo")
    assert select_objects(brevo, None) == {"newsletters", "transactional"}
    assert select_objects(brevo, ["brevo_transactional"]) == {"transactional"}
    assert select_objects(brevo, "newsletters,transactional") == {"newsletters", "transactional"}
    with pytest.raises(DataGcpError, match="expected one of newsletters, transactional"):
        select_objects(brevo, "campaigns")


def _stats(app: str, day: dt.date, n: int) -> pa.Table:
    return STATS.to_arrow([{"day": day, "app": app, "n": n}])


def test_scoped_window_loads_never_overwrite_the_other_scope(settings):
    day = dt.date(2026, 11, 20)
    specs = {"toy_stats": STATS}
    load_tables("toy", settings, specs, {"toy_stats": _stats("ios", day, 1)})
    load_tables("toy", settings, specs, {"toy_stats": _stats("android", day, 2)})
    load_tables("toy", settings, specs, {"toy_stats": _stats("ios", day, 3)})  # re-run of iOS
    rows = get_warehouse(settings).query("SELECT app, n FROM raw.toy_stats ORDER BY app").to_pylist()
    assert rows == [{"app": "android", "n": 2}, {"app": "ios", "n": 3}]
    columns = get_warehouse(settings).schema("raw.toy_stats").names
    assert columns == ["day", "app", "n"]  # no _dlt_* columns added to our tables

    import duckdb

    con = duckdb.connect(str(settings.duckdb_path))  # a second writer: fails if dlt still held the file
    assert con.execute("SELECT count(*) FROM raw.toy_stats").fetchone() == (2,)
    con.close()


def test_cloud_destination_is_bigquery_dataset_raw_env_without_network():
    from data_gcp.config import Settings
    from data_gcp.etl_core import destination_for

    settings = Settings(env="prod", project_id="my-project")
    destination = destination_for(settings)
    assert destination.destination_type.endswith("bigquery")
    assert settings.dataset("raw") == "raw_prod"


SEED = TableSpec(
    name="toy_ref",
    object="ref",
    columns=(Column("code"), Column("label")),
    write="replace",
    dataset="seed",
)


def test_tables_land_in_their_dataset_and_replace_whole(settings):
    specs = {"toy_stats": STATS, "toy_ref": SEED}
    day = dt.date(2026, 11, 20)
    ref = SEED.to_arrow([{"code": "a", "label": "A"}, {"code": "b", "label": "B"}])
    load_tables("toy", settings, specs, {"toy_stats": _stats("ios", day, 1), "toy_ref": ref})
    load_tables("toy", settings, specs, {"toy_ref": SEED.to_arrow([{"code": "c", "label": "C"}])})
    wh = get_warehouse(settings)
    assert wh.query("SELECT code FROM seed.toy_ref").to_pylist() == [{"code": "c"}]
    assert wh.row_count("raw.toy_stats") == 1 and not wh.table_exists("raw.toy_ref")


# --- a toy connector run end to end: spooled load, zero-row days cleared ----------------------
TOY_ROWS: dict[tuple[str, dt.date], int] = {}  # (app, day) -> n; a day absent has no rows


class ToyConnector(Connector):
    name = "toy"
    description = "toy"
    schedule = "0 0 * * *"
    default_base_url = "http://127.0.0.1:9"
    tables = (STATS,)

    def extract(self, ctx):
        for app in ("ios", "android"):
            for day in ctx.window.days():
                n = TOY_ROWS.get((app, day))
                if n is not None:
                    yield STATS.name, _stats(app, day, n)
            ctx.covers(STATS.name, ctx.window.days(), app=app)


CONNECTOR = ToyConnector


def test_a_rerun_of_a_day_that_now_has_no_rows_clears_that_day(settings, monkeypatch):
    monkeypatch.setitem(CONNECTOR_MODULES, "toy", __name__)
    d1, d2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
    TOY_ROWS.clear()
    TOY_ROWS.update({("ios", d1): 1, ("ios", d2): 2, ("android", d1): 3})
    run_connector("toy", d1, d2, settings=settings)
    del TOY_ROWS[("ios", d1)]  # the vendor now has nothing for iOS on d1
    result = run_connector("toy", d1, d1, settings=settings)
    assert result.rows == {"toy_stats": 1}
    rows = (
        get_warehouse(settings).query("SELECT app, day, n FROM raw.toy_stats ORDER BY app, day").to_pylist()
    )
    assert rows == [{"app": "android", "day": d1, "n": 3}, {"app": "ios", "day": d2, "n": 2}]


def test_a_first_run_without_rows_creates_the_table_empty_then_loads_into_it(settings, monkeypatch):
    """A quiet week (Batch stats with no campaign): the table exists anyway, with its declared schema,
    so the dbt models reading it never meet "Not found: Table"; the next run with rows loads into it."""
    monkeypatch.setitem(CONNECTOR_MODULES, "toy", __name__)
    d1 = dt.date(2026, 11, 20)
    TOY_ROWS.clear()
    result = run_connector("toy", d1, d1, settings=settings)
    assert result.rows == {"toy_stats": 0}
    wh = get_warehouse(settings)
    assert wh.row_count("raw.toy_stats") == 0
    assert wh.schema("raw.toy_stats").names == [c.name for c in STATS.columns]
    assert [f.type for f in wh.schema("raw.toy_stats")] == [f.type for f in STATS.arrow_schema]
    TOY_ROWS[("ios", d1)] = 2
    run_connector("toy", d1, d1, settings=settings)
    assert wh.query("SELECT app, n FROM raw.toy_stats").to_pylist() == [{"app": "ios", "n": 2}]


def test_coverage_must_name_the_scope():
    from data_gcp.etl_core import units_to_clear

    _, ctx = _toy_context()
    ctx.covers(STATS.name, [dt.date(2026, 11, 20)])  # scoped table, no app named
    with pytest.raises(DataGcpError, match=r"must name the scope columns \('app',\)"):
        units_to_clear(ToyConnector(), ctx, {})


def _toy_context():
    from data_gcp.etl_core import build_context

    CONNECTOR_MODULES["toy"] = __name__
    try:
        return build_context("toy", "2026-11-20")
    finally:
        del CONNECTOR_MODULES["toy"]


# --- shared value helpers ---------------------------------------------------------------------
def test_utc_timestamps_convert_offsets_and_take_naive_values_as_utc():
    expected = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
    for text in ("2026-11-21T00:30:00.000+01:00", "2026-11-20T23:30:00Z", "2026-11-20T23:30:00", expected):
        assert utc_timestamp(text) == expected
    assert utc_timestamp(None) is None and utc_timestamp("") is None
    column = utc_timestamp_column(pa.array(["2026-11-21T00:30:00.000+01:00", None]))
    assert column.to_pylist() == [expected, None]
    assert utc_timestamp_column(pa.array(["2026-11-20T23:30:00"])).to_pylist() == [expected]
    mixed = utc_timestamp_column(pa.array(["2026-11-20T23:30:00", "2026-11-21T00:30:00+01:00"]))
    assert mixed.to_pylist() == [expected, expected]


def test_email_hash_is_one_rule_for_values_and_columns():
    assert email_hash(" Camille@Example.org ") == email_hash("camille@example.org")
    assert len(email_hash("a@b.c") or "") == 64
    assert email_hash(None) is None and email_hash("  ") is None
    column = email_hash_column(pa.array(["A@b.c", None, "a@b.c "]))
    assert column.to_pylist() == [email_hash("a@b.c"), None, email_hash("a@b.c")]


def test_temporary_env_restores_set_and_unset_variables(monkeypatch):
    import os

    from data_gcp.config import temporary_env

    monkeypatch.setenv("DATA_GCP_TOY_KEPT", "before")
    monkeypatch.delenv("DATA_GCP_TOY_NEW", raising=False)
    with temporary_env({"DATA_GCP_TOY_KEPT": None, "DATA_GCP_TOY_NEW": "x"}):
        assert "DATA_GCP_TOY_KEPT" not in os.environ and os.environ["DATA_GCP_TOY_NEW"] == "x"
    assert os.environ["DATA_GCP_TOY_KEPT"] == "before" and "DATA_GCP_TOY_NEW" not in os.environ
