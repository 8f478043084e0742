"""Metabase governance against a fake Metabase: dry run == real run, idempotence, sessions, faults."""

from __future__ import annotations

import datetime as dt

import pytest

from data_gcp.config import ConfigError, Settings
from data_gcp.http_client import SourceError
from data_gcp.metabase import MetabaseConnector, load_rules, native_dependencies
from data_gcp.vendor_servers.metabase import LOCAL_PASSWORD

DAY = "2026-11-30"  # the fake's "today" without a sandbox
KEYS = [
    "run_date",
    "action",
    "object_type",
    "object_id",
    "object_name",
    "collection_id",
    "last_viewed_at",
    "reason",
]


HARNESS = {"system": "metabase"}  # the shared `connector_server` / `vendor` fixtures (test/conftest.py)


@pytest.fixture
def metabase(vendor):
    server = vendor.server
    server.app.state["reset"](server.app.state["original"]())
    return vendor


def _puts(h) -> list[str]:
    return [r.path for r in h.server.requests if r.method == "PUT"]


def _plan(table) -> list[tuple]:
    return [tuple(r[k] for k in KEYS) for r in table.select(KEYS).to_pylist()]


def test_dry_run_lists_exactly_what_the_real_run_does_and_changes_nothing(metabase):
    dry = metabase.extract(DAY, DAY, dry_run=True)["metabase_archiving_log"]
    assert dry.num_rows > 0 and _puts(metabase) == []  # nothing changed at the source
    result = metabase.run(DAY, DAY, dry_run=False)
    assert not result.dry_run
    logged = metabase.table("metabase_archiving_log", order_by="action,object_type,object_id")
    assert sorted(_plan(logged)) == sorted(_plan(dry))
    expected_puts = sorted(
        f"/api/{t}/{i}"
        for t, i in zip(dry["object_type"].to_pylist(), dry["object_id"].to_pylist(), strict=True)
    )
    assert sorted(_puts(metabase)) == expected_puts
    state = metabase.server.app.state
    archived_cards = {c["id"] for c in state["cards"] if c["archived"]}
    assert archived_cards == {r[3] for r in _plan(dry) if r[2] == "card"}


def test_rules_protect_collections_personal_work_and_young_objects(metabase):
    plan = {
        (r["object_type"], r["object_id"])
        for r in metabase.extract(DAY, DAY, dry_run=True)["metabase_archiving_log"].to_pylist()
    }
    assert ("card", 1) not in plan  # stale, but in a sub-collection of the protected "Officiel"
    assert ("card", 8) not in plan  # personal collection
    assert ("card", 10) not in plan  # never viewed but created 10 days ago
    assert ("card", 9) in plan  # never viewed, created long ago
    assert {("card", i) for i in (5, 6, 7, 12)} <= plan  # stale cards
    assert {("dashboard", 2), ("dashboard", 3)} <= plan  # emptied, empty
    assert ("dashboard", 4) not in plan  # text cards only: a page its author keeps, never dead
    assert ("dashboard", 5) not in plan and ("dashboard", 6) not in plan  # too young; still has a live card
    # a chain of collections emptied from the deepest; protected, personal, young, non-empty ones stay
    assert {("collection", i) for i in (4, 5, 9, 10)} <= plan
    assert not {("collection", i) for i in (1, 2, 3, 6, 7, 8)} & plan


def test_a_second_real_run_does_nothing_more(metabase):
    metabase.run(DAY, DAY, dry_run=False)
    first = metabase.table("metabase_archiving_log", order_by="action,object_type,object_id")
    deps = metabase.table(
        "metabase_card_dependency", order_by="card_id,dependency_type,schema_name,table_name"
    )
    metabase.server.requests.clear()
    metabase.run(DAY, DAY, dry_run=False)
    assert _puts(metabase) == []
    assert metabase.table("metabase_archiving_log", order_by="action,object_type,object_id").equals(first)
    assert metabase.table(
        "metabase_card_dependency", order_by="card_id,dependency_type,schema_name,table_name"
    ).equals(deps)
    assert metabase.extract(DAY, DAY, dry_run=True)["metabase_archiving_log"].num_rows == 0


def test_dry_run_is_the_default_outside_prod():
    assert MetabaseConnector.dry_run_default(Settings(env="local")) is True
    assert MetabaseConnector.dry_run_default(Settings(env="stg", project_id="p")) is True
    assert MetabaseConnector.dry_run_default(Settings(env="prod", project_id="p")) is False


def test_default_run_locally_is_a_dry_run_that_writes_nothing(metabase):
    result = metabase.run(DAY, DAY)
    assert result.dry_run and result.rows["metabase_archiving_log"] > 0
    assert _puts(metabase) == [] and metabase.table("metabase_archiving_log") is None


