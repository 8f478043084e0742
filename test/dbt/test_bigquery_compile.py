"""The BigQuery targets, proven as far as this machine allows: `dbt compile --target prod` with dummy
credentials (no query is sent), then every compiled model must parse as BigQuery SQL."""

from __future__ import annotations

import json
import re

import pytest
import sqlglot
from sqlglot import exp

from data_gcp.config import reset_settings

pytestmark = pytest.mark.slow


# GoogleSQL functions the models may call. sqlglot parses many DuckDB functions in BigQuery mode too
# (isodow, median, strftime...), so parsing alone would not catch one leaking into a BigQuery model:
# every function call must also be one BigQuery has. Add a name here only after checking BigQuery's docs.
BIGQUERY_FUNCTIONS = set(
    """abs acos any_value approx_count_distinct approx_quantiles array array_agg array_length avg bit_count
    case cast ceil ceiling coalesce concat count countif current_date current_datetime current_timestamp
    date date_add date_diff date_sub date_trunc datetime datetime_add datetime_diff datetime_sub
    datetime_trunc ends_with exists exp extract farm_fingerprint first_value floor format format_date
    format_timestamp generate_date_array greatest if ifnull instr json_extract_scalar json_query json_value lag
    last_day last_value lead least length ln log log10 logical_and logical_or lower lpad ltrim max md5 min
    mod nullif ntile parse_date parse_timestamp percentile_cont pow power rank dense_rank regexp_contains
    regexp_extract regexp_replace replace round row_number rpad rtrim safe_cast safe_divide sha256 sign
    split sqrt st_distance st_geogpoint starts_with stddev string string_agg struct substr substring sum
    timestamp timestamp_add timestamp_diff timestamp_sub timestamp_trunc to_json_string trim trunc unnest
    upper variance asin cos sin""".split()
)
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def non_bigquery_functions(sql: str) -> set[str]:
    """Function calls in `sql` (parsed as BigQuery) that BigQuery does not have."""
    tree = sqlglot.parse_one(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    called = set()
    for node in tree.find_all(exp.Func):
        match = _CALL.match(node.sql(dialect="bigquery"))
        if match:
            called.add(match.group(1).lower())
    return called - BIGQUERY_FUNCTIONS


def test_function_check_catches_duckdb_only_sql() -> None:
    assert non_bigquery_functions("select isodow(ts), median(x) from t") == {"isodow", "median"}
    assert non_bigquery_functions("select json_extract_string(j, '$.a') from t") == {"json_extract_string"}
    assert non_bigquery_functions("select extract(dayofweek from ts), json_value(j, '$.a') from t") == set()


@pytest.fixture(scope="module")
def prod_compile(tmp_path_factory: pytest.TempPathFactory):
    from data_gcp import dbt_runner

    target_path = tmp_path_factory.mktemp("dbt_prod_target")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATA_GCP_ENV", "prod")
        mp.setenv("DATA_GCP_PROJECT_ID", "dummy-project")
        mp.setenv("DATA_GCP_DATA_DIR", str(tmp_path_factory.mktemp("dbt_prod_data")))
        reset_settings()
        # a dummy access token: credentials exist, nothing is sent (no introspection, no cache)
        result = dbt_runner.compile_offline(target="prod", target_path=target_path, check=False)
    reset_settings()
    return result, target_path


def test_prod_compiles_and_every_node_parses_as_bigquery(prod_compile) -> None:
    """Every node dbt runs on BigQuery: models, snapshots and data tests (generic and singular)."""
    result, target_path = prod_compile
    assert result.success, result.exception or result.failed
    manifest = json.loads((target_path / "manifest.json").read_text())
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "snapshot", "test")]
    kinds = {kind: sum(n["resource_type"] == kind for n in nodes) for kind in ("model", "snapshot", "test")}
    assert kinds["model"] >= 80 and kinds["snapshot"] >= 4 and kinds["test"] >= 300, kinds
    problems = {}
    for node in nodes:
        sql = node.get("compiled_code")
        if not sql:
            problems[node["unique_id"]] = "not compiled"
            continue
        try:
            unknown = non_bigquery_functions(sql)
        except sqlglot.errors.ParseError as err:
            problems[node["unique_id"]] = str(err)[:300]
            continue
        if unknown:
            problems[node["unique_id"]] = f"not BigQuery functions: {sorted(unknown)}"
        elif "::" in sql:
            problems[node["unique_id"]] = "'::' cast (not BigQuery syntax)"
    assert not problems, problems


