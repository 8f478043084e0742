"""INSEE Sirene connector: company data for the offerers' SIREN numbers.

Contract (reference `source-systems.md`): `GET https://api.insee.fr/api-sirene/3.11/siren?q=siren:A OR
siren:B ...`, header `X-INSEE-Api-Key-Integration`; 100 SIRENs per query; about 30 calls a minute
(a shared `RateLimiter`, evenly spaced, no burst); the SIRENs are the offerers'
(`raw.applicative_database_offerer.offerer_siren`) not refreshed in the last 7 days
(`raw.siren_data.refreshed_at`), at most 5000 a run, the never-fetched and the oldest first.

Assumptions where the reference is silent (INSEE's public documentation of API Sirene 3.11):
- the answer is `{"header": {"statut", "message", "total", "debut", "nombre"}, "unitesLegales": [...]}`;
  a unit's stable fields (`siren`, `dateCreationUniteLegale`, `trancheEffectifsUniteLegale`,
  `categorieEntreprise`, `prenomUsuelUniteLegale`, ...) sit on the unit, its dated fields in
  `periodesUniteLegale[]`, the current period (`dateFin` null) first;
- legal name = the period's `denominationUniteLegale`, else `first-name last-name` of a sole trader
  (`prenomUsuelUniteLegale`/`prenom1UniteLegale` + `nomUsageUniteLegale`/`nomUniteLegale`);
  legal category = `categorieJuridiqueUniteLegale`; NAF code = `activitePrincipaleUniteLegale`;
  a unit whose current period has `etatAdministratifUniteLegale` = `C` closed on that period's
  `dateDebut`; employee band = `trancheEffectifsUniteLegale`;
- non-diffusible units show `[ND]` in protected fields: stored as null;
- a search matching no SIREN answers 404 with `header.message` "Aucun élément trouvé ...": the batch's
  SIRENs are then recorded with `found_in_sirene = false` (so they are not asked again for 7 days).
  Any other 404 (a wrong base URL) fails the run at once, never retried.
- "not found" never erases what Sirene told us before: a SIREN missing from an answer (404 "no
  result", or absent from a 200) that has a row found earlier keeps that row's data, with
  `not_found_at` set to when Sirene stopped finding it (a flag for review; it clears when Sirene
  finds it again). Only a SIREN never found is written with `found_in_sirene = false`.
- offerer SIRENs are validated, never reshaped beyond restoring the leading zeros an integer column
  lost: a value longer than 9 digits is skipped with a warning, never truncated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx

from data_gcp.etl_core import Batch, Column, Connector, RunContext, TableSpec
from data_gcp.http_client import HttpClient, RateLimiter, RetryableResponse, SourceError, endpoint_of, json_of
from data_gcp.log import get_logger
from data_gcp.warehouse import Warehouse, get_warehouse

log = get_logger(__name__)

SIREN_RE = re.compile(r"^\d{9}$")
NOT_DIFFUSIBLE = "[ND]"
OFFERER_TABLE = "raw.applicative_database_offerer"
SIREN_TABLE = "raw.siren_data"

SIREN_DATA = TableSpec(
    name="siren_data",
    object="siren_data",
    description="Sirene legal-unit data of the offerers' SIRENs, one row per SIREN (last refresh)",
    columns=(
        Column("siren", "string", "9-digit SIREN", nullable=False),
        Column("found_in_sirene", "bool", "false when Sirene does not know the SIREN", nullable=False),
        Column("legal_name", "string", "denomination, or first and last name of a sole trader"),
        Column(
            "legal_category_code", "string", "categorieJuridiqueUniteLegale (e.g. 5710 SAS, 9220 association)"
        ),
        Column("naf_code", "string", "activitePrincipaleUniteLegale (e.g. 47.61Z)"),
        Column("naf_nomenclature", "string", "nomenclature of the NAF code (NAFRev2, ...)"),
        Column("administrative_status", "string", "A active, C ceased"),
        Column("creation_date", "date"),
        Column("closing_date", "date", "start of the ceased period, when status is C"),
        Column("employee_band", "string", "trancheEffectifsUniteLegale (INSEE code, NN = none)"),
        Column("company_category", "string", "PME, ETI, GE"),
        Column("refreshed_at", "timestamp", "when this row was fetched from Sirene", nullable=False),
        Column(
            "not_found_at",
            "timestamp",
            "when Sirene stopped finding a SIREN it had found before (the row keeps the last good data)",
        ),
    ),
    write="upsert",
    primary_key=("siren",),
)


# --- parsing (pure) ---------------------------------------------------------------------------
def _clean(value: Any) -> Any:
    return None if value in (None, "", NOT_DIFFUSIBLE) else value


def _date(value: Any) -> dt.date | None:
    value = _clean(value)
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def current_period(unit: dict[str, Any]) -> dict[str, Any]:
    """The open period (`dateFin` null), else the newest; `{}` when the unit has none."""
    periods = unit.get("periodesUniteLegale") or []
    for period in periods:
        if period.get("dateFin") is None:
            return period
    return periods[0] if periods else {}


def legal_name(unit: dict[str, Any], period: dict[str, Any]) -> str | None:
    name = _clean(period.get("denominationUniteLegale"))
    if name:
        return name
    last = _clean(period.get("nomUsageUniteLegale")) or _clean(period.get("nomUniteLegale"))
    first = _clean(unit.get("prenomUsuelUniteLegale")) or _clean(unit.get("prenom1UniteLegale"))
    return " ".join(p for p in (first, last) if p) or None


def unit_row(unit: dict[str, Any], refreshed_at: dt.datetime) -> dict[str, Any]:
    """One `unitesLegales[]` element -> one `siren_data` row."""
    period = current_period(unit)
    status = _clean(period.get("etatAdministratifUniteLegale"))
    return {
        "siren": unit["siren"],
        "found_in_sirene": True,
        "legal_name": legal_name(unit, period),
        "legal_category_code": _clean(period.get("categorieJuridiqueUniteLegale")),
        "naf_code": _clean(period.get("activitePrincipaleUniteLegale")),
        "naf_nomenclature": _clean(period.get("nomenclatureActivitePrincipaleUniteLegale")),
        "administrative_status": status,
        "creation_date": _date(unit.get("dateCreationUniteLegale")),
        "closing_date": _date(period.get("dateDebut")) if status == "C" else None,
        "employee_band": _clean(unit.get("trancheEffectifsUniteLegale")),
        "company_category": _clean(unit.get("categorieEntreprise")),
        "refreshed_at": refreshed_at,
    }


def search_query(sirens: list[str]) -> str:
    """`siren:A OR siren:B ...` (each SIREN checked: 9 digits, so nothing else reaches the query)."""
    bad = [s for s in sirens if not SIREN_RE.match(s)]
    if bad:
        raise ValueError(f"invalid SIREN(s) {bad[:3]}: a SIREN is 9 digits")
    return " OR ".join(f"siren:{s}" for s in sirens)


def batch_rows(
    units: list[dict[str, Any]],
    requested: list[str],
    refreshed_at: dt.datetime,
    known: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every requested SIREN gets a row: its unit's; else its last good row (`known`) flagged with
    `not_found_at`; else a `found_in_sirene = false` one."""
    wanted = set(requested)
    found = {u["siren"]: unit_row(u, refreshed_at) for u in units if u.get("siren") in wanted}
    rows = []
    for siren in requested:
        row = found.get(siren)
        if row is None and known and siren in known:
            last = known[siren]
            row = {c.name: last.get(c.name) for c in SIREN_DATA.columns}
            row.update(refreshed_at=refreshed_at, not_found_at=last.get("not_found_at") or refreshed_at)
        elif row is None:
            row = {"siren": siren, "found_in_sirene": False, "refreshed_at": refreshed_at}
        rows.append(row)
    return rows


