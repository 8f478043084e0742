"""Object storage. Paths are bucket-relative, '/'-separated keys (`bigquery_imports/seed/x.csv`)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from data_gcp.config import DataGcpError, Settings, get_settings


class StorageError(DataGcpError):
    """A bucket operation failed; names the bucket and key."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    updated: dt.datetime


def _check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or ".." in parts:
        raise StorageError(f"invalid object key {key!r}: must be relative, without '..'")
    return key


class Storage(ABC):
    """put/get bytes and files, list by prefix, newest by prefix, delete."""

    uri_prefix: str

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[ObjectInfo]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    def put_file(self, local: Path, key: str) -> None:
        self.put_bytes(key, Path(local).read_bytes())

    def get_file(self, key: str, local: Path) -> Path:
        local = Path(local)
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(self.get_bytes(key))
        return local

    def newest(self, prefix: str = "") -> ObjectInfo | None:
        """The most recently updated object under `prefix` (ties broken by key), or None."""
        objects = self.list(prefix)
        return max(objects, key=lambda o: (o.updated, o.key)) if objects else None

    def uri(self, key: str) -> str:
        return f"{self.uri_prefix}/{key}"


class LocalStorage(Storage):
    """A folder standing in for a bucket; writes are atomic (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.uri_prefix = self.root.resolve().as_uri()

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    def put_file(self, local: Path, key: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{path.name}")
        shutil.copyfile(local, tmp)
        os.replace(tmp, path)

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise StorageError(f"no object {key!r} in {self.root}")
        return path.read_bytes()

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        if not self.root.exists():
            return []
        out = []
        for path in self.root.rglob("*"):
            if not path.is_file() or path.name.startswith(".tmp-"):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                st = path.stat()
                out.append(ObjectInfo(key, st.st_size, dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)))
        return sorted(out, key=lambda o: o.key)

    def delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_file():
            path.unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class GCSStorage(Storage):
    """A GCS bucket through google-cloud-storage (client created on first use)."""

    def __init__(self, bucket: str, project: str | None = None, client: Any | None = None) -> None:
        self.bucket_name = bucket
        self.project = project
        self._client = client
        self.uri_prefix = f"gs://{bucket}"

    @property
    def bucket(self) -> Any:
        if self._client is None:
            from google.cloud import storage

            self._client = storage.Client(project=self.project)
        return self._client.bucket(self.bucket_name)

    def put_bytes(self, key: str, data: bytes) -> None:
        self.bucket.blob(_check_key(key)).upload_from_string(data)

    def put_file(self, local: Path, key: str) -> None:
        self.bucket.blob(_check_key(key)).upload_from_filename(str(local))

    def get_bytes(self, key: str) -> bytes:
        from google.api_core.exceptions import NotFound

        try:
            return self.bucket.blob(_check_key(key)).download_as_bytes()
        except NotFound:
            raise StorageError(f"no object {key!r} in gs://{self.bucket_name}") from None

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        blobs = self.bucket.client.list_blobs(self.bucket_name, prefix=prefix or None)
        return sorted(
            (ObjectInfo(b.name, int(b.size or 0), b.updated) for b in blobs if not b.name.endswith("/")),
            key=lambda o: o.key,
        )

    def delete(self, key: str) -> None:
        from google.api_core.exceptions import NotFound

        try:
            self.bucket.blob(_check_key(key)).delete()
        except NotFound:
            pass

    def exists(self, key: str) -> bool:
        return bool(self.bucket.blob(_check_key(key)).exists())


def get_storage(settings: Settings | None = None, bucket: str | None = None) -> Storage:
    """The data bucket of this environment (or another bucket by name)."""
    settings = settings or get_settings()
    name = bucket or settings.bucket_name
    if settings.is_cloud:
        return GCSStorage(name, project=settings.project_id)
    return LocalStorage(settings.local_data_dir / "bucket" / name)
