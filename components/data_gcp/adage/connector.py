"""Adage connector: cultural partners of schools and pass Culture statistics per school year.

Contract (reference `source-systems.md`): base `https://omogen-api-pr.phm.education.gouv.fr/adage-api/v1`
(test gateway `omogen-api-tst-pr...`), header `X-omogen-api-key`; no pagination;
`GET /partenaire-culturel?dateModificationMin=<now - 30 days>` and
`GET /stats-pass-culture/{school_year_id}`. Partners are merged on the partner id (a re-run never
duplicates, an update replaces); statistics are per school year, level and department.

The school year is computed from the run's day, never read from a table of years: September to
August, so 2026-09-01 .. 2027-08-31 is `2026-2027`. Its Adage id follows from the first year
(`SCHOOL_YEAR_ID_OFFSET`, below). The statistics of every school year the window touches are read.

Assumptions where the reference is silent (Adage's API is not public; the previous job's fields):
- `/partenaire-culturel` answers a JSON list of partners `{id, venueId, siret, libelle, typeId,
  typeLibelle, statutLibelle, labelLibelle, domaines, communeLibelle, communeDepartement,
  regionLibelle, academieLibelle, latitude, longitude, actif, synchroPass, dateModification}`, the
  domains a list or one `|`-separated text (domain names contain commas)
  (`dateModification` `YYYY-MM-DD HH:MM:SS`, Paris time, stored as is as UTC-naive text -> timestamp;
  `dateModificationMin` takes the same format). An empty list is a quiet month, not an error;
- `/stats-pass-culture/{id}` answers objects keyed by department, academy and region ids, as the
  original platform's job reads them: `{"departements": {id: {"departement": <code>, ...}},
  "academies": {id: {"academie": <name>, ...}}, "regions": {id: {"region": <name>, ...}}}`, each
  entry `{eleves, totalEleves, etabs, totalEtabs, niveaux: {<level>: {eleves, totalEleves}}}`, where
  `niveaux` (and a whole group) may be `[]` when empty (PHP's empty array). One row per scope entry x
  level (level `ALL` when `niveaux` is empty): `eleves` -> involved_students, `totalEleves` ->
  total_students, `etabs`/`totalEtabs` -> institutions/total_institutions (the entry's, on each of
  its levels). An answer without any entry is read once more, then loaded as nothing (a school year
  that just started). An entry that cannot be read is skipped with a warning naming it; an answer
  whose shape is not this fails the statistics table alone: the partners still load, then the run
  fails naming the table (`RunContext.fail_table`);
- the Adage id of a school year is its first year minus 2014 (2021-2022 is 7), overridable with
  option `SCHOOL_YEAR_ID_OFFSET`;
- a partner with `actif` = 0 is kept (flagged), never deleted.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from data_gcp.etl_core import BadRecords, Batch, Column, Connector, DateWindow, RunContext, TableSpec
from data_gcp.http_client import HttpClient, SourceError
from data_gcp.log import get_logger

log = get_logger(__name__)

PARTNER_DAYS = 30
DEFAULT_YEAR_ID_OFFSET = 2014

PARTNERS = TableSpec(
    name="adage_partner",
    object="partner",
    description="Adage cultural partners changed in the 30 days before the run, merged on partner id",
    columns=(
        Column("partner_id", "int", "Adage partner id", nullable=False),
        Column("venue_id", "int", "pass Culture venue id the partner is synchronised with (venueId)"),
        Column("siret", "string", "14-digit SIRET"),
        Column("partner_name", "string"),
        Column("partner_type", "string", "typeLibelle"),
        Column("partner_status", "string", "statutLibelle"),
        Column("partner_label", "string", "labelLibelle (Musée de France, Scène nationale, ...)"),
        Column("domains", "json", "cultural domains (list of names)"),
        Column("city", "string"),
        Column("department_code", "string"),
        Column("region_name", "string"),
        Column("academy_name", "string"),
        Column("latitude", "float"),
        Column("longitude", "float"),
        Column("is_active", "bool"),
        Column("is_synchronised_with_pass", "bool", "synchroPass"),
        Column("modified_at", "timestamp", "dateModification"),
        Column("loaded_at", "timestamp", nullable=False),
    ),
    write="upsert",
    primary_key=("partner_id",),
)
INVOLVED = TableSpec(
    name="adage_involved_student",
    object="involved_student",
    description="students involved in pass Culture collective offers per school year, level and department",
    columns=(
        Column("school_year", "string", "2026-2027 (September to August)", nullable=False),
        Column("school_year_id", "int", "Adage id of the school year", nullable=False),
        # always set; nullable so that an existing BigQuery table can gain them (no REQUIRED column
        # can be added to a table that has rows)
        Column("scope", "string", "departement, academie or region"),
        Column("scope_id", "string", "Adage id of the department, academy or region"),
        Column("level", "string", "class level (niveaux key), ALL when Adage gives no level", nullable=False),
        Column("department_code", "string", "the entry's `departement` (department scope)"),
        Column("academy_name", "string", "the entry's `academie` (academy scope)"),
        Column("region_name", "string", "the entry's `region` (region scope)"),
        Column("total_students", "int", "totalEleves"),
        Column("involved_students", "int", "eleves"),
        Column("institutions", "int", "etabs (the entry's, on each level)"),
        Column("total_institutions", "int", "totalEtabs (the entry's, on each level)"),
        Column("loaded_at", "timestamp", nullable=False),
    ),
    write="upsert",
    primary_key=("school_year", "scope", "scope_id", "level"),
)


# --- school years (pure) ----------------------------------------------------------------------
def school_year_of(day: dt.date) -> str:
    """`2026-2027` for any day from 2026-09-01 to 2027-08-31."""
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


def school_year_id(school_year: str, offset: int = DEFAULT_YEAR_ID_OFFSET) -> int:
    """Adage's id of a school year: its first year minus `offset` (2021-2022 -> 7 by default)."""
    return int(school_year[:4]) - offset


