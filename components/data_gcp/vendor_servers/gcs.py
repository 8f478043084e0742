"""A Cloud Storage client over a local folder, failing the way google-cloud-storage does.

Why: the cloud path of a connector reading a bucket (`storage.GCSStorage`) cannot reach GCS in tests;
this client gives `GCSStorage` the surface it uses (`bucket().blob().download_as_bytes()`,
`client.list_blobs()`), reading a `LocalStorage`, and raises the SDK's own exceptions when told to:
`errors` is a list consumed one per call (e.g. `DataCorruption` for a checksum mismatch,
`google.api_core.exceptions.Forbidden` for a 403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Blob:
    client: FakeGcsClient
    name: str
    size: int = 0
    updated: Any = None

    def download_as_bytes(self) -> bytes:
        self.client.fail()
        from data_gcp.storage import StorageError

        try:
            return self.client.local.get_bytes(self.name)
        except StorageError:
            from google.api_core.exceptions import NotFound

            raise NotFound(f"No such object: {self.name}") from None


@dataclass
class FakeGcsClient:
    """`GCSStorage(bucket, client=FakeGcsClient(local, errors=[...]))`."""

    local: Any
    errors: list[BaseException] = field(default_factory=list)
    calls: int = 0

    def fail(self) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)

    def bucket(self, name: str) -> FakeGcsClient:
        return self

    @property
    def client(self) -> FakeGcsClient:
        return self

    def blob(self, name: str) -> _Blob:
        return _Blob(self, name)

    def list_blobs(self, bucket: str, prefix: str | None = None) -> list[_Blob]:
        self.fail()
        return [_Blob(self, o.key, o.size, o.updated) for o in self.local.list(prefix or "")]
