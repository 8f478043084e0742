"""The workspace's import graph, its projects and what each project contains.

Used by `data-gcp projects sync`, the changed-brick test selection, deploy and the scaffolds.
"""

from data_gcp.brick_graph.graph import (
    NAMESPACE,
    Brick,
    WorkspaceError,
    dependencies,
    dependents,
    import_graph,
    imported_bricks,
    module_imports,
    module_references,
    python_files,
    relative_import_files,
    workspace_bricks,
)
from data_gcp.brick_graph.projects import (
    Project,
    ProjectDrift,
    get_project,
    list_projects,
    load_project,
    pending_roots,
    polylith_bricks_table,
    project_bricks,
    project_dependencies,
    root_requirements,
    sync_projects,
    undeclared_imports,
)

__all__ = [
    "NAMESPACE",
    "Brick",
    "Project",
    "ProjectDrift",
    "WorkspaceError",
    "dependencies",
    "dependents",
    "get_project",
    "import_graph",
    "imported_bricks",
    "list_projects",
    "load_project",
    "pending_roots",
    "module_imports",
    "module_references",
    "polylith_bricks_table",
    "project_bricks",
    "project_dependencies",
    "python_files",
    "relative_import_files",
    "root_requirements",
    "sync_projects",
    "undeclared_imports",
    "workspace_bricks",
]
