"""Changed-brick testing: what changed since a ref, which bricks/tests/projects that touches."""

from data_gcp.changed_bricks.git import MAIN_BRANCHES, ChangeDetectionError, changed_files, resolve_base
from data_gcp.changed_bricks.selection import RUN_ALL_FILES, Selection, select


def select_since(root, since: str | None = None) -> Selection:  # noqa: ANN001
    """The selection for the changes between `since` (default: merge base with main) and the worktree."""
    base = resolve_base(root, since)
    return select(root, changed_files(root, base), base=base)


__all__ = [
    "MAIN_BRANCHES",
    "RUN_ALL_FILES",
    "ChangeDetectionError",
    "Selection",
    "changed_files",
    "resolve_base",
    "select",
    "select_since",
]