def test_prod_layout_datasets_partitions_and_contracts(prod_compile) -> None:
    _, target_path = prod_compile
    nodes = json.loads((target_path / "manifest.json").read_text())["nodes"]
    ml = nodes["model.data_gcp.ml_reco__recommendable_item"]
    assert (ml["database"], ml["schema"]) == ("dummy-project", "ml_prod")
    assert ml["columns"]["price"]["data_type"] == "float64"
    # audited models are built into audit_<dataset>, then published to <dataset> (audit_publish.sql)
    assert nodes["model.data_gcp.mrt_global__user"]["schema"] == "audit_analytics_prod"
    assert nodes["model.data_gcp.int_applicative__offer"]["schema"] == "audit_int_applicative_prod"
    assert nodes["model.data_gcp.int_firebase__event"]["schema"] == "int_firebase_prod"
    assert nodes["snapshot.data_gcp.snapshot__booking"]["schema"] == "snapshot_prod"
    event = nodes["model.data_gcp.int_firebase__event"]["config"]
    assert event["partition_by"] == {"field": "event_date", "data_type": "date", "granularity": "day"}
    assert event["cluster_by"] == ["event_name", "user_id"]
    compiled = (target_path / "compiled/data_gcp/models/ml/reco/ml_reco__ranking_training.sql").read_text()
    assert "`dummy-project`.`audit_int_applicative_prod`.`int_applicative__reco_display`" in compiled
    assert "timestamp_add(" in compiled


def _type_check(manifest: dict):
    from data_gcp.sql_typecheck import check_manifest, source_columns
    from data_gcp.table_catalog import declared_tables

    return check_manifest(manifest, source_columns(manifest, declared_tables()))


def test_prod_sql_meets_bigquerys_type_rules(prod_compile) -> None:
    """Every model, snapshot and test, typed from the declared tables: no comparison, join, IN,
    COALESCE, CASE, UNION or function argument BigQuery would refuse ("No matching signature")."""
    _, target_path = prod_compile
    manifest = json.loads((target_path / "manifest.json").read_text())
    report = _type_check(manifest)
    assert not report.unparsed, report.unparsed
    assert not report.problems, [str(p) for p in report.problems]
    assert report.checked >= 500
    # ids are strings across the project, whatever type their producer writes
    user = report.schemas["dummy-project.audit_analytics_prod.mrt_global__user"]
    assert user["user_id"] == "STRING"
    assert (
        report.schemas["dummy-project.int_addresses_prod.int_addresses__user_location"]["user_id"] == "STRING"
    )


def test_type_check_catches_a_planted_string_int64_join(prod_compile) -> None:
    """The addresses' user id left as its producer's INT64: the joins to it (mrt_global__user, the IRIS
    mart's residents, the ministry's user address file and its relationship test) fail."""
    _, target_path = prod_compile
    manifest = json.loads((target_path / "manifest.json").read_text())
    node = manifest["nodes"]["model.data_gcp.int_addresses__user_location"]
    planted = re.sub(r"cast\(user_id as string\) as user_id", "user_id", node["compiled_code"], flags=re.I)
    assert planted != node["compiled_code"]
    node["compiled_code"] = planted
    problems = {(p.node, p.message.split(",")[0]) for p in _type_check(manifest).problems}
    assert problems == {
        ("model.data_gcp.mrt_global__user", "compares STRING with INT64"),
        ("model.data_gcp.mrt_global__iris_socio_demographics", "compares INT64 with STRING"),
        ("model.data_gcp.int_addresses__user_location", "user_id is INT64 here"),
        ("model.data_gcp.export__user_address", "user_id is INT64 here"),
        ("model.data_gcp.export__user_address", "compares INT64 with STRING"),
        (
            "test.data_gcp.relationships_export__user_address_user_id__user_id__ref_export__user_.7924383eae",
            "compares INT64 with STRING",
        ),
    }


def test_type_check_catches_an_id_typed_two_ways(prod_compile) -> None:
    """Adage's partner id left as its producer's INT64 while the app's is a STRING: no join refuses
    it yet, the first one to bring them together would."""
    _, target_path = prod_compile
    manifest = json.loads((target_path / "manifest.json").read_text())
    node = manifest["nodes"]["model.data_gcp.int_adage__venue_partner"]
    planted = re.sub(
        r"cast\(partner_id as string\) as partner_id", "partner_id", node["compiled_code"], flags=re.I
    )
    assert planted != node["compiled_code"]
    node["compiled_code"] = planted
    problems = _type_check(manifest).problems
    assert [(p.node, p.message.split(",")[0]) for p in problems] == [
        ("model.data_gcp.int_adage__venue_partner", "partner_id is INT64 here")
    ]


def test_type_check_holds_the_sql_to_its_contract(prod_compile) -> None:
    """An ML table's contract says one type, its SQL yields another: dbt's check on BigQuery would
    fail the build; the type check says so offline."""
    _, target_path = prod_compile
    manifest = json.loads((target_path / "manifest.json").read_text())
    node = manifest["nodes"]["model.data_gcp.ml_reco__recommendable_item"]
    assert node["contract"]["enforced"]
    node["columns"]["price"]["data_type"] = "string"
    problems = [(p.node, p.message) for p in _type_check(manifest).problems]
    assert (
        "model.data_gcp.ml_reco__recommendable_item",
        "contract declares price STRING, the SQL yields FLOAT64",
    ) in problems
