"""Addresses connector: geocode the users' postal addresses with the Base Adresse Nationale (BAN).

Contract (reference `source-systems.md`): `https://api-adresse.data.gouv.fr/search/?q=...&limit=1`
and the bulk endpoint `POST /search/csv/`; no authentication; about 50 requests/s allowed (a shared
token bucket, `RateLimiter(50, per=1)`; a 429 is retried by the shared client). The users are those of
`raw.applicative_database_user` not yet in `raw.addresses_user_address`, at most 5,000 a run (lowest
ids first), each stored once (upsert on user id) with label, score, lat/lon, INSEE city code,
postcode, department (and region, from BAN's `context`).

Bulk or not: from `BULK_MIN` (default 200) addresses the batch is sent as CSV files of at most
`BULK_ROWS` (default 1,000) rows to `/search/csv/`: 5,000 single calls take 100 s at 50 calls/s and
spend the shared quota, 5 bulk calls take a few seconds; below it, single calls avoid a multipart
upload for a handful of new users (the hourly runs).

Low scores: BAN's `score` (0..1) measures how well the answer matches the query. An answer under
`LOW_SCORE` = 0.5 is usually another street or only the town (a misspelt or incomplete address): it
is stored with `is_low_score = true` and its coordinates are never used as the user's location (dbt
`int_addresses__user_location` nulls them and the department). No answer at all (or a query too short
to send: BAN needs 3 characters) is stored with a null score and flagged the same way, so the user is
not asked again every hour.

Assumptions where the reference is silent (BAN's public documentation):
- `/search/` answers GeoJSON: `features[0].properties` {label, score, type, postcode, citycode, city,
  context "75, Paris, Île-de-France"}, `geometry.coordinates` [lon, lat]; no feature = no match;
- `/search/csv/` takes a multipart form (`data` = CSV file, `columns` = the query column(s)) and
  answers the same CSV with `latitude, longitude, result_label, result_score, result_type,
  result_postcode, result_citycode, result_city, result_context` appended, one row per input row;
  an answer with fewer rows than sent (a cut body) is asked again;
- the query is `<address> <postal code> <city>`, spaces collapsed, at most 200 characters, starting
  with a letter or a digit (`/search/` answers 400 to a `q` that starts otherwise, e.g. a quote: the
  leading punctuation is dropped);
- `context` is `<department code>, <department name>, <region name>`, but only
  `<code>, <name>` for the overseas departments and collectivities (974 La Réunion, 977
  Saint-Barthélemy, 978 Saint-Martin...), whose region is that name.

One bad address never fails a run: a 400 from `/search/` for one query skips that user with a warning
naming it (asked again next run); the others are stored. A bulk answer in which every row of a file of
`SUSPECT_ROWS` or more comes back "not found" is not believed (a service answering without
geocoding): the file is asked once more, then its users are skipped with a warning, never flagged as
ungeocodable for good.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from data_gcp.etl_core import BadRecords, Batch, Column, Connector, RunContext, TableSpec
from data_gcp.http_client import HttpClient, RateLimiter, RetryableResponse, SourceError, json_of
from data_gcp.log import get_logger
from data_gcp.warehouse import Warehouse, get_warehouse

log = get_logger(__name__)

USER_TABLE = "raw.applicative_database_user"
ADDRESS_TABLE = "raw.addresses_user_address"
LOW_SCORE = 0.5
MAX_USERS = 5000
BULK_MIN = 200
BULK_ROWS = 1000
CALLS_PER_SECOND = 50
SUSPECT_ROWS = 10
# overseas departments and collectivities: BAN's context has no region part
OVERSEAS_REGIONS = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon",
    "976": "Mayotte",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
}

USER_ADDRESS = TableSpec(
    name="addresses_user_address",
    object="user_address",
    description="users' postal addresses geocoded by the BAN, one row per user (first geocoding)",
    columns=(
        Column("user_id", "int", nullable=False),
        Column("query", "string", "what was asked: address, postal code, city"),
        Column("label", "string", "BAN's normalised address"),
        Column("score", "float", "BAN match score, 0..1 (null: no answer)"),
        Column("result_type", "string", "housenumber, street, locality or municipality"),
        Column("latitude", "float"),
        Column("longitude", "float"),
        Column("city_code", "string", "INSEE code of the city"),
        Column("postcode", "string"),
        Column("city", "string"),
        Column("department_code", "string"),
        Column("region_name", "string"),
        Column(
            "is_low_score", "bool", f"score under {LOW_SCORE} or no answer: never a location", nullable=False
        ),
        Column("method", "string", "single (/search/) or bulk (/search/csv/)", nullable=False),
        Column("geocoded_at", "timestamp", nullable=False),
    ),
    write="upsert",
    primary_key=("user_id",),
)


# --- pure helpers -----------------------------------------------------------------------------
def address_query(address: str | None, postal_code: str | None, city: str | None) -> str:
    """`12 rue Victor Hugo 44000 Nantes` (parts missing are left out; spaces collapsed; 200 chars)."""
    text = " ".join(str(p) for p in (address, postal_code, city) if p)
    text = re.sub(r"\s+", " ", text).strip()
    while text and not text[0].isalnum():  # BAN refuses a query starting with punctuation
        text = text[1:].lstrip()
    return text[:200]


def _float(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def context_parts(context: str | None) -> tuple[str | None, str | None]:
    """BAN `context` `75, Paris, Île-de-France` -> (department code, region name).

    Overseas, the context is `974, La Réunion` (no region part): the region is that name.
    """
    parts = [p.strip() for p in (context or "").split(",")]
    department = parts[0] or None if parts else None
    if len(parts) >= 3:
        region = parts[-1]
    elif department in OVERSEAS_REGIONS:
        region = OVERSEAS_REGIONS[department]
    else:
        region = parts[1] if len(parts) == 2 and department and department.startswith("97") else None
    return department, region


def result_row(
    user_id: int, query: str, found: dict[str, Any] | None, method: str, at: dt.datetime
) -> dict[str, Any]:
    """One table row from a normalised answer (keys as in the bulk CSV), or None for no answer."""
    found = found or {}
    score = _float(found.get("result_score"))
    department, region = context_parts(found.get("result_context"))
    return {
        "user_id": user_id,
        "query": query,
        "label": found.get("result_label") or None,
        "score": score,
        "result_type": found.get("result_type") or None,
        "latitude": _float(found.get("latitude")),
        "longitude": _float(found.get("longitude")),
        "city_code": found.get("result_citycode") or None,
        "postcode": found.get("result_postcode") or None,
        "city": found.get("result_city") or None,
        "department_code": department,
        "region_name": region,
        "is_low_score": score is None or score < LOW_SCORE,
        "method": method,
        "geocoded_at": at,
    }


def feature_result(body: dict[str, Any]) -> dict[str, Any] | None:
    """The first GeoJSON feature of a `/search/` answer in the bulk CSV's keys (None: no match)."""
    features = body.get("features") or []
    if not features:
        return None
    props = features[0].get("properties") or {}
    lon, lat = (features[0].get("geometry") or {}).get("coordinates") or (None, None)
    return {
        "result_label": props.get("label"),
        "result_score": props.get("score"),
        "result_type": props.get("type"),
        "result_postcode": props.get("postcode"),
        "result_citycode": props.get("citycode"),
        "result_city": props.get("city"),
        "result_context": props.get("context"),
        "latitude": lat,
        "longitude": lon,
    }


