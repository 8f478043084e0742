"""Plausible reference files for the local import bucket: what the data team keeps by hand as seeds.

The departments are those the sandbox places users and venues in (`geo.DEPARTMENTS`), so that every
user and venue gets a region; priority districts (QPV) are real ones, some in the postal codes of sandbox
cities (about a fifth of sandbox users then live in a postal code with a QPV); rural areas (ZRR) are real small rural communes (none of the sandbox's
main cities is one, as in reality). Files follow the bucket's layout:
`bigquery_imports/seed/{table}/{table}_YYYYMMDD.(csv|parquet)`; ZRR uses `;` (as the INSEE file does)
and the book macro-sections are Parquet, so both readers are exercised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq

from data_gcp.config import Settings, get_settings
from data_gcp.sandbox.census import CENSUS_HEADER, census_rows
from data_gcp.sandbox.geo import DEPARTMENTS
from data_gcp.sandbox.iris import IRIS_HEADER, iris_rows

SEED_FILE_DATE = dt.date(2026, 1, 5)  # fixed: re-generating writes the same files
SEED_PREFIX = "bigquery_imports/seed"

# department code -> (department name, region code, region name)
REGIONS: dict[str, tuple[str, str, str]] = {
    "75": ("Paris", "11", "Île-de-France"),
    "93": ("Seine-Saint-Denis", "11", "Île-de-France"),
    "92": ("Hauts-de-Seine", "11", "Île-de-France"),
    "94": ("Val-de-Marne", "11", "Île-de-France"),
    "91": ("Essonne", "11", "Île-de-France"),
    "78": ("Yvelines", "11", "Île-de-France"),
    "95": ("Val-d'Oise", "11", "Île-de-France"),
    "77": ("Seine-et-Marne", "11", "Île-de-France"),
    "13": ("Bouches-du-Rhône", "93", "Provence-Alpes-Côte d'Azur"),
    "06": ("Alpes-Maritimes", "93", "Provence-Alpes-Côte d'Azur"),
    "69": ("Rhône", "84", "Auvergne-Rhône-Alpes"),
    "38": ("Isère", "84", "Auvergne-Rhône-Alpes"),
    "63": ("Puy-de-Dôme", "84", "Auvergne-Rhône-Alpes"),
    "59": ("Nord", "32", "Hauts-de-France"),
    "62": ("Pas-de-Calais", "32", "Hauts-de-France"),
    "31": ("Haute-Garonne", "76", "Occitanie"),
    "34": ("Hérault", "76", "Occitanie"),
    "33": ("Gironde", "75", "Nouvelle-Aquitaine"),
    "87": ("Haute-Vienne", "75", "Nouvelle-Aquitaine"),
    "44": ("Loire-Atlantique", "52", "Pays de la Loire"),
    "67": ("Bas-Rhin", "44", "Grand Est"),
    "57": ("Moselle", "44", "Grand Est"),
    "35": ("Ille-et-Vilaine", "53", "Bretagne"),
    "29": ("Finistère", "53", "Bretagne"),
    "76": ("Seine-Maritime", "28", "Normandie"),
    "21": ("Côte-d'Or", "27", "Bourgogne-Franche-Comté"),
    "2A": ("Corse-du-Sud", "94", "Corse"),
    "2B": ("Haute-Corse", "94", "Corse"),
    "971": ("Guadeloupe", "01", "Guadeloupe"),
    "972": ("Martinique", "02", "Martinique"),
    "973": ("Guyane", "03", "Guyane"),
    "974": ("La Réunion", "04", "La Réunion"),
    "976": ("Mayotte", "06", "Mayotte"),
}

# qpv code, name, commune code, commune, postal code, department, population
QPV: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    ("QN07512M", "Porte Montmartre - Porte de Clignancourt", "75118", "Paris 18e", "75018", "75", 16400),
    ("QN09320M", "Franc Moisin - Bel Air", "93066", "Saint-Denis", "93200", "93", 11200),
    ("QN09116M", "Pyramides - Bois Sauvageon", "91228", "Évry-Courcouronnes", "91000", "91", 9800),
    ("QN09504M", "Axe Majeur - Horloge", "95127", "Cergy", "95000", "95", 8300),
    ("QN01314M", "Frais Vallon - Le Petit Séminaire", "13213", "Marseille 13e", "13013", "13", 7900),
    ("QN05907M", "Lille Sud", "59350", "Lille", "59000", "59", 19100),
    ("QN97101M", "Centre-Ville", "97120", "Pointe-à-Pitre", "97110", "971", 9400),
    ("QN97302M", "Centre Ancien", "97302", "Cayenne", "97300", "973", 7600),
    ("QN97402M", "Le Chaudron", "97411", "Saint-Denis", "97400", "974", 8100),
    ("QN97601M", "Kawéni", "97611", "Mamoudzou", "97600", "976", 15300),
)

# commune code, commune, postal code, department, status (C classified, P partly)
ZRR: tuple[tuple[str, str, str, str, str], ...] = (
    ("87064", "Eymoutiers", "87120", "87", "C"),
    ("63003", "Ambert", "63600", "63", "C"),
    ("29024", "Carhaix-Plouguer", "29270", "29", "C"),
    ("21154", "Châtillon-sur-Seine", "21400", "21", "C"),
    ("2A272", "Sartène", "20100", "2A", "C"),
    ("97311", "Saint-Laurent-du-Maroni", "97320", "973", "C"),
    ("97353", "Maripasoula", "97370", "973", "C"),
    ("57089", "Bitche", "57230", "57", "C"),
    ("34285", "Saint-Pons-de-Thomières", "34220", "34", "P"),
)

MACRO_RAYONS: tuple[tuple[str, str], ...] = (
    ("Romans & Nouvelles", "Littérature"),
    ("Romans policiers", "Littérature"),
    ("Science-fiction", "Littérature"),
    ("Poésie", "Littérature"),
    ("Bandes dessinées", "Bandes dessinées"),
    ("Mangas", "Bandes dessinées"),
    ("Albums jeunesse", "Jeunesse"),
    ("Romans jeunesse", "Jeunesse"),
    ("Parascolaire", "Scolaire"),
    ("Dictionnaires", "Scolaire"),
    ("Histoire", "Sciences humaines"),
    ("Philosophie", "Sciences humaines"),
    ("Cuisine", "Vie pratique"),
    ("Loisirs créatifs", "Vie pratique"),
    ("Beaux livres", "Arts"),
)


def _csv(header: list[str], rows: list[tuple], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def seed_files() -> dict[str, bytes]:
    """Bucket key -> file content, for every reference table."""
    stamp = SEED_FILE_DATE.strftime("%Y%m%d")
    sandbox_departments = {d[0] for d in DEPARTMENTS}
    missing = sandbox_departments - set(REGIONS)
    if missing:
        raise ValueError(f"sandbox departments without a region: {sorted(missing)}")
    regions = [(code, *REGIONS[code]) for code in REGIONS]
    parquet = io.BytesIO()
    pq.write_table(
        pa.table({"rayon": [r for r, _ in MACRO_RAYONS], "macro_rayon": [m for _, m in MACRO_RAYONS]}),
        parquet,
    )

    def key(table: str, ext: str) -> str:
        return f"{SEED_PREFIX}/{table}/{table}_{stamp}.{ext}"

    return {
        key("iris_socio_demographics", "csv"): _csv(CENSUS_HEADER, census_rows()),
        key("region_department", "csv"): _csv(
            ["department_code", "department_name", "region_code", "region_name"], regions
        ),
        key("qpv", "csv"): _csv(
            [
                "qpv_code",
                "qpv_name",
                "commune_code",
                "commune_name",
                "postal_code",
                "department_code",
                "population",
            ],
            list(QPV),
        ),
        key("zrr", "csv"): _csv(
            ["commune_code", "commune_name", "postal_code", "department_code", "zrr_status"], list(ZRR), ";"
        ),
        key("macro_rayons", "parquet"): parquet.getvalue(),
        key("geo_iris", "csv"): _csv(IRIS_HEADER, iris_rows()),
    }


def import_bucket(settings: Settings) -> str:
    """The import bucket's name in this environment (what the `seed_files` connector reads)."""
    return f"de-bigquery-data-import-{settings.env.value}"


def write_seed_files(settings: Settings | None = None, only_missing: bool = False) -> list[str]:
    """Write the reference files into the local import bucket; returns the keys written."""
    from data_gcp.storage import get_storage

    settings = settings or get_settings()
    storage = get_storage(settings, bucket=import_bucket(settings))
    written = []
    for key, data in seed_files().items():
        if only_missing and storage.exists(key):
            continue
        storage.put_bytes(key, data)
        written.append(key)
    return written
