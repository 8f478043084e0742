"""French departments the sandbox places users and venues in (mainland and overseas).

Weights follow the young population roughly; coordinates are the main city's.
"""

from __future__ import annotations

import random
import unicodedata

# code, main city, postal code, latitude, longitude, weight
DEPARTMENTS: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("75", "Paris", "75011", 48.8566, 2.3522, 9.0),
    ("93", "Saint-Denis", "93200", 48.9362, 2.3574, 5.0),
    ("92", "Nanterre", "92000", 48.8924, 2.2069, 4.5),
    ("94", "Créteil", "94000", 48.7904, 2.4556, 4.0),
    ("91", "Évry-Courcouronnes", "91000", 48.6299, 2.4410, 3.5),
    ("78", "Versailles", "78000", 48.8049, 2.1204, 3.5),
    ("95", "Cergy", "95000", 49.0364, 2.0761, 3.5),
    ("77", "Melun", "77000", 48.5421, 2.6554, 3.5),
    ("13", "Marseille", "13001", 43.2965, 5.3698, 6.0),
    ("69", "Lyon", "69001", 45.7640, 4.8357, 6.0),
    ("59", "Lille", "59000", 50.6292, 3.0573, 7.0),
    ("31", "Toulouse", "31000", 43.6047, 1.4442, 4.5),
    ("33", "Bordeaux", "33000", 44.8378, -0.5792, 4.5),
    ("44", "Nantes", "44000", 47.2184, -1.5536, 4.0),
    ("67", "Strasbourg", "67000", 48.5734, 7.7521, 3.5),
    ("06", "Nice", "06000", 43.7102, 7.2620, 3.0),
    ("34", "Montpellier", "34000", 43.6108, 3.8767, 3.5),
    ("35", "Rennes", "35000", 48.1173, -1.6778, 3.5),
    ("62", "Arras", "62000", 50.2910, 2.7775, 4.5),
    ("38", "Grenoble", "38000", 45.1885, 5.7245, 3.5),
    ("76", "Rouen", "76000", 49.4432, 1.0999, 3.5),
    ("57", "Metz", "57000", 49.1193, 6.1757, 3.0),
    ("29", "Brest", "29200", 48.3904, -4.4861, 2.5),
    ("63", "Clermont-Ferrand", "63000", 45.7772, 3.0870, 2.0),
    ("21", "Dijon", "21000", 47.3220, 5.0415, 1.8),
    ("87", "Limoges", "87000", 45.8336, 1.2611, 1.2),
    ("2A", "Ajaccio", "20000", 41.9192, 8.7386, 0.5),
    ("971", "Pointe-à-Pitre", "97110", 16.2411, -61.5331, 1.2),
    ("972", "Fort-de-France", "97200", 14.6161, -61.0588, 1.1),
    ("973", "Cayenne", "97300", 4.9224, -52.3135, 1.0),
    ("974", "Saint-Denis", "97400", -20.8821, 55.4507, 2.6),
    ("976", "Mamoudzou", "97600", -12.7806, 45.2279, 1.0),
)

# Street names found in most French towns; a user's address is a number and one of them, in the
# user's department's main city (so a geocoder knowing these streets can answer like the real one).
STREETS: tuple[str, ...] = (
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Gambetta",
    "rue Pasteur",
    "place de la Mairie",
    "rue du Général de Gaulle",
    "avenue de la Libération",
    "rue des Écoles",
    "allée des Tilleuls",
    "chemin des Vignes",
    "impasse des Lilas",
    "rue Émile Zola",
    "boulevard Voltaire",
    "rue de la Gare",
    "quai des Bateliers",
)
MISSPELT_SHARE = 0.08  # a typo (swapped letters, lost accent, doubled letter)
NO_NUMBER_SHARE = 0.10  # street without a house number
NO_ADDRESS_SHARE = 0.04  # no street address at all (postal code and city only)


def _typo(text: str, rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:  # lost accents, as typed on some keyboards
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        if plain != text:
            return plain
    letters = [i for i in range(len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()]
    i = rng.choice(letters)
    if kind == 1:  # swapped letters
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[: i + 1] + text[i] + text[i + 1 :]  # doubled letter


def user_address(user_id: int, seed: int) -> str | None:
    """The street address of a sandbox user (deterministic): `12 rue Victor Hugo`, sometimes misspelt,
    without number, or missing (None)."""
    rng = random.Random(f"{seed}-address-{user_id}")
    draw = rng.random()
    if draw < NO_ADDRESS_SHARE:
        return None
    street = rng.choice(STREETS)
    if draw < NO_ADDRESS_SHARE + MISSPELT_SHARE:
        street = _typo(street, rng)
    number = rng.randrange(1, 120)
    if rng.random() < NO_NUMBER_SHARE:
        return street
    return f"{number}{' bis' if number % 23 == 0 else ''} {street}"
