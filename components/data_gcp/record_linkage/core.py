"""Record linkage: offers that are the same work (one book, film or show sold by many venues) -> one item.

Steps, on the items before linkage (products, and offers without product; `data_gcp.item_content`):
1. parse names by rule: the title is the first segment; what is in brackets or after a dash is a
   qualifier (edition, format, review, place...), whatever its words, and only its numbers count; a
   segment made of person names is the author (wherever it is); articles and initials are dropped;
2. candidates: blocking on (subcategory, pair of title words) and (subcategory, one word) for small
   blocks, plus the embedding nearest neighbours (LanceDB, same subcategory) of items blocking left alone;
3. each candidate pair is compared (`pair_features`: how much of each title's weight, words weighted by
   their rarity, has a Jaro-Winkler twin on the other side, so an inserted or dropped word costs only
   its weight; whole-name similarity; the authors) and classified by a logistic model whose weights
   were fitted on a labelled sample (`WEIGHTS`); hard rules: the numbers (tome, volume) are equal, and
   a generic title (one that items of several authors share) needs both authors, agreeing;
4. connected components of the matches (never two products in one: an EAN is one work) -> the linked
   item id: the component's product item, else its lowest offer's item.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from data_gcp.config import Settings, get_settings
from data_gcp.item_content import load_item_contents, offer_items
from data_gcp.log import get_logger
from data_gcp.warehouse import get_warehouse

log = get_logger(__name__)

LINK_TABLE = "ml.offer_item_link"
ARTICLES = set("le la les l un une des du de d et a au aux en the of and".split())
_YEAR = re.compile(r"^(19|20)\d\d$")
# Qualifier segments: bracketed, or after a spaced dash (a hyphen inside a word is part of it).
_BRACKETS = re.compile(r"[\(\[\{]([^\)\]\}]*)[\)\]\}]?")
_GLUED = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")  # "vol2" -> "vol 2"
_DECIMAL = re.compile(r"\d+[.,]\d+")  # "2.0", "1,5": a version or a measure, never a tome
_DASHES = re.compile(r"\s+[-\u2013\u2014]+\s+|\s+[\u2013\u2014]|[\u2013\u2014]\s+")


def normalise(text: object) -> str:
    """Lower case, no accents, letters and digits only, single spaces."""
    if not isinstance(text, str):
        return ""
    text = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    text = text.replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def person_tokens(author: object) -> set[str]:
    """The words of an author's name longer than an initial."""
    return {t for t in normalise(author).split() if len(t) > 1}


@dataclass
class Node:
    """An item before linkage, as the comparison sees it."""

    item_id: str
    subcategory_id: str
    tokens: tuple[str, ...]  # title words: no articles, initials, numbers, qualifiers or author
    numbers: tuple[str, ...]  # tome / volume numbers (years are not)
    author: frozenset[str]
    is_product: bool
    full: str = ""  # the whole normalised name
    generic: bool = False  # its title is shared by items of several authors
    weights: tuple[float, ...] = field(default=())  # rarity of each title word (idf)
    containing: int = 1  # items of its subcategory whose title has every word of this one (itself too)


