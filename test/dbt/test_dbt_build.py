"""End to end: raw layer -> `dbt build --target ci` with zero errors, and what the ML jobs read."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from data_gcp.warehouse import get_warehouse

pytestmark = pytest.mark.slow

DBT = Path(__file__).resolve().parents[2] / "dbt"

# docs/contracts.md, "dbt -> ML": the columns each ML table must have.
ML_CONTRACT = {
    "ml_reco__click_training": """user_id item_id offer_id event_timestamp event_date user_age user_department_code
        user_deposit_remaining_credit category_id subcategory_id offer_name price""",
    "ml_reco__recommendable_item": """item_id offer_id offer_name category_id subcategory_id search_group_name price
        is_underage_recommendable is_digital is_event venue_latitude venue_longitude venue_radius_km venue_department_code
        booking_count booking_count_last_7_days booking_trend stock_beginning_date offer_creation_date""",
    "ml_reco__user_features": """user_id user_age user_department_code deposit_type remaining_credit booking_count
        consult_count favorite_category_id""",
    "ml_reco__ranking_training": """call_id user_id offer_id item_id position context displayed_at event_date label""",
}


def test_build_has_zero_errors(built_project) -> None:
    result = built_project.result
    assert result.success, (
        result.summary() + "\n" + "\n".join(f"{n}: {result.messages.get(n, '')}" for n in result.failed)
    )
    assert result.failed == []
    # models, snapshots, unit tests and data tests all ran
    kinds = {uid.split(".")[0] for uid in result.statuses}
    assert {"model", "snapshot", "test", "unit_test"} <= kinds, kinds
    assert result.count("success") >= 29


def test_ml_tables_follow_the_contract_in_schema_ml(built_project) -> None:
    wh = get_warehouse(built_project.settings)
    for table, columns in ML_CONTRACT.items():
        got = set(wh.query(f"select * from ml.{table} limit 0").column_names)
        missing = set(columns.split()) - got
        assert not missing, f"ml.{table} lacks {sorted(missing)}"
        assert wh.row_count(f"ml.{table}") > 0, f"ml.{table} is empty"


def test_item_ids_follow_the_convention(built_project) -> None:
    wh = get_warehouse(built_project.settings)
    bad = wh.query(
        """
        select o.offer_id, o.offer_product_id, o.item_id
        from analytics.mrt_global__offer as o
        where o.item_id <> case when o.offer_product_id is not null then 'product-' || o.offer_product_id
                               else 'offer-' || o.offer_id end
        """
    )
    assert bad.num_rows == 0, bad.slice(0, 5).to_pylist()
    items = wh.query("select item_id, offer_id from ml.ml_reco__recommendable_item").to_pylist()
    assert len({r["item_id"] for r in items}) == len(items)
    # the representative offer is bookable and belongs to the item
    wrong = wh.query(
        """
        select r.item_id from ml.ml_reco__recommendable_item r
        join analytics.mrt_global__offer o on o.offer_id = r.offer_id
        where o.item_id <> r.item_id or not o.offer_is_bookable
        """
    )
    assert wrong.num_rows == 0


def test_humanized_ids_match_the_backend(built_project) -> None:
    def humanize(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.b32encode(raw).decode().replace("O", "8").replace("I", "9").rstrip("=")

    rows = get_warehouse(built_project.settings).query(
        "select offer_id, offer_humanized_id from analytics.mrt_global__offer"
    )
    for row in rows.to_pylist():
        assert row["offer_humanized_id"] == humanize(int(row["offer_id"])), row


def test_remaining_credit_is_granted_minus_spent(built_project) -> None:
    wh = get_warehouse(built_project.settings)
    rows = wh.query(
        """
        select u.user_id, u.remaining_credit, d.deposit_amount, d.deposit_is_expired,
               coalesce((select sum(b.booking_intermediary_amount) from analytics.mrt_global__booking b
                         where b.deposit_id = d.deposit_id and not b.booking_is_cancelled), 0) as spent
        from analytics.mrt_global__user u
        join int_applicative.int_applicative__deposit d on d.deposit_id = u.current_deposit_id
        """
    ).to_pylist()
    assert rows
    for r in rows:
        expected = 0 if r["deposit_is_expired"] else max(r["deposit_amount"] - r["spent"], 0)
        assert r["remaining_credit"] == pytest.approx(expected), r


def test_every_mart_column_is_described_and_exists(built_project) -> None:
    wh = get_warehouse(built_project.settings)
    ymls = [(p, "analytics") for p in sorted((DBT / "models/marts").glob("*/_*.yml"))]
    ymls += [(DBT / "models/ml/reco/_ml_reco__models.yml", "ml")]
    ymls += [(p, "export") for p in sorted((DBT / "models/export").rglob("_*.yml"))]
    documented_models = set()
    for yml, schema in ymls:
        models = yaml.safe_load(yml.read_text())["models"]
        assert models
        for model in models:
            documented_models.add(model["name"])
            assert model.get("description"), model["name"]
            documented = [c["name"] for c in model["columns"]]
            undescribed = [c["name"] for c in model["columns"] if not c.get("description")]
            assert not undescribed, f"{model['name']}: no description for {undescribed}"
            actual = wh.query(f"select * from {schema}.{model['name']} limit 0").column_names
            assert documented == actual, f"{model['name']}: yml columns differ from the table"
    # every mart and export model is documented (none forgotten in a yml)
    sql_models = {
        p.stem for folder in ("marts", "export", "ml") for p in (DBT / "models" / folder).rglob("*.sql")
    }
    assert sql_models - documented_models == set()


def test_every_mart_has_a_tested_key(built_project) -> None:
    """Each mart's first column is its key: unique and not_null tests attached to it in the manifest."""
    manifest = json.loads((built_project.target_path / "manifest.json").read_text())
    tested: dict[tuple[str, str], set[str]] = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and node.get("attached_node") and node.get("column_name"):
            key = (node["attached_node"], node["column_name"])
            tested.setdefault(key, set()).add(meta.get("name", ""))
    missing = []
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or not node["name"].startswith(("mrt_", "export__")):
            continue
        first = next(iter(node["columns"]), None)
        if not first or not {"unique", "not_null"} <= tested.get((uid, first), set()):
            missing.append(node["name"])
    assert missing == []


