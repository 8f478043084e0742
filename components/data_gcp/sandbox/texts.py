"""Item text with planted truth: topic vocabularies, works sold under noisy names, near-misses.

Why: the embedding, clustering and record-linkage jobs are measured against what the sandbox knows.
- Each work (a product, a show on tour, a film in several cinemas...) has a canonical title, author or
  performer drawn from its topic's French vocabulary (most words) and shared words (the rest), so text
  predicts the topic, imperfectly.
- Topics overlap: a title or description draws words from its topic, a neighbouring topic and shared
  words, and a fifth of the items are ambiguous (their description half from another topic).
- Offers of a work sold without its product (no EAN) or by several venues carry noisy names, drawn
  independently of any matcher: case, accents, article moved, one or two typos, a word dropped or
  added, qualifiers of many kinds (bracketed or after a dash, French or English, generated from parts),
  segments reordered, abbreviations, the author in the name or missing.
- Near-misses are different works: the same author writes many titles, titles share words, a few
  works are tome 1 and tome 2 of one series (same base title and author, another work), and some works
  have a generic title ("Mémoires", "Le Lac des cygnes") that other works, by others, share.
Everything is a pure function of ids and the seed, so `advance` reproduces it.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.sandbox.hashing import hash_one as _h
from data_gcp.sandbox.hashing import hash_uniform

# One vocabulary per planted topic (K_TOPICS = 12), French with accents.
TOPIC_WORDS: tuple[tuple[str, ...], ...] = (
    # 0 polar, enquête
    (
        "crime",
        "enquête",
        "meurtre",
        "commissaire",
        "détective",
        "coupable",
        "témoin",
        "alibi",
        "cadavre",
        "suspect",
        "inspecteur",
        "mystère",
        "poison",
        "vengeance",
        "complot",
        "indice",
        "policier",
        "brigade",
        "interrogatoire",
        "évasion",
    ),
    # 1 fantasy, légendes
    (
        "dragon",
        "sorcière",
        "royaume",
        "épée",
        "magie",
        "elfe",
        "prophétie",
        "chevalier",
        "grimoire",
        "fée",
        "légende",
        "couronne",
        "sortilège",
        "licorne",
        "quête",
        "oracle",
        "démon",
        "château",
        "enchanteur",
        "créature",
    ),
    # 2 histoire, mémoire
    (
        "révolution",
        "empire",
        "guerre",
        "mémoire",
        "siècle",
        "roi",
        "république",
        "bataille",
        "résistance",
        "archives",
        "dynastie",
        "reine",
        "traité",
        "colonie",
        "tranchées",
        "conquête",
        "napoléon",
        "monarchie",
        "exil",
        "patrimoine",
    ),
    # 3 amour, drame
    (
        "amour",
        "baiser",
        "passion",
        "cœur",
        "mariage",
        "rupture",
        "désir",
        "amante",
        "séduction",
        "larmes",
        "tendresse",
        "fiançailles",
        "jalousie",
        "promesse",
        "romance",
        "caresse",
        "adieu",
        "étreinte",
        "rendez-vous",
        "âme sœur",
    ),
    # 4 science-fiction, futur
    (
        "robot",
        "galaxie",
        "planète",
        "androïde",
        "vaisseau",
        "futur",
        "cyborg",
        "astéroïde",
        "intelligence",
        "clone",
        "station",
        "orbite",
        "mutant",
        "univers",
        "téléportation",
        "martien",
        "laser",
        "dystopie",
        "machine",
        "comète",
    ),
    # 5 jazz, blues, soul
    (
        "jazz",
        "swing",
        "saxophone",
        "blues",
        "trompette",
        "contrebasse",
        "improvisation",
        "soul",
        "groove",
        "big band",
        "crooner",
        "standards",
        "bebop",
        "gospel",
        "trio",
        "quartet",
        "club",
        "sessions",
        "mélodie",
        "rythme",
    ),
    # 6 rock, électro, rap
    (
        "rock",
        "guitare",
        "électro",
        "rap",
        "basse",
        "platines",
        "riff",
        "batterie",
        "synthé",
        "freestyle",
        "punk",
        "techno",
        "ampli",
        "beat",
        "rave",
        "hip-hop",
        "scène",
        "décibels",
        "refrain",
        "tournée",
    ),
    # 7 théâtre, comédie
    (
        "comédie",
        "tragédie",
        "acte",
        "réplique",
        "molière",
        "farce",
        "vaudeville",
        "rideau",
        "dramaturge",
        "monologue",
        "coulisses",
        "tirade",
        "troupe",
        "costume",
        "marivaudage",
        "comédien",
        "mise en scène",
        "quiproquo",
        "souffleur",
        "tréteaux",
    ),
    # 8 danse, cirque
    (
        "danse",
        "ballet",
        "chorégraphie",
        "acrobate",
        "cirque",
        "trapèze",
        "jongleur",
        "pointes",
        "tango",
        "hip-hop",
        "clown",
        "funambule",
        "valse",
        "contemporain",
        "piste",
        "voltige",
        "claquettes",
        "flamenco",
        "équilibre",
        "chapiteau",
    ),
    # 9 art, musée, patrimoine
    (
        "peinture",
        "sculpture",
        "musée",
        "exposition",
        "impressionnisme",
        "galerie",
        "chef-d'œuvre",
        "toile",
        "vernissage",
        "fresque",
        "portrait",
        "archéologie",
        "cathédrale",
        "estampe",
        "renaissance",
        "atelier",
        "collection",
        "aquarelle",
        "mosaïque",
        "vitrail",
    ),
    # 10 nature, pratique
    (
        "forêt",
        "montagne",
        "océan",
        "jardin",
        "écologie",
        "randonnée",
        "oiseaux",
        "rivière",
        "climat",
        "potager",
        "glacier",
        "sauvage",
        "herbier",
        "saison",
        "abeilles",
        "volcan",
        "marée",
        "prairie",
        "céramique",
        "poterie",
    ),
    # 11 jeux, manga, pop culture
    (
        "manga",
        "ninja",
        "pixel",
        "console",
        "héros",
        "quête",
        "boss",
        "combo",
        "samouraï",
        "arcade",
        "tournoi",
        "mecha",
        "dés",
        "plateau",
        "cosplay",
        "anime",
        "niveau",
        "joueur",
        "énigme",
        "kawaii",
    ),
)
# Shared by every topic: what keeps text from giving the topic away.
GENERIC_WORDS = (
    "nuit",
    "temps",
    "monde",
    "vie",
    "histoire",
    "secret",
    "retour",
    "lumière",
    "ombre",
    "rêve",
    "voyage",
    "ville",
    "mer",
    "ciel",
    "silence",
    "printemps",
    "hiver",
    "miroir",
    "chemin",
    "destin",
)
PROPER = (
    "Paris",
    "Lyon",
    "Marseille",
    "Bretagne",
    "Provence",
    "Alsace",
    "Venise",
    "Tokyo",
    "Québec",
    "Dakar",
    "Alger",
    "Lisbonne",
    "Berlin",
    "Séville",
    "Naples",
    "Corse",
    "Normandie",
    "Bordeaux",
    "Lille",
    "Nantes",
    "Arthur",
    "Léa",
    "Chloé",
    "Émile",
    "Inès",
    "Hugo",
    "Zoé",
    "Noé",
    "Jules",
    "Louise",
    "Camille",
    "Théo",
    "Mathilde",
    "Raphaël",
    "Adèle",
    "Gaspard",
    "Célia",
    "Anaïs",
    "Joséphine",
    "Rémi",
)
ARTICLES = ("Le", "La", "Les", "Un", "Une", "L'")
FIRST_NAMES = (
    "Amélie",
    "Benoît",
    "Cécile",
    "Damien",
    "Élodie",
    "François",
    "Gaëlle",
    "Hélène",
    "Irène",
    "Jérôme",
    "Karim",
    "Laëtitia",
    "Mélanie",
    "Nicolas",
    "Océane",
    "Pascal",
    "Quentin",
    "Rachida",
    "Sébastien",
    "Thérèse",
    "Ulysse",
    "Valérie",
    "William",
    "Yasmine",
    "Zoé",
    "Agnès",
    "Bastien",
    "Clémence",
    "Denis",
    "Estelle",
)
LAST_NAMES = (
    "Lefèvre",
    "Moreau",
    "Girard",
    "Bonnet",
    "Dupré",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Chevalier",
    "Mercier",
    "Boucher",
    "Gauthier",
    "Perrin",
    "Leclerc",
    "Faure",
    "André",
    "Ménard",
    "Brunet",
    "Barbier",
    "Cléments",
    "Aubert",
    "Renaud",
    "Héraud",
    "Benoît",
    "Giraud",
    "Joly",
    "Rivière",
    "Marchand",
    "Duval",
    "Étienne",
    "Laurent",
    "Noël",
    "Caron",
    "Hamon",
    "Schmitt",
    "Collet",
    "Vasseur",
    "Pelletier",
    "Bérenger",
    "Roussel",
)
AUTHORS_PER_TOPIC = 40
# Qualifiers venues add, generated from parts (so no short list holds them): a head and a modifier,
# French or English, bracketed or after a dash, sometimes with a year or a place.
QUALIFIER_HEADS = {
    "book": ("édition", "texte", "version", "tirage", "volume relié", "livre", "roman", "Book", "Paperback"),
    "music": ("album", "édition", "version", "pressage", "disque", "Album", "Edition", "Live"),
    "film": ("version", "édition", "copie", "film", "Director's Cut", "Edition", "séance"),
    "event": ("représentation", "spectacle", "séance", "soirée", "date", "show", "concert", "Tour"),
    "other": ("offre", "formule", "pack", "séance", "session", "atelier", "Kit"),
}
QUALIFIER_MODIFIERS = (
    "intégrale",
    "illustrée",
    "remasterisée",
    "limitée",
    "originale",
    "abrégée",
    "annotée",
    "commentée",
    "jeunesse",
    "de poche",
    "bilingue",
    "audio",
    "numérique",
    "anniversaire",
    "spéciale",
    "augmentée",
    "revue et corrigée",
    "en plein air",
    "exceptionnelle",
    "supplémentaire",
    "Review",
    "Tutorial",
    "Remastered",
    "Unabridged",
    "Special",
    "Import",
    "Deluxe",
    "2.0",
)
QUALIFIER_PLACES = ("à Lyon", "au Zénith", "à Nantes", "Paris", "Bordeaux", "en région", "à domicile")
# Words a venue slips into a name ("Le grand dragon", "Dragon illustré").
FILLERS = (
    "grand",
    "petit",
    "nouveau",
    "vrai",
    "illustré",
    "officiel",
    "fameux",
    "mon",
    "tout",
    "bel",
    "premier",
    "inédit",
)
ABBREVIATIONS = (
    (" et ", " & "),
    ("Saint", "St"),
    ("Tome ", "T."),
    ("Vol. ", "Vol"),
    (" du ", " d. "),
    ("Sainte", "Ste"),
    (" à ", " a "),
)


def qualifier(family: str, key: int, seed: int) -> str:
    """One qualifier as a venue writes it: "(édition illustrée)", " - Book Review", " [Import 2019]"..."""
    head = _pick(QUALIFIER_HEADS[family], _h(key, 231, seed))
    mod = _pick(QUALIFIER_MODIFIERS, _h(key, 232, seed))
    extra = _h(key, 233, seed)
    text = f"{head} {mod}" if _h(key, 234, seed) < 0.6 else mod.capitalize() if mod[0].islower() else mod
    if extra < 0.15:
        text += f" {1990 + int(_h(key, 235, seed) * 36)}"
    elif extra < 0.3 and family in ("event", "other"):
        text += f" {_pick(QUALIFIER_PLACES, _h(key, 236, seed))}"
    style = int(_h(key, 237, seed) * 4)
    return (f" ({text})", f" - {text}", f" [{text}]", f" — {text}")[style]


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _pick(seq: tuple[str, ...], u: float) -> str:
    return seq[min(int(u * len(seq)), len(seq) - 1)]


def series_base(key: int, seed: int) -> int | None:
    """Keys 2k and 2k+1 are tome 1 and tome 2 of one series for a few k: same base title and author."""
    return key >> 1 if _h(key >> 1, 110, seed) < 0.08 else None


def author_name(topic: int, key: int, seed: int) -> str:
    """An author of the topic's pool (85%) or of any topic: pools are small, so authors write many works."""
    base = series_base(key, seed)
    if base is not None:  # the tomes of a series share their author
        key, topic = base, int(_h(base, 120, seed) * len(TOPIC_WORDS))
    t = topic if _h(key, 101, seed) < 0.85 else int(_h(key, 102, seed) * len(TOPIC_WORDS))
    j = int(_h(key, 103, seed) * AUTHORS_PER_TOPIC)
    first = FIRST_NAMES[(t * 7 + j * 3) % len(FIRST_NAMES)]
    last = LAST_NAMES[(t * 11 + j * 13) % len(LAST_NAMES)]
    return f"{first} {last}"


