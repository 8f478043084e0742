"""Partner exports: dbt's `export` models written as dated Parquet files to the bucket.

Partners (first the ministry) receive files, not warehouse access. Every id that joins back to a person
(user, deposit, booking) is replaced by a keyed pseudonym (HMAC-SHA256 with a secret key of at least
32 bytes) when the file is written, so the same user has the same pseudonym in every file and every
day, and nobody without the key can link it back; the tables that describe people are refused
unless at least 5 people share every combination of their quasi-identifiers (k-anonymity, built by
the dbt export models).
"""

from data_gcp.exports.core import (
    EXPORTS,
    K_ANONYMITY,
    MIN_KEY_BYTES,
    PSEUDONYM_KEY_SECRET,
    ExportedFile,
    ExportError,
    ExportFamily,
    QuasiIdentifiers,
    check_key,
    export_family,
    export_key,
    id_kind,
    pseudonymise,
    smallest_class,
)

__all__ = [
    "EXPORTS",
    "K_ANONYMITY",
    "MIN_KEY_BYTES",
    "PSEUDONYM_KEY_SECRET",
    "ExportError",
    "ExportFamily",
    "ExportedFile",
    "QuasiIdentifiers",
    "check_key",
    "export_family",
    "export_key",
    "id_kind",
    "pseudonymise",
    "smallest_class",
]
