"""The developer's `data-gcp` command: every deployable's commands plus the development-only ones.

Why a base of its own: it belongs to no deployable. It composes the job bases' Typer apps (the ETL
job's `import|etl|dbt`, the ML job's `ml`) with the commands only a developer runs: the local chain
(`run`), the sandbox, the planted-fault score of the dbt tests (`dbt faults`), local services (`serve`), scaffolds (`new`), project upkeep (`projects`,
`test --changed`) and `deploy`. Each image's entry point offers only its own commands.
"""

from __future__ import annotations

from data_gcp import etl_job, ml_job
from data_gcp.cli import (
    core_commands,
    deploy_commands,
    dev_references,
    faults_command,
    run_command,
    sandbox_commands,
    serve_commands,
    typecheck_command,
    ui_command,
    workspace_commands,
)
from data_gcp.cli_kit import new_app, run_app

app = new_app("data-gcp", "pass Culture data platform: ingestion, dbt, ML and orchestration.")
app.command("env")(core_commands.env)
app.command("sql")(core_commands.sql)
run_command.register(app)
sandbox_commands.register(app)
etl_job.register(app)
faults_command.register(app)  # `data-gcp dbt faults`: development only
ml_job.register(app)
serve_commands.register(app)
deploy_commands.register(app)
workspace_commands.register(app)
ui_command.register(app)
typecheck_command.register(app)

# Developer-only: the sandbox oracle next to the two-tower model (reads truth tables only where present).
dev_references.install()


def main() -> None:
    """Console entry point of the development environment."""
    run_app(app)
