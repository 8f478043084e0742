"""Loading a retrieval service: the two-tower run (bucket or folder), verified against its manifest,
today's catalogue from the warehouse, the item index, the text-embedding table, then a real query
through each engine before the service is handed out.

Why verified first: a truncated or mismatched file (vectors of another size, a cut index archive)
must be refused with the reason, not loaded into an index that then answers every request from tops.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_gcp.config import Settings, get_settings
from data_gcp.log import get_logger
from data_gcp.manifest import MANIFEST_FILE, Manifest, read_manifest
from data_gcp.retrieval.health import DEFAULT_MAX_CATALOG_AGE_HOURS, CatalogInfo
from data_gcp.retrieval.ids import IdLookup
from data_gcp.retrieval.index import (
    SCAN,
    TABLE,
    TEXT_TABLE,
    VECTOR,
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
from data_gcp.retrieval.scan import ScanIndex, is_scan_index
from data_gcp.retrieval.service import TOPS_ORDER, RetrievalService, RetrievalUnavailable
from data_gcp.retrieval.workdir import clean_stale_index_dirs, default_work_dir, new_index_dir

log = get_logger(__name__)

RECOMMENDABLE_TABLE = "ml.ml_reco__recommendable_item"
# item text embeddings (item_id, model, content_hash, vector): written by `data-gcp ml embed`
TEXT_EMBEDDING_TABLE = "ml.item_embedding"
RUN_FILES = [CATALOG_FILE, ITEM_EMBEDDINGS_FILE, USER_EMBEDDINGS_FILE, META_FILE]


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
    needed = [*RUN_FILES, MANIFEST_FILE]
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


def _run_id(folder: Path) -> str:
    """The run id meta.json gives (the folder's name when it cannot be read: the manifest says why)."""
    try:
        return str(json.loads((folder / META_FILE).read_text()).get("run_id") or folder.name)
    except (OSError, ValueError, AttributeError):
        return folder.name


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
    work = work_dir or default_work_dir(settings)
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
            # verified before anything is read: a truncated or replaced file never reaches a loader
            version = version or _run_id(folder)
            archive = [INDEX_ARCHIVE] if (folder / INDEX_ARCHIVE).is_file() else []
            manifest = read_manifest(folder, verify=[*RUN_FILES, *archive])
            # one folder per load: the live service keeps its own while a reload builds another
            index_dir = new_index_dir(work, version)
            service = _load_run(folder, fresh, index_dir, params, manifest)
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
            for problem in service.check():
                log.error("retrieval %s: %s", version, problem)
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


def _expect(what: str, got: object, manifest: Manifest, shape: str) -> None:
    """Raise naming the file when `got` differs from the shape training recorded."""
    want = manifest.shape(shape)
    if got != want:
        raise ValueError(
            f"{what}: {got} where {MANIFEST_FILE} records {shape} = {want}; the files of this run "
            "do not belong together, publish the run again"
        )


def _load_run(
    folder: Path,
    fresh: pa.Table | None,
    index_dir: Path,
    params: IndexParams | None,
    manifest: Manifest,
) -> RetrievalService:
    """The service of one verified run folder (raises on any unreadable or mismatched file: the
    caller reports it)."""
    prebuilt = fresh is None and (folder / INDEX_ARCHIVE).is_file()
    dim = manifest.shape("vector_dim")
    # with a prebuilt index the snapshot's vectors are not needed: not reading them saves their size
    # (256 MB at 1M items x 64 dims) from the start's peak memory
    snapshot = _read(folder / CATALOG_FILE, without_vectors=prebuilt)
    _expect(f"{CATALOG_FILE} rows", snapshot.num_rows, manifest, "catalog_items")
    users = _read(folder / USER_EMBEDDINGS_FILE)
    item_emb = _read(folder / ITEM_EMBEDDINGS_FILE)
    item_ids = item_emb.column("item_id")
    item_vecs = vectors_of(item_emb)  # a view of the Parquet column's buffer: one copy of the vectors
    user_vecs = vectors_of(users)
    _expect(f"{ITEM_EMBEDDINGS_FILE} rows", len(item_vecs), manifest, "items")
    _expect(f"{USER_EMBEDDINGS_FILE} rows", len(user_vecs), manifest, "users")
    _expect(f"{ITEM_EMBEDDINGS_FILE} vector size", item_vecs.shape[1], manifest, "vector_dim")
    _expect(f"{USER_EMBEDDINGS_FILE} vector size", user_vecs.shape[1], manifest, "vector_dim")
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
            _expect(f"{INDEX_ARCHIVE} items", index.rows, manifest, "index_items")
        else:
            index = build_index(snapshot, index_dir, params)
    if index.rows and index.dim != dim:
        raise ValueError(
            f"the item index holds vectors of {index.dim} dimensions, the run's embeddings {dim}: "
            "publish the run again"
        )
    del snapshot, fresh
    return RetrievalService(
        catalog=_catalog_only(catalog),
        index=index,
        users=IdLookup(users.column("user_id")),
        user_vectors=user_vecs,
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
