"""The item vector index: a LanceDB table of the catalogue's items with their vectors and filter columns.

Why LanceDB: filters are pushed into the search (`where(..., prefilter=True)`), so "the nearest books
under 20 euros" returns k books, not the books among the k nearest items. Small catalogues and
selective filters are searched exactly (flat scan inside LanceDB); large ones through an IVF index.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from lancedb.index import Bitmap, BTree, HnswFlat, IvfFlat, IvfHnswSq, IvfPq

from data_gcp.log import get_logger
from data_gcp.retrieval.filters import (
    FILTER_COLUMNS,
    INSTANT_TYPE,
    ColumnType,
    Cond,
    FilterError,
    parse_instant,
    to_sql,
)

log = get_logger(__name__)

TABLE = "items"  # the collaborative (two-tower) vectors
TEXT_TABLE = "text_items"  # the text-embedding vectors (similar offers of items without the former)
VECTOR = "vector"
DISTANCE = "_distance"
INDEX_MIN_ROWS = 20_000  # below this a flat scan is exact and fast enough
EXACT_MAX_MATCHES = 5_000  # a filter matching fewer rows is searched exactly


SCAN = "PQ_FASTSCAN"  # the default: 4-bit codes of every item, re-ranked exactly (`retrieval.scan`)


@dataclass(frozen=True)
class IndexParams:
    """How the item index is built and searched.

    `index_type`: PQ_FASTSCAN (faiss, see `retrieval.scan`: `dims_per_code`, `refine_factor`,
    `exact_max_matches`), or one of LanceDB's: IVF_FLAT, IVF_PQ, IVF_HNSW_SQ, IVF_HNSW_FLAT.
    Catalogues under `min_rows` items are a LanceDB table searched exactly whatever the type.
    """

    index_type: str = SCAN
    num_partitions: int | None = None  # default ~ sqrt(rows) / 2
    # IVF partitions probed per query; default: `probe_share` of the partitions. On the bench's
    # vectors recall@50 vs exact is 0.96 at half the partitions at 100k; a quarter gives 0.93.
    nprobes: int | None = None
    probe_share: float = 0.5
    refine_factor: int | None = None
    min_rows: int = INDEX_MIN_ROWS
    m: int = 16  # HNSW: neighbours per node
    ef_construction: int = 150  # HNSW: candidates while building
    ef: int | None = None  # HNSW: candidates while searching (LanceDB default: 1.5 x k)
    dims_per_code: int = 1  # PQ_FASTSCAN: vector dimensions a 4-bit code stands for (1: 0.999 recall)
    exact_max_matches: int = 20_000  # PQ_FASTSCAN: a filter matching fewer rows is searched exactly

    def partitions(self, rows: int) -> int:
        if self.num_partitions:
            return self.num_partitions
        # one HNSW graph (LanceDB's advice; partitions only bound the build's memory)
        return 1 if "HNSW" in self.index_type else max(8, int(math.sqrt(rows) / 2))

    def probes(self, rows: int) -> int:
        return self.nprobes or max(1, math.ceil(self.partitions(rows) * self.probe_share))


def _vector_index(params: IndexParams, rows: int) -> Any:
    """The LanceDB index configuration (the unified `create_index(column, config=...)` API)."""
    kinds = {"IVF_FLAT": IvfFlat, "IVF_PQ": IvfPq, "IVF_HNSW_SQ": IvfHnswSq, "IVF_HNSW_FLAT": HnswFlat}
    if params.index_type not in kinds:
        raise ValueError(f"index_type {params.index_type!r}: use one of {SCAN}, {', '.join(kinds)}")
    options: dict[str, Any] = {"distance_type": "dot", "num_partitions": params.partitions(rows)}
    if "HNSW" in params.index_type:
        options |= {"m": params.m, "ef_construction": params.ef_construction}
    return kinds[params.index_type](**options)


def _instant(value: str | None) -> dt.datetime | None:
    try:
        return parse_instant(value, "catalogue") if value else None
    except FilterError:
        return None


def _as_instant(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A date column as UTC instants: dates at midnight UTC, naive times as UTC, zoned times converted.

    Why instants and not dates: `$lt "2026-01-11T12:00:00+01:00"` must compare the time and the zone.
    """
    if pa.types.is_timestamp(col.type):
        if col.type.tz is None:  # naive: UTC wall time, same values
            return pc.cast(pc.cast(col, pa.timestamp("us")), INSTANT_TYPE)
        return pc.cast(col, INSTANT_TYPE)  # zoned: stored as UTC already
    if pa.types.is_date(col.type):
        return pc.cast(pc.cast(col, pa.timestamp("us")), INSTANT_TYPE)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return pa.chunked_array([pa.array([_instant(v) for v in col.to_pylist()], INSTANT_TYPE)])
    return pa.chunked_array([pa.nulls(len(col), INSTANT_TYPE)])


