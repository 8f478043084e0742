"""The retrieval service's logic: recommendation / similar_offer / tops / filter, with fallbacks.

Why a component: the HTTP base only parses requests and formats answers; every decision (which
vector, which filter, when to fall back to tops) is here and tested without HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_gcp.config import DataGcpError, Settings, get_settings
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
from data_gcp.retrieval.ids import IdLookup
from data_gcp.retrieval.index import (
    EXACT_MAX_MATCHES,
    SCAN,
    TABLE,
    TEXT_TABLE,
    VECTOR,
    Hits,
    IndexParams,
    ItemIndex,
    extract_index,
    normalise_catalog,
    vectors_of,
)
from data_gcp.retrieval.layout import (
    CATALOG_FILE,
    INDEX_ARCHIVE,
    ITEM_EMBEDDINGS_FILE,
    LATEST_KEY,
    META_FILE,
    USER_EMBEDDINGS_FILE,
    run_prefix,
)
from data_gcp.retrieval.scan import RowFilter, ScanIndex, is_scan_index

log = get_logger(__name__)

RECOMMENDABLE_TABLE = "ml.ml_reco__recommendable_item"
# item text embeddings (item_id, model, content_hash, vector): written by `data-gcp ml embed`
TEXT_EMBEDDING_TABLE = "ml.item_embedding"
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
DEFAULT_MAX_CATALOG_AGE_HOURS = 72.0  # the catalogue is rebuilt daily; three missed days is stale
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


@dataclass(frozen=True)
class CatalogInfo:
    """Where the served catalogue comes from and how old it is (reported by `/isalive`).

    Policy: the warehouse table read at start is dated by that read; a run's snapshot by the run's
    `created_at`. A catalogue older than `max_age_hours` (or undated) makes the service degraded, as
    does a warehouse that could not be read (the snapshot is then served, and loading is retried).
    """

    source: str  # "warehouse" | "snapshot"
    date: dt.datetime | None
    max_age_hours: float | None = None

    def age_hours(self) -> float:
        assert self.date is not None
        return (dt.datetime.now(dt.UTC) - self.date).total_seconds() / 3600

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "date": self.date.isoformat() if self.date else None,
            "age_hours": round(self.age_hours(), 2) if self.date else None,
            "max_age_hours": self.max_age_hours,
        }


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

    One copy of the items: `catalog` (Arrow, sorted for tops). The indexes hold LanceDB row ids only,
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

    def _rows_in_catalog(self, index: ItemIndex | ScanIndex | None) -> np.ndarray:
        return np.empty(0, np.int64) if index is None else self._items.rows_of(index.item_ids())

    def attach_text_index(self, index: ItemIndex) -> None:
        """Serve similar offers of items without a two-tower vector from this text-embedding index."""
        self.text_index = index
        self._text_rows = self._rows_in_catalog(index)

    @property
    def ready(self) -> bool:
        """True when the model is loaded and the catalogue fresh; tops still work otherwise."""
        return (
            self.index is not None
            and self.user_vectors is not None
            and not self.problems
            and not self.catalog_problem()
        )

    def catalog_problem(self) -> str | None:
        """Why the catalogue is not to be trusted (too old), or None."""
        info = self.catalog_info
        if info is None or info.max_age_hours is None:
            return None
        if info.date is None:
            return f"catalogue ({info.source}) has no date: its freshness is unknown"
        age = info.age_hours()
        if age > info.max_age_hours:
            return (
                f"catalogue ({info.source}) is {age:.0f} h old, more than {info.max_age_hours:.0f} h: "
                "rebuild ml.ml_reco__recommendable_item or publish a new two-tower run"
            )
        return None

    def status(self) -> dict[str, Any]:
        stale = self.catalog_problem()
        return {
            "status": "ok" if self.ready else "degraded",
            "model_version": self.model_version,
            "items": self.catalog.num_rows,
            "indexed_items": self.index.rows if self.index else 0,
            "users": len(self.users) if self.users is not None else 0,
            "text_indexed_items": self.text_index.rows if self.text_index else 0,
            "catalog": self.catalog_info.describe() if self.catalog_info else None,
            "problems": [*self.problems, *([stale] if stale else [])],
        }

    def close(self) -> None:
        """Remove this process's copy of the index (the service is shutting down or replaced)."""
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
        plan.search = (vector, k, *self._search_params(node, index))
        return plan

    def _search_params(self, node: Node, index: ItemIndex | ScanIndex | None) -> tuple[Any, ...]:
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
        hits = self.index.nearest(vector, size, *self._search_params(node, self.index))
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


