"""`data-gcp new connector|ml-job|service <name>`: `poly create` plus the files the team needs.

Why a wrapper: `poly create` makes an empty brick; a new connector also needs the etl_core pattern,
its registry line (which gives it its DAG and schedule entry), tests that pass, and its place in the
projects. Nothing is committed: the person reviews the files and commits them.
"""

from __future__ import annotations

import keyword
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from data_gcp.brick_graph import list_projects, sync_projects, workspace_bricks
from data_gcp.config import DataGcpError
from data_gcp.scaffold import templates as t

KINDS = ("connector", "ml-job", "service")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
REGISTRY = Path("components/data_gcp/etl_core/registry.py")
VENDOR_REGISTRY = Path("components/data_gcp/vendor_servers/registry.py")
KNOWN_SECRETS = Path("bases/data_gcp/cli/core_commands.py")


class ScaffoldError(DataGcpError):
    """The name is refused or a step failed; nothing was committed."""

    exit_code = 2


@dataclass
class ScaffoldResult:
    kind: str
    name: str
    files: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def check_name(root: Path, kind: str, name: str) -> None:
    """Refuse a name that is not snake_case or that already exists (brick, project or connector)."""
    if kind not in KINDS:
        raise ScaffoldError(f"unknown scaffold {kind!r}: expected one of {', '.join(KINDS)}")
    if not _SNAKE.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"invalid name {name!r}: use snake_case (lower-case letters and digits, words joined by '_', "
            "starting with a letter), e.g. app_downloads"
        )
    brick = f"{name}_api" if kind == "service" else name
    if (
        brick in workspace_bricks(root)
        or (root / "components/data_gcp" / brick).exists()
        or (root / "bases/data_gcp" / brick).exists()
    ):
        raise ScaffoldError(
            f"{name!r} already exists: a brick named {brick!r} is in the workspace; pick another name"
        )
    if kind == "service" and f"{name}_endpoint" in list_projects(root):
        raise ScaffoldError(f"{name!r} already exists: projects/{name}_endpoint is in the workspace")
    if kind == "connector" and (
        f'"{name}":' in (root / REGISTRY).read_text(encoding="utf-8")
        or (root / "components/data_gcp/vendor_servers" / f"{name}.py").exists()
    ):
        raise ScaffoldError(
            f"{name!r} already exists in the connector registry ({REGISTRY}) or vendor servers"
        )