# Titles many different works share (memoirs, a ballet on tour with several companies, a best-of).
GENERIC_TITLES = (
    "Mémoires",
    "Correspondance",
    "Carnets",
    "Journal",
    "Souvenirs",
    "Nouvelles",
    "Poèmes",
    "Anthologie",
    "Le Guide",
    "Œuvres choisies",
    "Best of",
    "Live",
    "Greatest Hits",
    "Le Lac des cygnes",
    "Casse-Noisette",
    "La Traviata",
    "Concert du nouvel an",
    "Le Petit Prince",
    "Notes de l'éditeur",
    "Rétrospective",
)


def _neighbour(topic: int) -> int:
    """The topic whose vocabulary a topic's texts borrow from (topics overlap pairwise)."""
    return (topic + 1 + (topic % 3)) % len(TOPIC_WORDS)


def _topic_word(topic: int, u: float, v: float, own: float, near: float) -> str:
    """A word of the topic (probability `own`), of its neighbour (`near`), else a shared word."""
    if u < own:
        return _pick(TOPIC_WORDS[topic], v)
    if u < own + near:
        return _pick(TOPIC_WORDS[_neighbour(topic)], v)
    return _pick(GENERIC_WORDS, v)


def work_title(topic: int, key: int, seed: int, fam: str = "book") -> str:
    """A canonical title: topic words (mostly), shared words, a proper noun; tomes of a series share it.

    4% of works have a generic title (`GENERIC_TITLES`), shared with other works.
    """
    series = series_base(key, seed)
    base = key if series is None else series
    if series is not None:
        topic = int(_h(base, 120, seed) * len(TOPIC_WORDS))
    if _h(base, 121, seed) < 0.04:
        title = _pick(GENERIC_TITLES, _h(base, 122, seed))
    else:
        n1 = _topic_word(topic, _h(base, 112, seed), _h(base, 111, seed), 0.7, 0.15)
        n2 = _topic_word(topic, _h(base, 115, seed), _h(base, 114, seed), 0.45, 0.2)
        proper = _pick(PROPER, _h(base, 117, seed))
        art = _pick(ARTICLES, _h(base, 118, seed))
        form = int(_h(base, 119, seed) * 5)
        if form == 0:
            title = f"{art} {n1} de {proper}"
        elif form == 1:
            title = f"{n1.capitalize()} et {n2} à {proper}"
        elif form == 2:
            title = f"{art} {n1} du {n2}, {proper}"
        elif form == 3:
            title = f"{proper} : {n1} et {n2}"
        else:
            title = f"{n1.capitalize()} {n2}"
        if title.startswith("L' "):
            title = ("L'" if n1[0].lower() in "aeiouyéèêâh" else "Le ") + title[3:]
    if series is not None:
        title += f" - {'Tome' if fam == 'book' else 'Vol.'} {1 + (key & 1)}"
    return title