def test_card_dependencies_from_sql_and_gui_questions(metabase):
    deps = metabase.extract(DAY, DAY, dry_run=True)["metabase_card_dependency"].to_pylist()
    by_card: dict[int, set] = {}
    for r in deps:
        by_card.setdefault(r["card_id"], set()).add(
            (r["dependency_type"], r["schema_name"], r["table_name"], r["referenced_card_id"])
        )
    # CTE + backticked project.dataset.table + an alias: two tables, the CTE is not one
    assert by_card[2] == {
        ("table", "analytics_prod", "mrt_global__booking", None),
        ("table", "analytics_prod", "mrt_global__user", None),
    }
    assert by_card[3] == {("table", "analytics", "mrt_global__booking", None)}  # GUI question: its table
    assert by_card[4] == {("card", None, None, 3)}  # {{#3-...}} reference
    assert by_card[13] == {("card", None, None, 3)}  # GUI question on a saved question
    broken = [r for r in deps if r["card_id"] == 11]
    assert len(broken) == 1 and broken[0]["parse_error"]
    assert 5 not in by_card  # archived by this run: no longer a live dependency


def test_session_expiring_mid_run_logs_in_again_once(metabase, caplog):
    state = metabase.server.app.state
    state["expire_sessions_after"] = 20  # the session expires in the middle of the archiving
    with caplog.at_level("INFO"):
        metabase.run(DAY, DAY, dry_run=False)
    assert state["logins"] == 2
    assert metabase.table("metabase_archiving_log").num_rows > 0
    assert LOCAL_PASSWORD not in caplog.text
    assert not any(token in caplog.text for token in state["sessions"])


def test_a_session_refused_twice_fails_cleanly_and_writes_nothing(metabase):
    metabase.server.faults.add("status", r"/api/dashboard/\d+", status=401, times=-1)
    with pytest.raises(SourceError, match=r"metabase: GET /api/dashboard/1 failed \(HTTP 401\)") as info:
        metabase.run(DAY, DAY, dry_run=False)
    assert metabase.server.app.state["logins"] == 2
    assert LOCAL_PASSWORD not in str(info.value)
    assert _puts(metabase) == [] and metabase.table("metabase_archiving_log") is None


def test_wrong_password_fails_on_login(metabase, monkeypatch):
    monkeypatch.setenv("METABASE_BOT_PASSWORD", "wrong-password-123")
    server_env = dict(metabase.server.env, METABASE_BOT_PASSWORD="wrong-password-123")
    monkeypatch.setattr(type(metabase.server), "env", property(lambda self: server_env))
    with pytest.raises(SourceError, match=r"POST /api/session failed \(HTTP 401\)") as info:
        metabase.extract(DAY, DAY, dry_run=True)
    assert "wrong-password-123" not in str(info.value)


def test_transient_faults_are_retried(metabase):
    metabase.server.faults.add("status", r"/api/card", status=503, times=2)
    metabase.server.faults.add("truncate", r"/api/collection")
    metabase.server.faults.add("status", r"/api/table", status=429, retry_after=3)
    tables = metabase.extract(DAY, DAY, dry_run=True)
    assert tables["metabase_archiving_log"].num_rows > 0 and 3 in metabase.clock.sleeps


def test_iap_token_is_sent_when_configured(metabase, monkeypatch):
    from google.oauth2 import id_token

    metabase.server.app.state["iap_token"] = "iap-oidc-token-xyz"
    with pytest.raises(SourceError, match=r"HTTP 401"):  # no IAP token: the proxy refuses
        metabase.extract(DAY, DAY, dry_run=True)
    audiences = []
    monkeypatch.setattr(
        id_token,
        "fetch_id_token",
        lambda request, audience: audiences.append(audience) or "iap-oidc-token-xyz",
    )
    tables = metabase.extract(
        DAY, DAY, dry_run=True, options={"iap_client_id": "123-abc.apps.googleusercontent.com"}
    )
    assert tables["metabase_archiving_log"].num_rows > 0 and audiences == [
        "123-abc.apps.googleusercontent.com"
    ]
    # no service account to sign with: a SourceError naming metabase, not google-auth's own error
    from google.auth.exceptions import DefaultCredentialsError

    def no_credentials(request, audience):
        raise DefaultCredentialsError(
            "Neither metadata server or valid service account credentials are found."
        )

    monkeypatch.setattr(id_token, "fetch_id_token", no_credentials)
    with pytest.raises(
        SourceError, match=r"^metabase: fetch the IAP identity token failed: DefaultCredentialsError"
    ):
        metabase.extract(
            DAY, DAY, dry_run=True, options={"iap_client_id": "123-abc.apps.googleusercontent.com"}
        )


def test_native_sql_lineage_handles_metabase_templates():
    sql = (
        "with x as (select * from analytics.a where d >= {{start}} [[and c = {{cat}}]])\n"
        "select * from x join `proj.raw.b` using (id) join {{#42-model}} m on true {{snippet: filtre}}"
    )
    deps, error = native_dependencies(sql)
    assert error is None
    assert {(d.kind, d.project, d.schema_name, d.table_name, d.card_id) for d in deps} == {
        ("card", None, None, None, 42),
        ("table", None, "analytics", "a", None),
        ("table", "proj", "raw", "b", None),
    }


def test_rules_file_is_validated(tmp_path):
    good = tmp_path / "rules.toml"
    good.write_text('[archive_cards]\nnot_viewed_days = 30\nprotected_collections = ["7"]\n')
    rules = load_rules(good)
    assert rules.not_viewed_days == 30 and rules.protected_collections == ("7",)
    bad = tmp_path / "bad.toml"
    bad.write_text("[archive_cards]\nnot_viewd_days = 30\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_rules(bad)
    assert load_rules().not_viewed_days == 90  # the shipped file


def test_protected_collection_by_id_from_a_rules_file(metabase, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[archive_cards]\nnot_viewed_days = 90\nprotected_collections = ["4"]\n')
    plan = metabase.extract(DAY, DAY, dry_run=True, options={"rules": str(rules)})[
        "metabase_archiving_log"
    ].to_pylist()
    assert not {r["object_id"] for r in plan if r["object_type"] == "card"} & {5, 6, 7}
    assert dt.date.fromisoformat(DAY) == plan[0]["run_date"]


def test_a_write_failing_mid_run_logs_what_was_done_and_the_rerun_finishes(metabase):
    from data_gcp.etl_core import PartialRunError

    metabase.server.faults.add(
        "status", r"/api/dashboard/3$", status=500, skip=1, times=-1
    )  # GET ok, PUT fails
    with pytest.raises(PartialRunError, match="stopped at archive_dashboard 3"):
        metabase.run(DAY, DAY, dry_run=False)
    state = metabase.server.app.state
    logged = {
        (r["object_type"], r["object_id"]) for r in metabase.table("metabase_archiving_log").to_pylist()
    }
    done = {("card", c["id"]) for c in state["cards"] if c["archived"]}
    done |= {("dashboard", d["id"]) for d in state["dashboards"] if d["archived"]}
    assert logged == done and ("dashboard", 3) not in logged
    assert metabase.table("metabase_card_dependency") is None
    metabase.server.faults.clear()
    metabase.run(DAY, DAY, dry_run=False)
    final = {(r["object_type"], r["object_id"]) for r in metabase.table("metabase_archiving_log").to_pylist()}
    assert ("dashboard", 3) in final and logged < final


def _dependencies(h) -> list[tuple]:
    deps = h.extract(DAY, DAY, dry_run=True)["metabase_card_dependency"].to_pylist()
    return sorted((r["card_id"], r["dependency_type"], r["schema_name"], r["table_name"], r["referenced_card_id"],
                   r["query_type"], bool(r["parse_error"])) for r in deps)  # fmt: skip


def test_mbql5_cards_of_metabase_057_give_the_same_lineage(metabase):
    legacy = _dependencies(metabase)
    metabase.server.app.state["version"] = "current"
    mbql5 = _dependencies(metabase)
    assert mbql5 == legacy and len({r[0] for r in mbql5}) > 20
    assert all(r[5] in ("native", "query") for r in mbql5)


def test_card_source_reads_every_query_format():
    from data_gcp.metabase.lineage import card_source

    native5 = {
        "dataset_query": {
            "lib/type": "mbql/query",
            "stages": [{"lib/type": "mbql.stage/native", "native": "select 1"}],
        }
    }
    gui5 = {"dataset_query": {"stages": [{"lib/type": "mbql.stage/mbql", "source-table": 7}]}}
    card5 = {"dataset_query": {"stages": [{"lib/type": "mbql.stage/mbql", "source-card": 3}]}}
    legacy = {"dataset_query": {"type": "native", "native": {"query": "select 2"}}}
    only_legacy = {
        "dataset_query": {"stages": []},
        "legacy_query": {"type": "query", "query": {"source-table": 9}},
    }
    assert card_source(native5) == ("native", "select 1") and card_source(gui5) == ("query", 7)
    assert card_source(card5) == ("query", "card__3") and card_source(legacy) == ("native", "select 2")
    assert card_source(only_legacy) == ("query", 9) and card_source({}) == ("unknown", None)


def test_older_metabase_ordered_cards_give_the_same_plan(metabase):
    current = sorted(_plan(metabase.extract(DAY, DAY, dry_run=True)["metabase_archiving_log"]))
    metabase.server.app.state["version"] = "0.46"
    older = sorted(_plan(metabase.extract(DAY, DAY, dry_run=True)["metabase_archiving_log"]))
    assert older == current
    assert sum(1 for r in older if r[2] == "dashboard") == 2


def test_an_empty_card_listing_archives_nothing(metabase):
    metabase.server.faults.add("transform", r"/api/card/?$", times=-1, transform=lambda body: [])
    with pytest.raises(
        SourceError, match=r"metabase: GET /api/card failed: no card at all while \d+ collection"
    ):
        metabase.run(DAY, DAY, dry_run=False)
    assert _puts(metabase) == [] and metabase.table("metabase_card_dependency") is None


def test_a_plan_archiving_most_cards_is_refused(metabase):
    from data_gcp.etl_core import MassActionError

    views = metabase.server.app.state["views"]
    for card_id in views:
        views[card_id] = "2024-01-01"  # every card looks unviewed for two years (a broken view log)
    with pytest.raises(MassActionError, match=r"refusing to archive \d+ of \d+ cards"):
        metabase.run(DAY, DAY, dry_run=False)
    assert _puts(metabase) == []
