"""Where a two-tower run lives and what its folder holds: the contract between training and serving.

Why here and not in the training brick: the service reads these files without importing torch.
"""

MODEL_PREFIX = "models/two_tower"
LATEST_KEY = f"{MODEL_PREFIX}/latest"  # a text object holding the latest run id
MODEL_FILE = "model.pt"
SPACE_FILE = "feature_space.json"
META_FILE = "meta.json"
USER_EMBEDDINGS_FILE = "user_embeddings.parquet"  # user_id, vector
ITEM_EMBEDDINGS_FILE = "item_embeddings.parquet"  # item_id, vector
CATALOG_FILE = "catalog.parquet"  # recommendable items at training time + vector
METRICS_FILE = "metrics.json"
INDEX_ARCHIVE = "index.tar"  # optional prebuilt LanceDB index of the catalog


def run_prefix(run_id: str) -> str:
    return f"{MODEL_PREFIX}/{run_id}"
