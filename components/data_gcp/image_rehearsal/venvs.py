"""A project's environment built exactly as its Dockerfile builds it, and what it holds.

The deploy's own commands make it: `uv export` of the project (what the image's first `pip install
--requirement` reads), then the project's wheel with `--no-deps`, into a fresh Python 3.11 venv. Venvs
are cached under `.rehearsal/` keyed by the exported requirements (a lock change rebuilds them; a code
change only reinstalls the wheel), and installed from uv's cache (hard links), so a rebuild takes
seconds once the workspace has been synced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from data_gcp.brick_graph import Project
from data_gcp.config import DataGcpError
from data_gcp.deploy import build_argv, export_argv

PYTHON = "3.11"
CACHE_DIR = ".rehearsal"


class RehearsalError(DataGcpError):
    """A project's environment could not be built or a command in it could not start."""


@dataclass(frozen=True)
class ProjectEnv:
    """A built project environment: its venv and the requirements pinned into it."""

    project: str
    venv: Path
    pins: tuple[str, ...]  # the image's pinned requirements (names), what the deploy exports
    provided: tuple[str, ...] = ()  # what the target provides itself (Composer's Airflow), installed too

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.venv / "bin" / name


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise RehearsalError("uv is needed to build a project's environment: pip install uv")
    return uv


def run(argv: list[str] | tuple[str, ...], cwd: Path, timeout: float = 900, **kwargs) -> str:  # noqa: ANN003
    """Run a command; its stdout, or RehearsalError naming it with the end of its stderr."""
    argv = [_uv(), *argv[1:]] if argv[0] == "uv" else list(argv)
    try:
        result = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout, **kwargs
        )
    except subprocess.TimeoutExpired:
        raise RehearsalError(f"`{' '.join(argv)}` ran over {timeout:.0f} s (in {cwd})") from None
    if result.returncode != 0:
        tail = (result.stderr or result.stdout)[-1500:]
        raise RehearsalError(f"`{' '.join(argv)}` failed (exit {result.returncode}) in {cwd}:\n{tail}")
    return result.stdout


def _names(requirements: str) -> tuple[str, ...]:
    return tuple(
        line.split("==")[0].split(";")[0].strip().lower()
        for line in requirements.splitlines()
        if line.strip() and not line.startswith(("#", " ", "-", "."))
    )


def exported_requirements(root: Path, project: Project) -> str:
    """The project's pinned requirements, exported by the deploy's own command."""
    return run(export_argv(project), root)


def provided_requirements(root: Path, project: Project) -> str:
    """What the target provides (`exclude-dependencies` and what only they need), pinned by the lock.

    Installed next to the export so that the bricks meet the packages the target brings (Composer's
    Airflow, its Google clients); never part of the export itself.
    """
    if not project.exclude_dependencies:
        return ""
    pinned = set(exported_requirements(root, project).splitlines())
    whole = run(export_argv(dataclasses.replace(project, exclude_dependencies=())), root)
    return "\n".join(line for line in whole.splitlines() if line not in pinned and line.strip()) + "\n"


def build_env(root: Path, project: Project, cache: Path | None = None) -> ProjectEnv:
    """The project's venv as its Dockerfile builds it (requirements, then the wheel `--no-deps`)."""
    cache = cache or root / CACHE_DIR
    requirements = exported_requirements(root, project)
    provided = provided_requirements(root, project)
    key = hashlib.sha256(f"{PYTHON}\n{requirements}\n{provided}".encode()).hexdigest()[:16]
    venv = cache / f"{project.name}-{key}"
    done = venv / ".rehearsal-complete"
    if not done.is_file():
        for old in cache.glob(f"{project.name}-*"):
            shutil.rmtree(old, ignore_errors=True)
        venv.mkdir(parents=True)
        (venv / "requirements.txt").write_text(requirements)
        (venv / "provided.txt").write_text(provided)
        run(["uv", "venv", "-q", "--allow-existing", "--python", PYTHON, str(venv)], root)
        files = ["-r", str(venv / "requirements.txt")] + (
            ["-r", str(venv / "provided.txt")] if provided else []
        )
        run(["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *files], root)
        done.write_text(json.dumps({"requirements": len(_names(requirements))}))
    dist = cache / f"dist-{project.name}"
    shutil.rmtree(dist, ignore_errors=True)
    run(build_argv(project, str(dist)), root)
    wheels = sorted(str(w) for w in dist.glob("*.whl"))
    run(
        ["uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "--no-deps", "--reinstall",
         *wheels],
        root,
    )  # fmt: skip
    return ProjectEnv(project.name, venv, _names(requirements), _names(provided))


_SIZES = """
import importlib.metadata as m, json, sys
sizes = {}
for d in m.distributions():
    name = (d.metadata["Name"] or "").lower().replace("_", "-").replace(".", "-")
    sizes[name] = sum(int(f.size or 0) for f in (d.files or ()) if not str(f).endswith(".pyc"))
sys.stdout.write(chr(10) + json.dumps(sizes) + chr(10))
"""


def installed_mb(env: ProjectEnv) -> float:
    """MB the image's `pip install`s add: its pinned requirements and its wheel (not what the target
    provides), from each distribution's RECORD."""
    sizes = json.loads(run([str(env.python), "-c", _SIZES], env.venv).strip().splitlines()[-1])
    provided = {n.replace("_", "-").replace(".", "-") for n in env.provided}
    return sum(size for name, size in sizes.items() if name not in provided) / 1e6


_IMPORT_ALL = """
import importlib, json, pkgutil, sys
import data_gcp
ok, failed = [], {}
for info in pkgutil.walk_packages(data_gcp.__path__, "data_gcp."):
    try:
        importlib.import_module(info.name)
        ok.append(info.name)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, none stops the walk
        failed[info.name] = f"{type(exc).__name__}: {exc}"[:300]
sys.stdout.write(chr(10) + json.dumps({"ok": ok, "failed": failed}) + chr(10))
"""


def import_all(env: ProjectEnv, cwd: Path, environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Import every module of the installed bricks in the project's venv: (imported, failed -> error)."""
    out = run([str(env.python), "-c", _IMPORT_ALL], cwd, env=environ, timeout=600)
    data = json.loads(out.strip().splitlines()[-1])
    return data["ok"], data["failed"]
