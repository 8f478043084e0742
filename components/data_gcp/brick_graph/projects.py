"""Projects and what goes in them, computed from the import graph.

Why computed: bricks land every week; a project's `[tool.polylith.bricks]` and `[project.dependencies]`
written by hand drift (a base starts importing a new component, the wheel misses it, the image
crashes at start). Each project names its *roots* in `[tool.data-gcp] roots` (its base(s), or a
folder such as `orchestration` whose files import bricks); its bricks are the roots' transitive
import closure and its dependencies are the root requirements its bricks import.
"""

from __future__ import annotations

import importlib.metadata as metadata
import importlib.util
import re
import runpy
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from data_gcp.brick_graph.graph import (
    NAMESPACE,
    Brick,
    WorkspaceError,
    dependencies,
    import_graph,
    imported_bricks,
    module_imports,
    python_files,
    workspace_bricks,
)

_BRICK_PATH = re.compile(rf"^(components|bases)/{NAMESPACE}/([A-Za-z0-9_]+)/?$")


@dataclass(frozen=True)
class Project:
    """One deployable project under `projects/<name>` (a uv workspace member)."""

    name: str
    path: Path
    package: str
    roots: tuple[str, ...]
    extra_dependencies: tuple[str, ...] = ()
    exclude_dependencies: tuple[str, ...] = ()
    exclude_bricks: tuple[str, ...] = ()
    deploy: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    version: str = "0.0.0"
    roots_declared: bool = True  # False: `poly create project` made it; `projects sync` writes the roots
    version_file: str | None = None  # `[tool.hatch.version] path`: the version comes from the commit

    @property
    def built_version(self) -> str:
        """The version its wheel gets when built now (from the commit for a `code` version source)."""
        if self.version_file is None:
            return self.version
        return str(runpy.run_path(str(self.path / self.version_file))["__version__"])

    @property
    def normalized_package(self) -> str:
        """The package name as uv.lock and the indexes spell it (PEP 503: `demo_proj` is `demo-proj`)."""
        return re.sub(r"[-_.]+", "-", self.package).lower()

    @property
    def wheel_name(self) -> str:
        return f"{self.normalized_package.replace('-', '_')}-{self.built_version}-py3-none-any.whl"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WorkspaceError(f"cannot read {path}: {exc}") from None


def load_project(path: Path) -> Project:
    """Read `projects/<name>/pyproject.toml`; its `[tool.data-gcp]` table names the roots."""
    data = _read_toml(path / "pyproject.toml")
    tool = data.get("tool", {}).get("data-gcp", {})
    roots = tool.get("roots")
    declared = roots is not None
    if not declared:  # a project made by `poly create project`: its roots are the bases listed by hand
        roots = _bases_listed_by_hand(data)
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise WorkspaceError(
            f"{path / 'pyproject.toml'}: [tool.data-gcp] roots must be a list of paths, "
            'e.g. roots = ["bases/data_gcp/etl_job"]'
        )
    project = data.get("project", {})
    return Project(
        name=path.name,
        path=path,
        package=project.get("name", path.name),
        version=project.get("version", "0.0.0"),
        version_file=(
            data.get("tool", {}).get("hatch", {}).get("version", {}).get("path")
            if "version" in project.get("dynamic", ())
            else None
        ),
        roots=tuple(roots),
        extra_dependencies=tuple(tool.get("extra-dependencies", ())),
        exclude_dependencies=tuple(tool.get("exclude-dependencies", ())),
        exclude_bricks=tuple(tool.get("exclude-bricks", ())),
        deploy=dict(tool.get("deploy", {})),
        roots_declared=declared,
    )


def _bases_listed_by_hand(data: dict[str, Any]) -> list[str]:
    """The bases of a project's `[tool.polylith.bricks]` (`poly`'s own way of adding bricks)."""
    listed = data.get("tool", {}).get("polylith", {}).get("bricks", {})
    roots = []
    for key in listed:
        folder = str(key).removeprefix("../../")
        if folder.startswith(f"bases/{NAMESPACE}/"):
            roots.append(folder.rstrip("/"))
    return sorted(roots)


def list_projects(root: Path) -> dict[str, Project]:
    """Every project of the workspace by folder name."""
    folder = root / "projects"
    if not folder.is_dir():
        return {}
    return {
        p.name: load_project(p)
        for p in sorted(folder.iterdir())
        if p.is_dir() and (p / "pyproject.toml").is_file()
    }


