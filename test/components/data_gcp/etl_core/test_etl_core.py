"""Windows, object selection, the registry, and the dlt load (scopes never overwrite each other)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from data_gcp.config import DataGcpError
from data_gcp.etl_core import (
    CONNECTOR_MODULES,
    Column,
    DateWindow,
    TableSpec,
    get_connector,
    list_connectors,
    load_tables,
    select_objects,
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


def test_registry_lists_the_systems_without_io():
    assert list(CONNECTOR_MODULES)[:6] == ["brevo", "qualtrics", "dms", "contentful", "batch", "siren"]
    assert {"adage", "addresses", "appsflyer", "app_downloads"} <= set(CONNECTOR_MODULES)
    names = [c.name for c in list_connectors()]
    assert {"brevo", "dms", "contentful"} <= set(names)
    for connector in list_connectors():
        assert connector.schedule.count(" ") == 4, connector.name
        assert all(t.name.startswith(connector.name + "_") for t in connector.tables)
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
