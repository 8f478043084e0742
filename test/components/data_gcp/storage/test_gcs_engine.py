"""The GCS engine against a local GCS emulator (gcp-storage-emulator) when installed.

Proven here: the engine's calls through google-cloud-storage against a server speaking the GCS JSON API.
"""

import socket
import threading

import pytest

from data_gcp.storage import GCSStorage, StorageError

emulator = pytest.importorskip("gcp_storage_emulator.server", reason="gcp-storage-emulator not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gcs(monkeypatch):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    port = _free_port()
    server = emulator.create_server("127.0.0.1", port, in_memory=True, default_bucket="test-bucket")
    thread = threading.Thread(target=server.start, daemon=True)
    thread.start()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    client = storage.Client(project="test", credentials=AnonymousCredentials())
    try:
        yield GCSStorage("test-bucket", client=client)
    finally:
        server.stop()


def test_gcs_roundtrip(gcs, tmp_path):
    gcs.put_bytes("seed/a_20260101.csv", b"a")
    gcs.put_bytes("seed/a_20260102.csv", b"bb")
    gcs.put_bytes("other/x", b"x")
    assert gcs.get_bytes("seed/a_20260101.csv") == b"a"
    assert [o.key for o in gcs.list("seed/")] == ["seed/a_20260101.csv", "seed/a_20260102.csv"]
    assert gcs.newest("seed/").key == "seed/a_20260102.csv"
    assert gcs.exists("other/x")
    gcs.delete("other/x")
    assert not gcs.exists("other/x")
    with pytest.raises(StorageError, match="no object"):
        gcs.get_bytes("other/x")