def get_project(root: Path, name: str) -> Project:
    projects = list_projects(root)
    if name not in projects:
        raise WorkspaceError(f"unknown project {name!r}: expected one of {', '.join(projects) or '(none)'}")
    return projects[name]


def pending_roots(root: Path, project: Project) -> list[str]:
    """Roots that do not exist yet (a project created before its base lands): reported, not fatal."""
    bricks = workspace_bricks(root)
    pending = []
    for entry in project.roots:
        match = _BRICK_PATH.match(entry)
        if (match and match.group(2) not in bricks) or (not match and not (root / entry).exists()):
            pending.append(entry)
    return pending


def _split_roots(root: Path, project: Project, bricks: dict[str, Brick]) -> tuple[set[str], list[Path]]:
    """Roots that are bricks, and roots that are plain folders (their imports count); pending ones skipped."""
    brick_roots: set[str] = set()
    folders: list[Path] = []
    for entry in project.roots:
        match = _BRICK_PATH.match(entry)
        if match:
            if match.group(2) in bricks:
                brick_roots.add(match.group(2))
        elif (root / entry).exists():
            folders.append(root / entry)
    return brick_roots, folders


def project_bricks(
    root: Path, project: Project, graph: dict[str, frozenset[str]] | None = None
) -> list[Brick]:
    """The project's bricks: its roots' transitive import closure, plugins included (bases first)."""
    bricks = workspace_bricks(root)
    graph = import_graph(root, plugins=True) if graph is None else graph
    brick_roots, folders = _split_roots(root, project, bricks)
    brick_roots |= imported_bricks(folders, bricks, plugins=True)
    if project.exclude_bricks:  # bricks reached only through a plugin string the target never loads
        skip = set(project.exclude_bricks)
        graph = {k: frozenset(v - skip) for k, v in graph.items() if k not in skip}
        brick_roots -= skip
    names = dependencies(graph, brick_roots)
    return sorted((bricks[n] for n in names), key=lambda b: (b.kind, b.name))


def polylith_bricks_table(bricks: Iterable[Brick], prefix: str = "../../") -> dict[str, str]:
    """`[tool.polylith.bricks]` entries: `"../../components/data_gcp/x" = "data_gcp/x"`."""
    return {f"{prefix}{b.folder}": f"{NAMESPACE}/{b.name}" for b in sorted(bricks, key=lambda b: b.folder)}


# --- third-party dependencies -----------------------------------------------------------------


def root_requirements(root: Path) -> dict[str, str]:
    """Canonical name -> requirement string, from the root `[project.dependencies]`."""
    data = _read_toml(root / "pyproject.toml")
    result: dict[str, str] = {}
    for spec in data.get("project", {}).get("dependencies", []):
        try:
            result[canonicalize_name(Requirement(spec).name)] = spec
        except InvalidRequirement as exc:
            raise WorkspaceError(f"{root / 'pyproject.toml'}: bad requirement {spec!r}: {exc}") from None
    return result


@cache
def _modules_of(dist_name: str) -> frozenset[str]:
    """Dotted package/module names (3 levels at most) a distribution installs."""
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        return frozenset()
    names: set[str] = set()
    for file in dist.files or ():
        parts = Path(str(file)).parts
        if not parts or parts[0].endswith((".dist-info", ".data")) or parts[0] in {"..", "bin"}:
            continue
        if not str(file).endswith(".py") and not str(file).endswith((".so", ".pyd")):
            continue
        stem = list(parts[:-1]) + [parts[-1].split(".", 1)[0]]
        if stem[-1] == "__init__":
            stem = stem[:-1]
        for depth in range(1, min(3, len(stem)) + 1):
            names.add(".".join(stem[:depth]))
    return frozenset(names)


def _module_owner(requirements: dict[str, str]) -> dict[str, str]:
    """Dotted module prefix -> the one root requirement that installs it (ambiguous prefixes dropped)."""
    owners: dict[str, set[str]] = {}
    for name in requirements:
        for module in _modules_of(name):
            owners.setdefault(module, set()).add(name)
    return {m: next(iter(o)) for m, o in owners.items() if len(o) == 1}


