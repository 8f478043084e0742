"""Record linkage: offers that are the same work (one book, film or show sold by many venues) -> one item.

Steps, on the items before linkage (products, and offers without product; `data_gcp.item_content`):
1. normalise names (case, accents, punctuation, articles, edition/format words, an author appended to the
   name) and authors;
2. candidates: blocking on (subcategory, pair of name tokens), plus the embedding nearest neighbours
   (LanceDB, same subcategory) of the items blocking left alone;
3. a pair matches when every name token has a Jaro-Winkler twin on the other side, the numbers (tome,
   volume) are equal and the authors, when both are known, agree;
4. connected components of the matches (never two products in one: an EAN is one work) -> the linked
   item id: the component's product item, else its lowest offer's item.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz.distance import JaroWinkler

from data_gcp.config import Settings, get_settings
from data_gcp.item_content import load_item_contents, offer_items
from data_gcp.log import get_logger
from data_gcp.warehouse import get_warehouse

log = get_logger(__name__)

LINK_TABLE = "ml.offer_item_link"
ARTICLES = set("le la les l un une des du de d et a au aux en sur par".split())
# Edition, format and date words venues add to a work's name: not part of the work.
FORMAT_WORDS = set(
    (
        "edition editions poche broche nouvelle grand format cd vinyle lp deluxe collector dvd blu ray "
        "bluray version restauree vost vf vo tournee complet date dates famille dernieres places offre "
        "speciale pack coffret integrale tome t vol volume"
    ).split()
)
_YEAR = re.compile(r"^(19|20)\d\d$")
_SEGMENT = re.compile(r"\s+-\s+|\s*[\(\[]|[\)\]]\s*")


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
    tokens: tuple[str, ...]  # name words without articles, format words, years, numbers or the author
    numbers: tuple[str, ...]  # tome / volume numbers
    author: frozenset[str]
    is_product: bool


def name_tokens(name: object, people: set[str], author: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(words, numbers) of a name.

    The first segment is the title: all its words but articles count. Later segments (after " - ",
    in brackets) are what venues append: edition and format words, years, an author (a segment made
    only of person names), an article moved to the end (one short word); only their numbers (tome,
    volume) and unknown words count.
    """
    words: list[str] = []
    numbers: list[str] = []
    for position, segment in enumerate(_SEGMENT.split(name if isinstance(name, str) else "")):
        tokens = normalise(segment).split()
        if not tokens:
            continue
        if words and len(tokens) == 1 and len(tokens[0]) <= 4 and not tokens[0].isdigit():
            continue  # "(Le)", "(Une)": the article moved to the end
        if words and all(t in people or t in author or len(t) == 1 for t in tokens):
            continue  # "<title> - Victor Hugo": the author, not the title
        for t in tokens:
            if t.isdigit():
                if not _YEAR.match(t):
                    numbers.append(str(int(t)))
            elif t in ARTICLES or t in author:
                continue
            elif not words or position == 0 or t not in FORMAT_WORDS:
                words.append(t)
    return tuple(words), tuple(sorted(numbers))


def build_nodes(items: pd.DataFrame) -> list[Node]:
    people: set[str] = set()
    for author in items["author"].dropna():
        people |= person_tokens(author)
    nodes = []
    for row in items.itertuples(index=False):
        author = person_tokens(row.author)
        words, numbers = name_tokens(row.name, people, author)
        nodes.append(
            Node(
                row.item_id,
                str(row.subcategory_id),
                words,
                numbers,
                frozenset(author),
                str(row.item_id).startswith("product-"),
            )
        )
    return nodes


def name_similarity(a: tuple[str, ...], b: tuple[str, ...], token_floor: float = 0.88) -> float:
    """Mean Jaro-Winkler of a one-to-one pairing of the words; 0 when a word has no twin or counts differ."""
    if not a or len(a) != len(b):
        return 0.0
    left = list(b)
    total = 0.0
    for word in sorted(a, key=len, reverse=True):
        scores = [JaroWinkler.normalized_similarity(word, other) for other in left]
        best = int(np.argmax(scores))
        if scores[best] < token_floor:
            return 0.0
        total += scores[best]
        left.pop(best)
    return total / len(a)


def authors_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return True
    return any(JaroWinkler.normalized_similarity(x, y) >= 0.9 for x in a for y in b)


def match_score(a: Node, b: Node, threshold: float = 0.93) -> float:
    """The pair's score when it is a match, else 0."""
    if a.subcategory_id != b.subcategory_id or a.numbers != b.numbers or (a.is_product and b.is_product):
        return 0.0
    if not authors_agree(a.author, b.author):
        return 0.0
    score = name_similarity(a.tokens, b.tokens)
    return score if score >= threshold else 0.0


def blocking_pairs(nodes: list[Node], max_block: int = 300) -> set[tuple[int, int]]:
    """Pairs sharing a subcategory and two name words (a typo in a third word keeps them together)."""
    blocks: dict[tuple, list[int]] = {}
    for i, node in enumerate(nodes):
        words = sorted(set(node.tokens))
        keys = {(node.subcategory_id, *pair) for pair in combinations(words, 2)} if len(words) > 1 else set()
        keys.add((node.subcategory_id, " ".join(words)))
        keys.update((node.subcategory_id, w, "") for w in words)  # one shared word: small blocks only
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
) -> Linkage:
    blocked = blocking_pairs(nodes)
    scored = {p: match_score(nodes[p[0]], nodes[p[1]]) for p in blocked}
    edges = [(s, p, "name") for p, s in scored.items() if s > 0]
    n_candidates = len(blocked)
    if embedding_ids is not None and vectors is not None and len(embedding_ids):
        linked = {i for _, (a, b), _ in edges for i in (a, b)}
        lonely = [i for i, n in enumerate(nodes) if i not in linked and not n.is_product]
        extra = neighbour_pairs(nodes, embedding_ids, vectors, lonely, neighbours) - blocked
        n_candidates += len(extra)
        for p in extra:
            s = match_score(nodes[p[0]], nodes[p[1]])
            if s > 0:
                edges.append((s, p, "embedding"))
    parent = list(range(len(nodes)))
    product = [n.item_id if n.is_product else None for n in nodes]

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
        parent[rb] = ra
        product[ra] = product[ra] or product[rb]
        matches += 1
        for i in (a, b):
            if method[nodes[i].item_id] == "none" and not nodes[i].is_product:
                method[nodes[i].item_id], score[nodes[i].item_id] = how, float(s)
    members: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        members.setdefault(root(i), []).append(i)
    item_of: dict[str, str] = {}
    for r, group in members.items():
        rep = product[r] or min((nodes[i].item_id for i in group), key=_offer_number)
        for i in group:
            item_of[nodes[i].item_id] = rep
    return Linkage(item_of, method, score, n_candidates, matches)


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
