"""A synthetic pass Culture app database with a planted, measurable signal (see `world` for how).

`generate` writes the database (SQLite under the local data folder by default, or PostgreSQL);
`advance` simulates the following days so that incremental imports have something to pick up,
after the deletions the backend makes (`removals`), which the ministry's `*_removed` exports list.
"""

from data_gcp.sandbox.core import DEFAULT_DAYS, SandboxResult, advance, default_window, generate
from data_gcp.sandbox.db import SandboxError, SourceDB
from data_gcp.sandbox.geo import DEPARTMENTS, STREETS, user_address
from data_gcp.sandbox.seeds import seed_files, write_seed_files
from data_gcp.sandbox.texts import TOPIC_WORDS, strip_accents
from data_gcp.sandbox.world import K_TOPICS, booking_fates, hash_uniform

__all__ = [
    "DEFAULT_DAYS",
    "DEPARTMENTS",
    "STREETS",
    "K_TOPICS",
    "SandboxError",
    "SandboxResult",
    "SourceDB",
    "TOPIC_WORDS",
    "advance",
    "booking_fates",
    "default_window",
    "generate",
    "hash_uniform",
    "seed_files",
    "write_seed_files",
    "user_address",
    "strip_accents",
]
