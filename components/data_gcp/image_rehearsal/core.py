"""The rehearsal: every project's environment built as its image builds it, its bricks imported, its
entry points run on a tiny real job, and one table of what happened.

Why: the workspace venv holds every project's requirements at once, so a brick importing a package its
project does not declare (pandas in the ML job), or a DAG using an Airflow newer than Composer's, passes
every workspace test and crashes where it is deployed. Here each project runs in its own venv only.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from data_gcp.brick_graph import Project, get_project, list_projects
from data_gcp.image_rehearsal.entry_points import (
    CheckResult,
    dagbag,
    dockerfile_cmd,
    first_user,
    found,
    predict,
    run_cli,
    serving,
    timed,
)
from data_gcp.image_rehearsal.stage import Stage, build_stage
from data_gcp.image_rehearsal.venvs import CACHE_DIR, ProjectEnv, build_env, import_all, installed_mb

# ML jobs before the services (they publish the models the services load); the ETL job before Composer
# (its `dbt parse` writes the manifest the dbt DAG renders).
ORDER = ("etl_job", "ml_job", "ranking_endpoint", "retrieval_endpoint", "composer")
# A service serves what the ML job publishes: rehearsing it rehearses the ML job first.
NEEDS = {"ranking_endpoint": "ml_job", "retrieval_endpoint": "ml_job"}


@dataclass
class ProjectRehearsal:
    project: str
    pins: int = 0
    size_mb: float = 0.0
    imported: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    build_seconds: float = 0.0
    error: str = ""  # the environment could not be built
    limit_mb: float | None = None  # `[tool.data-gcp.deploy] max-installed-mb`

    @property
    def too_big(self) -> bool:
        return self.limit_mb is not None and self.size_mb > self.limit_mb

    @property
    def ok(self) -> bool:
        checks_ok = bool(self.checks) and all(c.ok for c in self.checks)
        return not self.error and not self.failed and not self.too_big and checks_ok


def _etl_job(env: ProjectEnv, stage: Stage, root: Path) -> list[CheckResult]:
    from data_gcp.vendor_servers import connector_harness

    day = stage.last_day.isoformat()
    results = [
        timed(
            "import applicative",
            lambda: found(
                r"raw\.applicative_database_booking\S*",
                run_cli(
                    env, stage, f"import applicative --date {day} --full", "raw.applicative_database_booking"
                ),
            ),
        )
    ]

    def connector() -> str:
        with connector_harness("dms", first_day="2026-09-01") as harness:
            out = run_cli(
                env,
                stage,
                "etl run dms --start 2026-11-20 --end 2026-11-20 --object young",
                "raw.dms_young=",
                **harness.server.env,
            )
        return found(r"raw\.dms_young=\S+", out)

    results.append(timed("etl run dms (local server)", connector))

    def dbt_parse() -> str:
        stage.manifest.unlink(missing_ok=True)
        run_cli(env, stage, "dbt parse", "", DATA_GCP_ENV="prod", DATA_GCP_PROJECT_ID="rehearsal-project")
        if not stage.manifest.is_file():
            raise AssertionError(f"no manifest written at {stage.manifest}")
        return "manifest written"

    results.append(timed("dbt parse", dbt_parse))
    return results


def _ml_job(env: ProjectEnv, stage: Stage, root: Path) -> list[CheckResult]:
    commands = (
        ("ml embed", "ml embed", "embedded"),
        ("ml cluster", "ml cluster --default-count 3 --min-size 2", "clusters"),
        ("ml link", "ml link", "items before linkage"),
        ("ml train two-tower", "ml train two-tower --epochs 1 --max-steps-per-epoch 3 --no-track", "model:"),
        (
            "ml train ranker",
            "ml train ranker --no-track --num-boost-round 10 --min-category-count 2",
            "model:",
        ),
    )
    return [
        timed(
            name,
            lambda args=args, expect=expect: found(
                rf"[^\n]*{expect}[^\n]*", run_cli(env, stage, args, expect)
            ),
        )
        for name, args, expect in commands
    ]


def _service(
    payload: Callable[[Stage], dict] | None,
) -> Callable[[ProjectEnv, Stage, Path], list[CheckResult]]:
    """Start the Dockerfile's CMD, wait for `/isalive` 200, then one `/predict` (when a payload is known)."""

    def checks(env: ProjectEnv, stage: Stage, root: Path) -> list[CheckResult]:
        cmd = dockerfile_cmd(root / "projects" / env.project / "Dockerfile")
        results: list[CheckResult] = []

        def start_and_predict() -> str:
            with serving(env, stage, cmd) as url:
                results.append(CheckResult("/isalive", True, 0.0, "200"))
                return predict(url, payload(stage)) if payload else "no /predict payload defined"

        outcome = timed("/predict", start_and_predict)
        if not results:
            results.append(CheckResult("/isalive", False, outcome.seconds, outcome.detail))
        elif payload:
            results.append(outcome)
        return results

    return checks


def _job(env: ProjectEnv, stage: Stage, root: Path) -> list[CheckResult]:
    """A job with no tiny run defined yet: its entry point at least starts (`data-gcp --help`)."""
    return [
        timed("data-gcp --help", lambda: found(r"Usage: data-gcp", run_cli(env, stage, "--help", "Usage")))
    ]