def name_parts(
    name: object, people: set[str], author: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...], set[str]]:
    """(title words, numbers, person words) of a name, by rule.

    Segments: what is in brackets and what follows a spaced dash are qualifiers; the first segment that
    is not a person's name is the title (so "Victor Hugo - Les Misérables" finds it); a one-word
    trailing segment of up to 4 letters is an article moved to the end. Only the numbers of the other
    segments count (a tome, a volume; never a year); the words of a segment made of person names are
    the author the venue typed into the name.
    """
    text = _DECIMAL.sub(" ", name) if isinstance(name, str) else ""
    qualifiers = _BRACKETS.findall(text)
    segments = [seg for seg in _DASHES.split(_BRACKETS.sub(" - ", text)) if normalise(seg)]
    words: list[str] = []
    numbers: list[str] = []
    named: set[str] = set()
    title_found = False
    for segment in [*segments, *qualifiers]:
        tokens = _GLUED.sub(" ", normalise(segment)).split()
        if not tokens:
            continue
        is_person = all(t in people or t in author or len(t) == 1 for t in tokens)
        if is_person and (title_found or len(segments) > 1):
            named |= {t for t in tokens if len(t) > 1}
        if not title_found and not (is_person and len(segments) > 1) and segment in segments:
            title_found = True
            for t in tokens:
                if t.isdigit():
                    if not _YEAR.match(t):
                        numbers.append(str(int(t)))
                elif len(t) > 1 and t not in ARTICLES and t not in author:
                    words.append(t)
            continue
        # a qualifier's number counts when it is the segment's only number next to at most one word
        # ("Tome 2", "vol2", "2"), not in "version 2.0 live" or a date
        digits = [t for t in tokens if t.isdigit()]
        if len(digits) == 1 and len(tokens) <= 2 and not _YEAR.match(digits[0]) and len(digits[0]) <= 3:
            numbers.append(str(int(digits[0])))
    if not words:  # a name that is only an author or only numbers: keep all its words
        words = [t for t in normalise(text).split() if not t.isdigit() and t not in ARTICLES]
    return tuple(words), tuple(sorted(set(numbers))), named


def _author_groups(authors: list[frozenset[str]]) -> int:
    """How many different people a list of known authors is (names sharing a word are one person)."""
    groups: list[set[str]] = []
    for a in authors:
        hit = [g for g in groups if g & a]
        merged = set(a).union(*hit) if hit else set(a)
        groups = [g for g in groups if not (g & a)] + [merged]
    return len(groups)


def build_nodes(items: pd.DataFrame) -> list[Node]:
    """One node per item, with its title words weighted by rarity and its title flagged when generic
    (items of two or more different authors have it, or items of three or more subcategories)."""
    people: set[str] = set()
    for author in items["author"].dropna():
        people |= person_tokens(author)
    parsed = []
    for row in items.itertuples(index=False):
        author = person_tokens(row.author)
        words, numbers, named = name_parts(row.name, people, author)
        parsed.append((row, author or named, words, numbers))
    df = Counter(w for _, _, words, _ in parsed for w in set(words))
    n = max(len(parsed), 1)
    by_title: dict[str, list[frozenset[str]]] = {}
    subcategories: dict[str, set[str]] = {}
    for row, author, words, _ in parsed:
        key = " ".join(sorted(words))
        subcategories.setdefault(key, set()).add(str(row.subcategory_id))
        if author:
            by_title.setdefault(key, []).append(frozenset(author))
    generic = {key for key, authors in by_title.items() if _author_groups(authors) > 1}
    generic |= {key for key, subs in subcategories.items() if len(subs) >= 3}
    postings: dict[tuple[str, str], set[int]] = {}
    for i, (row, _, words, _) in enumerate(parsed):
        for w in set(words):
            postings.setdefault((str(row.subcategory_id), w), set()).add(i)
    nodes = []
    for row, author, words, numbers in parsed:
        nodes.append(
            Node(
                row.item_id,
                str(row.subcategory_id),
                words,
                numbers,
                frozenset(author),
                str(row.item_id).startswith("product-"),
                normalise(row.name),
                " ".join(sorted(words)) in generic,
                tuple(math.log(1 + n / df[w]) for w in words),
                _containing(postings, str(row.subcategory_id), words),
            )
        )
    return nodes


def _containing(postings: dict[tuple[str, str], set[int]], subcategory: str, words: tuple[str, ...]) -> int:
    """How many items of the subcategory have every one of these title words: a title that many others
    extend ("Retour", "Le ... de Chloé") is ambiguous, one that only a work's copies have is not."""
    lists = sorted((postings.get((subcategory, w), set()) for w in set(words)), key=len)
    if not lists:
        return 1
    common = set(lists[0])
    for other in lists[1:]:
        common &= other
        if len(common) <= 1:
            break
    return max(len(common), 1)


