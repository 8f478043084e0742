"""Per deployable: bricks, pinned requirements and installed size, next to a baseline revision.

Run: `uv run python development/bench/bench_projects.py [--baseline REV] [--projects a,b]`.

For each project, in this checkout and in a temporary worktree of `--baseline` (default: the last
revision before the deployables were split), it builds the project's wheel, exports its requirements
the way that revision's deploy does (`uv export --package ... --frozen --no-dev`; the current one
prunes what the target provides, e.g. Composer's own Airflow), installs exactly that into a fresh
venv (requirements, then the wheel with `--no-deps`: what the Dockerfiles do) and measures what the
image's installs add (each distribution's RECORD, the target's own packages left out). This checkout's
venvs are the ones `data-gcp projects rehearse` builds and measures (`data_gcp.image_rehearsal`,
cached under `.rehearsal/`), so both print the same figures. Installs come from uv's cache (hard
links), so a run takes minutes, not gigabytes.
Targets: etl_job < 700 MB and no CUDA; Composer's extra packages < 300 MB; ranking_endpoint < 600 MB;
retrieval_endpoint < 650 MB (faiss-cpu's 66 MB buy the 4-bit scan index: docs/benchmarks.md,
"Deployables"); etl_job and ml_job brick sets differ.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from data_gcp.brick_graph import get_project
from data_gcp.config import workspace_root
from data_gcp.image_rehearsal import ProjectEnv, build_env, installed_mb

BASELINE = "08c4c07"  # main before one base per deployable
console = Console(stderr=True)


@dataclass
class Figures:
    bricks: set[str]
    requirements: list[str]
    size_mb: float

    @property
    def cuda(self) -> bool:
        return any(r.startswith("nvidia-") for r in self.requirements)

    def has(self, pattern: str) -> bool:
        return any(re.fullmatch(pattern, r) for r in self.requirements)


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise SystemExit("uv is needed (pip install uv)")
    return uv


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"failed in {cwd}: {' '.join(argv)}\n{result.stderr[-2000:]}")
    return result.stdout


def measure_now(root: Path, name: str) -> Figures:
    """This checkout's project, in the rehearsal's own venv (same build, same figures)."""
    project = get_project(root, name)
    env = build_env(root, project)
    bricks = {b.rsplit("/", 1)[-1] for b in _bricks_table(root / "projects" / name)}
    return Figures(bricks, list(env.pins), installed_mb(env))


def _bricks_table(project_dir: Path) -> list[str]:
    data = tomllib.loads((project_dir / "pyproject.toml").read_text())
    return list(data.get("tool", {}).get("polylith", {}).get("bricks", {}).values())


def measure(tree: Path, name: str, export: list[str], work: Path) -> Figures:
    """Build, export, install into a fresh venv and measure one project of the checkout `tree`."""
    data = tomllib.loads((tree / "projects" / name / "pyproject.toml").read_text())
    bricks = {v.split("/")[-1] for v in data.get("tool", {}).get("polylith", {}).get("bricks", {}).values()}
    package = data["project"]["name"]
    dist = work / f"dist-{name}"
    _run([_uv(), "build", "--package", package, "--wheel", "--out-dir", str(dist), "-q"], tree)
    text = _run([_uv(), *export[1:]], tree)
    requirements = [
        line.split("==")[0].strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith(("#", " ", "-", "."))
    ]
    (work / f"{name}.txt").write_text(text)
    venv = work / f"venv-{name}"
    _run([_uv(), "venv", "-q", "--python", "3.11", str(venv)], tree)
    python = str(venv / "bin" / "python")
    _run(
        [_uv(), "pip", "install", "-q", "--python", python, "--no-deps", "-r", str(work / f"{name}.txt")],
        tree,
    )
    wheels = [str(w) for w in dist.glob("*.whl")]
    _run([_uv(), "pip", "install", "-q", "--python", python, "--no-deps", *wheels], tree)
    figures = Figures(bricks, requirements, installed_mb(ProjectEnv(name, venv, tuple(requirements))))
    shutil.rmtree(venv, ignore_errors=True)
    return figures


def _baseline_export(package: str) -> list[str]:
    """What deploy exported before: the whole closure, the target's own packages included."""
    return [
        "uv", "export", "--package", package, "--frozen", "--no-dev", "--no-hashes",
        "--no-emit-workspace", "--no-header", "--no-annotate",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default=BASELINE, help=f"revision to compare with (default {BASELINE})")
    parser.add_argument("--projects", default=None, help="comma-separated project names (default: all)")
    args = parser.parse_args()
    root = workspace_root()
    names = (
        args.projects.split(",")
        if args.projects
        else sorted(p.name for p in (root / "projects").iterdir() if (p / "pyproject.toml").is_file())
    )
    with tempfile.TemporaryDirectory(prefix="bench-projects-") as tmp:
        work = Path(tmp)
        base_tree = work / "baseline"
        _run(["git", "worktree", "add", "--detach", "-q", str(base_tree), args.baseline], root)
        try:
            table = Table(title=f"deployables: this checkout vs {args.baseline}")
            for col in (
                "project",
                "bricks",
                "reqs",
                "MB installed",
                "CUDA",
                "airflow pinned",
                "bricks now",
                "reqs now",
                "MB now",
                "CUDA now",
                "airflow now",
            ):
                table.add_column(col, justify="left" if col == "project" else "right")
            results = {}
            for name in names:
                console.print(f"[dim]measuring {name}...[/]")
                now = measure_now(root, name)
                before = None
                if (base_tree / "projects" / name / "pyproject.toml").is_file():
                    data = tomllib.loads((base_tree / "projects" / name / "pyproject.toml").read_text())
                    before = measure(
                        base_tree, name, _baseline_export(data["project"]["name"]), work / "before"
                    )
                results[name] = (before, now)
                cells = (
                    [str(len(before.bricks)), str(len(before.requirements)), f"{before.size_mb:.0f}",
                     "yes" if before.cuda else "no", "yes" if before.has(r"apache-airflow.*") else "no"]
                    if before else ["-"] * 5
                )  # fmt: skip
                table.add_row(
                    name, *cells, str(len(now.bricks)), str(len(now.requirements)), f"{now.size_mb:.0f}",
                    "yes" if now.cuda else "no", "yes" if now.has(r"apache-airflow.*") else "no",
                )  # fmt: skip
            Console(width=150).print(table)
            if "etl_job" in results and "ml_job" in results:
                same = results["etl_job"][1].bricks == results["ml_job"][1].bricks
                print(f"etl_job and ml_job brick sets differ: {'no' if same else 'yes'}")
            targets = {"etl_job": 700, "composer": 300, "retrieval_endpoint": 650, "ranking_endpoint": 600}
            for name, limit in targets.items():
                if name in results:
                    size = results[name][1].size_mb
                    print(
                        f"target {name} < {limit} MB: {size:.0f} MB -> {'met' if size < limit else 'NOT met'}"
                    )
        finally:
            _run(["git", "worktree", "remove", "--force", str(base_tree)], root)


if __name__ == "__main__":
    main()