# ---- loading -------------------------------------------------------------------------------------


def _catalog_only(table: pa.Table) -> pa.Table:
    table = normalise_catalog(table)
    if VECTOR in table.column_names:
        table = table.drop_columns([VECTOR])
    return table.sort_by(TOPS_ORDER)


def _fetch_run(
    settings: Settings, run_id: str | None, cache: Path
) -> tuple[Path | None, str | None, str | None]:
    """Download a run folder from the bucket (latest unless `run_id`); (folder, run_id, problem)."""
    from data_gcp.storage import get_storage

    storage = get_storage(settings)
    if run_id is None:
        if not storage.exists(LATEST_KEY):
            return None, None, f"no two-tower model in the bucket ({storage.uri(LATEST_KEY)} missing)"
        run_id = storage.get_bytes(LATEST_KEY).decode().strip()
    prefix = run_prefix(run_id)
    folder = cache / run_id
    needed = [CATALOG_FILE, ITEM_EMBEDDINGS_FILE, USER_EMBEDDINGS_FILE, META_FILE]
    missing = [f for f in needed if not storage.exists(f"{prefix}/{f}")]
    if missing:
        return None, run_id, f"two-tower run {run_id} lacks {', '.join(missing)} in {storage.uri(prefix)}"
    folder.mkdir(parents=True, exist_ok=True)
    for name in [*needed, INDEX_ARCHIVE]:
        key = f"{prefix}/{name}"
        if name == INDEX_ARCHIVE and not storage.exists(key):
            continue
        storage.get_file(key, folder / name)
    return folder, run_id, None


def _default_work_dir(settings: Settings) -> Path:
    """Where the downloaded run and the index live: the data folder locally, /tmp in a container."""
    if settings.is_cloud or settings.data_dir is None and os.environ.get("K_SERVICE"):
        return Path(tempfile.gettempdir()) / "data_gcp_retrieval"
    return settings.local_data_dir / "cache" / "retrieval"


def _warehouse_catalog(settings: Settings, required: bool) -> tuple[pa.Table | None, str | None]:
    """Today's recommendable items, or None with why (None, None: no such table, use the snapshot)."""
    try:
        from data_gcp.warehouse import get_warehouse

        wh = get_warehouse(settings)
        if not wh.table_exists(RECOMMENDABLE_TABLE):
            if required:
                return None, f"catalogue: {RECOMMENDABLE_TABLE} does not exist; build it with dbt"
            return None, None
        return wh.query(f"select * from {wh.physical(RECOMMENDABLE_TABLE)}"), None
    except Exception as exc:  # noqa: BLE001 - reported as degraded, the model's snapshot is served
        log.warning("could not read %s: %s", RECOMMENDABLE_TABLE, exc)
        return None, f"catalogue: could not read {RECOMMENDABLE_TABLE} ({type(exc).__name__}: {exc})"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_index_dirs(parent: Path) -> list[Path]:
    """Remove index copies (`<run>-<pid>`) whose process is gone: a killed worker never cleaned its own."""
    removed = []
    if not parent.is_dir():
        return removed
    for folder in parent.iterdir():
        pid = folder.name.rsplit("-", 1)[-1]
        if folder.is_dir() and pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed %d stale index copies under %s", len(removed), parent)
    return removed


def _snapshot_date(folder: Path) -> dt.datetime | None:
    meta = folder / META_FILE
    if not meta.is_file():
        return None
    created = json.loads(meta.read_text()).get("created_at")
    try:
        date = dt.datetime.fromisoformat(created) if isinstance(created, str) else None
    except ValueError:
        return None
    return date.replace(tzinfo=date.tzinfo or dt.UTC) if date else None