def word_similarity(a: str, b: str) -> float:
    """1 - edits / length, where a twin is at most one edit away (two from 12 letters; a swap is one)."""
    if a == b:
        return 1.0
    longest = max(len(a), len(b))
    if min(len(a), len(b)) < 4:
        return 0.0
    edits = DamerauLevenshtein.distance(a, b, score_cutoff=2)
    return 1 - edits / longest if edits <= (2 if longest >= 12 else 1) else 0.0


def _cover(a: Node, b: Node) -> tuple[float, float, float]:
    """Share of each side's title weight matched one-to-one by a twin word, and the matched weight."""
    left = list(range(len(b.tokens)))
    matched_a = matched_b = 0.0
    for i in sorted(range(len(a.tokens)), key=lambda i: -a.weights[i]):
        if not left:
            break
        scores = [word_similarity(a.tokens[i], b.tokens[j]) for j in left]
        best = int(np.argmax(scores))
        if scores[best] > 0:
            j = left.pop(best)
            matched_a += a.weights[i] * scores[best]
            matched_b += b.weights[j] * scores[best]
    total_a, total_b = sum(a.weights) or 1.0, sum(b.weights) or 1.0
    return matched_a / total_a, matched_b / total_b, min(matched_a, matched_b)


def authors_similarity(a: frozenset[str], b: frozenset[str]) -> float | None:
    """Best Jaro-Winkler of the two authors' words; None when either is unknown."""
    if not a or not b:
        return None
    return max(JaroWinkler.normalized_similarity(x, y) for x in a for y in b)


FEATURES = (
    "cover_min",
    "cover_max",
    "substituted",
    "evidence",
    "full_name",
    "author_agree",
    "author_disagree",
    "extra_words",
    "number_one_side",
    "ambiguity",
)


def pair_features(a: Node, b: Node) -> tuple[float, ...] | None:
    """The comparison vector of a pair (`FEATURES`), or None when a hard rule rules it out."""
    if a.subcategory_id != b.subcategory_id or (a.is_product and b.is_product):
        return None
    if a.numbers and b.numbers and a.numbers != b.numbers:
        return None  # tome 1 and tome 2 are two works; a number one side lacks is evidence, not a veto
    if not a.tokens or not b.tokens:
        return None
    who = authors_similarity(a.author, b.author)
    if (a.generic or b.generic) and (who is None or who < 0.9):
        return None  # a title several authors use says nothing alone
    ca, cb, matched = _cover(a, b)
    extra = abs(len(a.tokens) - len(b.tokens))
    # the side whose title the other covers most: how many items of the subcategory extend it
    covered = a if ca >= cb else b
    return (
        min(ca, cb),
        max(ca, cb),
        min(1 - ca, 1 - cb),  # both sides have a word the other lacks: a word replaced, not added
        min(matched / 10, 1.0),  # the rarity of what matches: one common word is little evidence
        fuzz.token_sort_ratio(" ".join(a.tokens), " ".join(b.tokens)) / 100,
        float(who is not None and who >= 0.9),
        float(who is not None and who < 0.9),
        float(min(extra, 3)),
        float(bool(a.numbers) != bool(b.numbers)),
        math.log(covered.containing),
    )


# Logistic weights (intercept, then FEATURES), fitted on the labelled candidate pairs of a sandbox that
# the benchmarks do not score (`bench_linkage.py --fit`, sandbox seed 1, scale 0.05). A pair matches
# from probability 0.85 (`link_nodes`: precision first, a wrong link joins two works' offers).
WEIGHTS = (-6.21, -3.08, 1.82, -7.19, 3.57, 9.99, 1.99, -6.68, -0.60, -4.77, -0.16)


def match_probability(features: tuple[float, ...], weights: tuple[float, ...] = WEIGHTS) -> float:
    z = weights[0] + sum(w * x for w, x in zip(weights[1:], features, strict=True))
    return 1 / (1 + math.exp(-max(min(z, 50), -50)))