def multipart(rows: list[tuple[int, str]], boundary: str) -> bytes:
    """The `/search/csv/` form: `data` = CSV (user_id, q), `columns` = q."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["user_id", "q"])
    writer.writerows(rows)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="users.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n" + out.getvalue() + "\r\n",
        f'--{boundary}\r\nContent-Disposition: form-data; name="columns"\r\n\r\nq\r\n',
        f"--{boundary}--\r\n",
    ]
    return "".join(parts).encode()


# --- which users ------------------------------------------------------------------------------
def users_to_geocode(wh: Warehouse, limit: int) -> list[dict[str, Any]]:
    """Users never geocoded, lowest ids first (the table of users comes from the applicative import)."""
    if not wh.table_exists(USER_TABLE):
        raise SourceError(
            "addresses",
            f"warehouse table {USER_TABLE}",
            "the users' addresses come from this table, which does not exist: run "
            "`data-gcp import applicative` first",
        )
    if "user_address" not in wh.schema(USER_TABLE).names:
        raise SourceError(
            "addresses",
            f"warehouse table {USER_TABLE}",
            "has no user_address column: the source predates it (locally: `data-gcp sandbox generate` "
            "again, then `data-gcp import applicative`)",
        )
    done = (
        f"LEFT JOIN {wh.physical(ADDRESS_TABLE)} a ON a.user_id = u.user_id WHERE a.user_id IS NULL"
        if wh.table_exists(ADDRESS_TABLE)
        else ""
    )
    sql = f"""
        SELECT u.user_id, u.user_address, u.user_postal_code, u.user_city
        FROM {wh.physical(USER_TABLE)} u {done}
        ORDER BY u.user_id LIMIT {int(limit)}
    """
    return wh.query(sql).to_pylist()


# --- the connector ----------------------------------------------------------------------------
class AddressesConnector(Connector):
    name = "addresses"
    description = "users' postal addresses geocoded by the Base Adresse Nationale (label, score, INSEE code)"
    schedule = "0 * * * *"
    default_base_url = "https://api-adresse.data.gouv.fr"
    secrets = ()
    tables = (USER_ADDRESS,)
    settings_help = {
        "MAX_USERS": f"users geocoded per run at most (default {MAX_USERS})",
        "BULK_MIN": f"from this many addresses, use the bulk /search/csv/ endpoint (default {BULK_MIN})",
        "BULK_ROWS": f"rows per bulk CSV file (default {BULK_ROWS})",
        "CALLS_PER_SECOND": f"calls a second allowed by the BAN (default {CALLS_PER_SECOND})",
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        limit = int(ctx.option("max_users", str(MAX_USERS)))
        bulk_min = int(ctx.option("bulk_min", str(BULK_MIN)))
        bulk_rows = int(ctx.option("bulk_rows", str(BULK_ROWS)))
        users = users_to_geocode(get_warehouse(ctx.settings), limit)
        if not users:
            log.info("addresses: every user is geocoded already")
            return
        at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        queries = [
            (int(u["user_id"]), address_query(u["user_address"], u["user_postal_code"], u["user_city"]))
            for u in users
        ]
        askable = [(uid, q) for uid, q in queries if len(q) >= 3]
        rows = [result_row(uid, q, None, "none", at) for uid, q in queries if len(q) < 3]
        limiter = RateLimiter(float(ctx.option("calls_per_second", str(CALLS_PER_SECOND))), clock=ctx.clock)
        method = "bulk" if len(askable) >= bulk_min else "single"
        log.info("addresses: geocoding %d user(s) (%s)", len(askable), method)
        bad = BadRecords(
            "addresses", "addresses", error=lambda m: SourceError("addresses", "GET /search/", m)
        )
        with ctx.http(rate_limiter=limiter) as http:
            if method == "bulk":
                for start in range(0, len(askable), bulk_rows):
                    chunk = askable[start : start + bulk_rows]
                    found = self.bulk(http, chunk)
                    if found is None:
                        log.warning(
                            "addresses: every one of %d addresses (users %d..%d) came back 'not found' twice "
                            "from /search/csv/: not believed, these users are not stored (asked again next run)",
                            len(chunk),
                            chunk[0][0],
                            chunk[-1][0],
                        )
                        continue
                    rows.extend(result_row(uid, q, found.get(uid), "bulk", at) for uid, q in chunk)
            else:
                for uid, q in askable:
                    try:
                        answer = self.single(http, q)
                    except SourceError as err:
                        if err.status not in (400, 422):
                            raise
                        bad.skip(f"user {uid}", f"/search/ refused its address (HTTP {err.status})")
                        continue
                    rows.append(result_row(uid, q, answer, "single", at))
                bad.check(len(askable))
        low = sum(1 for r in rows if r["is_low_score"])
        log.info("addresses: %d geocoded, %d flagged (score < %s or no answer)", len(rows), low, LOW_SCORE)
        yield USER_ADDRESS.name, USER_ADDRESS.to_arrow(rows)

    def single(self, http: HttpClient, query: str) -> dict[str, Any] | None:
        def check(response: httpx.Response) -> None:
            try:
                body = json_of(response)
            except ValueError:
                raise RetryableResponse("invalid JSON in the answer") from None
            if not isinstance(body, dict) or not isinstance(body.get("features"), list):
                raise RetryableResponse("no `features` list in the answer")

        params = {"q": query, "limit": 1}
        found = feature_result(json_of(http.request("GET", "search/", params=params, check=check)))
        if found is None:  # "no match" is asked once more before it is recorded (never asked again)
            found = feature_result(json_of(http.request("GET", "search/", params=params, check=check)))
        return found

    def bulk(self, http: HttpClient, chunk: list[tuple[int, str]]) -> dict[int, dict[str, Any] | None] | None:
        """One `/search/csv/` call: user id -> its answer row (every user id sent must come back).

        None: every row of a file of `SUSPECT_ROWS` or more came back "not found", twice.
        """
        for attempt in (1, 2):
            found = self._bulk_once(http, chunk)
            if len(chunk) < SUSPECT_ROWS or any(v is not None for v in found.values()):
                return found
            if attempt == 1:
                log.warning(
                    "addresses: all %d rows of a /search/csv/ answer 'not found': asking again", len(chunk)
                )
        return None

    def _bulk_once(self, http: HttpClient, chunk: list[tuple[int, str]]) -> dict[int, dict[str, Any] | None]:
        boundary = f"data-gcp-{uuid.uuid4().hex}"
        sent = {uid for uid, _ in chunk}
        parsed: dict[int, dict[str, Any]] = {}

        def check(response: httpx.Response) -> None:
            text = response.content.decode("utf-8-sig", errors="replace")
            if not text.endswith("\n"):
                raise RetryableResponse("the CSV answer is cut (no final line break)")
            reader = csv.DictReader(io.StringIO(text))
            got: dict[int, dict[str, Any]] = {}
            try:
                for row in reader:
                    got[int(row["user_id"])] = row
            except (KeyError, ValueError, TypeError, csv.Error) as err:
                raise RetryableResponse(f"unreadable CSV answer ({err})") from None
            if set(got) != sent:
                raise RetryableResponse(f"{len(got)} of the {len(sent)} rows sent came back")
            parsed.clear()
            parsed.update(got)

        http.request(
            "POST",
            "search/csv/",
            content=multipart(chunk, boundary),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            check=check,
        )
        return {
            uid: (row if row.get("result_score") not in (None, "") else None) for uid, row in parsed.items()
        }


CONNECTOR = AddressesConnector