def project_dependencies(root: Path, project: Project, bricks: Iterable[Brick]) -> list[str]:
    """Root requirements imported by the project's bricks (and root folders), plus its extras."""
    requirements = root_requirements(root)
    owners = _module_owner(requirements)
    brick_set = workspace_bricks(root)
    _, folders = _split_roots(root, project, brick_set)
    files = python_files([root / b.folder for b in bricks] + folders)
    needed: set[str] = set()
    for file in files:
        for name in module_imports(file):
            if name.split(".", 1)[0] == NAMESPACE:
                continue
            parts = name.split(".")
            for depth in range(min(3, len(parts)), 0, -1):
                owner = owners.get(".".join(parts[:depth]))
                if owner:
                    needed.add(owner)
                    break
    for extra in project.extra_dependencies:
        key = canonicalize_name(Requirement(extra).name)
        if key not in requirements:
            raise WorkspaceError(
                f"{project.name}: extra dependency {extra!r} is not a root dependency; add it to the root "
                "pyproject.toml first (the one lock decides every version)"
            )
        needed.add(key)
    needed -= {canonicalize_name(x) for x in project.exclude_dependencies}
    return sorted(requirements[n] for n in needed)


@cache
def _requirement_closure(names: tuple[str, ...]) -> frozenset[str]:
    """The distributions `names` install, their own requirements included (as installed here)."""
    seen: set[str] = set()
    stack = [canonicalize_name(n) for n in names]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            specs = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in specs:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(canonicalize_name(req.name))
    return frozenset(seen)