def load_service(
    settings: Settings | None = None,
    model_dir: Path | None = None,
    run_id: str | None = None,
    catalog_source: str = "auto",
    params: IndexParams | None = None,
    work_dir: Path | None = None,
    max_catalog_age_hours: float | None = DEFAULT_MAX_CATALOG_AGE_HOURS,
) -> RetrievalService:
    """Load the latest (or given) two-tower run and build the item index; never raises for a missing
    or broken model when a catalogue can still be served.

    catalog_source: "snapshot" serves the items of the training run (and its prebuilt index when
    present); "warehouse" joins today's recommendable items with the run's item vectors; "auto" uses
    the warehouse table when it exists. Without a usable model (missing, or a run folder that cannot
    be read), the service starts degraded on the warehouse catalogue (tops only) and `/isalive` says
    why; with no catalogue at all it raises RetrievalUnavailable (the app then answers 503 and retries).
    """
    settings = settings or get_settings()
    start = time.perf_counter()
    work = work_dir or _default_work_dir(settings)
    clean_stale_index_dirs(work / "index")
    problems: list[str] = []
    folder, version = model_dir, None
    if folder is None:
        try:
            folder, version, problem = _fetch_run(settings, run_id, work / "runs")
        except Exception as exc:  # noqa: BLE001 - a bucket error is a reason to report, not a crash
            folder, problem = None, f"could not download the two-tower run: {type(exc).__name__}: {exc}"
        if problem:
            problems.append(problem)
    elif not (folder / CATALOG_FILE).is_file():
        problems.append(f"no two-tower run at {folder} ({CATALOG_FILE} missing)")
        folder = None

    fresh, fresh_problem = (
        _warehouse_catalog(settings, required=catalog_source == "warehouse")
        if catalog_source in ("auto", "warehouse")
        else (None, None)
    )
    if fresh_problem:
        problems.append(fresh_problem)
    now = dt.datetime.now(dt.UTC)
    if folder is not None:
        index_dir = None
        try:
            if version is None:
                meta = folder / META_FILE
                version = json.loads(meta.read_text()).get("run_id") if meta.is_file() else folder.name
            # one folder per process: several uvicorn workers may start side by side
            index_dir = work / "index" / f"{version or 'local'}-{os.getpid()}"
            service = _load_run(folder, fresh, index_dir, params)
        except Exception as exc:  # noqa: BLE001 - a broken run folder must not kill the service
            if index_dir is not None:
                shutil.rmtree(index_dir, ignore_errors=True)
            problems.append(
                f"two-tower run {version or folder} cannot be loaded from {folder}: "
                f"{type(exc).__name__}: {str(exc)[:300]}; publish a complete run (catalog, embeddings, index)"
            )
            log.error("%s", problems[-1])
        else:
            if service.catalog.num_rows and service.index is not None and not service.index.rows:
                problems.append(
                    f"two-tower run {version}: none of the {service.catalog.num_rows} catalogue items has "
                    "a vector (only tops are served); publish a run trained on today's items"
                )
            text_problem = _attach_text(service, settings, index_dir, params)
            if text_problem:
                problems.append(text_problem)
            info = (
                CatalogInfo("warehouse", now)
                if fresh is not None
                else CatalogInfo("snapshot", _snapshot_date(folder))
            )
            service.model_version, service.problems = version, problems
            service.catalog_info = CatalogInfo(info.source, info.date, max_catalog_age_hours)
            log.info(
                "retrieval service ready in %.1fs: model %s, %d items (%d indexed, %d with a text "
                "embedding), %d users, catalogue %s",
                time.perf_counter() - start,
                version,
                service.catalog.num_rows,
                service.index.rows if service.index else 0,
                service.text_index.rows if service.text_index else 0,
                len(service.users) if service.users is not None else 0,
                info.source,
            )
            return service
    if fresh is None:
        raise RetrievalUnavailable(
            "no model and no recommendable-item table: train the two-tower model "
            "(`data-gcp ml train two-tower`) or build `ml.ml_reco__recommendable_item`; "
            + "; ".join(problems)
        )
    return RetrievalService(
        catalog=_catalog_only(fresh),
        problems=problems,
        catalog_info=CatalogInfo("warehouse", now, max_catalog_age_hours),
    )


def _read(path: Path, without_vectors: bool = False) -> pa.Table:
    """A run file as a table; an unreadable one raises naming the file."""
    try:
        columns = [c for c in pq.read_schema(path).names if c != VECTOR] if without_vectors else None
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"{path.name} is not a readable Parquet file ({exc})") from exc


