"""Adage (Omogen gateway): cultural partners and pass Culture statistics per school year.

Partners are the sandbox's physical venues (two in three are Adage partners), with their venue id,
SIRET, city and department, so dbt can link venues to partners. Modification dates are spread over
the 120 days before the sandbox's last day (never the wall clock). `app.state["renamed"]` (partner id
-> new name) lets a test change a partner between two runs (the update must replace the row).
Statistics: every level x each school department, and per region without levels, keyed by ids
as the original platform's job reads them, for any school year id (first year = id + 2014).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from data_gcp.vendor_servers.addresses import AREAS
from data_gcp.vendor_servers.data import FAKE_LAST_DAY, SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, json_error

LOCAL_KEY = "local-adage-omogen-key-0005"
YEAR_ID_OFFSET = 2014
LEVELS = ("6e", "5e", "4e", "3e", "2nde", "1ere", "Tle", "CAP")
TYPES = ("Musée", "Cinéma", "Théâtre", "Bibliothèque", "Compagnie", "Festival")
DOMAINS = ("Arts visuels", "Cinéma, audiovisuel", "Patrimoine", "Théâtre", "Musique", "Univers du livre")


def build(data: SandboxData, **_: object) -> VendorApp:
    last_day = data.last_day or FAKE_LAST_DAY
    state: dict[str, Any] = {"renamed": {}}
    partners = []
    for venue in data.venues:
        rng = random.Random(f"{data.seed}-adage-{venue['venue_id']}")
        if rng.random() >= 2 / 3:
            continue
        modified = dt.datetime.combine(last_day, dt.time(9)) - dt.timedelta(
            days=rng.randrange(0, 120), minutes=rng.randrange(0, 600)
        )
        partners.append(
            {
                "id": 10_000 + int(venue["venue_id"]),
                "venueId": int(venue["venue_id"]),
                "siret": venue.get("siret"),
                "libelle": venue.get("name"),
                "typeId": rng.randrange(1, len(TYPES) + 1),
                "typeLibelle": rng.choice(TYPES),
                "statutLibelle": rng.choice(["Public", "Privé"]),
                "labelLibelle": rng.choice(
                    [None, "Musée de France", "Scène nationale", "Cinéma Art et Essai"]
                ),
                "domaines": "|".join(rng.sample(DOMAINS, rng.randrange(1, 3))),
                "communeLibelle": venue.get("city"),
                "communeDepartement": venue.get("department_code"),
                "regionLibelle": AREAS.get(str(venue.get("department_code")), (None, None, None))[1],
                "academieLibelle": None,
                "latitude": venue.get("latitude"),
                "longitude": venue.get("longitude"),
                "actif": 1 if rng.random() < 0.95 else 0,
                "synchroPass": 1,
                "dateModification": modified.strftime("%Y-%m-%d %H:%M:%S"),
                "unknownField": "vendors add fields",
            }
        )

    def auth(request: Request) -> Response | None:
        if request.header("X-omogen-api-key") != LOCAL_KEY:
            return json_error(401, "Clé d'API Omogen invalide")
        return None

    def list_partners(request: Request) -> Response:
        since = request.param("dateModificationMin")
        if not since:
            return json_error(400, "dateModificationMin est obligatoire")
        try:
            since_at = dt.datetime.strptime(since, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return json_error(400, "dateModificationMin: format AAAA-MM-JJ HH:MM:SS attendu")
        out = []
        for p in partners:
            if dt.datetime.strptime(p["dateModification"], "%Y-%m-%d %H:%M:%S") >= since_at:
                renamed = state["renamed"].get(p["id"])
                out.append({**p, "libelle": renamed} if renamed else p)
        return Response(200, out)

    def stats(request: Request) -> Response:
        """Objects keyed by department, academy and region ids (the original platform's job reads
        `{departements|academies|regions: {id: {<name>, eleves, totalEleves, etabs, totalEtabs,
        niveaux: {level: {eleves, totalEleves}}}}}`); regions carry no levels (`niveaux: []`)."""
        year_id = int(request.path.rsplit("/", 1)[-1])
        first = year_id + YEAR_ID_OFFSET
        departements: dict[str, Any] = {}
        regions: dict[str, dict[str, Any]] = {}
        for dept in data.school_departments or ["75"]:
            levels, etabs = {}, 0
            for level in LEVELS:
                rng = random.Random(f"{data.seed}-adage-stats-{first}-{dept}-{level}")
                total = rng.randrange(2_000, 20_000)
                levels[level] = {"eleves": int(total * rng.uniform(0.05, 0.6)), "totalEleves": total}
                etabs += rng.randrange(5, 120)
            entry = {
                "eleves": sum(v["eleves"] for v in levels.values()),
                "totalEleves": sum(v["totalEleves"] for v in levels.values()),
                "etabs": etabs,
                "totalEtabs": etabs * 2,
            }
            departements[str(100 + len(departements))] = {"departement": dept, **entry, "niveaux": levels}
            region = AREAS.get(str(dept), (None, "Autre", None))[1]
            agg = regions.setdefault(
                region, {"region": region, "eleves": 0, "totalEleves": 0, "etabs": 0, "totalEtabs": 0}
            )
            for key in ("eleves", "totalEleves", "etabs", "totalEtabs"):
                agg[key] += entry[key]
        answer = {
            "departements": departements,
            "academies": [],  # PHP's empty array: no academy figures this year
            "regions": {str(i + 1): {**v, "niveaux": []} for i, v in enumerate(regions.values())},
        }
        return Response(200, answer)

    app = VendorApp(
        name="adage",
        base_path="/adage-api/v1",
        routes=[
            ("GET", r"/partenaire-culturel", list_partners),
            ("GET", r"/stats-pass-culture/\d+", stats),
        ],
        auth=auth,
        env={"DATA_GCP_ADAGE_BASE_URL": "{base_url}", "ADAGE_API_KEY": LOCAL_KEY},
    )
    app.emptied = lambda r: (  # the "empty" fault: every group empty (PHP's `[]`), partners an empty list
        Response(r.status, {k: [] for k in r.body}, r.headers, r.content_type)
        if isinstance(r.body, dict)
        else Response(r.status, [], r.headers, r.content_type)
    )
    app.state = state  # type: ignore[attr-defined]
    app.partners = partners  # type: ignore[attr-defined]
    return app
