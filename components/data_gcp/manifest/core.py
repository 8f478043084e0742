"""A run folder's manifest: `manifest.json` next to the files it describes.

Why: a truncated or mismatched artifact must be refused before a loader reads it. Some loaders
(LightGBM's text parser, faiss) abort the process on bad input instead of raising; a size and a
SHA-256 per file, checked first, keep such files away from them, and the recorded shapes let the
service compare what it loads with what training meant to write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_gcp.config import DataGcpError

MANIFEST_FILE = "manifest.json"
FORMAT = 1
_CHUNK = 1 << 20


class ManifestError(DataGcpError):
    """A run folder does not match its manifest (or has none); the message names the file and why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """The files of a run (name -> size, sha256) and the shapes training recorded."""

    files: Mapping[str, Mapping[str, Any]]
    shapes: Mapping[str, Any]

    def shape(self, name: str) -> Any:
        """A recorded shape; a manifest without it is refused (it was written for another layout)."""
        if name not in self.shapes:
            raise ManifestError(f"{MANIFEST_FILE} records no shape {name!r}: publish the run again")
        return self.shapes[name]


def write_manifest(folder: Path, files: Iterable[str], shapes: Mapping[str, Any]) -> Path:
    """Record `files` of `folder` (size, SHA-256) and `shapes`; written last, after every file."""
    entries = {}
    for name in sorted(files):
        path = folder / name
        entries[name] = {"size": path.stat().st_size, "sha256": _sha256(path)}
    doc = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "files": entries,
        "shapes": dict(shapes),
    }
    out = folder / MANIFEST_FILE
    out.write_text(json.dumps(doc, indent=2, sort_keys=True))
    return out


def read_manifest(folder: Path, verify: Iterable[str] | None = None) -> Manifest:
    """The folder's manifest, once each file of `verify` (default: every file it lists) is listed and
    present with the recorded size and SHA-256; raises ManifestError naming the first that is not.

    `verify` lets a service check the files it reads and skip those it does not download.
    """
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ManifestError(
            f"{folder} has no {MANIFEST_FILE}: its files cannot be verified; publish the run again "
            "with a training job that writes one"
        )
    try:
        doc = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} is not JSON ({exc}); publish the run again") from None
    files, shapes = (doc.get("files"), doc.get("shapes")) if isinstance(doc, dict) else (None, None)
    if not isinstance(files, dict) or not isinstance(shapes, dict):
        raise ManifestError(f"{path} lacks its files and shapes objects; publish the run again")
    for name in sorted(files) if verify is None else verify:
        entry = files.get(name)
        target = folder / name
        if entry is None:
            raise ManifestError(f"{path} does not list {name}; publish the run again")
        if not isinstance(entry, dict) or not {"size", "sha256"} <= set(entry):
            raise ManifestError(f"{path}: the entry of {name} lacks size or sha256")
        if not target.is_file():
            raise ManifestError(f"{target} is missing (listed in {MANIFEST_FILE}); publish the run again")
        size = target.stat().st_size
        if size != entry["size"]:
            raise ManifestError(
                f"{target} has {size} bytes, {MANIFEST_FILE} says {entry['size']}: truncated or "
                "replaced; publish the run again"
            )
        if _sha256(target) != entry["sha256"]:
            raise ManifestError(
                f"{target} does not match its SHA-256 in {MANIFEST_FILE}: corrupted or replaced; "
                "publish the run again"
            )
    return Manifest(files, shapes)