def known_units(wh: Warehouse, sirens: list[str]) -> dict[str, dict[str, Any]]:
    """The last good rows (found in Sirene) of these SIRENs, by SIREN."""
    if not sirens or not wh.table_exists(SIREN_TABLE):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(sirens), 1000):
        chunk = [s for s in sirens[start : start + 1000] if SIREN_RE.match(s)]  # 9 digits: safe literals
        listed = ", ".join(f"'{s}'" for s in chunk)
        rows = wh.query(
            f"SELECT * FROM {wh.physical(SIREN_TABLE)} WHERE found_in_sirene AND siren IN ({listed})"
        ).to_pylist()
        out.update({r["siren"]: r for r in rows})
    return out


# --- which SIRENs -----------------------------------------------------------------------------
def sirens_to_refresh(wh: Warehouse, now: dt.datetime, refresh_days: int, limit: int) -> list[str]:
    """Offerers' SIRENs never fetched or fetched more than `refresh_days` ago, oldest first.

    Why fail when the offerer table is missing: an empty list would be a silent empty success; the
    table comes from `data-gcp import applicative`, which must run first.
    """
    if not wh.table_exists(OFFERER_TABLE):
        raise SourceError(
            "siren",
            f"warehouse table {OFFERER_TABLE}",
            "the offerers' SIRENs come from this table, which does not exist: run "
            "`data-gcp import applicative` first",
        )
    # leading zeros an integer column lost are restored; a longer value stays as is (then skipped as
    # invalid below): LPAD alone would cut a 10-digit value to 9 digits, another company's SIREN
    raw = "TRIM(CAST(o.offerer_siren AS STRING))"
    siren = f"CASE WHEN LENGTH({raw}) < 9 THEN LPAD({raw}, 9, '0') ELSE {raw} END"
    cutoff = (now - dt.timedelta(days=refresh_days)).strftime("%Y-%m-%d %H:%M:%S+00")
    if wh.table_exists(SIREN_TABLE):
        sql = f"""
            SELECT {siren} AS siren, MAX(s.refreshed_at) AS refreshed_at
            FROM {wh.physical(OFFERER_TABLE)} o
            LEFT JOIN {wh.physical(SIREN_TABLE)} s ON s.siren = {siren}
            WHERE o.offerer_siren IS NOT NULL
            GROUP BY 1
            HAVING MAX(s.refreshed_at) IS NULL OR MAX(s.refreshed_at) <= TIMESTAMP '{cutoff}'
            ORDER BY 2 NULLS FIRST, 1
        """
    else:
        sql = f"""
            SELECT DISTINCT {siren} AS siren FROM {wh.physical(OFFERER_TABLE)} o
            WHERE o.offerer_siren IS NOT NULL ORDER BY 1
        """
    candidates = [str(s) for s in wh.query(sql).column("siren").to_pylist()]
    valid = [s for s in candidates if SIREN_RE.match(s)]
    if len(valid) < len(candidates):
        log.warning(
            "siren: %d offerer SIREN(s) are not 9 digits and are skipped", len(candidates) - len(valid)
        )
    return valid[:limit]


