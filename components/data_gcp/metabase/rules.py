"""The governance rules (a TOML file: `rules.toml` next to this module, or DATA_GCP_METABASE_RULES)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from data_gcp.config import ConfigError


@dataclass(frozen=True)
class Rules:
    not_viewed_days: int = 90
    protected_collections: tuple[str, ...] = ()
    skip_personal_collections: bool = True
    remove_empty_dashboards: bool = True
    remove_empty_collections: bool = True
    min_age_days: int = 30


def load_rules(path: str | Path | None = None) -> Rules:
    """Rules from `path`, else the default file shipped with the brick; a bad file is a ConfigError."""
    where = str(path) if path else "data_gcp/metabase/rules.toml"
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = (resources.files(__package__) / "rules.toml").read_text(encoding="utf-8")
        doc = tomllib.loads(text)
        archive, empty = doc.get("archive_cards", {}), doc.get("remove_empty", {})
        unknown = (
            (set(doc) - {"archive_cards", "remove_empty"})
            | (set(archive) - {"not_viewed_days", "protected_collections", "skip_personal_collections"})
            | (set(empty) - {"dashboards", "collections", "min_age_days"})
        )
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        rules = Rules(
            not_viewed_days=int(archive.get("not_viewed_days", 90)),
            protected_collections=tuple(str(c) for c in archive.get("protected_collections", ())),
            skip_personal_collections=bool(archive.get("skip_personal_collections", True)),
            remove_empty_dashboards=bool(empty.get("dashboards", True)),
            remove_empty_collections=bool(empty.get("collections", True)),
            min_age_days=int(empty.get("min_age_days", 30)),
        )
    except (OSError, ValueError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"metabase rules {where}: {err}") from None
    if rules.not_viewed_days < 1 or rules.min_age_days < 0:
        raise ConfigError(f"metabase rules {where}: not_viewed_days must be >= 1 and min_age_days >= 0")
    return rules
