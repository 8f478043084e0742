"""From changed files to the tests to run and the projects to deploy.

Rules (each one a line below):
- a changed brick selects itself and every brick that imports it, transitively (static imports;
  a registry naming a connector in a string does not make every connector depend on the others);
- a selected brick selects its test folder, and every brick test folder whose files import it;
  "import" counts the conftest files, helpers and `development/` modules a test folder imports
  (transitively): a brick used by `test/dbt/conftest.py` selects all of `test/dbt`;
- `orchestration/` (the DAGs) and `dbt/` select their whole test folders, and every test of the
  bricks that read them (`workspace_root() / "dbt"`: dbt_runner, orchestration) or that use those
  bricks: a source or macro change reaches the DAG's manifest checks; otherwise the files of
  those folders are selected one by one: a file that imports a selected brick, or
  that loads the DAGs while a brick the DAGs use is selected (a connector: "its DAG"). An end-to-end
  test that reaches the code through a subprocess is selected by its own imports only: the full
  suite (cd.yml, on master and production) covers the rest;
- a changed module outside the bricks (`development/`, a conftest or helper under `test/`) selects
  every test that imports it, relative imports (`from ..sandbox.conftest import ...`) included;
- the files every test depends on (root pyproject, lock, workspace.toml, test/conftest.py) or a
  removed brick select everything;
- a project is affected when one of its bricks is selected, its folder changed, (Composer) the
  DAGs or the dbt project changed, or its Dockerfile copies a changed folder (etl_job: `dbt/`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from data_gcp.brick_graph import (
    NAMESPACE,
    dependencies,
    dependents,
    import_graph,
    imported_bricks,
    list_projects,
    module_imports,
    project_bricks,
    python_files,
    relative_import_files,
    workspace_bricks,
)

RUN_ALL_FILES = {"pyproject.toml", "uv.lock", "workspace.toml", "test/conftest.py", ".python-version"}
# source folder -> its test folder, and the projects it ships in
SOURCE_FOLDERS = {
    "orchestration": ("test/orchestration", ("composer",)),
    "dbt": ("test/dbt", ("composer",)),
}
# test folders about the workspace as a whole (project membership, Dockerfiles, workflows)
WORKSPACE_TESTS = "test/projects"
WORKSPACE_FILES = ("projects/", ".github/", ".ci/")


@dataclass
class Selection:
    base: str
    changed_files: list[str]
    changed_bricks: set[str] = field(default_factory=set)
    selected_bricks: set[str] = field(default_factory=set)
    test_paths: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    run_all: str | None = None  # why everything runs, when it does
    dbt_changed: bool = False
    orchestration_changed: bool = False
    # bricks that read a changed source folder (dbt/, orchestration/): their tests are selected too
    source_readers: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {
            "base": self.base,
            "changed_files": self.changed_files,
            "changed_bricks": sorted(self.changed_bricks),
            "selected_bricks": sorted(self.selected_bricks),
            "tests": self.test_paths,
            "projects": self.projects,
            "run_all": self.run_all,
            "dbt_changed": self.dbt_changed,
            "orchestration_changed": self.orchestration_changed,
            "source_readers": sorted(self.source_readers),
        }


def _brick_of(path: str) -> tuple[str, str] | None:
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] in ("components", "bases") and parts[1] == NAMESPACE:
        return parts[0], parts[2]
    return None


def _test_folders(root: Path) -> list[str]:
    """Every test folder: one per brick (test/<kind>s/data_gcp/<brick>) and each other test/<x>."""
    folders: list[str] = []
    test = root / "test"
    if not test.is_dir():
        return folders
    for top in sorted(test.iterdir()):
        if not top.is_dir() or top.name.startswith((".", "_")):
            continue
        if top.name in ("components", "bases") and (top / NAMESPACE).is_dir():
            folders += [
                f"test/{top.name}/{NAMESPACE}/{b.name}"
                for b in sorted((top / NAMESPACE).iterdir())
                if b.is_dir()
            ]
        else:
            folders.append(f"test/{top.name}")
    return folders


def _test_folder_of(path: str) -> str | None:
    parts = path.split("/")
    if parts[0] != "test" or len(parts) < 3:
        return None
    if parts[1] in ("components", "bases") and len(parts) >= 5 and parts[2] == NAMESPACE:
        return "/".join(parts[:4])
    if parts[1] in ("components", "bases"):
        return None
    return "/".join(parts[:2])


def _local_modules(root: Path, file: Path) -> list[Path]:
    """Workspace modules outside the bricks that `file` imports: `development.*` (helpers,
    benchmarks), sibling helpers imported by bare name (`from fixture_data import ...`) and modules
    imported relatively (`from ..sandbox.conftest import postgres_database`)."""
    found = [f for f in relative_import_files(file) if f != file]
    for name in module_imports(file):
        parts = name.split(".")
        for base in (root, file.parent):
            for candidate in (
                base.joinpath(*parts).with_suffix(".py"),
                base.joinpath(*parts) / "__init__.py",
            ):
                if candidate.is_file() and candidate != file and candidate not in found:
                    found.append(candidate)
    return found


def reached_modules(root: Path, files: Iterable[Path]) -> set[Path]:
    """The `files` and every workspace module outside the bricks they import, transitively."""
    seen: set[Path] = set()
    todo = [f for f in files if f.is_file()]
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        todo += _local_modules(root, file)
    return seen


def needed_bricks(root: Path, files: Iterable[Path], bricks: Iterable[str]) -> set[str]:
    """Bricks the test `files` use: their own imports and those of every workspace module they
    import (conftest files, helpers, `development/`), transitively."""
    return imported_bricks(sorted(reached_modules(root, files)), set(bricks))


def _reads_folder(file: Path, folder: str) -> bool:
    """Whether `file` builds the path `workspace_root() / "<folder>"` (it reads that folder)."""
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), str(file))):
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant)
            and node.right.value == folder
            and isinstance(node.left, ast.Call)
            and getattr(node.left.func, "id", getattr(node.left.func, "attr", None)) == "workspace_root"
        ):
            return True
    return False


def folder_readers(root: Path, folder: str) -> set[str]:
    """The bricks whose code reads the workspace folder `folder` (dbt/, orchestration/)."""
    return {
        name
        for name, brick in workspace_bricks(root).items()
        if any(_reads_folder(f, folder) for f in python_files([root / brick.folder]))
    }


def dockerfile_copies(root: Path, project: str) -> set[str]:
    """The top-level workspace folders the project's Dockerfile copies into its image (`COPY dbt ...`;
    `COPY . ...`, the whole context, gives `*`)."""
    dockerfile = root / "projects" / project / "Dockerfile"
    if not dockerfile.is_file():
        return set()
    copied = set()
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if len(words) >= 3 and words[0].upper() in ("COPY", "ADD"):
            sources = [w for w in words[1:-1] if not w.startswith("--")]
            for src in sources:
                top = src.removeprefix("./").split("/", 1)[0]
                copied.add("*" if top in ("", ".", "*") else top)
    return copied


def _support_files(root: Path, folder: Path) -> list[Path]:
    """The files of a test folder that are not tests (conftest.py, helpers), and the conftest files
    above it inside test/: pytest loads them for every test of the folder."""
    files = [f for f in python_files([folder]) if not f.name.startswith("test_")]
    test_root, parent = root / "test", folder.parent
    while test_root in parent.parents:  # test/conftest.py itself selects everything already
        if (parent / "conftest.py").is_file():
            files.append(parent / "conftest.py")
        parent = parent.parent
    return files


def select(root: Path, files: Iterable[str], base: str = "") -> Selection:
    """The selection for `files` (paths relative to `root`) in the workspace as it is now."""
    files = sorted(set(files))
    sel = Selection(base=base, changed_files=files)
    bricks = workspace_bricks(root)
    projects = list_projects(root)
    touched_tests: set[str] = set()
    affected_projects: set[str] = set()
    workspace_tests = False
    changed_sources: set[str] = set()
    # modules outside the bricks (development/, test helpers and conftest files): their importers run
    changed_modules = {
        root / path
        for path in files
        if path.endswith(".py") and path.startswith(("development/", "test/")) and (root / path).is_file()
    }
    for path in files:
        if path in RUN_ALL_FILES:
            sel.run_all = f"{path} changed"
        brick = _brick_of(path)
        if brick:
            if brick[1] in bricks:
                sel.changed_bricks.add(brick[1])
            elif not (root / brick[0] / NAMESPACE / brick[1]).exists():
                sel.run_all = sel.run_all or f"brick {brick[1]} was removed"
            workspace_tests = True
            continue
        top = path.split("/", 1)[0]
        if top in SOURCE_FOLDERS:
            tests, shipped_in = SOURCE_FOLDERS[top]
            touched_tests.add(tests)
            affected_projects.update(shipped_in)
            changed_sources.add(top)
            sel.dbt_changed |= top == "dbt"
            sel.orchestration_changed |= top == "orchestration"
        if path.startswith("projects/"):
            name = path.split("/")[1] if path.count("/") >= 1 else ""
            if name in projects:
                affected_projects.add(name)
        if path.startswith(WORKSPACE_FILES):
            workspace_tests = True
        folder = _test_folder_of(path)
        if folder:
            touched_tests.add(folder)
        elif path.startswith("test/") and path.endswith("conftest.py"):
            sel.run_all = sel.run_all or f"{path} changed"

    graph = import_graph(root)
    sel.selected_bricks = dependents(graph, sel.changed_bricks)
    # a changed source folder is a change to what the bricks reading it read: test them and their users
    for top in sorted(changed_sources):
        sel.source_readers |= folder_readers(root, top)
    test_bricks = sel.selected_bricks | dependents(graph, sel.source_readers)

    # bricks the DAGs use, plugins included: a connector change selects the tests that load its DAG
    plugin_graph = import_graph(root, plugins=True)
    dag_bricks = dependencies(plugin_graph, imported_bricks([root / "orchestration"], bricks, plugins=True))

    selected_tests: set[str] = set(touched_tests)
    for folder in _test_folders(root):
        parts = folder.split("/")
        if len(parts) == 4:  # a brick's test folder: its brick, or any brick it imports, is selected
            folder_files = python_files([root / folder]) + _support_files(root, root / folder)
            reached = reached_modules(root, folder_files)
            if (
                parts[3] in test_bricks
                or imported_bricks(sorted(reached), bricks) & test_bricks
                or reached & changed_modules
            ):
                selected_tests.add(folder)
            continue
        if folder in touched_tests:
            continue
        # what the folder's conftest files and helpers use, every test of the folder uses
        support = reached_modules(root, _support_files(root, root / folder))
        if imported_bricks(sorted(support), bricks) & test_bricks or support & changed_modules:
            selected_tests.add(folder)
            continue
        # other folders (test/orchestration, test/dbt, ...) file by file: a test file needs what it
        # imports and, if it loads the DAGs, what the DAG files use (plugins included)
        for file in python_files([root / folder]):
            if not file.name.startswith("test_"):
                continue
            reached = reached_modules(root, [file])
            needs = imported_bricks(sorted(reached), bricks)
            if "dagbag" in file.read_text(encoding="utf-8").lower():
                needs |= dag_bricks
            if needs & test_bricks or reached & changed_modules:
                selected_tests.add(file.relative_to(root).as_posix())
    if workspace_tests:
        selected_tests.add(WORKSPACE_TESTS)

    for name, project in projects.items():
        if {b.name for b in project_bricks(root, project, plugin_graph)} & sel.selected_bricks:
            affected_projects.add(name)
        copied = dockerfile_copies(root, name)
        if files and (
            "*" in copied or copied & {path.split("/", 1)[0] for path in files}
        ):  # its image holds it
            affected_projects.add(name)
    if sel.run_all:
        sel.test_paths = ["test"]
        sel.projects = sorted(projects)
        return sel
    sel.test_paths = sorted(t for t in selected_tests if (root / t).exists())
    sel.projects = sorted(affected_projects)
    return sel
