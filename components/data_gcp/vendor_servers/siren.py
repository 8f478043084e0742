"""INSEE Sirene API 3.11: `GET /siren?q=siren:A OR siren:B ...` over legal units.

Every 9-digit SIREN gets deterministic data (so the sandbox offerers' SIRENs, and any other, always
answer the same), except about one in 25 that Sirene "does not know"; a search matching nothing
answers 404 "Aucun élément trouvé", as the real API does. Answers follow the real shape:
`{"header": {...}, "unitesLegales": [{..., "periodesUniteLegale": [current, older...]}]}`.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp

LOCAL_KEY = "local-insee-key-0005"
MAX_PER_PAGE = 1000
_SIREN_TERM = re.compile(r"siren:(\d{9})\b")
_NAMES = ["Librairie", "Cinéma", "Théâtre", "Compagnie", "Musée", "Festival", "Atelier", "Maison"]
_PLACES = ["du Centre", "des Arts", "de la Gare", "du Port", "des Lilas", "Lumière", "du Nord", "Bleue"]
# (legal category, NAF code) pairs typical of cultural offerers; 1000 = sole trader (no denomination)
_KINDS = [
    ("5710", "47.61Z"),
    ("5499", "59.14Z"),
    ("9220", "90.01Z"),
    ("7210", "91.01Z"),
    ("7389", "91.02Z"),
    ("1000", "90.03A"),
]
_BANDS = ["NN", "00", "01", "02", "03", "11", "12", "21"]


def _rng(siren: str) -> random.Random:
    return random.Random(int(hashlib.sha256(siren.encode()).hexdigest()[:12], 16))


def is_known(siren: str) -> bool:
    """Whether Sirene knows this SIREN (deterministic: about 24 in 25 are known)."""
    return _rng(siren).random() >= 0.04


def unite_legale(siren: str) -> dict[str, Any]:
    """The `unitesLegales[]` element of a known SIREN (same answer on every call)."""
    rng = _rng(siren)
    rng.random()  # the is_known draw
    category, naf = rng.choice(_KINDS)
    created = f"{rng.randint(1950, 2023)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    closed = rng.random() < 0.1
    sole_trader = category == "1000"
    name = f"{rng.choice(_NAMES)} {rng.choice(_PLACES)}"
    current = {
        "dateFin": None,
        "dateDebut": f"{rng.randint(2024, 2025)}-{rng.randint(1, 12):02d}-01" if closed else created,
        "etatAdministratifUniteLegale": "C" if closed else "A",
        "changementEtatAdministratifUniteLegale": closed,
        "nomUniteLegale": name.split()[-1].upper() if sole_trader else None,
        "nomUsageUniteLegale": None,
        "denominationUniteLegale": None if sole_trader else name.upper(),
        "categorieJuridiqueUniteLegale": category,
        "activitePrincipaleUniteLegale": naf,
        "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
        "economieSocialeSolidaireUniteLegale": "O" if category == "9220" else "N",
        "caractereEmployeurUniteLegale": "N",
    }
    periods = [current]
    if closed:
        periods.append(
            dict(current, dateFin=current["dateDebut"], dateDebut=created, etatAdministratifUniteLegale="A")
        )
    return {
        "siren": siren,
        "statutDiffusionUniteLegale": "O",
        "dateCreationUniteLegale": created,
        "sigleUniteLegale": None,
        "prenom1UniteLegale": "Camille" if sole_trader else None,
        "prenomUsuelUniteLegale": "Camille" if sole_trader else None,
        "identifiantAssociationUniteLegale": None,
        "trancheEffectifsUniteLegale": rng.choice(_BANDS),
        "anneeEffectifsUniteLegale": "2022",
        "dateDernierTraitementUniteLegale": "2025-01-10T10:20:30.000",
        "nombrePeriodesUniteLegale": len(periods),
        "categorieEntreprise": "PME",
        "anneeCategorieEntreprise": "2022",
        "periodesUniteLegale": periods,
    }


def build(data: SandboxData, **_: object) -> VendorApp:
    def auth(request: Request) -> Response | None:
        if request.header("X-INSEE-Api-Key-Integration") != LOCAL_KEY:
            return Response(
                401,
                {
                    "fault": {
                        "code": 900901,
                        "message": "Invalid Credentials",
                        "description": "Invalid API key",
                    }
                },
            )
        return None

    def search(request: Request) -> Response:
        q = request.param("q") or ""
        sirens = list(dict.fromkeys(_SIREN_TERM.findall(q)))
        if not sirens:
            return Response(
                400, {"header": {"statut": 400, "message": "Erreur de syntaxe dans le paramètre q"}}
            )
        nombre = request.int_param("nombre", 20)
        debut = request.int_param("debut", 0)
        if nombre > MAX_PER_PAGE:
            return Response(
                400, {"header": {"statut": 400, "message": f"nombre doit être <= {MAX_PER_PAGE}"}}
            )
        units = [unite_legale(s) for s in sorted(sirens) if is_known(s)]
        if not units:
            return Response(404, {"header": {"statut": 404, "message": f"Aucun élément trouvé pour q={q}"}})
        page = units[debut : debut + nombre]
        return Response(
            200,
            {
                "header": {
                    "statut": 200,
                    "message": "OK",
                    "total": len(units),
                    "debut": debut,
                    "nombre": len(page),
                },
                "unitesLegales": page,
            },
        )

    return VendorApp(
        name="siren",
        base_path="/api-sirene/3.11",
        routes=[("GET", "/siren", search)],
        auth=auth,
        env={"DATA_GCP_SIREN_BASE_URL": "{base_url}", "INSEE_API_KEY": LOCAL_KEY},
    )
