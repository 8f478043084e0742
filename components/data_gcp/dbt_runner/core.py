"""dbt through `dbtRunner` (dbt-core's programmatic entry point), with our profile variables set.

Why in-process: Airflow tasks, Cloud Run jobs and the CLI call the same function, and the result
(which nodes failed) comes back as data rather than as text to parse. dbtRunner is not thread-safe
and dbt reads `env_var()` from the process environment, so calls are serialised by a lock and the
environment is set only for the duration of a call.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from data_gcp.config import DataGcpError, Settings, get_settings, temporary_env, workspace_root
from data_gcp.log import get_logger

log = get_logger(__name__)

_LOCK = threading.Lock()
LOCAL_TARGETS = ("local", "ci")
CLOUD_TARGETS = ("dev", "stg", "prod")
_FAILED = {"error", "fail", "runtime error"}
MESSAGE_LINES = 8  # lines of dbt's message kept per error in DbtRunError


class DbtRunError(DataGcpError):
    """dbt failed: the message names the command and the failing nodes (see dbt's log for details)."""


@dataclass
class DbtResult:
    """What one dbt command did: success, per-node statuses, and the failing nodes by name."""

    command: str
    target: str
    success: bool
    elapsed_s: float
    statuses: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    exception: str | None = None
    raw: Any = None

    @property
    def failed(self) -> list[str]:
        """Unique ids of the nodes that errored or whose tests failed."""
        return sorted(n for n, s in self.statuses.items() if s in _FAILED)

    @property
    def warned(self) -> list[str]:
        return sorted(n for n, s in self.statuses.items() if s == "warn")

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses.values() if s == status)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for s in self.statuses.values():
            counts[s] = counts.get(s, 0) + 1
        parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no nodes"
        return f"dbt {self.command} --target {self.target}: {'ok' if self.success else 'FAILED'} ({parts}) in {self.elapsed_s:.1f}s"

    def raise_for_failure(self) -> DbtResult:
        """Raise DbtRunError naming the failing nodes (and their first message line) when dbt failed."""
        if self.success:
            return self
        lines = [f"dbt {self.command} --target {self.target} failed"]
        if self.exception:
            # the whole error: its first line is only the kind ("Compilation Error"), the culprit
            # (the model, the missing ref, the SQL error) is on the next ones
            detail = [ln.rstrip() for ln in str(self.exception).strip().splitlines() if ln.strip()]
            lines += [f"  {ln.strip()[:500]}" for ln in detail[:MESSAGE_LINES]]
        for node in self.failed:
            message = [
                ln.strip() for ln in (self.messages.get(node) or "").strip().splitlines() if ln.strip()
            ]
            lines.append(f"  {self.statuses[node]}: {node}" + (f": {message[0][:500]}" if message else ""))
            lines += [f"    {ln[:500]}" for ln in message[1:MESSAGE_LINES]]
        if not self.failed and not self.exception:
            lines.append("  (no node failed: see the dbt log above)")
        if self.failed and self.command in ("build", "run", "test"):
            lines.append(f"  rerun one node with: data-gcp dbt {self.command} --select <name>")
        raise DbtRunError("\n".join(lines))


def project_dir() -> Path:
    """The dbt project of the workspace (`<workspace>/dbt`, holding dbt_project.yml and profiles.yml)."""
    path = workspace_root() / "dbt"
    if not (path / "dbt_project.yml").is_file():
        raise DbtRunError(f"no dbt project at {path} (expected dbt_project.yml): run from the workspace")
    return path


def manifest_path(target_path: Path | None = None) -> Path:
    """Where `parse`/`compile` write the manifest (read by Airflow's cosmos rendering).

    dbt honours `DBT_TARGET_PATH` (tests point it at a temporary folder); default `dbt/target`.
    """
    if target_path is None:
        env_path = os.environ.get("DBT_TARGET_PATH")
        target_path = Path(env_path) if env_path else project_dir() / "target"
    return target_path / "manifest.json"