def test_business_rules_hold_on_the_school_and_individual_sides(built_project) -> None:
    wh = get_warehouse(built_project.settings)
    # the school side has rows in every mart, and the deposits add up to their collective bookings
    for mart in ("collective_offer", "collective_booking", "educational_institution", "educational_deposit"):
        assert wh.row_count(f"analytics.mrt_global__{mart}") > 0, mart
    spent = wh.query(
        "select sum(educational_deposit_spent_amount) as d from analytics.mrt_global__educational_deposit"
    ).to_pylist()[0]["d"]
    booked = wh.query(
        "select sum(collective_booking_amount) as b from analytics.mrt_global__collective_booking "
        "where collective_booking_status <> 'CANCELLED'"
    ).to_pylist()[0]["b"]
    assert spent == pytest.approx(booked)
    # every booking falls in a beneficiary period of its user
    orphans = wh.query(
        """
        select count(*) as n from analytics.mrt_global__booking b
        where not exists (select 1 from analytics.mrt_global__user_beneficiary_history h
                          where h.user_id = b.user_id and b.booking_created_at >= h.beneficiary_from
                            and (h.beneficiary_to is null or b.booking_created_at <= h.beneficiary_to))
        """
    ).to_pylist()[0]["n"]
    assert orphans == 0
    # the diversification of a user's first booking counts every attribute it has as new
    first = wh.query(
        "select min(diversification_delta) as lo from analytics.mrt_diversification__booking where user_booking_rank = 1"
    ).to_pylist()[0]["lo"]
    assert first >= 4


def test_the_ministry_export_is_k_anonymous_and_written_pseudonymised(built_project, tmp_path) -> None:
    """k measured on the export models as dbt built them, then the files written from them."""
    import datetime as dt
    import io

    import pyarrow.parquet as pq

    from data_gcp.exports import EXPORTS, export_family, smallest_class
    from data_gcp.storage import get_storage

    wh = get_warehouse(built_project.settings)
    spec = EXPORTS["ministry"]
    for table, qi in spec.quasi_identifiers.items():
        data = wh.query(f"select * from export.export__{table}")
        assert data.num_rows > 0, table
        k, combination = smallest_class(data, qi)
        assert k >= spec.k, (table, k, combination)
    day = dt.date(2026, 12, 1)
    written = {f.table: f for f in export_family("ministry", day, settings=built_project.settings)}
    # every file has rows but the removed rows, which need a deletion seen by two nightly imports
    empty = sorted(t for t, f in written.items() if f.rows == 0)
    assert empty == ["offer_removed", "offerer_removed", "venue_removed"], empty
    bookings = pq.read_table(
        io.BytesIO(get_storage(built_project.settings).get_bytes(written["booking"].key))
    )
    clear = wh.query("select booking_id, user_id, deposit_id from export.export__booking")
    for column in ("booking_id", "user_id", "deposit_id"):
        assert not set(bookings.column(column).to_pylist()) & set(clear.column(column).to_pylist()), column


