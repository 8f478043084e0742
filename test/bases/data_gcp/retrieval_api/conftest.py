"""A small run folder of known vectors for the HTTP tests (no training needed)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_gcp.retrieval import write_run_manifest

DIM = 8


def _fixed(vectors: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.astype(np.float32).ravel()), vectors.shape[1])


def write_small_run(folder: Path, n_items: int = 40) -> Path:
    """Item i points along axis i % DIM; user u<k> likes axis k; offer-0 is the most booked."""
    folder.mkdir(parents=True, exist_ok=True)
    eye = np.eye(DIM)
    items = np.stack([eye[i % DIM] + 0.01 * (i // DIM) * eye[(i + 1) % DIM] for i in range(n_items)])
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    catalog = pa.table(
        {
            "item_id": [f"offer-{i}" for i in range(n_items)],
            "offer_id": [str(i) for i in range(n_items)],
            "category_id": ["LIVRE" if i % 2 else "CINEMA" for i in range(n_items)],
            "price": [float(i) for i in range(n_items)],
            "is_digital": [i % 3 == 0 for i in range(n_items)],
            "venue_latitude": [None if i % 3 == 0 else 48.0 + i / 10 for i in range(n_items)],
            "venue_longitude": [None if i % 3 == 0 else 2.0 for i in range(n_items)],
            "booking_count": [n_items - i for i in range(n_items)],
            "vector": _fixed(items),
        }
    )
    pq.write_table(catalog, folder / "catalog.parquet")
    pq.write_table(catalog.select(["item_id", "vector"]), folder / "item_embeddings.parquet")
    pq.write_table(
        pa.table({"user_id": ["u0", "u1", "u2"], "vector": _fixed(eye[:3])}),
        folder / "user_embeddings.parquet",
    )
    meta = {"run_id": "run-small", "created_at": dt.datetime.now(dt.UTC).isoformat()}
    (folder / "meta.json").write_text(json.dumps(meta))
    write_run_manifest(folder, vector_dim=DIM, items=n_items, users=3, catalog_items=n_items)
    return folder


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    return write_small_run(tmp_path / "run")


@pytest.fixture
def run_writer():
    """`write_small_run`, for tests that publish a run again."""
    return write_small_run
