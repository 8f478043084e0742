"""Base Adresse Nationale: `/search/` (GeoJSON) and the bulk `/search/csv/`, for the sandbox's towns.

The gazetteer is every sandbox street (`sandbox.STREETS`) in the main city of each sandbox department,
numbers 1 to 120. Matching is fuzzy like the real service: the postcode (or the city name) picks the
town, the closest street name gives the score, so misspelt addresses still match with a lower score
and incomplete ones fall back to the street or the town:
- street close enough (similarity >= 0.6): score 0.35 + 0.6 x similarity (an exact address ~0.95),
  type `housenumber`, or `street` x 0.85 when the number is missing;
- no street, or none close: the town (`municipality`), score 0.40 (under the connector's threshold);
- unknown town: no result.
No authentication; scores and coordinates are deterministic.
"""

from __future__ import annotations

import csv
import difflib
import email.parser
import hashlib
import io
import re
import unicodedata
from typing import Any

from data_gcp.sandbox import DEPARTMENTS, STREETS
from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, empty_lists, json_error

# department code -> (department name, region name, INSEE code of the main city)
AREAS: dict[str, tuple[str, str, str]] = {
    "75": ("Paris", "Île-de-France", "75111"),
    "93": ("Seine-Saint-Denis", "Île-de-France", "93066"),
    "92": ("Hauts-de-Seine", "Île-de-France", "92050"),
    "94": ("Val-de-Marne", "Île-de-France", "94028"),
    "91": ("Essonne", "Île-de-France", "91228"),
    "78": ("Yvelines", "Île-de-France", "78646"),
    "95": ("Val-d'Oise", "Île-de-France", "95127"),
    "77": ("Seine-et-Marne", "Île-de-France", "77288"),
    "13": ("Bouches-du-Rhône", "Provence-Alpes-Côte d'Azur", "13201"),
    "69": ("Rhône", "Auvergne-Rhône-Alpes", "69381"),
    "59": ("Nord", "Hauts-de-France", "59350"),
    "31": ("Haute-Garonne", "Occitanie", "31555"),
    "33": ("Gironde", "Nouvelle-Aquitaine", "33063"),
    "44": ("Loire-Atlantique", "Pays de la Loire", "44109"),
    "67": ("Bas-Rhin", "Grand Est", "67482"),
    "06": ("Alpes-Maritimes", "Provence-Alpes-Côte d'Azur", "06088"),
    "34": ("Hérault", "Occitanie", "34172"),
    "35": ("Ille-et-Vilaine", "Bretagne", "35238"),
    "62": ("Pas-de-Calais", "Hauts-de-France", "62041"),
    "38": ("Isère", "Auvergne-Rhône-Alpes", "38185"),
    "76": ("Seine-Maritime", "Normandie", "76540"),
    "57": ("Moselle", "Grand Est", "57463"),
    "29": ("Finistère", "Bretagne", "29019"),
    "63": ("Puy-de-Dôme", "Auvergne-Rhône-Alpes", "63113"),
    "21": ("Côte-d'Or", "Bourgogne-Franche-Comté", "21231"),
    "87": ("Haute-Vienne", "Nouvelle-Aquitaine", "87085"),
    "2A": ("Corse-du-Sud", "Corse", "2A004"),
    "971": ("Guadeloupe", "Guadeloupe", "97120"),
    "972": ("Martinique", "Martinique", "97209"),
    "973": ("Guyane", "Guyane", "97302"),
    "974": ("La Réunion", "La Réunion", "97411"),
    "976": ("Mayotte", "Mayotte", "97611"),
}
STREET_MATCH = 0.6
TOWN_SCORE = 0.40
CSV_RESULT_COLUMNS = (
    "latitude",
    "longitude",
    "result_label",
    "result_score",
    "result_score_next",
    "result_type",
    "result_id",
    "result_housenumber",
    "result_name",
    "result_street",
    "result_postcode",
    "result_city",
    "result_context",
    "result_citycode",
    "result_oldcitycode",
    "result_oldcity",
    "result_district",
    "result_status",
)


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9 ]+", " ", text).strip()


def _towns() -> dict[str, dict[str, Any]]:
    towns = {}
    for code, city, postal, lat, lon, _ in DEPARTMENTS:
        name, region, citycode = AREAS.get(code, (city, "", ""))
        towns[postal] = {
            "department": code,
            "city": city,
            "postcode": postal,
            "lat": lat,
            "lon": lon,
            "citycode": citycode,
            # BAN: `code, department, region`; overseas only `code, name` (974, La Réunion)
            "context": f"{code}, {name}" if code.startswith("97") else f"{code}, {name}, {region}",
        }
    return towns


TOWNS = _towns()
_PLAIN_STREETS = [(_plain(s), s) for s in STREETS]


def _offset(key: str) -> tuple[float, float]:
    digest = hashlib.sha256(key.encode()).digest()
    return (digest[0] - 128) / 128 * 0.02, (digest[1] - 128) / 128 * 0.03


