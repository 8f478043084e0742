"""The workspace's import graph: which brick imports which, read from the source with `ast`.

Why our own graph rather than `poly deps`: the changed-test selection and the project membership
both need the *transitive* closure in both directions (what a brick needs, what needs a brick), and
`poly diff --deps` stops at one level.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from data_gcp.config import DataGcpError

NAMESPACE = "data_gcp"
KINDS = {"components": "component", "bases": "base"}


class WorkspaceError(DataGcpError):
    """The workspace layout or a project file is not what the tooling expects; says which file."""

    exit_code = 2


@dataclass(frozen=True)
class Brick:
    name: str
    kind: str  # "component" | "base"

    @property
    def folder(self) -> str:
        """Path of the brick's package, relative to the workspace root."""
        return f"{self.kind}s/{NAMESPACE}/{self.name}"

    @property
    def test_folder(self) -> str:
        return f"test/{self.kind}s/{NAMESPACE}/{self.name}"


def workspace_bricks(root: Path) -> dict[str, Brick]:
    """Every brick of the workspace by name (a folder under components/ or bases/ holding Python)."""
    bricks: dict[str, Brick] = {}
    for top, kind in KINDS.items():
        ns_dir = root / top / NAMESPACE
        if not ns_dir.is_dir():
            continue
        for folder in sorted(ns_dir.iterdir()):
            if folder.is_dir() and not folder.name.startswith((".", "_")) and any(folder.rglob("*.py")):
                if folder.name in bricks:
                    raise WorkspaceError(f"brick name {folder.name!r} is both a base and a component")
                bricks[folder.name] = Brick(folder.name, kind)
    return bricks


def python_files(paths: Iterable[Path]) -> list[Path]:
    """The .py files of the given files/folders (caches and virtualenvs left out)."""
    found: list[Path] = []
    for path in paths:
        if path.is_file() and path.suffix == ".py":
            found.append(path)
        elif path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*.py"))
                if not any(part in {"__pycache__", ".venv", "node_modules"} for part in p.parts)
            )
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk_runtime(node: ast.AST) -> Iterable[ast.AST]:
    """Like ast.walk, minus `if TYPE_CHECKING:` bodies (polylith ignores those imports too)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


_MODULE_STRING = re.compile(rf"^{NAMESPACE}(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def _brick_package(path: Path) -> list[str] | None:
    """`["data_gcp", <brick>, ...]`, the package holding `path` when it is a brick's module
    (`components|bases/data_gcp/<brick>/...`, not the mirrored `test/components/...`)."""
    parts = path.parts
    for i in range(len(parts) - 3, -1, -1):
        if parts[i] in KINDS and parts[i + 1] == NAMESPACE and (i == 0 or parts[i - 1] != "test"):
            return list(parts[i + 1 : -1])
    return None


@cache
def _parse(path: Path, mtime: float) -> tuple[frozenset[str], frozenset[str], frozenset[tuple[int, str]]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        raise WorkspaceError(f"cannot parse {path}: {exc.msg} (line {exc.lineno})") from None
    names: set[str] = set()
    strings: set[str] = set()
    relative: set[tuple[int, str]] = set()
    package = _brick_package(path)
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            # `from ..x import y`: kept as (level, "x.y") for files outside the bricks, and resolved to
            # `data_gcp....` inside one (`from .. import cli` in a component imports data_gcp.cli)
            targets = [node.module or ""] if node.module else []
            targets += [".".join(filter(None, (node.module, a.name))) for a in node.names if a.name != "*"]
            relative.update((node.level, t) for t in targets)
            if package is not None and node.level <= len(package):
                anchor = package[: len(package) - node.level + 1]
                names.update(".".join([*anchor, t]) for t in targets)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_STRING.match(node.value)
        ):
            strings.add(node.value)
    return frozenset(names), frozenset(strings), frozenset(relative)


def module_imports(path: Path) -> frozenset[str]:
    """Dotted names a file imports (`from a import b` gives `a` and `a.b`); a brick module's relative
    imports are resolved (`from .. import cli` in `components/data_gcp/x/` gives `data_gcp.cli`)."""
    return _parse(path, path.stat().st_mtime)[0]


def relative_import_files(path: Path) -> list[Path]:
    """The files a module reaches by relative imports, found next to it on disk (a test importing
    `from ..sandbox.conftest import pg_url` reaches `../sandbox/conftest.py`)."""
    found: list[Path] = []
    for level, target in sorted(_parse(path, path.stat().st_mtime)[2]):
        folder = path.parent
        for _ in range(level - 1):
            folder = folder.parent
        base = folder.joinpath(*target.split(".")) if target else folder
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file() and candidate != path and candidate not in found:
                found.append(candidate)
    return found


def module_references(path: Path) -> frozenset[str]:
    """`data_gcp.x` module names written as strings: plugins loaded with importlib (e.g. connectors)."""
    return _parse(path, path.stat().st_mtime)[1]


def _bricks_in(names: Iterable[str], known: set[str]) -> set[str]:
    prefix = NAMESPACE + "."
    found = set()
    for name in names:
        if name.startswith(prefix):
            brick = name[len(prefix) :].split(".", 1)[0]
            if brick in known:
                found.add(brick)
    return found


def imported_bricks(paths: Iterable[Path], known: Iterable[str], plugins: bool = False) -> set[str]:
    """Names of the bricks in `known` that the files under `paths` import (and, with `plugins`,
    name as importlib module strings)."""
    known = set(known)
    found: set[str] = set()
    for file in python_files(paths):
        found |= _bricks_in(module_imports(file), known)
        if plugins:
            found |= _bricks_in(module_references(file), known)
    return found


def import_graph(root: Path, plugins: bool = False) -> dict[str, frozenset[str]]:
    """brick -> the other bricks it imports directly.

    With `plugins`, a brick naming `"data_gcp.x"` in a string (a registry loading x with importlib)
    also uses x: right for what a project must ship; wrong for test selection, where a registry
    would make every connector depend on every other one.
    """
    bricks = workspace_bricks(root)
    return {
        name: frozenset(imported_bricks([root / brick.folder], bricks, plugins) - {name})
        for name, brick in bricks.items()
    }


def dependencies(graph: dict[str, frozenset[str]], roots: Iterable[str]) -> set[str]:
    """The roots plus everything they import, transitively."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        brick = stack.pop()
        if brick in seen:
            continue
        seen.add(brick)
        stack.extend(graph.get(brick, ()))
    return seen


def dependents(graph: dict[str, frozenset[str]], bricks: Iterable[str]) -> set[str]:
    """The bricks plus every brick that imports one of them, transitively."""
    reverse: dict[str, set[str]] = {}
    for brick, uses in graph.items():
        for used in uses:
            reverse.setdefault(used, set()).add(brick)
    return dependencies({k: frozenset(v) for k, v in reverse.items()}, bricks)
