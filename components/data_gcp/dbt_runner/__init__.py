"""Run the workspace's dbt project (`<workspace>/dbt`) in-process, on the target of the environment.

Local runs use DuckDB (the warehouse file of `data_gcp.warehouse`), cloud runs BigQuery; the profile
reads only environment variables, which this brick sets from `Settings`.
"""

from data_gcp.dbt_runner.core import (
    FINGERPRINT_FILE,
    DbtResult,
    DbtRunError,
    build,
    compile,
    compile_offline,
    dbt_env,
    docs_generate,
    docs_server,
    docs_site,
    docs_site_dir,
    invoke,
    keep_artifacts,
    kept_artifacts_dir,
    manifest_path,
    parse,
    project_dir,
    project_fingerprint,
    run,
    source_freshness,
    stale_manifest_reason,
    target_for,
    test,
)

__all__ = [
    "FINGERPRINT_FILE",
    "DbtResult",
    "DbtRunError",
    "build",
    "compile",
    "compile_offline",
    "dbt_env",
    "docs_generate",
    "docs_server",
    "docs_site",
    "docs_site_dir",
    "invoke",
    "keep_artifacts",
    "kept_artifacts_dir",
    "manifest_path",
    "parse",
    "project_dir",
    "project_fingerprint",
    "run",
    "source_freshness",
    "stale_manifest_reason",
    "target_for",
    "test",
]