def normalise_catalog(table: pa.Table) -> pa.Table:
    """Give every filterable column the type the filters expect (missing ones become nulls).

    Why: numbers arrive as ints or decimals, dates as timestamps or strings, depending on the engine;
    the filter back ends compare against float64 / bool / string / date32.
    """
    if "item_id" not in table.column_names:
        raise ValueError("catalogue has no item_id column")
    n = table.num_rows
    for name, kind in FILTER_COLUMNS.items():
        col = table.column(name) if name in table.column_names else None
        if kind is ColumnType.STRING:
            new = pc.cast(col, pa.string()) if col is not None else pa.nulls(n, pa.string())
        elif kind is ColumnType.NUMBER:
            new = pc.cast(col, pa.float64()) if col is not None else pa.nulls(n, pa.float64())
        elif kind is ColumnType.BOOL:
            new = pc.cast(col, pa.bool_()) if col is not None else pa.nulls(n, pa.bool_())
        else:
            new = _as_instant(col) if col is not None else pa.nulls(n, INSTANT_TYPE)
        if col is None:
            table = table.append_column(name, new)
        else:
            table = table.set_column(table.column_names.index(name), name, new)
    return table


def vectors_of(table: pa.Table) -> np.ndarray:
    col = table.column(VECTOR).combine_chunks()
    dim = col.type.list_size if pa.types.is_fixed_size_list(col.type) else len(col[0])
    return np.asarray(col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, dim)


def with_fixed_vectors(table: pa.Table) -> pa.Table:
    """LanceDB needs a fixed-size float32 list for vectors; Parquet round trips may give a plain list."""
    col = table.column(VECTOR)
    if pa.types.is_fixed_size_list(col.type) and pa.types.is_float32(col.type.value_type):
        return table
    vecs = vectors_of(table)
    arr = pa.FixedSizeListArray.from_arrays(pa.array(vecs.ravel()), vecs.shape[1])
    return table.set_column(table.column_names.index(VECTOR), VECTOR, arr)


@dataclass(frozen=True)
class Hits:
    """A search's answer: LanceDB row positions (best first, see `ItemIndex.item_ids`) and dot-product distances."""

    positions: np.ndarray
    distances: np.ndarray


def _scalar_index(kind: ColumnType, column: str) -> BTree | Bitmap | None:
    """BITMAP for low-cardinality columns, BTREE for ranges and ids; free text is not indexed."""
    if column == "offer_name":
        return None
    if kind in (ColumnType.NUMBER, ColumnType.DATE) or column in ("item_id", "offer_id"):
        return BTree()
    return Bitmap()


