"""Metabase governance: archive stale cards, remove empty dashboards and collections, and record which
warehouse tables each card reads (`raw.metabase_archiving_log`, `raw.metabase_card_dependency`).

Contract (docs/reference source-systems.md and Metabase's public REST API docs): `POST /api/session`
{username, password} -> {id}, then header `X-Metabase-Session: <id>` on every call; in production an
identity-aware proxy (IAP) sits in front and wants `Authorization: Bearer <OIDC token>` for its client
id (`DATA_GCP_METABASE_IAP_CLIENT_ID`; the token comes from the job's service account). Reads: `GET
/api/card` (every card with `archived`, `collection_id`, `last_used_at`, `created_at`, `query_type`,
`dataset_query`, `table_id`), `GET /api/collection` (`location` "/1/4/" paths, `personal_owner_id`),
`GET /api/dashboard?f=all` then `GET /api/dashboard/{id}` (`dashcards`, whose `card_id` is null for
text cards), `GET /api/table` (id -> schema.name of GUI questions' `table_id`). Writes: `PUT
/api/card|dashboard|collection/{id}` with `{"archived": true}`: Metabase's own archive (its trash,
restorable), never a hard delete.

Assumptions where the reference is silent: "viewed" is the card's `last_used_at` (Metabase updates it
when the card runs, i.e. is viewed; a card never viewed counts from its creation); "remove" is
archive; dates are relative to the run's day (`--end`), not the wall clock. A session refused (401)
in the middle of a run logs in again once and repeats the call; a second refusal fails the run.

Never a mass action from a partial answer: an empty `GET /api/card` while collections or dashboards
exist fails the run (it would make every collection look empty), and a plan archiving more than
`MAX_ARCHIVE_SHARE` (half) of the live cards, dashboards or collections is refused
(`etl_core.guard_mass_action`) before anything is done. Card queries are read in MBQL 5 (`stages`,
Metabase >= 0.57), legacy MBQL or `legacy_query` (`lineage.card_source`); dashboards' cards in
`dashcards` or the older `ordered_cards`.

A write that fails after its retries stops the run: the actions already done are logged, the
dependency table is left as it was, and the run fails (`PartialRunError`); the re-run goes on from the
new state.

Safety: the run is a dry run unless `--no-dry-run`, or the environment is prod (`dry_run_default`):
a dry run reads, plans and lists every action (the log rows it would write), and changes nothing. The
plan is computed once from one read of the state (`planner.plan_actions`), so a real run does exactly
what the dry run listed; a second real run finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from data_gcp.config import Env, Settings
from data_gcp.etl_core import Batch, Column, Connector, RunContext, TableSpec, guard_mass_action
from data_gcp.http_client import HttpClient, RetryableResponse, SourceError, call_source, json_of
from data_gcp.log import get_logger, register_sensitive
from data_gcp.metabase.lineage import card_source, native_dependencies
from data_gcp.metabase.planner import Action, plan_actions
from data_gcp.metabase.rules import load_rules

log = get_logger(__name__)

# a plan archiving more than this share of the cards, dashboards or collections is refused
MAX_ARCHIVE_SHARE = 0.5

ARCHIVING_LOG = TableSpec(
    name="metabase_archiving_log",
    object="archiving",
    description="every governance action a real run performed (archived card, dashboard, collection)",
    columns=(
        Column("run_date", "date", nullable=False),
        Column("acted_at", "timestamp", nullable=False),
        Column("action", nullable=False),
        Column("object_type", nullable=False),
        Column("object_id", "int", nullable=False),
        Column("object_name"),
        Column("collection_id", "int"),
        Column("collection_name"),
        Column("last_viewed_at", "timestamp"),
        Column("reason"),
    ),
    write="upsert",
    primary_key=("run_date", "object_type", "object_id", "action"),
)

CARD_DEPENDENCY = TableSpec(
    name="metabase_card_dependency",
    object="dependencies",
    description="which warehouse tables (or other cards) each live card reads, as of the run",
    columns=(
        Column("snapshot_date", "date", nullable=False),
        Column("card_id", "int", nullable=False),
        Column("card_name"),
        Column("collection_id", "int"),
        Column("query_type", description="native (SQL) or query (GUI question)"),
        Column("dependency_type", description="table, card, or null when the SQL could not be parsed"),
        Column("project_name"),
        Column("schema_name"),
        Column("table_name"),
        Column("referenced_card_id", "int"),
        Column("parse_error"),
    ),
    write="replace",
)


class MetabaseApi:
    """Session handling on top of the shared client: log in, send the session, log in again once."""

    def __init__(self, http: HttpClient, username: str, password: str) -> None:
        self.http, self.username, self.password = http, username, password
        self.session: str | None = None
        self.logins = 0

    def login(self) -> None:
        answer = self.http.post_json("api/session", {"username": self.username, "password": self.password})
        token = answer.get("id") if isinstance(answer, dict) else None
        if not token:
            raise SourceError("metabase", "POST /api/session", "the answer has no session id")
        register_sensitive(str(token))
        self.session, self.logins = str(token), self.logins + 1

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        if self.session is None:
            self.login()
        for attempt in (1, 2):
            try:
                response = self.http.request(
                    method,
                    path,
                    params=params,
                    json_body=body,
                    headers={"X-Metabase-Session": self.session or ""},
                    check=_json,
                )
                return json_of(response)
            except SourceError as err:
                if err.status != 401 or attempt == 2:
                    raise
                log.warning("metabase: session refused on %s %s, logging in again (once)", method, path)
                self.login()
        raise AssertionError("unreachable")


def _json(response: Any) -> None:
    try:
        json_of(response)
    except ValueError as err:
        raise RetryableResponse(f"invalid JSON in the answer ({err})") from None


def _iap_token(audience: str, ctx: RunContext) -> str:
    """An OIDC token for the IAP client id, from the job's service account (google-auth); an auth
    library error is a SourceError naming metabase, retried when transient."""
    import google.auth.transport.requests
    from google.oauth2 import id_token

    token = call_source(
        "metabase",
        "fetch the IAP identity token",
        lambda: id_token.fetch_id_token(google.auth.transport.requests.Request(), audience),
        policy=ctx.policy,
        clock=ctx.clock,
    )
    register_sensitive(token)
    return token


def _items(answer: Any) -> list[dict[str, Any]]:
    """Metabase lists are either a JSON list or {"data": [...]} depending on the endpoint/version."""
    if isinstance(answer, dict) and isinstance(answer.get("data"), list):
        return answer["data"]
    if isinstance(answer, list):
        return answer
    raise ValueError("expected a list")


class MetabaseConnector(Connector):
    """Metabase governance (see the module docstring)."""

    name = "metabase"
    description = "Metabase governance: archive stale cards, remove empty dashboards/collections, lineage"
    schedule = "0 8 * * *"  # daily 08:00
    cloud_envs = ("prod",)  # production only
    default_base_url = "https://analytics.data.passculture.team"
    secrets = ("metabase-bot-password",)
    tables = (ARCHIVING_LOG, CARD_DEPENDENCY)
    settings_help = {
        "USERNAME": "Metabase bot user's login (DATA_GCP_METABASE_USERNAME)",
        "IAP_CLIENT_ID": "OAuth client id of the IAP in front of Metabase (prod; unset: no IAP)",
        "RULES": "path of the rules file (default: data_gcp/metabase/rules.toml)",
        "SQL_DIALECT": "sqlglot dialect of the native cards (default bigquery)",
        "MAX_ARCHIVE_SHARE": f"refuse a plan archiving more than this share of a kind (default {MAX_ARCHIVE_SHARE})",
    }

    @classmethod
    def dry_run_default(cls, settings: Settings) -> bool:
        return settings.env is not Env.prod

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        rules = load_rules(ctx.option("rules", "") or None)
        headers = {}
        iap = ctx.option("iap_client_id", "")
        if iap:
            headers["Authorization"] = f"Bearer {_iap_token(iap, ctx)}"
        with ctx.http(secret_headers=headers) as http:
            api = MetabaseApi(http, ctx.option("username"), ctx.secret("metabase-bot-password"))
            state = read_state(api)
            actions = plan_actions(
                state["cards"], state["dashboards"], state["collections"], rules, ctx.window.end
            )
            for kind, listed in (
                ("card", state["cards"]),
                ("dashboard", state["dashboards"]),
                ("collection", [c for c in state["collections"] if isinstance(c.get("id"), int)]),
            ):
                planned = sum(1 for a in actions if a.object_type == kind)
                population = sum(1 for o in listed if not o.get("archived"))
                share = float(ctx.option("max_archive_share", str(MAX_ARCHIVE_SHARE)))
                guard_mass_action(
                    "metabase", "archive", planned, population, max_share=share, what=f"{kind}s"
                )
            mode = "DRY RUN, would" if ctx.dry_run else "will"
            log.info(
                "metabase: %d card(s) read; %s perform %d action(s)", len(state["cards"]), mode, len(actions)
            )
            rows = []
            for act in actions:
                log.info(
                    "metabase: %s %s %d %r (collection %s): %s",
                    "would" if ctx.dry_run else "doing:",
                    act.action.replace("_", " "),
                    act.object_id,
                    act.object_name,
                    act.collection_name or act.collection_id or "root",
                    act.reason,
                )
                if not ctx.dry_run:
                    try:
                        api.call("PUT", f"api/{act.object_type}/{act.object_id}", {"archived": True})
                    except SourceError as err:
                        # what was done stays logged; the rest (and the lineage) waits for the re-run
                        ctx.fail_table(
                            CARD_DEPENDENCY.name,
                            f"stopped at {act.action} {act.object_id} after {len(rows)} of {len(actions)} "
                            f"action(s), not refreshed: {err}",
                        )
                        break
                rows.append(_log_row(act, ctx.window.end))
        if ctx.wants("archiving"):
            yield ARCHIVING_LOG.name, ARCHIVING_LOG.to_arrow(rows)
        if ctx.wants("dependencies"):
            archived = {a.object_id for a in actions if a.object_type == "card"}
            dialect = ctx.option("sql_dialect", "bigquery")
            deps = card_dependencies(state["cards"], state["tables"], archived, ctx.window.end, dialect)
            yield CARD_DEPENDENCY.name, CARD_DEPENDENCY.to_arrow(deps)


def read_state(api: MetabaseApi) -> dict[str, list[dict[str, Any]]]:
    """Cards, collections, dashboards (with their cards) and tables, as the API lists them."""
    try:
        cards = _items(api.call("GET", "api/card", params={"f": "all"}))
        collections = _items(api.call("GET", "api/collection"))
        dashboards = []
        for dash in _items(api.call("GET", "api/dashboard", params={"f": "all"})):
            if dash.get("archived"):
                continue
            dashboards.append(api.call("GET", f"api/dashboard/{dash['id']}"))
        tables = _items(api.call("GET", "api/table"))
    except ValueError as err:
        raise SourceError("metabase", "GET /api/...", f"unexpected answer shape: {err}") from None
    real = [c for c in collections if isinstance(c.get("id"), int) and c.get("personal_owner_id") is None]
    if not cards and (real or dashboards):
        raise SourceError(
            "metabase",
            "GET /api/card",
            f"no card at all while {len(real)} collection(s) and {len(dashboards)} dashboard(s) exist: "
            "an empty listing is not believed (it would make everything look unused); nothing was done",
        )
    return {"cards": cards, "collections": collections, "dashboards": dashboards, "tables": tables}


def _log_row(act: Action, run_date: dt.date) -> dict[str, Any]:
    return {
        "run_date": run_date,
        "acted_at": dt.datetime.now(dt.UTC),
        "action": act.action,
        "object_type": act.object_type,
        "object_id": act.object_id,
        "object_name": act.object_name,
        "collection_id": act.collection_id,
        "collection_name": act.collection_name,
        "last_viewed_at": act.last_viewed_at,
        "reason": act.reason,
    }


def card_dependencies(
    cards: list[dict[str, Any]],
    tables: list[dict[str, Any]],
    archived: set[int],
    day: dt.date,
    dialect: str = "bigquery",
) -> list[dict[str, Any]]:
    """One row per (live card, table or card it reads); a card whose SQL does not parse gets one row
    with `parse_error` (recorded, never a failed run: a card's SQL is its author's business)."""
    by_id = {t["id"]: t for t in tables if "id" in t}
    rows: list[dict[str, Any]] = []
    for card in sorted(cards, key=lambda c: c["id"]):
        if card.get("archived") or card["id"] in archived:
            continue
        base = {
            "snapshot_date": day,
            "card_id": card["id"],
            "card_name": card.get("name"),
            "collection_id": card.get("collection_id")
            if isinstance(card.get("collection_id"), int)
            else None,
        }
        kind, source = card_source(card)
        if kind == "unknown":
            rows.append(
                base | {"query_type": card.get("query_type"), "parse_error": "no query in a known format"}
            )
            continue
        if kind == "native":
            deps, error = native_dependencies(str(source or ""), dialect)
            base["query_type"] = "native"
            if error:
                rows.append(base | {"parse_error": error})
            for dep in deps:
                rows.append(
                    base
                    | {
                        "dependency_type": dep.kind,
                        "project_name": dep.project,
                        "schema_name": dep.schema_name,
                        "table_name": dep.table_name,
                        "referenced_card_id": dep.card_id,
                    }
                )
            continue
        base["query_type"] = "query"
        if isinstance(source, str) and source.startswith("card__"):
            rows.append(
                base | {"dependency_type": "card", "referenced_card_id": int(source.removeprefix("card__"))}
            )
        elif isinstance(source, int):
            table = by_id.get(source, {})
            rows.append(
                base
                | {
                    "dependency_type": "table",
                    "schema_name": table.get("schema"),
                    "table_name": table.get("name"),
                    "parse_error": None if table else f"unknown table id {source}",
                }
            )
    return rows


CONNECTOR = MetabaseConnector
