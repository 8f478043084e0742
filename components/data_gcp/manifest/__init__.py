"""What a training run wrote, checked before a service loads it: each file's size and SHA-256, and the
shapes the service relies on (vector dimensions, item and user counts, feature names)."""

from data_gcp.manifest.core import MANIFEST_FILE, Manifest, ManifestError, read_manifest, write_manifest

__all__ = ["MANIFEST_FILE", "Manifest", "ManifestError", "read_manifest", "write_manifest"]
