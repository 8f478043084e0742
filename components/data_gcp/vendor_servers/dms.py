"""Démarches Simplifiées API v2 (GraphQL): dossiers of a démarche, cursor pagination, updatedSince.

Not a GraphQL engine: it answers the `demarche { dossiers(...) }` query the connector sends, reading
its variables (`demarcheNumber`, `first`, `after`, `updatedSince`), the way the real API would.
Young users' dossiers are filed by sandbox users (e-mail), professionals' by sandbox offerers (SIRET).
"""

from __future__ import annotations

import base64
import datetime as dt
import random

from data_gcp.etl_core import utc_timestamp
from data_gcp.vendor_servers.data import SandboxData, user_email
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, json_error

LOCAL_TOKEN = "local-dms-token-0004"
PROCEDURES = {"young": (47380, 47480), "pro": (44675,)}
STATES = ("en_construction", "en_instruction", "accepte", "refuse", "sans_suite")
SPAN_DAYS = 100


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().split(":")[1])


def data_today(data: SandboxData) -> dt.date:
    """The day after the sandbox's last simulated day; without a sandbox, today (UTC).

    Why not the wall clock: every dossier date follows from it, so two starts on either side of
    midnight served shifted dossiers and a re-run of the same window upserted extra rows.
    """
    if data.last_day is not None:
        return data.last_day + dt.timedelta(days=1)
    return dt.datetime.now(dt.UTC).date()


def generate_dossiers(data: SandboxData, kind: str, procedure: int, n: int, first_day: dt.date) -> list[dict]:
    start = dt.datetime.combine(first_day, dt.time(8, 0), tzinfo=dt.UTC)
    rng = random.Random(f"{data.seed}-dms-{procedure}")
    out = []
    for i in range(n):
        deposit = start + dt.timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60))
        state = rng.choices(STATES, (0.2, 0.2, 0.45, 0.1, 0.05))[0]
        instruction = (
            deposit + dt.timedelta(hours=rng.randrange(1, 72)) if state != "en_construction" else None
        )
        processing = (
            instruction + dt.timedelta(hours=rng.randrange(1, 120))
            if instruction and state in ("accepte", "refuse", "sans_suite")
            else None
        )
        modified = max(d for d in (deposit, instruction, processing) if d)
        number = procedure * 100_000 + i + 1
        if kind == "young":
            uid = data.user_ids[rng.randrange(len(data.user_ids))] if data.user_ids else i + 1
            usager = {"email": user_email(uid)}
            demandeur = {"__typename": "PersonnePhysique", "civilite": rng.choice(["M", "Mme"])}
            champs = [
                {
                    "id": "Q2hhbXAtMQ==",
                    "label": "Département de résidence",
                    "stringValue": f"{rng.randrange(1, 96):02d}",
                },
                {
                    "id": "Q2hhbXAtMg==",
                    "label": "Statut",
                    "stringValue": rng.choice(["Lycéen", "Étudiant", "Apprenti"]),
                },
            ]
        else:
            siren = (
                data.offerer_sirens[rng.randrange(len(data.offerer_sirens))]
                if data.offerer_sirens
                else "123456789"
            )
            usager = {"email": f"pro{i}@sandbox.passculture.local"}
            # a legal entity the API could not fully resolve is `PersonneMoraleIncomplete`: SIRET only
            kind_name = "PersonneMoraleIncomplete" if i % 7 == 3 else "PersonneMorale"
            demandeur = {"__typename": kind_name, "siret": f"{siren}{rng.randrange(10_000, 99_999)}"}
            champs = [
                {
                    "id": "Q2hhbXAtMw==",
                    "label": "Type de structure",
                    "stringValue": rng.choice(["Association", "Entreprise", "Collectivité"]),
                },
                {
                    "id": "Q2hhbXAtNA==",
                    "label": "Lieu permanent",
                    "stringValue": rng.choice(["true", "false"]),
                },
            ]
        out.append(
            {
                "id": base64.b64encode(f"Dossier-{number}".encode()).decode(),
                "number": number,
                "state": state,
                "dateDepot": _iso(deposit),
                "datePassageEnInstruction": _iso(instruction),
                "dateTraitement": _iso(processing),
                "dateDerniereModification": _iso(modified),
                "instructeurs": [{"email": f"instructeur{rng.randrange(1, 6)}@passculture.local"}]
                if instruction
                else [],
                "usager": usager,
                "demandeur": demandeur,
                "champs": champs,
            }
        )
    out.sort(key=lambda d: (d["dateDerniereModification"], d["number"]))
    return out


