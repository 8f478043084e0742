"""Neighbourhood statistics per IRIS for the local import bucket (`seed_files` table
`iris_socio_demographics`), as INSEE publishes them (population by age, income deciles, social and
occupational categories of the people aged 15 or more, nationality).

Why synthetic and deterministic: the figures only need to be plausible and stable for the marts
that join them to users and venues; each IRIS's draw depends on its code alone, so the file is the
same at every generation.
"""

from __future__ import annotations

import random

from data_gcp.sandbox.iris import iris_rows

# shares of the population aged 15 or more per social and occupational category (INSEE CS1 to CS8)
CSP_SHARES = (0.008, 0.035, 0.10, 0.14, 0.16, 0.12, 0.27, 0.167)

CENSUS_HEADER = [
    "iris_code",
    "total_population",
    "population_15_years_or_more",
    "population_11_17_years",
    "population_18_24_years",
    "revenue_q10",
    "revenue_q50",
    "revenue_q90",
    *[f"csp_{i}" for i in range(1, 9)],
    "french_population",
    "foreign_population",
]


def census_rows() -> list[tuple]:
    """One row per IRIS of the reference file: denser and richer near the city centre."""
    rows = []
    for code, *_rest in iris_rows():
        rng = random.Random(f"census-{code}")
        cell = int(code[-4:]) - 1  # 4 x 4 grid: the four central cells are the city centre
        central = (cell // 4) in (1, 2) and (cell % 4) in (1, 2)
        total = int(rng.uniform(1800, 4200) if central else rng.uniform(600, 2600))
        adults = int(total * rng.uniform(0.78, 0.86))
        median = round(rng.uniform(19000, 30000) * (1.15 if central else 1.0), -1)
        csp = [int(adults * share * rng.uniform(0.7, 1.3)) for share in CSP_SHARES]
        foreign = int(total * rng.uniform(0.02, 0.18))
        rows.append(
            (
                code,
                total,
                adults,
                int(total * rng.uniform(0.06, 0.10)),
                int(total * rng.uniform(0.07, 0.14 if central else 0.10)),
                round(median * rng.uniform(0.35, 0.5), -1),
                median,
                round(median * rng.uniform(1.9, 2.6), -1),
                *csp,
                total - foreign,
                foreign,
            )
        )
    return rows
