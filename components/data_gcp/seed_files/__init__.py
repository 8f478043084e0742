"""Reference tables from the import bucket's seed files (`seed.<table>`), one declared schema each."""

from data_gcp.seed_files.connector import (
    CONNECTOR,
    PREFIX,
    SEED_TABLES,
    SeedFileError,
    SeedFilesConnector,
    SeedTable,
    newest_file,
    read_seed_file,
)

__all__ = [
    "CONNECTOR",
    "PREFIX",
    "SEED_TABLES",
    "SeedFileError",
    "SeedFilesConnector",
    "SeedTable",
    "newest_file",
    "read_seed_file",
]
