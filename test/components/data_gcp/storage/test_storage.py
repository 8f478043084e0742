"""Storage contract on the folder engine (for real) and the GCS engine's key handling (GCP not reachable)."""

import os
import time

import pytest

from data_gcp.config.core import load_settings
from data_gcp.storage import GCSStorage, LocalStorage, StorageError, get_storage


@pytest.fixture
def store(settings):
    s = get_storage(settings)
    assert isinstance(s, LocalStorage)
    return s


def test_put_get_bytes_and_files(store, tmp_path):
    store.put_bytes("a/b/x.txt", b"hello")
    assert store.get_bytes("a/b/x.txt") == b"hello"
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00\x01")
    store.put_file(src, "files/src.bin")
    out = store.get_file("files/src.bin", tmp_path / "out" / "copy.bin")
    assert out.read_bytes() == b"\x00\x01"
    assert store.exists("files/src.bin") and not store.exists("files/none")


def test_list_by_prefix_and_newest(store):
    for i, name in enumerate(
        ["seed/regions/regions_20260101.csv", "seed/regions/regions_20260301.csv", "seed/x.csv"]
    ):
        store.put_bytes(name, b"x" * (i + 1))
        path = store.root / name
        os.utime(path, (time.time() + i, time.time() + i))
    keys = [o.key for o in store.list("seed/regions/")]
    assert keys == ["seed/regions/regions_20260101.csv", "seed/regions/regions_20260301.csv"]
    assert store.newest("seed/regions/").key == "seed/regions/regions_20260301.csv"
    assert store.newest("nothing/") is None


def test_delete_and_missing(store):
    store.put_bytes("k", b"1")
    store.delete("k")
    store.delete("k")  # idempotent
    with pytest.raises(StorageError, match="no object 'k'"):
        store.get_bytes("k")


@pytest.mark.parametrize("key", ["", "/abs", "../escape", "a/../../b"])
def test_keys_cannot_escape_the_bucket(store, key):
    with pytest.raises(StorageError, match="invalid object key"):
        store.put_bytes(key, b"x")


def test_overwrite_is_atomic_and_leaves_no_temp_files(store):
    store.put_bytes("m/obj", b"one")
    store.put_bytes("m/obj", b"two")
    assert store.get_bytes("m/obj") == b"two"
    assert [o.key for o in store.list("m/")] == ["m/obj"]


def test_cloud_env_gives_gcs_with_env_bucket():
    s = get_storage(load_settings(env="stg", project_id="p"))
    assert isinstance(s, GCSStorage)
    assert s.uri("x/y") == "gs://data-bucket-stg/x/y"
