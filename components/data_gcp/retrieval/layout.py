"""Where a two-tower run lives and what its folder holds: the contract between training and serving.

Why here and not in the training brick: the service reads these files without importing torch.
"""

from pathlib import Path

from data_gcp.manifest import write_manifest

MODEL_PREFIX = "models/two_tower"
LATEST_KEY = f"{MODEL_PREFIX}/latest"  # a text object holding the latest run id
MODEL_FILE = "model.pt"
SPACE_FILE = "feature_space.json"
META_FILE = "meta.json"
USER_EMBEDDINGS_FILE = "user_embeddings.parquet"  # user_id, vector
ITEM_EMBEDDINGS_FILE = "item_embeddings.parquet"  # item_id, vector
CATALOG_FILE = "catalog.parquet"  # recommendable items at training time + vector
METRICS_FILE = "metrics.json"
INDEX_ARCHIVE = "index.tar"  # optional prebuilt index of the catalog (the scan engine, or LanceDB below 20k)


def run_prefix(run_id: str) -> str:
    return f"{MODEL_PREFIX}/{run_id}"


def write_run_manifest(folder: Path, *, vector_dim: int, items: int, users: int, catalog_items: int) -> Path:
    """Write the run's manifest (last, after every file): each file's size and SHA-256, and the shapes
    the service checks before loading (`index_items`: the prebuilt index holds the catalogue's items)."""
    files = [
        name
        for name in (
            MODEL_FILE,
            SPACE_FILE,
            META_FILE,
            USER_EMBEDDINGS_FILE,
            ITEM_EMBEDDINGS_FILE,
            CATALOG_FILE,
        )
        + (METRICS_FILE, INDEX_ARCHIVE)
        if (folder / name).is_file()
    ]
    shapes = {
        "vector_dim": vector_dim,
        "items": items,
        "users": users,
        "catalog_items": catalog_items,
        "index_items": catalog_items,
    }
    return write_manifest(folder, files, shapes)