def _poly(root: Path, *args: str) -> None:
    """Run the `poly` next to this interpreter (the workspace's venv), non-interactively."""
    exe = Path(sys.executable).parent / "poly"
    cmd = [str(exe)] if exe.exists() else [shutil.which("poly") or "poly"]
    result = subprocess.run([*cmd, *args], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ScaffoldError(
            f"`poly {' '.join(args)}` failed in {root}: {(result.stderr or result.stdout).strip()}"
        )


def _write(root: Path, result: ScaffoldResult, rel: str, template: str, **values: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(Template(template).substitute(values), encoding="utf-8")
    result.files.append(rel)


def _replace_poly_sample(root: Path, kind: str, brick: str) -> None:
    """`poly create` writes core.py and a sample test; the scaffold replaces them."""
    for rel in (f"{kind}s/data_gcp/{brick}/core.py", f"test/{kind}s/data_gcp/{brick}/test_core.py"):
        (root / rel).unlink(missing_ok=True)


def _add_to_table(root: Path, rel: Path, table: str, line: str, closing: str = "}") -> None:
    """Append `line` as the last entry of the literal `table` (a dict or list) in `rel`."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"{re.escape(table)}[^\n]*[{{\[]\n(.*?)\n{re.escape(closing)}", text, re.DOTALL)
    if not match:
        raise ScaffoldError(f"cannot find {table} in {path}: add {line.strip()!r} by hand")
    path.write_text(text[: match.end(1)] + "\n" + line + text[match.end(1) :], encoding="utf-8")


def scaffold(root: Path, kind: str, name: str) -> ScaffoldResult:
    """Create the brick, its tests and wiring for `kind` (connector, ml-job, service) named `name`."""
    check_name(root, kind, name)
    values = {
        "name": name,
        "camel": "".join(part.capitalize() for part in name.split("_")),
        "title": name.replace("_", " ").capitalize(),
        "secret": f"{name.replace('_', '-')}-api-key",
    }
    result = ScaffoldResult(kind, name)
    if kind == "connector":
        values.update(
            dashed=name.replace("_", "-"),
            upper=name.upper(),
            secret_env=values["secret"].upper().replace("-", "_"),
        )
        _poly(root, "create", "component", "--name", name)
        _replace_poly_sample(root, "component", name)
        _write(root, result, f"components/data_gcp/{name}/__init__.py", t.CONNECTOR_INIT, **values)
        _write(root, result, f"components/data_gcp/{name}/connector.py", t.CONNECTOR, **values)
        _write(root, result, f"components/data_gcp/vendor_servers/{name}.py", t.VENDOR_SERVER, **values)
        _write(root, result, f"test/components/data_gcp/{name}/test_{name}.py", t.CONNECTOR_TEST, **values)
        _add_to_table(root, REGISTRY, "CONNECTOR_MODULES", f'    "{name}": "data_gcp.{name}",')
        _add_to_table(
            root, VENDOR_REGISTRY, "VENDOR_MODULES", f'    "{name}": "data_gcp.vendor_servers.{name}",'
        )
        _add_to_table(root, KNOWN_SECRETS, "KNOWN_SECRETS", f'    "{values["secret"]}",', closing="]")
        result.files.append(
            f"{REGISTRY} (CONNECTOR_MODULES: gives the DAG etl_{name} and its schedule entry)"
        )
        result.files.append(f"{VENDOR_REGISTRY} (VENDOR_MODULES)")
        result.files.append(f"{KNOWN_SECRETS} (KNOWN_SECRETS: {values['secret']})")
        result.next_steps.append(
            f"write the vendor contract in components/data_gcp/{name}/connector.py and its server "
            f"components/data_gcp/vendor_servers/{name}.py (docs/connectors.md)"
        )
        result.next_steps.append(
            f"dbt: dbt/models/sources/{name}.yml and one intermediate model (docs/connectors.md, 5)"
        )
    elif kind == "ml-job":
        _poly(root, "create", "component", "--name", name)
        _replace_poly_sample(root, "component", name)
        _write(root, result, f"components/data_gcp/{name}/__init__.py", t.ML_JOB_INIT, **values)
        _write(root, result, f"components/data_gcp/{name}/job.py", t.ML_JOB, **values)
        _write(root, result, f"test/components/data_gcp/{name}/test_job.py", t.ML_JOB_TEST, **values)
        result.next_steps.append(
            "add a `data-gcp ml` command calling it (bases/data_gcp/ml_job/ml_commands.py), then a DagSpec row "
            "in components/data_gcp/orchestration/schedules.py and a task in orchestration/dags/ml_training.py"
        )
    else:
        api = f"{name}_api"
        project = f"{name}_endpoint"
        values.update(api=api, project=project, package=f"data-gcp-{project.replace('_', '-')}",
                      dashed=project.replace("_", "-"))  # fmt: skip
        _poly(root, "create", "base", "--name", api)
        _replace_poly_sample(root, "base", api)
        _write(root, result, f"bases/data_gcp/{api}/__init__.py", t.SERVICE_INIT, **values)
        _write(root, result, f"bases/data_gcp/{api}/app.py", t.SERVICE_APP, **values)
        _write(root, result, f"test/bases/data_gcp/{api}/test_app.py", t.SERVICE_TEST, **values)
        _write(root, result, f"projects/{project}/pyproject.toml", t.SERVICE_PYPROJECT, **values)
        _write(root, result, f"projects/{project}/Dockerfile", t.SERVICE_DOCKERFILE, **values)
        _write(root, result, f"projects/{project}/Dockerfile.dockerignore", t.SERVICE_DOCKERIGNORE, **values)
        result.next_steps.append("run `uv lock`: a new project is a new uv workspace member")
    # project membership: poly's own sync (development project), then ours (the import closure)
    _poly(root, "sync", "--quiet")
    drifts = sync_projects(root, write=True)
    if any(d.missing_dependencies or d.extra_dependencies for d in drifts) and kind != "service":
        result.next_steps.append("run `uv lock`: a project's dependencies changed")
    result.next_steps.append("review with `git status`, then run `data-gcp test --changed` and commit")
    return result
