"""Démarches Simplifiées connector.

Contract (reference `source-systems.md`): GraphQL `https://www.demarches-simplifiees.fr/api/v2/graphql`,
`Authorization: Bearer <token>`, cursor pagination (`pageInfo { hasNextPage endCursor }`, `after:`),
incremental with `updatedSince` (the window's start, 00:00 UTC; default yesterday).

Tables `dms_young` and `dms_pro` (one row per dossier, upserted on `dossier_id`: a dossier changed
again later replaces its row): id, number, state, deposit / instruction / processing / last change
timestamps, instructor e-mails (JSON list), procedure id, the procedure's own fields (`champs`) as JSON
{label: value}, the applicant (young: sha256 of the e-mail; pro: the SIRET, of a `PersonneMorale` or
of a `PersonneMoraleIncomplete`, whose SIRET is still present), `loaded_date`.

Settings: `DATA_GCP_DMS_PROCEDURES_YOUNG`, `DATA_GCP_DMS_PROCEDURES_PRO` (comma-separated démarche
numbers). Secret: `dms-api-token`. GraphQL `errors` in a 200 answer fail the run (never an empty
success); a page with no dossiers that still announces more is read again (bounded), then fails;
a cursor seen before (a cycle of any length) or a repeated page fails naming the démarche.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx

from data_gcp.etl_core import Batch, Column, Connector, RunContext, TableSpec, email_hash, utc_timestamp
from data_gcp.http_client import HttpClient, PageGuard, RetryableResponse, SourceError, json_of

PAGE_SIZE = 100
DOSSIERS_QUERY = """
query getDossiers($demarcheNumber: Int!, $first: Int, $after: String, $updatedSince: ISO8601DateTime) {
  demarche(number: $demarcheNumber) {
    number
    dossiers(first: $first, after: $after, updatedSince: $updatedSince, order: ASC) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id number state dateDepot datePassageEnInstruction dateTraitement dateDerniereModification
        instructeurs { email }
        usager { email }
        demandeur { __typename ... on PersonneMorale { siret } ... on PersonneMoraleIncomplete { siret } }
        champs { id label stringValue }
      }
    }
  }
}
""".strip()


def _columns() -> tuple[Column, ...]:
    return (
        Column("dossier_id", "string", "DMS global id", nullable=False),
        Column("dossier_number", "int", nullable=False),
        Column("procedure_id", "int", nullable=False),
        Column("state", "string", "en_construction, en_instruction, accepte, refuse, sans_suite"),
        Column("deposit_at", "timestamp"),
        Column("instruction_at", "timestamp"),
        Column("processing_at", "timestamp"),
        Column("last_modified_at", "timestamp"),
        Column("instructor_emails", "json"),
        Column("applicant_email_hash", "string", "sha256 of the applicant's e-mail (young)"),
        Column("applicant_siret", "string", "the applicant's SIRET (pro)"),
        Column("fields", "json", "the procedure's own fields {label: value}"),
        Column("loaded_date", "date", "the window's end of the run that wrote the row", nullable=False),
    )


YOUNG = TableSpec(
    name="dms_young",
    object="young",
    columns=_columns(),
    write="upsert",
    primary_key=("dossier_id",),
    description="dossiers of the young users' procedures",
)
PRO = TableSpec(
    name="dms_pro",
    object="pro",
    columns=_columns(),
    write="upsert",
    primary_key=("dossier_id",),
    description="dossiers of the professionals' procedures",
)


LEGAL_ENTITIES = ("PersonneMorale", "PersonneMoraleIncomplete")


def dossier_row(node: dict[str, Any], procedure: int, loaded: dt.date) -> dict[str, Any]:
    """One GraphQL dossier node -> one flat row."""
    email = (node.get("usager") or {}).get("email")
    demandeur = node.get("demandeur") or {}
    return {
        "dossier_id": node["id"],
        "dossier_number": int(node["number"]),
        "procedure_id": procedure,
        "state": node.get("state"),
        "deposit_at": utc_timestamp(node.get("dateDepot")),
        "instruction_at": utc_timestamp(node.get("datePassageEnInstruction")),
        "processing_at": utc_timestamp(node.get("dateTraitement")),
        "last_modified_at": utc_timestamp(node.get("dateDerniereModification")),
        "instructor_emails": json.dumps(sorted(i["email"] for i in node.get("instructeurs") or [])),
        "applicant_email_hash": email_hash(email)
        if demandeur.get("__typename") not in LEGAL_ENTITIES
        else None,
        "applicant_siret": demandeur.get("siret"),
        "fields": json.dumps(
            {c.get("label"): c.get("stringValue") for c in node.get("champs") or []},
            ensure_ascii=False,
            sort_keys=True,
        ),
        "loaded_date": loaded,
    }


def _check_page(after: str | None):
    """A page with no dossiers is only valid as the first and only page (and then has no cursor).

    An empty page announcing more, carrying a cursor, or reached through a cursor (the previous page
    said there was more) is a vendor hiccup: retried like a 5xx, never taken as the end.
    """

    def check(response: httpx.Response) -> None:
        try:
            body = json_of(response)
        except ValueError:
            raise RetryableResponse("invalid JSON in the answer") from None
        if body.get("errors"):
            return  # reported by the caller, not retried
        dossiers = (((body.get("data") or {}).get("demarche") or {}).get("dossiers")) or {}
        info = dossiers.get("pageInfo") or {}
        if not dossiers.get("nodes") and (info.get("hasNextPage") or info.get("endCursor") or after):
            raise RetryableResponse("a page with no dossiers where more were announced")

    return check


class DmsConnector(Connector):
    name = "dms"
    description = "Démarches Simplifiées dossiers of the young users' and professionals' procedures"
    schedule = "0 2 * * *"
    default_base_url = "https://www.demarches-simplifiees.fr/api/v2/graphql"
    secrets = ("dms-api-token",)
    tables = (YOUNG, PRO)
    settings_help = {
        "PROCEDURES_YOUNG": "comma-separated démarche numbers of the young users' procedures",
        "PROCEDURES_PRO": "comma-separated démarche numbers of the professionals' procedures",
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        token = ctx.secret("dms-api-token")
        since = ctx.window.start_datetime.isoformat()
        with ctx.http(secret_headers={"Authorization": f"Bearer {token}"}) as http:
            for spec in (YOUNG, PRO):
                if not ctx.wants(spec.object):
                    continue
                procedures = _numbers(ctx.option(f"procedures_{spec.object}"), spec.object)
                rows = []
                for procedure in procedures:
                    rows.extend(
                        dossier_row(node, procedure, ctx.window.end)
                        for node in self.dossiers(http, ctx.base_url, procedure, since)
                    )
                yield spec.name, spec.to_arrow(rows)

    def dossiers(self, http: HttpClient, url: str, procedure: int, since: str) -> Iterator[dict[str, Any]]:
        after: str | None = None
        endpoint = f"POST {httpx.URL(url).path} (démarche {procedure})"
        guard = PageGuard("dms", endpoint)
        while True:
            variables = {
                "demarcheNumber": procedure,
                "first": PAGE_SIZE,
                "after": after,
                "updatedSince": since,
            }
            response = http.request(
                "POST",
                url,
                json_body={"query": DOSSIERS_QUERY, "variables": variables},
                check=_check_page(after),
            )
            body = json_of(response)
            if body.get("errors"):
                messages = "; ".join(str(e.get("message")) for e in body["errors"])[:300]
                raise SourceError(
                    "dms",
                    f"POST {httpx.URL(url).path}",
                    f"GraphQL error for démarche {procedure}: {messages}",
                )
            dossiers = body["data"]["demarche"]["dossiers"]
            nodes = dossiers.get("nodes") or []
            guard.page(nodes, f"after={after}")
            yield from nodes
            info = dossiers.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            if not info.get("endCursor"):
                raise SourceError("dms", endpoint, "more dossiers announced but no cursor to read them")
            guard.cursor(info["endCursor"])  # seen before: the listing cycles (any length)
            after = info["endCursor"]


def _numbers(value: str, what: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise SourceError(
            "dms", "config", f"DATA_GCP_DMS_PROCEDURES_{what.upper()} must be numbers"
        ) from None


CONNECTOR = DmsConnector