def _selected(node: dict, query: str) -> dict:
    """What GraphQL returns: a `demandeur` fragment not in the query gives no field but `__typename`."""
    demandeur = node.get("demandeur") or {}
    kind = demandeur.get("__typename")
    if kind and kind != "PersonnePhysique" and f"on {kind} " not in query + " ":
        return {**node, "demandeur": {"__typename": kind}}
    return node


def build(
    data: SandboxData, dossiers_per_procedure: int = 400, first_day: dt.date | str | None = None, **_: object
) -> VendorApp:
    """Dossiers deposited over SPAN_DAYS days from `first_day` (default: 90 days before the data
    folder's today, so that the local daily run always finds recent changes; tests pass a fixed day)."""
    if isinstance(first_day, str):
        first_day = dt.date.fromisoformat(first_day)
    first_day = first_day or data_today(data) - dt.timedelta(days=90)
    dossiers = {
        number: generate_dossiers(
            data,
            kind,
            number,
            dossiers_per_procedure if kind == "young" else dossiers_per_procedure // 4,
            first_day,
        )
        for kind, numbers in PROCEDURES.items()
        for number in numbers
    }

    def auth(request: Request) -> Response | None:
        if request.header("authorization") != f"Bearer {LOCAL_TOKEN}":
            return json_error(401, "Without a token, only persisted queries are allowed")
        return None

    def graphql(request: Request) -> Response:
        body = request.json() or {}
        query = body.get("query") or ""
        variables = body.get("variables") or {}
        if "demarche(" not in query or "dossiers(" not in query:
            return Response(200, {"errors": [{"message": "unsupported query (local server)"}], "data": None})
        number = variables.get("demarcheNumber")
        if number not in dossiers:
            return Response(
                200,
                {
                    "data": {"demarche": None},
                    "errors": [
                        {
                            "message": "Demarche not found",
                            "path": ["demarche"],
                            "extensions": {"code": "not_found"},
                        }
                    ],
                },
            )
        first = min(int(variables.get("first") or 100), 100)
        rows = dossiers[number]
        since = variables.get("updatedSince")
        if since:
            since_dt = utc_timestamp(since)
            rows = [d for d in rows if utc_timestamp(d["dateDerniereModification"]) >= since_dt]
        start = _index(variables.get("after"))
        nodes = [_selected(node, query) for node in rows[start : start + first]]
        end = start + len(nodes)
        return Response(
            200,
            {
                "data": {
                    "demarche": {
                        "number": number,
                        "dossiers": {
                            "pageInfo": {
                                "hasNextPage": end < len(rows),
                                "endCursor": _cursor(end) if nodes else None,
                            },
                            "nodes": nodes,
                        },
                    }
                }
            },
        )

    return VendorApp(
        name="dms",
        base_path="/api/v2/graphql",
        routes=[("POST", "", graphql)],
        auth=auth,
        env={
            "DATA_GCP_DMS_BASE_URL": "{base_url}",
            "DMS_API_TOKEN": LOCAL_TOKEN,
            "DATA_GCP_DMS_PROCEDURES_YOUNG": ",".join(str(n) for n in PROCEDURES["young"]),
            "DATA_GCP_DMS_PROCEDURES_PRO": ",".join(str(n) for n in PROCEDURES["pro"]),
        },
    )
