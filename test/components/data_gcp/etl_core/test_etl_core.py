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


# raw tables whose names the source contract fixes (not `<system>_<object>`)
CONTRACT_TABLE_NAMES = {"raw.subcategories", "raw.offer_types"}


def test_registry_lists_the_systems_without_io():
    assert {"brevo", "qualtrics", "dms", "contentful", "batch", "siren"} <= set(CONNECTOR_MODULES)
    assert {"api_referentials", "seed_files", "metabase"} <= set(CONNECTOR_MODULES)
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


def test_dbt_sources_of_the_reference_connectors_have_a_producer():
    """Every table of these dbt sources is a TableSpec of a connector (the cloud plan runs them)."""
    import yaml

    from data_gcp.config import workspace_root

    produced = {t.qualified_name for c in list_connectors() for t in c.tables}
    for file, dataset in (("api_referentials.yml", "raw"), ("seed_files.yml", "seed")):
        doc = yaml.safe_load((workspace_root() / "dbt" / "models" / "sources" / file).read_text())
        for source in doc["sources"]:
            for table in source["tables"]:
                assert f"{dataset}.{table['name']}" in produced, (file, table["name"])