def description(topic: int, key: int, seed: int, subcategory: str) -> str:
    """A venue's description: words of the topic, its neighbour and shared words; a fifth of the items
    are ambiguous, half of their words from another topic."""
    other = int(_h(key, 129, seed) * len(TOPIC_WORDS))
    ambiguous = _h(key, 128, seed) < 0.2
    words = []
    for j in range(8):
        u, v = _h(key, 130 + j, seed), _h(key, 150 + j, seed)
        if ambiguous and _h(key, 170 + j, seed) < 0.5:
            words.append(_topic_word(other, u, v, 0.6, 0.1))
        else:
            words.append(_topic_word(topic, u, v, 0.45, 0.2))
    return (
        f"{subcategory.replace('_', ' ').lower().capitalize()} : "
        + ", ".join(words[:4])
        + " et "
        + " ".join(words[4:])
        + "."
    )


def descriptions(topics: np.ndarray, keys: np.ndarray, seed: int, subcategories: np.ndarray) -> pa.Array:
    """`description` of many items at once (the same texts, built in numpy and Arrow)."""
    words, start, size = _word_table()
    keys = np.asarray(keys, np.int64)
    topics = np.asarray(topics, np.int64)
    n_topics = len(TOPIC_WORDS)
    other = (hash_uniform(keys, 129, seed) * n_topics).astype(np.int64)
    ambiguous = hash_uniform(keys, 128, seed) < 0.2
    picked = []
    for j in range(8):
        u, v = hash_uniform(keys, 130 + j, seed), hash_uniform(keys, 150 + j, seed)
        alt = ambiguous & (hash_uniform(keys, 170 + j, seed) < 0.5)
        topic = np.where(alt, other, topics)
        own, near = np.where(alt, 0.6, 0.45), np.where(alt, 0.1, 0.2)
        neighbour = (topic + 1 + topic % 3) % n_topics
        pool = np.where(u < own, topic, np.where(u < own + near, neighbour, n_topics))  # n_topics: shared
        index = start[pool] + np.minimum((v * size[pool]).astype(np.int64), size[pool] - 1)
        picked.append(words.take(pa.array(index)))
    names, inverse = np.unique(np.asarray(subcategories), return_inverse=True)
    heads = pa.array([f"{s.replace('_', ' ').lower().capitalize()} : " for s in names], pa.string())
    heads = heads.take(pa.array(inverse.ravel()))
    parts = [heads, picked[0], ", ", picked[1], ", ", picked[2], ", ", picked[3], " et ", picked[4]]
    parts += [" ", picked[5], " ", picked[6], " ", picked[7], "."]
    return pc.binary_join_element_wise(*parts, "")