def _composer(env: ProjectEnv, stage: Stage, root: Path) -> list[CheckResult]:
    from data_gcp.orchestration import schedule_table

    expected = len(schedule_table())
    dags = root / "orchestration" / "dags"
    if not stage.manifest.is_file():  # the ETL job was not rehearsed: the developer's dbt parses it
        subprocess.run(
            [str(Path(sys.executable).parent / "data-gcp"), "dbt", "parse"],
            env=stage.environ(None),
            cwd=stage.work,
            capture_output=True,
            check=True,
        )
    return [
        timed("DagBag local", lambda: dagbag(env, stage, dags, expected)),
        timed(
            "DagBag prod",
            lambda: dagbag(
                env, stage, dags, expected, DATA_GCP_ENV="prod", DATA_GCP_PROJECT_ID="rehearsal-project"
            ),
        ),
    ]


ENTRY_POINTS: dict[str, Callable[[ProjectEnv, Stage, Path], list[CheckResult]]] = {
    "etl_job": _etl_job,
    "ml_job": _ml_job,
    "ranking_endpoint": _service(lambda stage: {"instances": [{"offer_id": "1"}, {"offer_id": "2"}]}),
    "retrieval_endpoint": _service(
        lambda stage: {
            "instances": [{"model_type": "recommendation", "user_id": first_user(stage), "size": 3}]
        }
    ),
    "composer": _composer,
}


# A project made by `data-gcp new` before its own tiny run is written here: its image at least starts.
GENERIC: dict[str, Callable[[ProjectEnv, Stage, Path], list[CheckResult]]] = {
    "cloud-run-service": _service(None),
    "cloud-run-job": _job,
}


def ordered(names: Iterable[str]) -> list[str]:
    names = list(names)
    return sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def rehearse_project(root: Path, project: Project, stage: Stage, cache: Path) -> ProjectRehearsal:
    """Build, import, run: one project's rehearsal (never raises; failures are in the result)."""
    limit = project.deploy.get("max-installed-mb")
    result = ProjectRehearsal(project.name, limit_mb=float(limit) if limit is not None else None)
    started = time.monotonic()
    try:
        env = build_env(root, project, cache)
        result.pins = len(env.pins)
        result.size_mb = installed_mb(env)
    except Exception as exc:  # noqa: BLE001 - reported in the table, the other projects still run
        result.error = f"environment not built: {exc}"
        return result
    finally:
        result.build_seconds = time.monotonic() - started
    try:
        result.imported, result.failed = import_all(env, stage.work, stage.environ(env.venv))
    except Exception as exc:  # noqa: BLE001 - the interpreter itself failed: reported, the others still run
        result.error = f"importing its modules: {exc}"
        return result
    checks = ENTRY_POINTS.get(project.name) or GENERIC.get(str(project.deploy.get("target")))
    if checks is None:
        result.checks = [CheckResult("entry points", False, 0.0, "no rehearsal defined for this project")]
    else:
        result.checks = checks(env, stage, root)
    return result


def rehearse(
    root: Path,
    names: Iterable[str] | None = None,
    cache: Path | None = None,
    on_result: Callable[[ProjectRehearsal], None] | None = None,
) -> list[ProjectRehearsal]:
    """Rehearse the named projects (default: all) and those they need, in order, on one fresh stage."""
    cache = cache or root / CACHE_DIR
    if names is not None:
        names = set(names) | {NEEDS[n] for n in names if n in NEEDS}
    projects = list_projects(root) if names is None else {n: get_project(root, n) for n in names}
    stage = build_stage(root, cache / "stage")
    results = []
    for name in ordered(projects):
        result = rehearse_project(root, projects[name], stage, cache)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def results_table(results: list[ProjectRehearsal]) -> Table:
    table = Table(
        title="image rehearsal: each project in its own venv, built as its Dockerfile builds it",
        caption="MB: what its installs add (max: its max-installed-mb); imported/failed: modules of its "
        "bricks; passed: entry points run on the tiny sandbox; s: wall seconds",
    )
    table.add_column("project", no_wrap=True)
    for col in ("pins", "MB", "max MB", "imported", "failed", "passed", "s"):
        table.add_column(col, justify="right")
    for r in results:
        passed = sum(c.ok for c in r.checks)
        table.add_row(
            r.project,
            str(r.pins),
            f"{r.size_mb:.0f}",
            f"{r.limit_mb:.0f}" if r.limit_mb is not None else "-",
            str(len(r.imported)),
            str(len(r.failed)) if not r.error else "-",
            f"{passed}/{len(r.checks)}",
            f"{r.build_seconds + sum(c.seconds for c in r.checks):.0f}",
        )
    return table


def failures(results: list[ProjectRehearsal]) -> list[str]:
    """One line per failure: what failed, where, and why."""
    lines = []
    for r in results:
        if r.error:
            lines.append(f"{r.project}: {r.error}")
        if r.too_big:
            lines.append(
                f"{r.project}: installs {r.size_mb:.0f} MB, over its max-installed-mb {r.limit_mb:.0f} "
                f"(projects/{r.project}/pyproject.toml); see which distribution grew with bench_projects.py"
            )
        lines.extend(f"{r.project}: import {module}: {error}" for module, error in r.failed.items())
        lines.extend(f"{r.project}: {c.name}: {c.detail}" for c in r.checks if not c.ok)
    return lines
