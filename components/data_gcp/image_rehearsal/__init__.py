"""Each project rehearsed as deployed: its venv built as its Dockerfile builds it, every module of its
bricks imported there, each entry point run there on a tiny real job (`data-gcp projects rehearse`)."""

from data_gcp.image_rehearsal.core import (
    ENTRY_POINTS,
    ProjectRehearsal,
    failures,
    rehearse,
    rehearse_project,
    results_table,
)
from data_gcp.image_rehearsal.entry_points import CheckResult, dockerfile_cmd
from data_gcp.image_rehearsal.stage import Stage, build_stage
from data_gcp.image_rehearsal.venvs import (
    CACHE_DIR,
    ProjectEnv,
    RehearsalError,
    build_env,
    import_all,
    installed_mb,
)

__all__ = [
    "CACHE_DIR",
    "ENTRY_POINTS",
    "CheckResult",
    "ProjectEnv",
    "ProjectRehearsal",
    "RehearsalError",
    "Stage",
    "build_env",
    "build_stage",
    "dockerfile_cmd",
    "failures",
    "import_all",
    "installed_mb",
    "rehearse",
    "rehearse_project",
    "results_table",
]
