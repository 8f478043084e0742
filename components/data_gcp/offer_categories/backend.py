"""The taxonomy as the backend's public referential answers it (`GET /native/v1/subcategories/v2`).

Why here: this brick is the single source of truth of the local taxonomy; the fake backend serves this
answer and the `api_referentials` connector loads it into `raw.subcategories`, so local and cloud runs
read the referential from the same producer. Field names follow the backend's public API (camelCase).
"""

from __future__ import annotations

from typing import Any

from data_gcp.offer_categories.core import SUBCATEGORIES, Subcategory

# search group name -> label shown in the app's search
SEARCH_GROUP_LABELS: dict[str, str] = {
    "CD_VINYLE_MUSIQUE_EN_LIGNE": "CD, vinyles, musique en ligne",
    "CINEMA": "Cinéma",
    "CONCERTS_FESTIVALS": "Concerts & festivals",
    "COURS_ATELIERS": "Cours & ateliers",
    "FILMS_SERIES": "Films, séries",
    "INSTRUMENTS": "Instruments de musique",
    "JEUX": "Jeux",
    "LIVRES": "Livres",
    "MUSEES_VISITES_CULTURELLES": "Musées & visites culturelles",
    "PRESSE": "Presse en ligne",
    "RENCONTRES_CONFERENCES": "Conférences & rencontres",
    "SPECTACLES": "Spectacles",
}

# Offer types ("genreTypes" of the answer): per domain, types and their sub-types (code, label).
# A faithful subset of the backend's music and show trees, movie genres and book macro-sections.
GENRE_TREES: dict[str, tuple[tuple[int | str, str, tuple[tuple[int | str, str], ...]], ...]] = {
    "MUSIC": (
        (501, "Jazz", ((502, "Acid Jazz"), (503, "Avant-Garde Jazz"), (504, "Bebop"))),
        (520, "Blues", ((521, "Blues Acoustique"), (522, "Blues Contemporain"))),
        (800, "Pop", ((801, "Britpop"), (802, "Pop Rock"), (803, "Synthpop"))),
        (900, "Hip-Hop/Rap", ((901, "Rap Français"), (902, "Hip Hop"))),
        (600, "Classique", ((601, "Avant-garde"), (602, "Baroque"), (603, "Opéra"))),
    ),
    "SHOW": (
        (100, "Arts de la rue", ((101, "Carnaval"), (102, "Fanfare"))),
        (200, "Cirque", ((201, "Cirque Contemporain"), (202, "Cirque Hors les murs"))),
        (400, "Humour / Café-théâtre", ((401, "Café Théâtre"), (402, "Stand Up"))),
        (1200, "Théâtre", ((1201, "Boulevard"), (1202, "Classique"), (1203, "Contemporain"))),
    ),
    "MOVIE": (
        ("ACTION", "Action", ()),
        ("ANIMATION", "Animation", ()),
        ("COMEDY", "Comédie", ()),
        ("DOCUMENTARY", "Documentaire", ()),
        ("DRAMA", "Drame", ()),
    ),
    "BOOK": (
        ("ROMANS", "Romans", (("01010000", "Romans & Nouvelles"), ("01020000", "Romans policiers"))),
        ("BD", "Bandes dessinées", (("03010000", "Bandes dessinées"), ("03020000", "Mangas"))),
        ("JEUNESSE", "Jeunesse", (("02010000", "Albums jeunesse"), ("02020000", "Romans jeunesse"))),
        ("SCOLAIRE", "Scolaire", (("04010000", "Parascolaire"),)),
    ),
}


def _subcategory_v2(s: Subcategory) -> dict[str, Any]:
    return {
        "id": s.id,
        "categoryId": s.category_id,
        "appLabel": s.app_label,
        "searchGroupName": s.search_group_name,
        "homepageLabelName": s.search_group_name,
        "isEvent": s.is_event,
        "onlineOfflinePlatform": "ONLINE" if s.is_digital else "OFFLINE",
        "canBeDuo": s.can_be_duo,
        "isDigitalDeposit": s.is_digital,
        "isPhysicalDeposit": s.is_physical_deposit,
        "reimbursementRule": "BOOK" if s.category_id == "LIVRE" else "STANDARD",
    }


def backend_subcategories_v2() -> dict[str, Any]:
    """The JSON answer of `GET /native/v1/subcategories/v2` for the local taxonomy."""
    return {
        "subcategories": [_subcategory_v2(s) for s in SUBCATEGORIES],
        "searchGroups": [{"name": name, "value": label} for name, label in SEARCH_GROUP_LABELS.items()],
        "genreTypes": [
            {
                "name": domain,
                "values": [{"name": str(code), "value": label} for code, label, _ in trees],
                "trees": [
                    {
                        "code": code,
                        "label": label,
                        "children": [{"code": c, "label": lbl} for c, lbl in children],
                    }
                    for code, label, children in trees
                ],
            }
            for domain, trees in GENRE_TREES.items()
        ],
    }
