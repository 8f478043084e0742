"""A faithful subset of the backend's subcategories, with relative booking weights per category."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Subcategory:
    id: str
    category_id: str
    app_label: str
    search_group_name: str
    is_event: bool
    is_digital: bool
    can_be_duo: bool
    is_physical_deposit: bool
    venue_type_code: str
    price_min: float
    price_max: float


S = Subcategory
SUBCATEGORIES: tuple[Subcategory, ...] = (
    S("LIVRE_PAPIER", "LIVRE", "Livre papier", "LIVRES", False, False, False, True, "BOOKSTORE", 5, 35),
    S("LIVRE_NUMERIQUE", "LIVRE", "Livre numérique", "LIVRES", False, True, False, False, "DIGITAL", 3, 20),
    S(
        "LIVRE_AUDIO_PHYSIQUE",
        "LIVRE",
        "Livre audio sur support physique",
        "LIVRES",
        False,
        False,
        False,
        True,
        "BOOKSTORE",
        10,
        30,
    ),
    S("SEANCE_CINE", "CINEMA", "Séance de cinéma", "CINEMA", True, False, True, False, "MOVIE", 4, 12),
    S(
        "CARTE_CINE_ILLIMITE",
        "CINEMA",
        "Carte cinéma illimité",
        "CINEMA",
        False,
        False,
        False,
        False,
        "MOVIE",
        20,
        35,
    ),
    S(
        "CONCERT",
        "MUSIQUE_LIVE",
        "Concert",
        "CONCERTS_FESTIVALS",
        True,
        False,
        True,
        False,
        "CONCERT_HALL",
        10,
        80,
    ),
    S(
        "FESTIVAL_MUSIQUE",
        "MUSIQUE_LIVE",
        "Festival de musique",
        "CONCERTS_FESTIVALS",
        True,
        False,
        True,
        False,
        "CONCERT_HALL",
        30,
        150,
    ),
    S(
        "SUPPORT_PHYSIQUE_MUSIQUE_CD",
        "MUSIQUE_ENREGISTREE",
        "CD",
        "CD_VINYLE_MUSIQUE_EN_LIGNE",
        False,
        False,
        False,
        True,
        "RECORD_STORE",
        8,
        25,
    ),
    S(
        "SUPPORT_PHYSIQUE_MUSIQUE_VINYLE",
        "MUSIQUE_ENREGISTREE",
        "Vinyle",
        "CD_VINYLE_MUSIQUE_EN_LIGNE",
        False,
        False,
        False,
        True,
        "RECORD_STORE",
        15,
        40,
    ),
    S(
        "ABO_PLATEFORME_MUSIQUE",
        "MUSIQUE_ENREGISTREE",
        "Abonnement musique en ligne",
        "CD_VINYLE_MUSIQUE_EN_LIGNE",
        False,
        True,
        False,
        False,
        "DIGITAL",
        10,
        60,
    ),
    S(
        "ACHAT_INSTRUMENT",
        "INSTRUMENT",
        "Achat instrument",
        "INSTRUMENTS",
        False,
        False,
        False,
        True,
        "MUSICAL_INSTRUMENT_STORE",
        20,
        250,
    ),
    S(
        "SPECTACLE_REPRESENTATION",
        "SPECTACLE",
        "Spectacle, représentation",
        "SPECTACLES",
        True,
        False,
        True,
        False,
        "PERFORMING_ARTS",
        8,
        60,
    ),
    S(
        "FESTIVAL_SPECTACLE",
        "SPECTACLE",
        "Festival de spectacle vivant",
        "SPECTACLES",
        True,
        False,
        True,
        False,
        "PERFORMING_ARTS",
        15,
        90,
    ),
    S("VISITE", "MUSEE", "Visite", "MUSEES_VISITES_CULTURELLES", True, False, True, False, "MUSEUM", 0, 20),
    S(
        "VISITE_GUIDEE",
        "MUSEE",
        "Visite guidée",
        "MUSEES_VISITES_CULTURELLES",
        True,
        False,
        True,
        False,
        "MUSEUM",
        5,
        25,
    ),
    S(
        "MUSEE_VENTE_DISTANCE",
        "MUSEE",
        "Musée vente à distance",
        "MUSEES_VISITES_CULTURELLES",
        False,
        True,
        False,
        False,
        "DIGITAL",
        5,
        20,
    ),
    S(
        "ATELIER_PRATIQUE_ART",
        "PRATIQUE_ART",
        "Atelier, stage de pratique artistique",
        "COURS_ATELIERS",
        True,
        False,
        False,
        False,
        "ARTISTIC_COURSE",
        10,
        120,
    ),
    S(
        "ABO_PRATIQUE_ART",
        "PRATIQUE_ART",
        "Abonnement pratique artistique",
        "COURS_ATELIERS",
        False,
        False,
        False,
        False,
        "ARTISTIC_COURSE",
        30,
        200,
    ),
    S(
        "SEANCE_ESSAI_PRATIQUE_ART",
        "PRATIQUE_ART",
        "Séance d'essai",
        "COURS_ATELIERS",
        True,
        False,
        False,
        False,
        "ARTISTIC_COURSE",
        0,
        15,
    ),
    S(
        "ABO_PLATEFORME_VIDEO",
        "FILM",
        "Abonnement plateforme streaming",
        "FILMS_SERIES",
        False,
        True,
        False,
        False,
        "DIGITAL",
        5,
        60,
    ),
    S(
        "SUPPORT_PHYSIQUE_FILM",
        "FILM",
        "Support physique (DVD, Blu-ray)",
        "FILMS_SERIES",
        False,
        False,
        False,
        True,
        "RECORD_STORE",
        8,
        30,
    ),
    S(
        "ABO_PRESSE_EN_LIGNE",
        "MEDIA",
        "Abonnement presse en ligne",
        "PRESSE",
        False,
        True,
        False,
        False,
        "DIGITAL",
        5,
        80,
    ),
    S("JEU_EN_LIGNE", "JEU", "Jeux en ligne", "JEUX", False, True, False, False, "DIGITAL", 5, 40),
    S(
        "CONFERENCE",
        "CONFERENCE_RENCONTRE",
        "Conférence",
        "RENCONTRES_CONFERENCES",
        True,
        False,
        False,
        False,
        "LIBRARY",
        0,
        15,
    ),
)

# Share of bookings per category (books first by far, then cinema, music, shows, museums, practice, ...).
CATEGORY_BOOKING_WEIGHTS: dict[str, float] = {
    "LIVRE": 0.45,
    "CINEMA": 0.16,
    "MUSIQUE_LIVE": 0.07,
    "MUSIQUE_ENREGISTREE": 0.06,
    "INSTRUMENT": 0.03,
    "SPECTACLE": 0.06,
    "MUSEE": 0.05,
    "PRATIQUE_ART": 0.04,
    "FILM": 0.03,
    "MEDIA": 0.02,
    "JEU": 0.02,
    "CONFERENCE_RENCONTRE": 0.01,
}

_BY_ID = {s.id: s for s in SUBCATEGORIES}


def subcategory(subcategory_id: str) -> Subcategory:
    """Look up one subcategory; unknown ids raise KeyError naming the id."""
    try:
        return _BY_ID[subcategory_id]
    except KeyError:
        raise KeyError(f"unknown offer subcategory {subcategory_id!r}") from None


def subcategories_table() -> pa.Table:
    """The referential as the `raw.subcategories` table."""
    return pa.Table.from_pylist([asdict(s) for s in SUBCATEGORIES])
