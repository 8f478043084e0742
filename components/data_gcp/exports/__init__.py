"""Partner exports: dbt's `export` models written as dated Parquet files to the bucket.

Partners (first the ministry) receive files, not warehouse access. Personal ids are replaced by a
keyed pseudonym (HMAC-SHA256 with a secret key) when the file is written, so the same user has the
same pseudonym in every file and every day, and nobody without the key can link it back.
"""

from data_gcp.exports.core import (
    EXPORTS,
    PSEUDONYM_KEY_SECRET,
    ExportedFile,
    ExportError,
    ExportFamily,
    export_family,
    export_key,
    pseudonymise,
)

__all__ = [
    "EXPORTS",
    "PSEUDONYM_KEY_SECRET",
    "ExportError",
    "ExportFamily",
    "ExportedFile",
    "export_family",
    "export_key",
    "pseudonymise",
]