# What a manifest is built from: a change to any of these files makes it stale.
PROJECT_SOURCES = ("models", "macros", "snapshots", "tests", "seeds", "analyses")
PROJECT_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml")
FINGERPRINT_FILE = "manifest.sources.sha256"


def project_fingerprint(project: Path | None = None) -> str:
    """sha256 of every dbt source file's path and content (independent of file times, which a copy
    to Composer or a checkout changes)."""
    project = project or project_dir()
    digest = hashlib.sha256()
    paths = [project / name for name in PROJECT_FILES if (project / name).is_file()]
    for folder in PROJECT_SOURCES:
        if (project / folder).is_dir():
            paths += [p for p in (project / folder).rglob("*") if p.is_file()]
    for path in sorted(paths):
        digest.update(path.relative_to(project).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def stale_manifest_reason(manifest: Path | None = None, project: Path | None = None) -> str | None:
    """Why `manifest` cannot be trusted for the current dbt files, or None when it matches them.

    A manifest is trusted only next to the fingerprint this brick writes when dbt wrote it, and only
    while the fingerprint matches the files (a model deleted, renamed or edited since makes it stale).
    """
    manifest = manifest or manifest_path()
    if not manifest.is_file():
        return f"no manifest at {manifest}"
    stamp = manifest.parent / FINGERPRINT_FILE
    if not stamp.is_file():
        return f"{manifest} was not written by `data-gcp dbt ...` (no {FINGERPRINT_FILE} next to it)"
    if stamp.read_text(encoding="utf-8").strip() != project_fingerprint(project):
        return f"the dbt files changed since {manifest} was written"
    return None


def target_for(settings: Settings | None = None) -> str:
    """The profile target of the environment: `local` locally, `dev`/`stg`/`prod` in the cloud.

    `DBT_TARGET` (e.g. `ci`) overrides it, so CI runs the local engine under its own target name.
    """
    settings = settings or get_settings()
    override = os.environ.get("DBT_TARGET")
    if override:
        return override
    return settings.env.value


def dbt_env(settings: Settings, target: str) -> dict[str, str]:
    """Environment variables the profile reads, for this target (no secret among them)."""
    if target not in LOCAL_TARGETS + CLOUD_TARGETS:
        raise DbtRunError(
            f"unknown dbt target {target!r}: expected one of {', '.join(LOCAL_TARGETS + CLOUD_TARGETS)}"
        )
    env = {"DBT_TARGET": target}
    if target in LOCAL_TARGETS:
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        env["DATA_GCP_DUCKDB_PATH"] = str(settings.duckdb_path)
        env["DATA_GCP_DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit.strip()
        return env
    if not settings.project_id:
        raise DbtRunError(
            f"dbt target {target!r} runs on BigQuery and needs DATA_GCP_PROJECT_ID (set it in the environment)"
        )
    env.update(
        DATA_GCP_ENV=target,
        DATA_GCP_PROJECT_ID=settings.project_id,
        DATA_GCP_BQ_LOCATION=settings.bq_location,
        DBT_BIGQUERY_DATASET=f"tmp_{target}",
    )
    return env


def _collect(result: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Per-node status and message of a run-like result (build, run, test, snapshot, freshness)."""
    statuses: dict[str, str] = {}
    messages: dict[str, str] = {}
    for node_result in getattr(result, "results", None) or []:
        node = getattr(node_result, "node", None)
        uid = getattr(node, "unique_id", None) or getattr(node_result, "unique_id", None) or "?"
        status = getattr(node_result, "status", "")
        statuses[uid] = str(getattr(status, "value", status))
        if getattr(node_result, "message", None):
            messages[uid] = str(node_result.message)
        elif getattr(node_result, "age", None) is not None:  # source freshness
            messages[uid] = f"latest row {node_result.max_loaded_at}, {node_result.age / 86400:.1f} days old"

    return statuses, messages


# dbt commands that read the raw sources (compile, parse and docs never query them)
READS_SOURCES = ("build", "run", "test", "snapshot", "seed", "source", "show")


def _ensure_declared_tables(settings: Settings) -> None:
    """Locally, every table a producer declares exists before dbt reads it (empty until it runs), as
    in the cloud, where each producer creates its own tables on its first run, rows or not."""
    from data_gcp.table_catalog import ensure_tables
    from data_gcp.warehouse import get_warehouse

    created = ensure_tables(get_warehouse(settings))
    if created:
        log.info(
            "created %d declared table(s), empty until their producer runs: %s",
            len(created),
            ", ".join(created),
        )


def invoke(
    command: Sequence[str],
    *,
    select: Sequence[str] | str | None = None,
    exclude: Sequence[str] | str | None = None,
    target: str | None = None,
    full_refresh: bool = False,
    vars: dict[str, Any] | None = None,
    extra_args: Sequence[str] = (),
    target_path: Path | None = None,
    settings: Settings | None = None,
    check: bool = True,
) -> DbtResult:
    """Run one dbt command (`["build"]`, `["docs", "generate"]`, ...) on the environment's target.

    `select`/`exclude` take dbt selectors (each string is split on spaces, as dbt's own CLI does). With `check` (default), a
    failure raises DbtRunError naming the failing nodes; otherwise the result says so.
    """
    from dbt.cli.main import dbtRunner

    settings = settings or get_settings()
    target = target or target_for(settings)
    project = project_dir()
    env = dbt_env(settings, target)
    args = [*command, "--project-dir", str(project), "--profiles-dir", str(project), "--target", target]
    if target_path is not None:
        args += ["--target-path", str(target_path)]
    log_dir = settings.local_data_dir / "dbt" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    args += ["--log-path", str(log_dir)]
    for flag, values in (("--select", select), ("--exclude", exclude)):
        if values:
            items = [v for value in ([values] if isinstance(values, str) else values) for v in value.split()]
            if items:
                args += [flag, *items]
    if full_refresh:
        args.append("--full-refresh")
    vars = dict(vars or {})
    # The run's days travel as environment variables (dbt/macros/incremental.sql `run_setting`):
    # changed `--vars` would make dbt re-parse the whole project at every invocation.
    day_env = {f"DBT_{name.upper()}": str(vars.pop(name)) for name in RUN_DAY_VARS if name in vars}
    unset = {f"DBT_{n.upper()}": os.environ.get(f"DBT_{n.upper()}", "") for n in RUN_DAY_VARS}
    env = {**env, **unset, **day_env}
    if vars:
        args += ["--vars", json.dumps(vars)]
    args += list(extra_args)
    name = " ".join(command)
    if target in LOCAL_TARGETS and command[:1] and command[0] in READS_SOURCES:
        _ensure_declared_tables(settings)
    log.info("dbt %s --target %s", name, target)
    started = time.perf_counter()
    fingerprint = project_fingerprint(project)  # of the files dbt is about to read
    manifest = manifest_path(target_path)
    before = manifest.stat().st_mtime_ns if manifest.is_file() else None
    with _LOCK, temporary_env(env):
        res = dbtRunner().invoke(args)
    if manifest.is_file() and manifest.stat().st_mtime_ns != before:
        (manifest.parent / FINGERPRINT_FILE).unlink(missing_ok=True)  # until proven current below
    rewritten = manifest.is_file() and manifest.stat().st_mtime_ns != before
    if manifest.is_file() and (rewritten or (res.success and command[:1] == ["parse"])):
        # dbt rewrote the manifest from these files (it writes one only once the project parsed, even
        # when a node then fails; a successful parse always stands for them, even when partial parsing
        # found nothing to rewrite): it can be trusted until they change
        (manifest.parent / FINGERPRINT_FILE).write_text(fingerprint + "\n", encoding="utf-8")
    statuses, messages = _collect(res.result)
    result = DbtResult(
        command=name,
        target=target,
        success=bool(res.success),
        elapsed_s=time.perf_counter() - started,
        statuses=statuses,
        messages=messages,
        exception=str(res.exception) if res.exception else None,
        raw=res.result,
    )
    log.info(result.summary())
    return result.raise_for_failure() if check else result


def build(
    select: Sequence[str] | str | None = None,
    exclude: Sequence[str] | str | None = None,
    target: str | None = None,
    full_refresh: bool = False,
    **kwargs: Any,
) -> DbtResult:
    """`dbt build`: seeds, snapshots, models, unit and data tests, in dependency order."""
    return invoke(
        ["build"], select=select, exclude=exclude, target=target, full_refresh=full_refresh, **kwargs
    )


def run(
    select: Sequence[str] | str | None = None,
    exclude: Sequence[str] | str | None = None,
    target: str | None = None,
    full_refresh: bool = False,
    **kwargs: Any,
) -> DbtResult:
    """`dbt run`: models only."""
    return invoke(["run"], select=select, exclude=exclude, target=target, full_refresh=full_refresh, **kwargs)


def test(
    select: Sequence[str] | str | None = None,
    exclude: Sequence[str] | str | None = None,
    target: str | None = None,
    **kwargs: Any,
) -> DbtResult:
    """`dbt test`: data and unit tests."""
    return invoke(["test"], select=select, exclude=exclude, target=target, **kwargs)


def compile(
    select: Sequence[str] | str | None = None,
    exclude: Sequence[str] | str | None = None,
    target: str | None = None,
    **kwargs: Any,
) -> DbtResult:
    """`dbt compile`: render every node's SQL into `target/compiled` (no model is built)."""
    return invoke(["compile"], select=select, exclude=exclude, target=target, **kwargs)


OFFLINE_PROJECT = "offline-project"


def compile_offline(
    target: str = "prod", target_path: Path | None = None, settings: Settings | None = None, **kwargs: Any
) -> DbtResult:
    """`dbt compile` for a BigQuery target without a connection: every node's SQL as BigQuery gets it.

    A dummy access token stands for credentials and dbt neither introspects nor fills its cache, so
    no request is sent (CI and a laptop compile the prod SQL this way). Unit tests are left out
    (they need the warehouse to render their fixtures).
    """
    if target not in CLOUD_TARGETS:
        raise DbtRunError(
            f"compile_offline compiles a BigQuery target ({', '.join(CLOUD_TARGETS)}), not {target!r}"
        )
    settings = settings or get_settings()
    cloud = settings.model_copy(update={"project_id": settings.project_id or OFFLINE_PROJECT})
    with temporary_env({"DBT_BIGQUERY_METHOD": "oauth-secrets", "DBT_BIGQUERY_TOKEN": "offline-compile"}):
        return compile(
            target=target,
            exclude=kwargs.pop("exclude", "test_type:unit"),
            target_path=target_path,
            settings=cloud,
            extra_args=["--no-introspect", "--no-populate-cache", *kwargs.pop("extra_args", ())],
            **kwargs,
        )


RUN_DAY_VARS = ("first_day", "last_day", "lookback_days")


def run_day_vars(first: dt.date, last: dt.date, lookback_days: int | None = None) -> dict[str, Any]:
    """The dbt vars naming the days a run processes (`first_day`, `last_day`, ISO): the incremental
    models rewrite those days and the look-back before them (`lookback_days`, default: the project's
    var, 3). See dbt/macros/incremental.sql."""
    if first > last:
        raise DbtRunError(f"the first day {first} is after the last day {last}: give --from <= --to")
    if lookback_days is not None and lookback_days < 0:
        raise DbtRunError(f"the look-back must be 0 days or more, got {lookback_days}")
    days: dict[str, Any] = {"first_day": first.isoformat(), "last_day": last.isoformat()}
    if lookback_days is not None:
        days["lookback_days"] = lookback_days
    return days


def backfill(
    first: dt.date,
    last: dt.date,
    *,
    full_refresh: bool = False,
    select: Sequence[str] | str | None = None,
    exclude: Sequence[str] | str | None = None,
    target: str | None = None,
    vars: dict[str, Any] | None = None,
    **kwargs: Any,
) -> DbtResult:
    """`dbt build` re-processing the days `first`..`last` (no look-back: exactly those days) of every
    incremental model, the other models rebuilt as every build does; with `full_refresh`, every
    incremental model rebuilt from its whole history up to `last`. Idempotent: a day is deleted and
    written again, so running it twice gives the same rows."""
    day_vars = run_day_vars(first, last, lookback_days=0)
    return build(
        select=select,
        exclude=exclude,
        target=target,
        full_refresh=full_refresh,
        vars={**(vars or {}), **day_vars},
        **kwargs,
    )


def parse(target: str | None = None, **kwargs: Any) -> DbtResult:
    """`dbt parse`: write `target/manifest.json` (what Airflow renders its dbt tasks from)."""
    return invoke(["parse"], target=target, **kwargs)


def docs_generate(target: str | None = None, **kwargs: Any) -> DbtResult:
    """`dbt docs generate`: manifest + catalog for the documentation site."""
    return invoke(["docs", "generate"], target=target, **kwargs)


DOCS_SITE_FILES = ("static_index.html", "index.html", "manifest.json", "catalog.json")


def docs_site_dir(settings: Settings | None = None) -> Path:
    """Where the documentation site lives: `<data>/dbt_docs` (read by `data-gcp ui` too)."""
    return (settings or get_settings()).local_data_dir / "dbt_docs"


KEPT_ARTIFACTS = ("run_results.json", "sources.json")


def kept_artifacts_dir(settings: Settings | None = None) -> Path:
    """`<data>/run_history/dbt`: dbt's results of each local Airflow task, per DAG run (read by `data-gcp ui`)."""
    return (settings or get_settings()).local_data_dir / "run_history" / "dbt"


def keep_artifacts(
    settings: Settings, dag_id: str, run_id: str, task_id: str, since: float, target_path: Path | None = None
) -> list[Path]:
    """Copy the `run_results.json`/`sources.json` a task wrote (modified after `since`, a time.time())
    to `kept_artifacts_dir()/<dag>/<run>/<task>/`: dbt overwrites them at each command, the local UI
    shows each model's and test's history from these copies."""
    from urllib.parse import quote

    built = manifest_path(target_path).parent
    kept = []
    for name in KEPT_ARTIFACTS:
        source = built / name
        if source.is_file() and source.stat().st_mtime >= since:
            dest = kept_artifacts_dir(settings) / dag_id / quote(run_id, safe="") / task_id / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            kept.append(dest)
    return kept


def docs_site(
    target: str | None = None,
    settings: Settings | None = None,
    target_path: Path | None = None,
    compile: bool = True,
    **kwargs: Any,
) -> Path:
    """Build the documentation site (models, columns, tests, lineage) into `docs_site_dir()`.

    `dbt docs generate --static` writes `static_index.html`, one self-contained page (manifest and
    catalog inlined) that opens from the file system or any static server; `index.html` with its
    JSON files is copied alongside for `dbt docs serve`-style hosting. `compile=False` skips compiling
    the models (lineage and descriptions need the manifest only). Returns the folder.
    """
    settings = settings or get_settings()
    extra = ["--static"] if compile else ["--static", "--no-compile"]
    docs_generate(target=target, settings=settings, target_path=target_path, extra_args=extra, **kwargs)
    built = manifest_path(target_path).parent
    site = docs_site_dir(settings)
    site.mkdir(parents=True, exist_ok=True)
    for name in DOCS_SITE_FILES:
        source = built / name
        if not source.is_file():
            raise DbtRunError(f"dbt docs generate did not write {source}: see the dbt log above")
        shutil.copyfile(source, site / name)
    return site


def docs_server(site: Path, host: str = "127.0.0.1", port: int = 8081) -> ThreadingHTTPServer:
    """A static HTTP server for the docs folder (port 0: any free port); the caller runs serve_forever."""
    if not (site / "static_index.html").is_file():
        raise DbtRunError(f"no documentation site in {site}: run `data-gcp dbt docs` first")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    return ThreadingHTTPServer((host, port), handler)


def source_freshness(
    select: Sequence[str] | str | None = None, target: str | None = None, **kwargs: Any
) -> DbtResult:
    """`dbt source freshness`: how late each raw source is (warn/error thresholds in sources yml)."""
    return invoke(["source", "freshness"], select=select, target=target, **kwargs)
