"""Brick boundaries, checked on every import of the workspace's production code.

- Components never import bases (a base is an entry point; a component importing one drags a whole
  deployable into every project that uses the component).
- Outside a brick only its interface is imported: `data_gcp.<brick>`, never `data_gcp.<brick>.<module>`.

Why a test on our own import graph rather than a contract file: the graph already reads every file
(plugin strings included) and knows the bricks, so a new brick is covered without editing a list.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from data_gcp.brick_graph import module_imports, module_references, python_files, workspace_bricks
from data_gcp.config import workspace_root

ROOT = workspace_root(Path(__file__).parent)
PRODUCTION = ("components", "bases", "orchestration")


def _owner(path: Path, root: Path, bricks: dict) -> str | None:
    parts = path.relative_to(root).parts
    if len(parts) > 2 and parts[0] in ("components", "bases") and parts[2] in bricks:
        return parts[2]
    return None


def _brick_modules(root: Path, bricks: dict) -> set[str]:
    """`data_gcp.<brick>.<module>` for each private module or package of each brick."""
    names = set()
    for name, brick in bricks.items():
        for entry in (root / brick.folder).iterdir():
            if entry.suffix == ".py" and entry.stem != "__init__":
                names.add(f"data_gcp.{name}.{entry.stem}")
            elif entry.is_dir() and (entry / "__init__.py").exists():
                names.add(f"data_gcp.{name}.{entry.name}")
    return names


def _violations(root: Path, folders: tuple[str, ...] = PRODUCTION) -> tuple[list[str], list[str]]:
    bricks = workspace_bricks(root)
    private = _brick_modules(root, bricks)
    bases = {n for n, b in bricks.items() if b.kind == "base"}
    to_bases, to_private = [], []
    for file in python_files([root / f for f in folders]):
        owner = _owner(file, root, bricks)
        names = module_imports(file) | module_references(file)
        for name in sorted(names):
            parts = name.split(".")
            if parts[0] != "data_gcp" or len(parts) < 2 or parts[1] == owner:
                continue
            where = f"{file.relative_to(root)} -> {name}"
            if owner and bricks[owner].kind == "component" and parts[1] in bases:
                to_bases.append(where)
            module = ".".join(parts[:3])
            if module in private and f"{file.relative_to(root)} -> {module}" not in to_private:
                to_private.append(f"{file.relative_to(root)} -> {module}")
    return to_bases, to_private


def test_components_never_import_bases_and_bricks_use_only_interfaces() -> None:
    to_bases, to_private = _violations(ROOT)
    assert not to_bases, "components importing bases: " + "; ".join(to_bases)
    assert not to_private, "imports of another brick's private module: " + "; ".join(to_private)


def _plant(root: Path, beta: dict[str, str]) -> tuple[list[str], list[str]]:
    """A workspace with a component alpha (interface + private core), a base app, and the files of
    a component beta; the violations found in it."""
    files = {
        "components/data_gcp/alpha/__init__.py": "from data_gcp.alpha.core import X\n",
        "components/data_gcp/alpha/core.py": "X = 1\n",
        "bases/data_gcp/app/__init__.py": "from data_gcp.alpha import X\n",
        **{f"components/data_gcp/beta/{name}": text for name, text in beta.items()},
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return _violations(root)


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The rule can fail: a component importing a base and another brick's private module is reported."""
    to_bases, to_private = _plant(
        tmp_path, {"__init__.py": "import data_gcp.app\nfrom data_gcp.alpha.core import X\n"}
    )
    assert to_bases == ["components/data_gcp/beta/__init__.py -> data_gcp.app"]
    assert to_private == ["components/data_gcp/beta/__init__.py -> data_gcp.alpha.core"]


def test_relative_imports_across_bricks_are_seen(tmp_path: Path) -> None:
    """`from .. import app` in a component is a component importing a base; `from ..alpha.core`
    reaches another brick's private module: both are reported like their absolute spelling."""
    to_bases, to_private = _plant(
        tmp_path,
        {
            "__init__.py": "from .core import Y\n",  # its own module: fine
            "core.py": "from .. import app\nfrom ..alpha.core import X\nY = X\n",
        },
    )
    assert to_bases == ["components/data_gcp/beta/core.py -> data_gcp.app"]
    assert to_private == ["components/data_gcp/beta/core.py -> data_gcp.alpha.core"]


@pytest.mark.parametrize(
    ("path", "source", "refused"),
    [
        ("components/data_gcp/planted/core.py", "from .. import cli\n", True),
        ("bases/data_gcp/planted/main.py", "from ..config import get_settings\n", True),
        ("components/data_gcp/planted/__init__.py", "from .core import run\n", False),  # its own module
        ("test/components/data_gcp/planted/test_x.py", "from ..sandbox.conftest import pg_url\n", False),
    ],
)
def test_ruff_refuses_a_relative_import_out_of_a_brick(path: str, source: str, refused: bool) -> None:
    """The lint CI runs (`ruff check .`, the workspace's config) fails on a planted parent-relative import."""
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--stdin-filename", path, "-"],
        input=source, cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (result.returncode == 1 and "TID252" in result.stdout) == refused, result.stdout + result.stderr