def test_the_reverse_exports_write_the_built_models_to_their_engines(built_project, postgres_schema) -> None:
    """The recommendation tables (PostgreSQL) and the pro statistics (embedded ClickHouse), written from
    the models dbt built and read back: each holds the rows of its model."""
    import datetime as dt

    import psycopg

    from data_gcp.pro_clickhouse import EmbeddedClickHouse, export_pro_statistics
    from data_gcp.reco_cloudsql import RECO_TABLES, export_reco_tables

    url, schema = postgres_schema
    wh = get_warehouse(built_project.settings)
    day = dt.date(2026, 12, 1)
    export_reco_tables(day, settings=built_project.settings, url=url, schema=schema)
    with psycopg.connect(url) as conn:
        for spec in RECO_TABLES:
            expected = wh.query(f"select count(*) as n from {spec.model}").column("n")[0].as_py()
            got = conn.execute(f'SELECT count(*) FROM "{schema}".{spec.view}').fetchone()[0]
            assert got == expected > 0, spec.name
    written = export_pro_statistics(day, settings=built_project.settings)
    client = EmbeddedClickHouse(built_project.settings.local_data_dir / "clickhouse")
    try:
        per_table: dict[str, int] = {}
        for w in written:  # an event table also rewrites the look-back days its model holds
            per_table[w.table] = per_table.get(w.table, 0) + w.rows
        for table, rows in per_table.items():
            got = client.query_arrow(f"SELECT count() AS n FROM {table}").column("n")[0].as_py()
            assert got == rows, table
        bookings = (
            wh.query("select count(*) as n from export.export_clickhouse__booking").column("n")[0].as_py()
        )
        assert per_table["intermediate.booking"] == bookings > 0
        revenue = (
            client.query_arrow(
                "SELECT sum(individual_expected_revenue) AS s FROM analytics.monthly_aggregated_venue_revenue"
            )
            .column("s")[0]
            .as_py()
        )
        booked = wh.query("select sum(booking_amount) as s from export.export_clickhouse__booking")
        assert abs(revenue - booked.column("s")[0].as_py()) < 0.01
    finally:
        client.close()


def test_parse_writes_the_manifest_for_airflow(built_project) -> None:
    manifest = json.loads((built_project.target_path / "manifest.json").read_text())
    nodes = manifest["nodes"]
    for name in ML_CONTRACT:
        node = nodes[f"model.data_gcp.{name}"]
        assert node["schema"] == "ml"
        assert node["config"]["contract"]["enforced"] is True
    # audited models build into audit_<dataset> and are published to <dataset> (audit_publish.sql)
    assert nodes["model.data_gcp.mrt_global__user"]["schema"] == "audit_analytics"
    assert nodes["model.data_gcp.int_applicative__offer"]["schema"] == "audit_int_applicative"
    assert nodes["snapshot.data_gcp.snapshot__offer"]["schema"] == "snapshot"
    # BigQuery layout is not set on DuckDB targets
    assert nodes["model.data_gcp.int_firebase__event"]["config"].get("partition_by") is None


def test_daily_kpis_add_up_to_the_bookings_and_users(built_project) -> None:
    wh = get_warehouse(built_project.settings)
    kpi = wh.query(
        "select sum(booking_count) as n, sum(booking_amount) as spend, sum(first_booking_count) as firsts "
        "from analytics.mrt_global__daily_booking_kpi"
    ).to_pylist()[0]
    bookings = wh.query(
        "select count(*) as n, sum(booking_intermediary_amount) as spend from analytics.mrt_global__booking "
        "where not booking_is_cancelled"
    ).to_pylist()[0]
    users = wh.query(
        "select count(first_booking_at) as bookers, "
        "sum(case when days_to_first_booking is not null then 1 else 0 end) as timed "
        "from analytics.mrt_global__user"
    ).to_pylist()[0]
    firsts = wh.query(
        "select sum(first_booking_user_count) as n from analytics.mrt_global__daily_first_booking"
    ).to_pylist()[0]
    assert bookings["n"] > 0
    assert kpi["n"] == bookings["n"]
    assert kpi["spend"] == pytest.approx(bookings["spend"])
    assert kpi["firsts"] == users["bookers"]
    assert firsts["n"] == users["timed"]


def test_users_and_venues_get_region_and_area_flags_from_the_seed_files(built_project) -> None:
    if built_project.raw_source != "sandbox+import":
        pytest.skip("the hand-written fixture has no seed files (DBT_TEST_RAW=fixture)")
    wh = get_warehouse(built_project.settings)
    for mart, prefix, where in (
        ("mrt_global__user", "user", "user_department_code is not null"),
        ("mrt_global__venue", "venue", "not venue_is_virtual"),
    ):
        row = wh.query(
            f"select count(*) as n, count({prefix}_region_name) as with_region, "
            f"count(case when {prefix}_in_qpv_postal_code then 1 end) as in_qpv, "
            f"count(case when {prefix}_region_name = 'Île-de-France' then 1 end) as idf "
            f"from analytics.{mart} where {where}"
        ).to_pylist()[0]
        assert row["n"] > 0 and row["with_region"] == row["n"], (mart, row)  # every sandbox department
        assert 0 < row["in_qpv"] < row["n"], (mart, row)
        assert 0 < row["idf"] < row["n"], (mart, row)