@cache
def _is_namespace(module: str) -> bool:
    """A namespace package (`google`): several distributions share it, so its children name them."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.origin in (None, "namespace")


def undeclared_imports(root: Path, project: Project, bricks: Iterable[Brick]) -> dict[str, list[str]]:
    """Third-party modules the project's files import that none of its declared requirements installs.

    Why: a project's requirements are the root requirements its bricks import; a module that only
    arrives as someone else's dependency (pandas through a workspace-only package) is present in the
    workspace venv and missing from the image, which then crashes on import. Declared means installed
    by a root requirement (which then becomes the project's) or by what the target provides
    (`exclude-dependencies` and their own requirements: Composer's Airflow brings pendulum). A
    namespace shared by several distributions (`google`, `google.cloud`) declares nothing below it.
    Returns module -> the files importing it (workspace-relative).
    """
    declared_dists = set(root_requirements(root)) | _requirement_closure(
        tuple(sorted(canonicalize_name(Requirement(x).name) for x in project.exclude_dependencies))
    )
    owners: dict[str, int] = {}
    for dist in declared_dists:
        for module in _modules_of(dist):
            owners[module] = owners.get(module, 0) + 1
    _, folders = _split_roots(root, project, workspace_bricks(root))
    found: dict[str, set[str]] = {}
    for file in python_files([root / b.folder for b in bricks] + folders):
        for name in module_imports(file):
            parts = name.split(".")
            if parts[0] in (NAMESPACE, "__future__") or parts[0] in sys.stdlib_module_names:
                continue
            if not any(
                owners.get(".".join(parts[:depth]), 0) == 1
                or (depth == len(parts) and ".".join(parts) in owners)
                for depth in range(min(3, len(parts)), 0, -1)
            ):
                key = ".".join(parts[:2]) if _is_namespace(parts[0]) else parts[0]
                found.setdefault(key, set()).add(str(file.relative_to(root)))
    return {module: sorted(files) for module, files in sorted(found.items())}


# --- sync --------------------------------------------------------------------------------------


@dataclass
class ProjectDrift:
    """What a project's pyproject.toml misses or lists in excess compared with the import graph."""

    project: str
    missing_bricks: list[str]
    extra_bricks: list[str]
    missing_dependencies: list[str]
    extra_dependencies: list[str]
    pending_roots: list[str] = field(default_factory=list)
    undeclared_roots: bool = False  # no `[tool.data-gcp] roots` yet (a project made by `poly create project`)
    static_version: bool = False  # a fixed `version`, not the commit's (`projects/version.py`)
    undeclared_imports: dict[str, list[str]] = field(default_factory=dict)  # module -> importing files

    @property
    def clean(self) -> bool:
        return not (
            self.missing_bricks
            or self.extra_bricks
            or self.missing_dependencies
            or self.extra_dependencies
            or self.undeclared_roots
            or self.static_version
            or self.undeclared_imports
        )


def _drift(name: str, want_bricks: dict, have_bricks: dict, want_deps: list, have_deps: list) -> ProjectDrift:
    return ProjectDrift(
        project=name,
        missing_bricks=sorted(set(want_bricks) - set(have_bricks)),
        extra_bricks=sorted(set(have_bricks) - set(want_bricks)),
        missing_dependencies=sorted(set(want_deps) - set(have_deps)),
        extra_dependencies=sorted(set(have_deps) - set(want_deps)),
    )


def _write_table(doc: tomlkit.TOMLDocument, bricks: dict[str, str]) -> None:
    tool = doc.setdefault("tool", tomlkit.table())
    polylith = tool.setdefault("polylith", tomlkit.table())
    table = tomlkit.table()
    for key, value in bricks.items():
        table[key] = value
    polylith["bricks"] = table


def _declare_roots(doc: tomlkit.TOMLDocument, roots: list[str]) -> None:
    tool = doc.setdefault("tool", tomlkit.table())
    table = tool.setdefault("data-gcp", tomlkit.table())
    table.add(tomlkit.comment("The project's bricks are these roots' transitive import closure (its base)."))
    array = tomlkit.array()
    array.extend(roots)
    table["roots"] = array


VERSION_FILE = "../version.py"


def _version_from_commit(doc: tomlkit.TOMLDocument) -> None:
    """`dynamic = ["version"]` read from `projects/version.py` (0.1.0+g<commit>), like every project:
    Composer and the images reinstall a package only when its version changes."""
    project = doc["project"]
    if "version" in project:
        del project["version"]
    project["dynamic"] = ["version"]
    tool = doc.setdefault("tool", tomlkit.table())
    hatch = tool.setdefault("hatch", tomlkit.table())
    version = tomlkit.table()
    version.add(
        tomlkit.comment("0.1.0+g<commit>: a code change always changes the version (see ../version.py).")
    )
    version["source"] = "code"
    version["path"] = VERSION_FILE
    version.add(tomlkit.nl())
    hatch["version"] = version


def sync_projects(root: Path, write: bool = False) -> list[ProjectDrift]:
    """Compare (and with `write`, rewrite) every project's bricks and dependencies, and the root's bricks.

    The root (development) project lists every brick, so that `poly info` shows each one in the
    development column. Dependencies of a project change the lock: run `uv lock` after a write that
    changed some.
    """
    graph = import_graph(root, plugins=True)
    drifts: list[ProjectDrift] = []
    # the development project: every brick
    root_file = root / "pyproject.toml"
    root_doc = tomlkit.parse(root_file.read_text(encoding="utf-8"))
    want_root = polylith_bricks_table(workspace_bricks(root).values(), prefix="")
    have_root = dict(root_doc.get("tool", {}).get("polylith", {}).get("bricks", {}))
    drift = _drift("development", want_root, have_root, [], [])
    drifts.append(drift)
    if write and not drift.clean:
        _write_table(root_doc, want_root)
        root_file.write_text(tomlkit.dumps(root_doc), encoding="utf-8")
    for project in list_projects(root).values():
        bricks = project_bricks(root, project, graph)
        want = polylith_bricks_table(bricks)
        deps = project_dependencies(root, project, bricks)
        file = project.path / "pyproject.toml"
        doc = tomlkit.parse(file.read_text(encoding="utf-8"))
        have = dict(doc.get("tool", {}).get("polylith", {}).get("bricks", {}))
        have_deps = list(doc.get("project", {}).get("dependencies", []))
        drift = _drift(project.name, want, have, deps, have_deps)
        drift.pending_roots = pending_roots(root, project)
        drift.undeclared_roots = not project.roots_declared
        drift.static_version = project.version_file != VERSION_FILE
        drift.undeclared_imports = undeclared_imports(root, project, bricks)
        drifts.append(drift)
        if write and drift.undeclared_roots:
            _declare_roots(doc, list(project.roots))
        if write and drift.static_version:
            _version_from_commit(doc)
        if write and not drift.clean:
            _write_table(doc, want)
            array = tomlkit.array()
            array.extend(deps)
            array.multiline(True)
            doc["project"]["dependencies"] = array
            file.write_text(tomlkit.dumps(doc), encoding="utf-8")
    return drifts