def geocode(query: str) -> dict[str, Any] | None:
    """The best answer for `query` (bulk CSV keys), or None."""
    postal = re.search(r"\b(\d{5})\b", query)
    town = TOWNS.get(postal.group(1)) if postal else None
    plain = _plain(query)
    if town is None:
        names = [t for t in TOWNS.values() if _plain(t["city"]) in plain]
        town = names[0] if names else None
    if town is None:
        return None
    rest = plain
    for word in (town["postcode"], _plain(town["city"])):
        rest = rest.replace(word, " ")
    rest = re.sub(r"\s+", " ", rest).strip()
    number_match = re.match(r"^(\d+)( bis| ter)?\b\s*", rest)
    number = number_match.group(1) + (number_match.group(2) or "") if number_match else None
    street_text = rest[number_match.end() :] if number_match else rest
    best, ratio = None, 0.0
    if street_text:
        for plain_street, street in _PLAIN_STREETS:
            r = difflib.SequenceMatcher(None, street_text, plain_street).ratio()
            if r > ratio:
                best, ratio = street, r
    base = {
        "result_postcode": town["postcode"],
        "result_city": town["city"],
        "result_context": town["context"],
        "result_citycode": town["citycode"],
        "result_status": "ok",
    }
    if best is None or ratio < STREET_MATCH:
        return {
            **base,
            "latitude": town["lat"],
            "longitude": town["lon"],
            "result_label": town["city"],
            "result_score": TOWN_SCORE,
            "result_type": "municipality",
            "result_id": town["citycode"],
            "result_name": town["city"],
        }
    street = best[0].upper() + best[1:]
    dlat, dlon = _offset(f"{town['postcode']}-{best}-{number}")
    score = 0.35 + 0.6 * ratio
    label = f"{number + ' ' if number else ''}{street} {town['postcode']} {town['city']}"
    return {
        **base,
        "latitude": round(town["lat"] + dlat, 6),
        "longitude": round(town["lon"] + dlon, 6),
        "result_label": label,
        "result_score": round(score if number else score * 0.85, 4),
        "result_type": "housenumber" if number else "street",
        "result_id": f"{town['citycode']}_{int(hashlib.sha256(best.encode()).hexdigest()[:4], 16):05d}"
        + (f"_{number}" if number else ""),
        "result_housenumber": number,
        "result_name": f"{number} {street}" if number else street,
        "result_street": street,
    }


def _feature(found: dict[str, Any], query: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [found["longitude"], found["latitude"]]},
        "properties": {
            "label": found["result_label"],
            "score": found["result_score"],
            "housenumber": found.get("result_housenumber"),
            "id": found.get("result_id"),
            "type": found["result_type"],
            "name": found.get("result_name"),
            "postcode": found["result_postcode"],
            "citycode": found["result_citycode"],
            "city": found["result_city"],
            "context": found["result_context"],
            "importance": 0.5,
            "street": found.get("result_street"),
        },
    }


def _csv_header_only(response: Response) -> Response:
    """The `empty` fault: a header-only CSV, or a GeoJSON answer without features."""
    if not isinstance(response.body, bytes):
        return Response(response.status, empty_lists(response.body), response.headers, response.content_type)
    body = response.body
    first = body.split(b"\n", 1)[0]
    return Response(
        response.status, first + b"\n" if first else body, response.headers, response.content_type
    )


def build(data: SandboxData, **_: object) -> VendorApp:
    def search(request: Request) -> Response:
        query = (request.param("q") or "").strip()
        if len(query) < 3 or len(query) > 200 or not query[0].isalnum():
            return json_error(
                400, "q must contain between 3 and 200 chars and start with a number or a letter"
            )
        found = geocode(query)
        features = [_feature(found, query)] if found else []
        return Response(
            200,
            {
                "type": "FeatureCollection",
                "version": "draft",
                "features": features,
                "attribution": "BAN",
                "licence": "ETALAB-2.0",
                "query": query,
                "limit": request.int_param("limit", 5),
            },
        )

    def search_csv(request: Request) -> Response:
        content_type = request.header("Content-Type") or ""
        if "multipart/form-data" not in content_type:
            return json_error(400, "a multipart/form-data body is expected")
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        fields = {
            part.get_param("name", header="content-disposition"): part for part in message.get_payload()
        }
        if "data" not in fields:
            return json_error(400, "a `data` file is expected")
        text = fields["data"].get_payload(decode=True).decode("utf-8-sig")
        columns = (
            (fields["columns"].get_payload(decode=True).decode().split(",")) if "columns" in fields else []
        )
        reader = csv.DictReader(io.StringIO(text))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*(reader.fieldnames or []), *CSV_RESULT_COLUMNS])
        for row in reader:
            query = " ".join(row.get(c.strip(), "") for c in columns) if columns else " ".join(row.values())
            found = geocode(query.strip()) or {"result_status": "not-found"}
            writer.writerow([*row.values(), *(found.get(c, "") for c in CSV_RESULT_COLUMNS)])
        return Response(200, out.getvalue().encode(), content_type="text/csv; charset=utf-8")

    return VendorApp(
        name="addresses",
        base_path="",
        routes=[("GET", r"/search/", search), ("POST", r"/search/csv/", search_csv)],
        env={"DATA_GCP_ADDRESSES_BASE_URL": "{base_url}"},
        emptied=_csv_header_only,
    )
