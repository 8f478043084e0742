"""A bucket behind one interface: a local folder locally, a GCS bucket in the cloud."""

from data_gcp.storage.core import (
    GCSStorage,
    LocalStorage,
    ObjectInfo,
    Storage,
    StorageError,
    get_storage,
)

__all__ = ["GCSStorage", "LocalStorage", "ObjectInfo", "Storage", "StorageError", "get_storage"]
