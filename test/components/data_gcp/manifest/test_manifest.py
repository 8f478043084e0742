"""A run folder is accepted only as its manifest describes it."""

from __future__ import annotations

import json

import pytest

from data_gcp.manifest import MANIFEST_FILE, ManifestError, read_manifest, write_manifest


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"x" * 1000)
    (tmp_path / "b.json").write_text('{"k": 1}')
    write_manifest(tmp_path, ["a.bin", "b.json"], {"vector_dim": 64, "features": ["f1", "f2"]})
    return tmp_path


def test_a_folder_as_written_is_read_with_its_shapes(folder) -> None:
    manifest = read_manifest(folder)
    assert set(manifest.files) == {"a.bin", "b.json"}
    assert manifest.shape("vector_dim") == 64 and manifest.shape("features") == ["f1", "f2"]
    with pytest.raises(ManifestError, match="no shape 'users'"):
        manifest.shape("users")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: (f / "a.bin").write_bytes(b"x" * 500), "has 500 bytes"),
        (lambda f: (f / "a.bin").write_bytes(b"y" * 1000), "does not match its SHA-256"),
        (lambda f: (f / "a.bin").unlink(), "is missing"),
        (lambda f: (f / MANIFEST_FILE).unlink(), "has no manifest.json"),
        (lambda f: (f / MANIFEST_FILE).write_text("[]"), "lacks its files and shapes"),
        (lambda f: (f / MANIFEST_FILE).write_text("{not json"), "is not JSON"),
    ],
)
def test_a_damaged_folder_is_refused_naming_the_file(folder, damage, reason) -> None:
    damage(folder)
    with pytest.raises(ManifestError, match=reason):
        read_manifest(folder)


def test_only_the_files_asked_for_are_verified_and_each_must_be_listed(folder) -> None:
    (folder / "b.json").unlink()  # a file this reader does not download
    assert read_manifest(folder, verify=["a.bin"]).shape("vector_dim") == 64
    with pytest.raises(ManifestError, match="does not list c.bin"):
        read_manifest(folder, verify=["a.bin", "c.bin"])
    doc = json.loads((folder / MANIFEST_FILE).read_text())
    assert doc["files"]["a.bin"]["size"] == 1000