_WORDS: tuple[pa.Array, np.ndarray, np.ndarray] | None = None


def _word_table() -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Every topic's words then the shared ones in one array, with each list's start and size."""
    global _WORDS
    if _WORDS is None:
        lists = [*TOPIC_WORDS, GENERIC_WORDS]
        size = np.array([len(w) for w in lists], np.int64)
        start = np.concatenate([[0], np.cumsum(size)[:-1]])
        _WORDS = (pa.array([w for ws in lists for w in ws], pa.string()), start, size)
    return _WORDS


def _typo(word: str, u: float, v: float, w: float) -> str:
    """One edit: two neighbours swapped, a letter dropped, doubled or replaced."""
    if len(word) < 4:
        return word
    i = 1 + int(u * (len(word) - 2))
    kind = int(v * 4)
    if kind == 0:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + "aeioulnrst"[int(w * 10)] + word[i + 1 :]


def noisy_name(title: str, author: str | None, key: int, seed: int, family: str) -> str:
    """How one venue writes a work's name: each alteration with its own probability, hashed from the offer."""
    name = title
    parts = name.split(" ")
    if _h(key, 211, seed) < 0.12 and len(parts) >= 3:  # a word dropped (never the whole title)
        del parts[1 + int(_h(key, 212, seed) * (len(parts) - 1))]
    if _h(key, 213, seed) < 0.12:  # a word added
        parts.insert(int(_h(key, 214, seed) * (len(parts) + 1)), _pick(FILLERS, _h(key, 215, seed)))
    name = " ".join(parts)
    if _h(key, 201, seed) < 0.15:  # article moved to the end: "Le X" -> "X (Le)"
        first, _, rest = name.partition(" ")
        if first in ARTICLES and rest:
            name = f"{rest} ({first})"
    for t in range(2 if _h(key, 216, seed) < 0.1 else 1):  # one typo (35%), two (10% of those)
        if _h(key, 202 + 7 * t, seed) < 0.35:
            parts = name.split(" ")
            long = [j for j, w in enumerate(parts) if len(w) >= 4 and not any(c.isdigit() for c in w)]
            if long:
                j = long[int(_h(key, 203 + 7 * t, seed) * len(long))]
                parts[j] = _typo(
                    parts[j], _h(key, 204 + 7 * t, seed), _h(key, 205 + 7 * t, seed), _h(key, 217, seed)
                )
                name = " ".join(parts)
    if _h(key, 218, seed) < 0.1:  # abbreviations
        for long_form, short in ABBREVIATIONS:
            name = name.replace(long_form, short)
    if author and _h(key, 206, seed) < 0.2:  # the author in the name, after it or before it
        name = f"{name} - {author}" if _h(key, 219, seed) < 0.7 else f"{author} - {name}"
    if _h(key, 207, seed) < 0.45:
        name += qualifier(family, key, seed)
        if _h(key, 208, seed) < 0.2:
            name += qualifier(family, key + 7919, seed)
    if _h(key, 209, seed) < 0.3:
        name = strip_accents(name)
    u = _h(key, 210, seed)
    if u < 0.25:
        name = name.lower()
    elif u < 0.37:
        name = name.upper()
    return name


def noisy_author(author: str | None, key: int, seed: int) -> str | None:
    """The author or performer as one venue types it, or nothing (30%)."""
    if not author or _h(key, 221, seed) < 0.3:
        return None
    first, last = author.split(" ", 1)
    form = int(_h(key, 222, seed) * 5)
    out = (author, f"{last.upper()} {first}", f"{first[0]}. {last}", f"{last}, {first}", author.lower())[form]
    return strip_accents(out) if _h(key, 223, seed) < 0.3 else out


def family(category_id: str) -> str:
    """Which suffixes and which person field (author, performer) a category's works have."""
    return {
        "LIVRE": "book",
        "MUSIQUE_ENREGISTREE": "music",
        "FILM": "film",
        "CINEMA": "film",
        "MUSIQUE_LIVE": "event",
        "SPECTACLE": "event",
    }.get(category_id, "other")


def person_field(fam: str) -> str | None:
    return {"book": "author", "music": "performer", "event": "performer"}.get(fam)