class ItemIndex:
    """Search items by vector under a pushed-down filter.

    A search asks LanceDB for row ids and distances only: the caller maps the rows (`positions`, in
    LanceDB row order) onto its own catalogue, read once from `item_ids()`. The index holds no copy
    of the item columns in memory (the service's catalogue is the one copy).
    """

    def __init__(self, folder: Path, params: IndexParams | None = None, table: str = TABLE) -> None:
        self.folder = folder
        self.params = params or IndexParams()
        self.name = table
        self.db = lancedb.connect(str(folder))
        self.table = self.db.open_table(table)
        self.rows = self.table.count_rows()
        vector_type = self.table.schema.field(VECTOR).type
        self.dim = vector_type.list_size if pa.types.is_fixed_size_list(vector_type) else None
        indices = self.table.list_indices()
        self.indexed = any(VECTOR in i.columns for i in indices)
        self.scalar_indexed = sorted(c for i in indices for c in i.columns if c != VECTOR)
        row_ids = self._scan(["item_id"]).column("_rowid").to_numpy()
        self._row_ids = np.sort(row_ids)
        self._async: tuple[asyncio.AbstractEventLoop, Any] | None = None

    def _scan(self, columns: list[str]) -> pa.Table:
        return self.table.search().select(columns).with_row_id(True).limit(max(self.rows, 1)).to_arrow()

    def item_ids(self) -> pa.ChunkedArray:
        """The item id of each row, in row order (what `Hits.positions` index)."""
        found = self._scan(["item_id"])
        order = np.argsort(found.column("_rowid").to_numpy(), kind="stable")
        return found.column("item_id").take(pa.array(order))

    def vectors_of(self, item_ids: list[str]) -> np.ndarray:
        """The stored vectors of these items (a scalar-index lookup; absent ids give no row)."""
        if not item_ids or not self.rows:
            return np.zeros((0, 0), np.float32)
        found = (
            self.table.search()
            .where(to_sql(Cond("item_id", "$in", tuple(item_ids))), prefilter=True)
            .select([VECTOR])
            .limit(4 * len(item_ids))
            .to_arrow()
        )
        return vectors_of(found) if found.num_rows else np.zeros((0, 0), np.float32)

    @classmethod
    def build(
        cls,
        catalog: pa.Table,
        folder: Path,
        params: IndexParams | None = None,
        table: str = TABLE,
        vector_index: bool = True,
        scalar_columns: list[str] | None = None,
    ) -> ItemIndex:
        """Write the items (normalised filter columns + vector), with scalar indexes on the filter
        columns (so a pushed-down filter is an index lookup, not a scan) and, when there are many
        items and `vector_index`, a vector index. `scalar_columns`: index only these."""
        params = params or IndexParams()
        folder.mkdir(parents=True, exist_ok=True)
        keep = ["item_id", *[c for c in FILTER_COLUMNS if c != "item_id"], VECTOR]
        data = with_fixed_vectors(normalise_catalog(catalog)).select(keep)
        db = lancedb.connect(str(folder))
        # "create" on a fresh folder: "overwrite" there makes LanceDB warn that nothing existed
        mode = "overwrite" if (folder / f"{table}.lance").exists() else "create"
        lance = db.create_table(table, data, mode=mode)
        del data
        if lance.count_rows():
            for column, kind in FILTER_COLUMNS.items():
                config = _scalar_index(kind, column)
                if config is not None and (scalar_columns is None or column in scalar_columns):
                    lance.create_index(column, config=config, replace=True)
        rows = lance.count_rows()
        if vector_index and rows >= params.min_rows and params.index_type != SCAN:
            partitions = params.partitions(rows)
            log.info("indexing %d items (%s, %d partitions)", rows, params.index_type, partitions)
            lance.create_index(VECTOR, config=_vector_index(params, rows), replace=True)
        return cls(folder, params, table)

    def _hits(self, found: pa.Table) -> Hits:
        positions = np.searchsorted(self._row_ids, found.column("_rowid").to_numpy())
        return Hits(positions, found.column(DISTANCE).to_numpy())

    def nearest(
        self,
        vector: np.ndarray,
        k: int,
        where: str | None = None,
        exact: bool = False,
        nprobes: int | None = None,
    ) -> Hits:
        """The k nearest items (dot product on unit vectors; distance = 1 - cosine) passing `where`."""
        query = self.table.search(np.asarray(vector, dtype=np.float32)).distance_type("dot").limit(k)
        if where:
            query = query.where(where, prefilter=True)
        query = self._tuned(query, exact, nprobes)
        # `_distance` named explicitly: LanceDB warns on every search that leaves it implicit
        return self._hits(query.select([DISTANCE]).with_row_id(True).to_arrow())

    async def anearest(
        self,
        vector: np.ndarray,
        k: int,
        where: str | None = None,
        exact: bool = False,
        nprobes: int | None = None,
    ) -> Hits:
        """`nearest` through LanceDB's async API: what the HTTP service awaits (no thread hop per call)."""
        table = await self._async_table()
        query = table.query().nearest_to(np.asarray(vector, dtype=np.float32)).distance_type("dot").limit(k)
        if where:
            query = query.where(where)  # a prefilter in the async API
        query = self._tuned(query, exact, nprobes)
        return self._hits(await query.select([DISTANCE]).with_row_id().to_arrow())

    def search(
        self,
        vector: np.ndarray,
        k: int,
        where: str | None = None,
        exact: bool = False,
        columns: list[str] | None = None,
        nprobes: int | None = None,
    ) -> pa.Table:
        """`nearest` as a table of item columns plus `_distance`, read from the dataset (tests, tools;
        the service maps `nearest`'s rows onto its in-memory catalogue instead)."""
        query = self.table.search(np.asarray(vector, dtype=np.float32)).distance_type("dot").limit(k)
        if where:
            query = query.where(where, prefilter=True)
        query = self._tuned(query, exact, nprobes)
        names = columns or [c for c in self.table.schema.names if c != VECTOR]
        return query.select([*names, DISTANCE]).to_arrow()

    def _tuned(self, query: Any, exact: bool, nprobes: int | None) -> Any:
        """Exact scan or IVF probes, the same for LanceDB's sync and async query builders."""
        if exact or not self.indexed:
            return query.bypass_vector_index()
        query = query.nprobes(nprobes or self.params.probes(self.rows))
        if self.params.ef:
            query = query.ef(self.params.ef)
        return query.refine_factor(self.params.refine_factor) if self.params.refine_factor else query

    async def _async_table(self) -> Any:
        # one handle per event loop: a test client and the server each run their own loop
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            db = await lancedb.connect_async(str(self.folder))
            self._async = (loop, await db.open_table(self.name))
        return self._async[1]


def archive_index(folder: Path, archive: Path) -> Path:
    """Pack a built index folder into one tar file (to ship a prebuilt index through the bucket)."""
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname=".")
    return archive


def extract_index(archive: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder
