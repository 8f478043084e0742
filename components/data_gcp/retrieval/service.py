"""The retrieval service's query modes: recommendation / similar_offer / tops / filter, with fallbacks.

Why a component: the HTTP base only parses requests and formats answers; every decision (which
vector, which filter, when to fall back to tops) is here and tested without HTTP. Loading is in
`loading`, health (freshness, engine check, fallback rate) in `health`, index folders in `workdir`,
the background reload in `reload`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from data_gcp.config import DataGcpError
from data_gcp.log import get_logger
from data_gcp.retrieval.filters import (
    Node,
    columns_of,
    conjoin,
    exclude_items,
    parse_filters,
    to_arrow,
    to_sql,
)
from data_gcp.retrieval.health import CHECK_EVERY_SECONDS, CatalogInfo, EngineCheck, FallbackWindow
from data_gcp.retrieval.ids import IdLookup
from data_gcp.retrieval.index import EXACT_MAX_MATCHES, Hits, ItemIndex
from data_gcp.retrieval.scan import RowFilter, ScanIndex

log = get_logger(__name__)

# `Answer.model_type` of a similar_offer served by the text embedding (inputs without a two-tower vector)
SIMILAR_OFFER_TEXT = "similar_offer_text"
DEBUG_COLUMNS = ["category_id", "subcategory_id", "search_group_name", "price", "booking_count", "is_digital"]
# the reference service's debug names, added to each row under `debug`
REFERENCE_DEBUG_NAMES = {"category": "category_id", "stock_price": "price", "_distance": "distance"}
TOPS_ORDER = [
    ("booking_count_last_7_days", "descending"),
    ("booking_count", "descending"),
    ("item_id", "ascending"),
]
SAMPLE_ROWS = 4000
FILTER_ORDER = [("offer_creation_date", "descending"), ("item_id", "ascending")]


class ModelType(StrEnum):
    recommendation = "recommendation"
    similar_offer = "similar_offer"
    tops = "tops"
    filter = "filter"


class RetrievalUnavailable(DataGcpError):
    """The service has nothing to serve from (no catalogue at all)."""


@dataclass
class Query:
    model_type: ModelType = ModelType.recommendation
    user_id: str | None = None
    items: list[str] = field(default_factory=list)
    excluded_items: list[str] = field(default_factory=list)
    size: int = 500
    params: dict[str, Any] | None = None
    call_id: str | None = None
    debug: bool = False


@dataclass
class Answer:
    predictions: list[dict[str, Any]]
    model_type: str  # what was served (may be "tops" after a fallback)
    fallback: str | None  # why the requested mode was not used
    model_version: str | None
    call_id: str | None


@dataclass
class RetrievalService:
    """Everything a request needs, loaded once at startup.

    One copy of the items: `catalog` (Arrow, sorted for tops). The two-tower index (the 4-bit scan
    from 20k items, a LanceDB table below) and the text-embedding table answer row positions only,
    mapped onto catalogue positions; ids are looked up in sorted byte arrays (`IdLookup`), vectors
    are single float32 arrays: no Python object per item or user.
    """

    catalog: pa.Table  # normalised items, sorted for tops, without vectors
    index: ItemIndex | ScanIndex | None = None
    users: IdLookup | None = None  # user id -> row of `user_vectors`
    user_vectors: np.ndarray | None = None
    item_rows: IdLookup | None = None  # item id -> row of `item_vectors` (the run's items)
    item_vectors: np.ndarray | None = None
    text_index: ItemIndex | None = None  # text-embedding vectors of catalogue items, if any
    model_version: str | None = None
    problems: list[str] = field(default_factory=list)
    catalog_info: CatalogInfo | None = None
    owned_dirs: list[Path] = field(default_factory=list)  # removed by `close`
    fallbacks: FallbackWindow = field(default_factory=FallbackWindow)
    engines: EngineCheck = field(init=False, repr=False)
    _sample: pa.Table | None = field(default=None, repr=False)
    _by_date: pa.Table | None = field(default=None, repr=False)
    _items: IdLookup = field(init=False, repr=False)  # catalogue item id -> position
    _offers: IdLookup = field(init=False, repr=False)  # catalogue offer id -> position
    _ids: pa.Table = field(init=False, repr=False)  # the catalogue's item_id, offer_id
    _index_rows: np.ndarray = field(init=False, repr=False)  # index row -> catalogue position
    _text_rows: np.ndarray = field(init=False, repr=False)  # text-index row -> catalogue position
    _catalog_rows: np.ndarray | None = field(default=None, init=False, repr=False)  # inverse of _index_rows

    def __post_init__(self) -> None:
        self._items = IdLookup(self.catalog.column("item_id"))
        self._offers = IdLookup(self.catalog.column("offer_id"))
        self._ids = self.catalog.select(["item_id", "offer_id"])
        self._index_rows = self._rows_in_catalog(self.index)
        self._text_rows = self._rows_in_catalog(self.text_index)
        self.engines = EngineCheck(self)

    def _rows_in_catalog(self, index: ItemIndex | ScanIndex | None) -> np.ndarray:
        return np.empty(0, np.int64) if index is None else self._items.rows_of(index.item_ids())

    def attach_text_index(self, index: ItemIndex) -> None:
        """Serve similar offers of items without a two-tower vector from this text-embedding index."""
        self.text_index = index
        self._text_rows = self._rows_in_catalog(index)

    @property
    def ready(self) -> bool:
        """True when the model is loaded, its engines answer a real query, the catalogue is fresh and
        searches do not fail; tops still work otherwise."""
        return self.index is not None and self.user_vectors is not None and not self.all_problems()

    def catalog_problem(self) -> str | None:
        """Why the catalogue is not to be trusted (too old, undated, dated in the future), or None."""
        return self.catalog_info.problem() if self.catalog_info else None

    def all_problems(self) -> list[str]:
        """Load problems, the last engine check's, the catalogue's and the fallback rate's."""
        extra = [self.catalog_problem(), self.fallbacks.problem()]
        return [*self.problems, *self.engines.problems, *(p for p in extra if p)]

    def check(self) -> list[str]:
        """Run a real query through every engine (sync: at load); returns the problems found."""
        return self.engines.run()

    async def acheck(self, every: float = CHECK_EVERY_SECONDS) -> list[str]:
        """`check` through the async search path requests take, unless one ran in the last `every` s."""
        return await self.engines.arun() if self.engines.due(every) else self.engines.problems

    def status(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ready else "degraded",
            "model_version": self.model_version,
            "items": self.catalog.num_rows,
            "indexed_items": self.index.rows if self.index else 0,
            "users": len(self.users) if self.users is not None else 0,
            "text_indexed_items": self.text_index.rows if self.text_index else 0,
            "catalog": self.catalog_info.describe() if self.catalog_info else None,
            **self.fallbacks.describe(),
            "problems": self.all_problems(),
        }

    def close(self) -> None:
        """Remove this service's own index copy (it is shutting down, or was swapped out)."""
        for folder in self.owned_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        self.owned_dirs = []

    # ---- request handling --------------------------------------------------------------------
    #
    # `retrieve` (sync: CLI, tests) and `aretrieve` (the HTTP service, LanceDB's async API) share
    # every decision: `_plan` says what to search, `_finish` turns the hits into the answer.

    def retrieve(self, query: Query) -> Answer:
        """Answer one query; raises FilterError (a ValueError) for a bad filter."""
        plan = self._plan(query)
        if plan.search is None:
            return self._finish(plan, None)
        index = self.text_index if plan.text else self.index
        try:
            hits = index.nearest(*plan.search) if index else None
        except Exception as exc:  # noqa: BLE001 - a broken index must degrade to tops, not to a 500
            return self._failed(plan, exc)
        return self._finish(plan, hits)

    async def aretrieve(self, query: Query) -> Answer:
        """`retrieve` for an event loop: the vector search is awaited, the rest is the same."""
        plan = self._plan(query)
        if plan.search is None:
            return self._finish(plan, None)
        index = self.text_index if plan.text else self.index
        try:
            hits = await index.anearest(*plan.search) if index else None
        except Exception as exc:  # noqa: BLE001 - a broken index must degrade to tops, not to a 500
            return self._failed(plan, exc)
        return self._finish(plan, hits)

    def _plan(self, query: Query) -> _Plan:
        node = parse_filters(query.params)
        excluded = frozenset(query.excluded_items)
        mode = ModelType(query.model_type)
        plan = _Plan(query, mode, node, excluded)
        if mode in (ModelType.tops, ModelType.filter):
            return plan
        if mode is ModelType.similar_offer:
            # the input offers are never an answer, in the search nor in its tops fallback
            plan.excluded = excluded | frozenset(query.items) | self._items_of(query.items)
        vector, plan.reason, plan.text = self._query_vector(query, mode)
        if vector is None:
            return plan
        # Excluded ids are dropped after the search rather than pushed into it (a NOT IN list costs
        # more than the search): asking for size + 2 per excluded id keeps `size` answers, since an
        # id removes at most one row as item id and one as offer id.
        k = query.size + 2 * len(plan.excluded)
        index = self.text_index if plan.text else self.index
        plan.search = (vector, k, *self.search_params(node, index))
        return plan

    def search_params(self, node: Node, index: ItemIndex | ScanIndex | None) -> tuple[Any, ...]:
        """What the index's `nearest` takes after (vector, k): for the scan index, the filter as a
        test of its rows; for LanceDB, the `where`, whether to search exactly, and how many IVF
        partitions to probe."""
        if isinstance(index, ScanIndex):
            return (self._row_filter(node),)
        where = to_sql(node)
        if where is None or index is None or not index.indexed:
            return where, False, None
        # A selective filter is searched exactly (an IVF probe could miss its few matches); a
        # broader one probes more partitions in proportion, since each holds fewer matches.
        share = self.estimated_share(node)
        nprobes = index.params.probes(index.rows)
        return (
            where,
            share * index.rows <= EXACT_MAX_MATCHES,
            min(int(np.ceil(nprobes / max(share, 1e-3))), 4 * nprobes),
        )

    def _row_filter(self, node: Node) -> RowFilter | None:
        """`node` over the scan index's rows, evaluated on the catalogue (the one copy of the columns)."""
        expr = to_arrow(node)
        if expr is None:
            return None
        narrow = self.catalog.select(sorted(columns_of(node)))
        positions = self._index_rows

        def passing(table: pa.Table) -> np.ndarray:
            """Positions in `table` of the rows passing the filter."""
            table = table.append_column(_POS, pa.array(np.arange(table.num_rows)))
            return table.filter(expr).column(_POS).to_numpy()

        def keep(rows: np.ndarray) -> np.ndarray:
            at = positions[rows]
            known = np.flatnonzero(at >= 0)
            out = np.zeros(len(rows), dtype=bool)
            out[known[passing(narrow.take(pa.array(at[known])))]] = True
            return out

        def matching() -> np.ndarray:
            if self._catalog_rows is None:
                inverse = np.full(self.catalog.num_rows, -1, dtype=np.int64)
                known = positions >= 0
                inverse[positions[known]] = np.flatnonzero(known)
                self._catalog_rows = inverse
            rows = self._catalog_rows[passing(narrow)]
            return rows[rows >= 0]

        return RowFilter(self.estimated_share(node), keep, matching)

    def _failed(self, plan: _Plan, exc: Exception) -> Answer:
        log.error("vector search failed for call %s: %s", plan.query.call_id, exc)
        plan.search, plan.reason = None, "search_error"
        return self._finish(plan, None)

    def _finish(self, plan: _Plan, hits: Hits | None) -> Answer:
        q = plan.query
        if plan.mode is ModelType.filter:
            return self._answer(self._scan(plan, self._by_creation()), plan.mode.value, None, q)
        if plan.search is not None and hits is not None:
            rows = self._rows_of_hits(hits, plan)
            if rows:
                return self._answer(rows, SIMILAR_OFFER_TEXT if plan.text else plan.mode.value, None, q)
            plan.reason = "empty_result"
        served, reason = (plan.mode.value, None) if plan.mode is ModelType.tops else ("tops", plan.reason)
        return self._answer(self._scan(plan, self.catalog), served, reason, q)

    def _answer(self, rows: list[dict[str, Any]], served: str, fallback: str | None, q: Query) -> Answer:
        for i, row in enumerate(rows):
            row["idx"] = i
            if q.debug:
                for name, ours in REFERENCE_DEBUG_NAMES.items():
                    if ours in row:
                        row[name] = row[ours]
                digital = row.get("is_digital")
                row["is_geolocated"] = None if digital is None else not digital
        self.fallbacks.record(fallback)
        if fallback:
            log.info("retrieval call %s: %s fell back to tops (%s)", q.call_id, q.model_type, fallback)
        return Answer(rows, served, fallback, self.model_version, q.call_id)

    def _item_of(self, ref: str) -> str | None:
        """The catalogue item id a reference names: an item id, or the item of an offer id."""
        if self._items.get(ref) is not None:
            return ref
        pos = self._offers.get(ref)
        return None if pos is None else self._ids.column("item_id")[pos].as_py()

    def _items_of(self, refs: list[str]) -> frozenset[str]:
        """The item ids behind offer ids (an offer and its item are the same answer)."""
        found = (self._offers.get(ref) for ref in refs)
        return frozenset(self._ids.column("item_id")[pos].as_py() for pos in found if pos is not None)

    def _query_vector(self, query: Query, mode: ModelType) -> tuple[np.ndarray | None, str | None, bool]:
        """(vector, why there is none, whether it is a text-embedding vector)."""
        if self.index is None:
            return None, "no_model", False
        if mode is ModelType.recommendation:
            row = self.users.get(str(query.user_id)) if query.user_id is not None and self.users else None
            if row is None or self.user_vectors is None:
                return None, "unknown_user", False
            return self.user_vectors[row], None, False
        rows = []
        for ref in query.items:
            row = self.item_rows.get(ref) if self.item_rows is not None else None
            if row is None and self.item_rows is not None and (item := self._item_of(ref)) is not None:
                row = self.item_rows.get(item)
            if row is not None:
                rows.append(row)
        if rows and self.item_vectors is not None:
            return _unit_mean(self.item_vectors[rows]), None, False
        # no two-tower vector (items newer than the run): their text embeddings, when there are some
        if self.text_index is None:
            return None, "unknown_items", False
        items = sorted({item for ref in query.items if (item := self._item_of(ref)) is not None})
        try:
            vectors = self.text_index.vectors_of(items)
        except Exception as exc:  # noqa: BLE001 - a broken text index degrades to tops, not to a 500
            log.error("text-embedding lookup failed for call %s: %s", query.call_id, exc)
            return None, "search_error", False
        if not len(vectors):
            return None, "unknown_items", False
        return _unit_mean(vectors), None, True

    def _rows_of_hits(self, hits: Hits, plan: _Plan) -> list[dict[str, Any]]:
        size, debug = plan.query.size, plan.query.debug
        positions = (self._text_rows if plan.text else self._index_rows)[hits.positions]
        known = positions >= 0  # a row of an item the catalogue lacks (never, when built from it)
        positions, distances = positions[known], hits.distances[known]
        found = self._ids.take(positions)
        item_ids, offer_ids = found.column(0).to_pylist(), found.column(1).to_pylist()
        excluded = plan.excluded
        rows: list[dict[str, Any]] = []
        keep: list[int] = []
        for n, (item, offer) in enumerate(zip(item_ids, offer_ids, strict=True)):
            if excluded and (item in excluded or offer in excluded):
                continue
            rows.append({"item_id": item, "offer_id": offer})
            keep.append(n)
            if len(rows) == size:
                break
        if debug and rows:
            extra = self.catalog.select(DEBUG_COLUMNS).take(positions[keep]).to_pylist()
            for row, more, distance in zip(rows, extra, distances[keep].tolist(), strict=True):
                row.update(more)
                row["distance"] = float(distance)
                row["score"] = 1.0 - float(distance)
        return rows

    def search(self, vector: np.ndarray, node: Node, size: int, debug: bool) -> list[dict[str, Any]]:
        """The nearest items to `vector` under `node` (what a recommendation serves, without fallback)."""
        if self.index is None:
            return []
        plan = _Plan(Query(size=size, debug=debug), ModelType.recommendation, node, frozenset())
        hits = self.index.nearest(vector, size, *self.search_params(node, self.index))
        return self._rows_of_hits(hits, plan)

    def estimated_share(self, node: Node) -> float:
        """Share of the catalogue a filter keeps, measured on a fixed sample (a full scan costs ms per call)."""
        expr = to_arrow(node)
        if expr is None:
            return 1.0
        if self._sample is None:
            n = self.catalog.num_rows
            rows = np.random.default_rng(0).choice(n, size=min(n, SAMPLE_ROWS), replace=False)
            self._sample = self.catalog.take(np.sort(rows))
        if self._sample.num_rows == 0:
            return 0.0
        return self._sample.filter(expr).num_rows / self._sample.num_rows

    def tops(self, node: Node, size: int, debug: bool = False) -> list[dict[str, Any]]:
        """The most booked items (last 7 days, then all time) under the same filters."""
        return self._scan(
            _Plan(Query(size=size, debug=debug), ModelType.tops, node, frozenset()), self.catalog
        )

    def _by_creation(self) -> pa.Table:
        if self._by_date is None:
            self._by_date = self.catalog.sort_by(FILTER_ORDER)
        return self._by_date

    def _scan(self, plan: _Plan, ordered: pa.Table) -> list[dict[str, Any]]:
        """The first `size` rows of `ordered` passing the filter and the exclusions.

        Why in slices: the catalogue is already in the answer's order, so the scan stops as soon as
        it has `size` rows; a broad filter reads a few thousand rows instead of the whole catalogue.
        Only the columns the filter reads are filtered, then the answer's rows are taken.
        """
        size, debug = plan.query.size, plan.query.debug
        node = conjoin(plan.node, exclude_items(sorted(plan.excluded)))
        columns = ["item_id", "offer_id", *(DEBUG_COLUMNS if debug else [])]
        expr = to_arrow(node)
        if expr is None:
            return ordered.slice(0, size).select(columns).to_pylist()
        narrow = ordered.select(sorted(columns_of(node)))
        found: list[np.ndarray] = []
        have, start, step = 0, 0, max(SCAN_SLICE, 4 * size)
        while start < ordered.num_rows and have < size:
            part = narrow.slice(start, step)
            part = part.append_column(_POS, pa.array(np.arange(start, start + part.num_rows)))
            kept = part.filter(expr).column(_POS).to_numpy()
            found.append(kept)
            have += len(kept)
            start += step
            step *= 2
        positions = np.concatenate(found)[:size] if found else np.empty(0, np.int64)
        return ordered.take(positions).select(columns).to_pylist()


@dataclass
class _Plan:
    """What one query asks for once checked: filter, exclusions, and the vector search if any."""

    query: Query
    mode: ModelType
    node: Node
    excluded: frozenset[str]
    reason: str | None = None
    search: tuple[Any, ...] | None = None  # (vector, k, *the index's search parameters)
    text: bool = False  # searched in the text-embedding index


def _unit_mean(vectors: np.ndarray) -> np.ndarray:
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


_POS = "__position"
SCAN_SLICE = 4096