def _load_run(
    folder: Path, fresh: pa.Table | None, index_dir: Path, params: IndexParams | None
) -> RetrievalService:
    """The service of one run folder (raises on any unreadable file: the caller reports it)."""
    prebuilt = fresh is None and (folder / INDEX_ARCHIVE).is_file()
    # with a prebuilt index the snapshot's vectors are not needed: not reading them saves their size
    # (256 MB at 1M items x 64 dims) from the start's peak memory
    snapshot = _read(folder / CATALOG_FILE, without_vectors=prebuilt)
    users = _read(folder / USER_EMBEDDINGS_FILE)
    item_emb = _read(folder / ITEM_EMBEDDINGS_FILE)
    if index_dir.exists():
        shutil.rmtree(index_dir)
    item_ids = item_emb.column("item_id")
    item_vecs = vectors_of(item_emb)  # a view of the Parquet column's buffer: one copy of the vectors
    if fresh is not None:
        # today's items, with the run's vectors where it has one
        fresh = normalise_catalog(fresh)
        rows = IdLookup(item_ids).rows_of(fresh.column("item_id"))
        have = np.flatnonzero(rows >= 0)
        vectors = item_vecs[rows[have]]
        indexed = fresh.take(have).append_column(
            VECTOR, pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])
        )
        del vectors
        catalog = fresh
        index = build_index(indexed, index_dir, params)
        del indexed
    else:
        catalog = snapshot
        if prebuilt:
            index = open_index(extract_index(folder / INDEX_ARCHIVE, index_dir), params)
        else:
            index = build_index(snapshot, index_dir, params)
    del snapshot, fresh
    return RetrievalService(
        catalog=_catalog_only(catalog),
        index=index,
        users=IdLookup(users.column("user_id")),
        user_vectors=vectors_of(users),
        item_rows=IdLookup(item_ids),
        item_vectors=item_vecs,
        owned_dirs=[index_dir],
    )


def _attach_text(
    service: RetrievalService, settings: Settings, index_dir: Path, params: IndexParams | None
) -> str | None:
    """Give the service the text embeddings of its catalogue items (`ml.item_embedding`, the
    configured model) as a second LanceDB table next to its index; returns a problem, or None.

    Why in LanceDB: the vectors (384 floats an item) stay on disk, not in the process; the table
    carries the filter columns so similar offers by text take the same pushed-down filters. It is
    searched exactly (no vector index to build at each start for what only new items need).
    No table, or no vector for this model: nothing to attach, similar offers fall back to tops.
    """
    try:
        from data_gcp.warehouse import get_warehouse

        wh = get_warehouse(settings)
        if not wh.table_exists(TEXT_EMBEDDING_TABLE):
            log.info(
                "no %s: similar offers without a two-tower vector fall back to tops", TEXT_EMBEDDING_TABLE
            )
            return None
        param = "@model" if wh.engine == "bigquery" else "$model"
        found = wh.query(
            f"select item_id, vector from {wh.physical(TEXT_EMBEDDING_TABLE)} where model = {param} and vector is not null",
            {"model": settings.embedding_model},
        )
        positions = service._items.rows_of(found.column("item_id"))
        keep = np.flatnonzero(positions >= 0)
        if not len(keep):
            return None
        vectors = found.column(VECTOR).combine_chunks().take(pa.array(keep))
        del found
        dim = len(vectors[0])
        flat = vectors.flatten()
        if len(flat) != dim * len(vectors):
            raise ValueError(f"{TEXT_EMBEDDING_TABLE} vectors of {settings.embedding_model} differ in size")
        table = service.catalog.take(positions[keep]).append_column(
            VECTOR, pa.FixedSizeListArray.from_arrays(pc.cast(flat, pa.float32()), dim)
        )
        del vectors, flat
        index = ItemIndex.build(
            table, index_dir, params, table=TEXT_TABLE, vector_index=False, scalar_columns=["item_id"]
        )
        service.attach_text_index(index)
        return None
    except Exception as exc:  # noqa: BLE001 - the service serves without it, reported as degraded
        log.warning("could not load the text embeddings: %s", exc)
        return (
            f"text embeddings: could not load {TEXT_EMBEDDING_TABLE} ({type(exc).__name__}: {str(exc)[:200]})"
        )


def build_index_archive(catalog: pa.Table, archive: Path, params: IndexParams | None = None) -> Path:
    """Build the index of a training run's catalogue and pack it, so the service can skip the build."""
    from data_gcp.retrieval.index import archive_index

    work = archive.parent / "_index_build"
    build_index(catalog, work, params)
    archive_index(work, archive)
    shutil.rmtree(work)
    return archive


def build_index(catalog: pa.Table, folder: Path, params: IndexParams | None = None) -> ItemIndex | ScanIndex:
    """The item index of `catalog` (items with a vector): the scan index for large catalogues with
    the default PQ_FASTSCAN, else a LanceDB table (exact below `min_rows`, or the IVF type asked)."""
    params = params or IndexParams()
    if params.index_type == SCAN and catalog.num_rows >= params.min_rows:
        return ScanIndex.build(catalog.column("item_id"), vectors_of(catalog), folder, params)
    return ItemIndex.build(catalog, folder, params, table=TABLE)


def open_index(folder: Path, params: IndexParams | None = None) -> ItemIndex | ScanIndex:
    """A built index folder (what `build_index` wrote, or an extracted `index.tar`)."""
    return ScanIndex(folder, params) if is_scan_index(folder) else ItemIndex(folder, params)