def school_years(window: DateWindow) -> list[str]:
    """Every school year the window touches, oldest first."""
    return sorted({school_year_of(window.start), school_year_of(window.end)})


# --- parsing (pure) ---------------------------------------------------------------------------
def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _float(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _bool(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "oui")
    return bool(value)


def _timestamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _siret(value: Any) -> str | None:
    """A SIRET is 14 digits; anything else is kept as null rather than truncated or padded."""
    text = str(value or "").strip()
    return text if len(text) == 14 and text.isdigit() else None


def partner_row(item: dict[str, Any], loaded_at: dt.datetime) -> dict[str, Any]:
    domains = item.get("domaines")
    if isinstance(domains, str):
        domains = [d.strip() for d in domains.split("|") if d.strip()]
    return {
        "partner_id": int(item["id"]),
        "venue_id": _int(item.get("venueId")),
        "siret": _siret(item.get("siret")),
        "partner_name": item.get("libelle"),
        "partner_type": item.get("typeLibelle"),
        "partner_status": item.get("statutLibelle"),
        "partner_label": item.get("labelLibelle"),
        "domains": json.dumps(domains or [], ensure_ascii=False),
        "city": item.get("communeLibelle"),
        "department_code": item.get("communeDepartement"),
        "region_name": item.get("regionLibelle"),
        "academy_name": item.get("academieLibelle"),
        "latitude": _float(item.get("latitude")),
        "longitude": _float(item.get("longitude")),
        "is_active": _bool(item.get("actif")),
        "is_synchronised_with_pass": _bool(item.get("synchroPass")),
        "modified_at": _timestamp(item.get("dateModification")),
        "loaded_at": loaded_at,
    }


# Adage's group key -> (scope, the entry's label field, column the label goes to)
STAT_GROUPS = {
    "departements": ("departement", "departement", "department_code"),
    "academies": ("academie", "academie", "academy_name"),
    "regions": ("region", "region", "region_name"),
}


class StatsShapeError(ValueError):
    """The statistics answer is not the documented objects keyed by id."""


def _entries(group: Any) -> dict[str, Any]:
    """A group of entries keyed by id; `[]` (PHP's empty array) is an empty group."""
    if group in (None, []):
        return {}
    if not isinstance(group, dict):
        raise StatsShapeError(f"a group is a {type(group).__name__}, not an object keyed by id")
    return group


def involved_rows(
    payload: Any, school_year: str, year_id: int, loaded_at: dt.datetime, bad: BadRecords | None = None
) -> list[dict[str, Any]]:
    """Rows of one statistics answer; StatsShapeError when it is not keyed by department/academy/region."""
    if not isinstance(payload, dict) or not any(g in payload for g in STAT_GROUPS):
        keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise StatsShapeError(f"no departements/academies/regions in the answer (got {keys})")
    bad = bad or BadRecords("adage", "statistics entries")
    rows: list[dict[str, Any]] = []
    for group, (scope, label_field, column) in STAT_GROUPS.items():
        for entry_id, entry in _entries(payload.get(group)).items():
            try:
                if not isinstance(entry, dict):
                    raise ValueError(f"not an object: {str(entry)[:100]}")
                base = {
                    "school_year": school_year,
                    "school_year_id": year_id,
                    "scope": scope,
                    "scope_id": str(entry_id),
                    "department_code": None,
                    "academy_name": None,
                    "region_name": None,
                    column: None if entry.get(label_field) is None else str(entry.get(label_field)),
                    "institutions": _int(entry.get("etabs")),
                    "total_institutions": _int(entry.get("totalEtabs")),
                    "loaded_at": loaded_at,
                }
                levels = entry.get("niveaux") or {}
                if not isinstance(levels, dict):
                    raise ValueError(f"niveaux is a {type(levels).__name__}")
                if not levels:
                    rows.append(
                        base
                        | {
                            "level": "ALL",
                            "involved_students": _int(entry.get("eleves")),
                            "total_students": _int(entry.get("totalEleves")),
                        }
                    )
                for level, counts in levels.items():
                    rows.append(
                        base
                        | {
                            "level": str(level),
                            "involved_students": _int(counts.get("eleves")),
                            "total_students": _int(counts.get("totalEleves")),
                        }
                    )
            except (ValueError, TypeError, AttributeError) as err:
                bad.skip(f"{group}/{entry_id}", str(err))
    return rows


# --- the connector ----------------------------------------------------------------------------
class AdageConnector(Connector):
    name = "adage"
    description = "Adage cultural partners (merged on id) and pass Culture students per school year"
    schedule = "0 1 * * *"
    default_base_url = "https://omogen-api-pr.phm.education.gouv.fr/adage-api/v1"
    secrets = ("adage-api-key",)
    tables = (PARTNERS, INVOLVED)
    settings_help = {
        "SCHOOL_YEAR_ID_OFFSET": f"Adage school year id = first year - this (default {DEFAULT_YEAR_ID_OFFSET})",
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        offset = int(ctx.option("school_year_id_offset", str(DEFAULT_YEAR_ID_OFFSET)))
        with ctx.http(secret_headers={"X-omogen-api-key": ctx.secret("adage-api-key")}) as http:
            if ctx.wants("partner"):
                yield PARTNERS.name, PARTNERS.to_arrow(self.partners(http, ctx.window, loaded_at))
            if ctx.wants("involved_student"):
                rows: list[dict[str, Any]] = []
                try:
                    for year in school_years(ctx.window):
                        rows.extend(self.involved(http, year, school_year_id(year, offset), loaded_at))
                except StatsShapeError as err:
                    ctx.fail_table(
                        INVOLVED.name,
                        f"GET /stats-pass-culture: {err}; the table was left as it was "
                        "(map the new shape in components/data_gcp/adage)",
                    )
                    return
                yield INVOLVED.name, INVOLVED.to_arrow(rows)

    def partners(self, http: HttpClient, window: DateWindow, loaded_at: dt.datetime) -> list[dict[str, Any]]:
        """Partners modified in the `PARTNER_DAYS` days up to the window's end (each id once)."""
        since = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time()) - dt.timedelta(
            days=PARTNER_DAYS
        )
        body = http.get_json(
            "partenaire-culturel", {"dateModificationMin": since.strftime("%Y-%m-%d %H:%M:%S")}
        )
        if not isinstance(body, list):
            raise SourceError("adage", "GET /adage-api/v1/partenaire-culturel", "the answer is not a list")
        rows = {}
        bad = BadRecords(
            "adage", "partners", error=lambda m: SourceError("adage", "GET /partenaire-culturel", m)
        )
        for item in body:
            try:
                row = partner_row(item, loaded_at)
            except (KeyError, ValueError, TypeError, AttributeError) as err:
                ident = item.get("id") if isinstance(item, dict) else None
                bad.skip(f"id={ident}", f"{type(err).__name__}: {err}")
                continue
            previous = rows.get(row["partner_id"])
            if previous is None or (row["modified_at"] or loaded_at) >= (
                previous["modified_at"] or loaded_at
            ):
                rows[row["partner_id"]] = row
        bad.check(len(body))
        log.info("adage: %d partner(s) modified since %s", len(rows), since.date())
        return list(rows.values())

    def involved(
        self, http: HttpClient, school_year: str, year_id: int, loaded_at: dt.datetime
    ) -> list[dict[str, Any]]:
        path = f"stats-pass-culture/{year_id}"
        bad = BadRecords("adage", f"statistics entries of {school_year}", error=StatsShapeError)
        rows = involved_rows(http.get_json(path), school_year, year_id, loaded_at, bad)
        if not rows and not bad.skipped:
            bad = BadRecords("adage", f"statistics entries of {school_year}", error=StatsShapeError)
            rows = involved_rows(http.get_json(path), school_year, year_id, loaded_at, bad)  # read once more
            if not rows:
                log.warning("adage: no statistics yet for school year %s", school_year)
        total = len({(r["scope"], r["scope_id"]) for r in rows}) + len(bad.skipped)
        bad.check(total)
        return rows


CONNECTOR = AdageConnector