# --- the connector ----------------------------------------------------------------------------
class SirenConnector(Connector):
    name = "siren"
    description = "INSEE Sirene legal-unit data (name, legal category, NAF, dates, size) of offerers' SIRENs"
    schedule = "0 */6 * * *"
    default_base_url = "https://api.insee.fr/api-sirene/3.11"
    secrets = ("insee-api-key",)
    tables = (SIREN_DATA,)
    settings_help = {
        "BATCH_SIZE": "SIRENs per query (default 100)",
        "MAX_SIRENS": "SIRENs refreshed per run at most (default 5000)",
        "REFRESH_DAYS": "a SIREN fetched less than this many days ago is skipped (default 7)",
        "CALLS_PER_MINUTE": "calls a minute allowed by INSEE (default 30)",
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        batch_size = int(ctx.option("batch_size", "100"))
        if not 1 <= batch_size <= 1000:
            raise ValueError("siren: BATCH_SIZE must be between 1 and 1000 (API limit of `nombre`)")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        sirens = sirens_to_refresh(
            get_warehouse(ctx.settings),
            now,
            int(ctx.option("refresh_days", "7")),
            int(ctx.option("max_sirens", "5000")),
        )
        if not sirens:
            log.info(
                "siren: every offerer SIREN was refreshed less than %s days ago",
                ctx.option("refresh_days", "7"),
            )
            return
        known = known_units(get_warehouse(ctx.settings), sirens)
        limiter = RateLimiter(float(ctx.option("calls_per_minute", "30")), per=60.0, burst=1, clock=ctx.clock)
        n_batches = (len(sirens) + batch_size - 1) // batch_size
        log.info("siren: refreshing %d SIREN(s) in %d call(s)", len(sirens), n_batches)
        rows: list[dict[str, Any]] = []
        with ctx.http(
            secret_headers={"X-INSEE-Api-Key-Integration": ctx.secret("insee-api-key")},
            headers={"Accept": "application/json"},
            rate_limiter=limiter,
        ) as http:
            for start in range(0, len(sirens), batch_size):
                batch = sirens[start : start + batch_size]
                rows.extend(batch_rows(self.search(http, batch), batch, now, known))
        found = sum(1 for r in rows if r["found_in_sirene"] and not r.get("not_found_at"))
        kept = sum(1 for r in rows if r.get("not_found_at"))
        log.info("siren: %d of %d SIREN(s) found in Sirene", found, len(rows))
        if kept:
            log.warning(
                "siren: %d SIREN(s) found before were not found now: their last data is kept, "
                "flagged with not_found_at",
                kept,
            )
        yield SIREN_DATA.name, SIREN_DATA.to_arrow(rows)

    def search(self, http: HttpClient, batch: list[str]) -> list[dict[str, Any]]:
        """The units of one batch of SIRENs (`[]` when Sirene knows none of them)."""

        def check(response: httpx.Response) -> None:
            try:
                body = json_of(response)
            except ValueError:  # a cut body: retried within the same bounded budget
                raise RetryableResponse("invalid JSON in the answer") from None
            if response.status_code == 404:
                return
            units = body.get("unitesLegales")
            total = int((body.get("header") or {}).get("total") or 0)
            if not isinstance(units, list):
                raise SourceError(
                    "siren",
                    endpoint_of("GET", response.url),
                    "no `unitesLegales` list in the answer",
                    response.status_code,
                )
            if len(units) < min(total, len(batch)):
                raise RetryableResponse(f"{len(units)} unit(s) in a page announcing {total}")

        response = http.request(
            "GET",
            "siren",
            params={"q": search_query(batch), "nombre": len(batch)},
            check=check,
            accept=(404,),
        )
        body = json_of(response)
        endpoint = endpoint_of("GET", response.url)
        if response.status_code == 404:
            message = str((body.get("header") or {}).get("message") or "") if isinstance(body, dict) else ""
            if not message.startswith("Aucun élément trouvé"):
                raise SourceError(
                    "siren",
                    endpoint,
                    f"not found, and not Sirene's 'no result' answer: check the base URL ({message})",
                    404,
                )
            return []
        units = body["unitesLegales"]
        strangers = sorted({u.get("siren") for u in units} - set(batch))
        if strangers:
            raise SourceError("siren", endpoint, f"the answer holds SIRENs not asked for: {strangers[:3]}")
        return units


CONNECTOR = SirenConnector