def match_score(a: Node, b: Node, threshold: float = 0.85) -> float:
    """The pair's match probability when it is a match, else 0."""
    features = pair_features(a, b)
    if features is None:
        return 0.0
    p = match_probability(features)
    return p if p >= threshold else 0.0


def deletions(word: str) -> set[str]:
    """The word and its forms with one letter deleted: two words one edit apart (a letter dropped, added,
    replaced or two swapped) share one of them (symmetric-delete blocking, as SymSpell's index)."""
    if len(word) < 5:
        return {word}
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def blocking_pairs(nodes: list[Node], max_block: int = 300) -> set[tuple[int, int]]:
    """Pairs sharing a subcategory and two name words (a typo in a third word keeps them together), or
    one word up to a typo in small blocks (a typo in the only shared word keeps them together too)."""
    blocks: dict[tuple, list[int]] = {}
    for i, node in enumerate(nodes):
        words = sorted(set(node.tokens))
        keys = {(node.subcategory_id, *pair) for pair in combinations(words, 2)} if len(words) > 1 else set()
        keys.add((node.subcategory_id, " ".join(words)))
        # one shared word, up to one edit: small blocks only
        keys.update((node.subcategory_id, d, "") for w in words for d in deletions(w))
        for key in keys:
            blocks.setdefault(key, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for key, members in blocks.items():
        cap = max_block if key[-1] else max_block // 4
        if 1 < len(members) <= cap:
            pairs.update(combinations(members, 2))
    return pairs


def neighbour_pairs(
    nodes: list[Node], ids: list[str], vectors: np.ndarray, queries: list[int], k: int = 5
) -> set[tuple[int, int]]:
    """Pairs of each query node with its k nearest items of the same subcategory (LanceDB, cosine)."""
    import lancedb

    if not queries or not len(ids):
        return set()
    position = {item: i for i, item in enumerate(ids)}
    node_of = {n.item_id: j for j, n in enumerate(nodes)}
    subs = [nodes[node_of[i]].subcategory_id if i in node_of else "" for i in ids]
    pairs: set[tuple[int, int]] = set()
    with tempfile.TemporaryDirectory(prefix="linkage_") as tmp:
        db = lancedb.connect(tmp)
        dim = vectors.shape[1]
        for sub in sorted({nodes[q].subcategory_id for q in queries}):
            rows = [i for i, s in enumerate(subs) if s == sub]
            table = db.create_table(
                f"t{abs(hash(sub))}",
                pa.table(
                    {
                        "row": pa.array(rows, pa.int64()),
                        "vector": pa.FixedSizeListArray.from_arrays(
                            pa.array(np.ascontiguousarray(vectors[rows]).ravel(), pa.float32()), dim
                        ),
                    }
                ),
            )
            q_nodes = [q for q in queries if nodes[q].subcategory_id == sub and nodes[q].item_id in position]
            for start in range(0, len(q_nodes), 512):
                batch = q_nodes[start : start + 512]
                found = (
                    table.search(np.stack([vectors[position[nodes[q].item_id]] for q in batch]))
                    .metric("cosine")
                    .select(["row"])
                    .limit(k + 1)
                    .to_arrow()
                )
                rows_found = found.column("row").to_pylist()
                query_index = (
                    found.column("query_index").to_pylist()
                    if "query_index" in found.column_names
                    else [0] * len(rows_found)  # a single query vector has no query index
                )
                for qi, row in zip(query_index, rows_found, strict=True):
                    a, b = batch[qi], node_of.get(ids[row])
                    if b is not None and a != b:
                        pairs.add((min(a, b), max(a, b)))
    return pairs


@dataclass
class Linkage:
    """The linked item of every node, and how it got there."""

    item_of: dict[str, str]  # item id before linkage -> linked item id
    method: dict[str, str]  # "name", "embedding" or "none"
    score: dict[str, float]
    candidates: int
    matches: int


def link_nodes(
    nodes: list[Node],
    embedding_ids: list[str] | None = None,
    vectors: np.ndarray | None = None,
    neighbours: int = 5,
    threshold: float = 0.85,
    anchor_threshold: float = 0.05,
) -> Linkage:
    """Match the candidate pairs, then join components strongest link first.

    Why an anchor check: a chain of links, each plausible (a typo, then a dropped word, then another
    title sharing the rest), can join two works; two components are joined only when their anchors
    (the product, else the first item that started the component) are themselves a plausible pair
    (probability >= `anchor_threshold`).
    """
    blocked = blocking_pairs(nodes)
    scored = {p: match_score(nodes[p[0]], nodes[p[1]], threshold) for p in blocked}
    edges = [(s, p, "name") for p, s in scored.items() if s > 0]
    n_candidates = len(blocked)
    if embedding_ids is not None and vectors is not None and len(embedding_ids):
        linked = {i for _, (a, b), _ in edges for i in (a, b)}
        lonely = [i for i, n in enumerate(nodes) if i not in linked and not n.is_product]
        extra = neighbour_pairs(nodes, embedding_ids, vectors, lonely, neighbours) - blocked
        n_candidates += len(extra)
        for p in extra:
            s = match_score(nodes[p[0]], nodes[p[1]], threshold)
            if s > 0:
                edges.append((s, p, "embedding"))
    parent = list(range(len(nodes)))
    product = [n.item_id if n.is_product else None for n in nodes]
    anchor = list(range(len(nodes)))
    # the tome numbers a component holds: one work has one (an item without a number joins either)
    numbered = [{n.numbers} if n.numbers else set() for n in nodes]

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    method = {n.item_id: "none" for n in nodes}
    score = {n.item_id: 1.0 for n in nodes}
    matches = 0
    for s, (a, b), how in sorted(edges, key=lambda e: (-e[0], e[1])):
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        if product[ra] and product[rb]:
            continue  # two products are two works
        if len(numbered[ra] | numbered[rb]) > 1:
            continue  # tome 1 and tome 2, bridged by an item that gives no number
        ea, eb = anchor[ra], anchor[rb]
        if (ea, eb) != (a, b) and (ea, eb) != (b, a):
            features = pair_features(nodes[ea], nodes[eb])
            if features is None or match_probability(features) < anchor_threshold:
                continue  # the components' anchors are not the same work
        parent[rb] = ra
        product[ra] = product[ra] or product[rb]
        numbered[ra] |= numbered[rb]
        anchor[ra] = ea if nodes[ea].is_product or not nodes[eb].is_product else eb
        matches += 1
        for i in (a, b):
            if method[nodes[i].item_id] == "none" and not nodes[i].is_product:
                method[nodes[i].item_id], score[nodes[i].item_id] = how, float(s)
    members: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        members.setdefault(root(i), []).append(i)
    for i, r in _shortened_names(nodes, blocked, members, root):
        del members[root(i)]  # it was alone
        members[r].append(i)
        product[r] = product[r] or product[i]
        method[nodes[i].item_id], score[nodes[i].item_id] = "name", threshold
        matches += 1
    item_of: dict[str, str] = {}
    for r, group in members.items():
        rep = product[r] or min((nodes[i].item_id for i in group), key=_offer_number)
        for i in group:
            item_of[nodes[i].item_id] = rep
    return Linkage(item_of, method, score, n_candidates, matches)


def _shortened_names(
    nodes: list[Node],
    pairs: set[tuple[int, int]],
    members: dict[int, list[int]],
    root: Callable[[int], int],
) -> list[tuple[int, int]]:
    """(item, component) for items left alone whose title is a shortened form of one linked work's.

    Why: a name missing its one distinctive word ("Le ... de Chloé") is as close to every work that
    extends it; it joins a component only when that component is the only one whose names cover every
    one of its title words (up to a typo) and every item of the subcategory holding those exact words
    is in that component, with no author or number against it.
    """
    postings: dict[tuple[str, str], set[int]] = {}
    for i, node in enumerate(nodes):
        for w in set(node.tokens):
            postings.setdefault((node.subcategory_id, w), set()).add(i)
    found: dict[int, set[int]] = {}
    for a, b in pairs:
        for lone, other in ((a, b), (b, a)):
            if len(members.get(root(lone), ())) != 1 or len(members[root(other)]) < 2:
                continue
            features = pair_features(nodes[lone], nodes[other])
            if features is None or features[FEATURES.index("author_disagree")] > 0:
                continue
            covered, _, _ = _cover(nodes[lone], nodes[other])
            if covered >= 0.999:
                found.setdefault(lone, set()).add(root(other))
    out = []
    for lone, roots in sorted(found.items()):
        if len(roots) != 1:
            continue
        (r,) = roots
        node = nodes[lone]
        holders = set.intersection(*(postings[(node.subcategory_id, w)] for w in set(node.tokens)))
        numbers = {nodes[m].numbers for m in members[r] if nodes[m].numbers}
        if node.numbers and numbers - {node.numbers}:
            continue
        if holders - {lone} <= set(members[r]) and not (
            node.is_product and any(nodes[m].is_product for m in members[r])
        ):
            out.append((lone, r))
    return out


def _offer_number(item_id: str) -> tuple[int, str]:
    tail = item_id.rsplit("-", 1)[-1]
    return (int(tail), item_id) if tail.isdigit() else (1 << 62, item_id)


def exact_name_links(items: pd.DataFrame) -> dict[str, str]:
    """Baseline: items whose normalised names are equal in one subcategory are one item."""
    key = items["subcategory_id"].astype(str) + "|" + items["name"].map(normalise)
    first = {}
    for item, k in sorted(zip(items["item_id"], key, strict=True), key=lambda x: _offer_number(x[0])):
        first.setdefault(k, item)
    return {item: first[k] for item, k in zip(items["item_id"], key, strict=True)}


@dataclass
class LinkResult:
    links: pd.DataFrame  # offer_id, item_id, method, score
    item_of: dict[str, str]
    candidates: int
    matches: int
    seconds: float


def run_linkage(
    settings: Settings | None = None, *, use_embeddings: bool = True, model: str | None = None
) -> LinkResult:
    """`data-gcp ml link`: link offers to works and replace `ml.offer_item_link` (offer id, item id, method, score)."""
    from data_gcp.item_embedding import EMBEDDING_TABLE, read_embeddings

    settings = settings or get_settings()
    warehouse = get_warehouse(settings)
    start = time.perf_counter()
    items = load_item_contents(warehouse)
    nodes = build_nodes(items)
    ids, vectors = (None, None)
    if use_embeddings and warehouse.table_exists(EMBEDDING_TABLE):
        ids, vectors = read_embeddings(warehouse, model, settings)
    linkage = link_nodes(nodes, ids, vectors)
    offers = offer_items(warehouse)
    has_product = offers["product_id"].notna()
    links = pd.DataFrame(
        {
            "offer_id": offers["offer_id"].astype(str),
            "item_id": offers["item_id"].map(linkage.item_of).fillna(offers["item_id"]),
            "method": np.where(has_product, "product", offers["item_id"].map(linkage.method).fillna("none")),
            "score": np.where(has_product, 1.0, offers["item_id"].map(linkage.score).fillna(1.0)).astype(
                float
            ),
        }
    )
    table = pa.Table.from_pandas(links.assign(created_at=dt.datetime.now(dt.UTC)), preserve_index=False)
    warehouse.create_dataset("ml")
    warehouse.load(LINK_TABLE, table, mode="replace")
    result = LinkResult(
        links, linkage.item_of, linkage.candidates, linkage.matches, time.perf_counter() - start
    )
    log.info(
        "record linkage: %d offers, %d items before, %d after (%d candidate pairs, %.1fs)",
        len(links),
        len(nodes),
        links["item_id"].nunique(),
        linkage.candidates,
        result.seconds,
    )
    return result
