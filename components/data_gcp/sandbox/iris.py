"""The IRIS reference file for the local import bucket (`seed_files` table `geo_iris`).

Why a grid: real IRIS contours are polygons (IGN's "Contours IRIS"); the sandbox places users and
venues around each department's main city (`geo.DEPARTMENTS`, a spread of about 0.12 degree of
latitude), so a grid of rectangles around each city covers nearly every sandbox location and lets
dbt place a point in its IRIS with plain comparisons (no spatial extension).
"""

from __future__ import annotations

from data_gcp.sandbox.geo import DEPARTMENTS
from data_gcp.sandbox.locations import commune_code

GRID = 4  # cells per side around each main city
HALF_LAT, HALF_LON = 0.5, 0.6  # the grid's half extent in degrees (about 4 standard deviations)


def iris_rows() -> list[tuple]:
    """One row per IRIS: code, label, commune, department, centroid and bounding box."""
    rows = []
    for code, city, _postal, lat, lon, _weight in DEPARTMENTS:
        commune = commune_code(code)
        step_lat, step_lon = 2 * HALF_LAT / GRID, 2 * HALF_LON / GRID
        for i in range(GRID):
            for j in range(GRID):
                number = i * GRID + j + 1
                south, west = lat - HALF_LAT + i * step_lat, lon - HALF_LON + j * step_lon
                rows.append(
                    (
                        f"{commune}{number:04d}",
                        f"{city} {number:02d}",
                        commune,
                        city,
                        code,
                        round(south + step_lat / 2, 6),
                        round(west + step_lon / 2, 6),
                        round(south, 6),
                        round(south + step_lat, 6),
                        round(west, 6),
                        round(west + step_lon, 6),
                    )
                )
    return rows


IRIS_HEADER = [
    "iris_code",
    "iris_label",
    "city_code",
    "city_label",
    "department_code",
    "centroid_latitude",
    "centroid_longitude",
    "min_latitude",
    "max_latitude",
    "min_longitude",
    "max_longitude",
]
