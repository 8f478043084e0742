"""`data-gcp env` and `data-gcp sql`."""

from __future__ import annotations

import typer
from rich.table import Table

from data_gcp.cli_kit import out
from data_gcp.config import DATASETS, get_settings
from data_gcp.secrets import secret_names_set
from data_gcp.warehouse import get_warehouse

# Every secret the platform may read; `data-gcp env` shows which are set (names only).
KNOWN_SECRETS = [
    "slack-alert-webhook",
    "brevo-api-key-native",
    "brevo-api-key-pro",
    "qualtrics-api-token",
    "dms-api-token",
    "contentful-access-token",
    "batch-rest-key",
    "batch-api-key-ios",
    "batch-api-key-android",
    "insee-api-key",
]


def env() -> None:
    """Print the resolved environment: engines, datasets, bucket, which secrets are set."""
    settings = get_settings()
    wh = get_warehouse(settings)
    table = Table(title=f"data-gcp environment: {settings.env.value}", show_header=False)
    table.add_row("env", settings.env.value)
    table.add_row("project id", settings.project_id or "-")
    table.add_row("warehouse", f"{wh.engine}" + ("" if settings.is_cloud else f" ({settings.duckdb_path})"))
    table.add_row("datasets", ", ".join(settings.dataset(d) for d in DATASETS))
    table.add_row(
        "bucket", f"gs://{settings.bucket_name}" if settings.is_cloud else str(settings.local_bucket_dir)
    )
    table.add_row("secrets", "Secret Manager" if settings.is_cloud else ".env.local / environment")
    table.add_row("execution", "Cloud Run jobs" if settings.is_cloud else "in-process")
    if not settings.is_cloud:
        table.add_row("secrets set", ", ".join(secret_names_set(KNOWN_SECRETS)) or "none")
        table.add_row("source database", settings.source_url.split("@")[-1])
    out.print(table)


def sql(
    query: str = typer.Argument(
        ..., help="SQL in the warehouse's dialect; tables as <dataset>.<table> locally"
    ),
    limit: int = typer.Option(50, help="rows to print at most"),
) -> None:
    """Run a query on the current warehouse and print the result as a table."""
    result = get_warehouse().query(query)
    table = Table(*result.column_names, title=f"{result.num_rows} row(s)")
    for row in result.slice(0, limit).to_pylist():
        table.add_row(*("NULL" if v is None else str(v) for v in row.values()))
    out.print(table)
    if result.num_rows > limit:
        out.print(f"[dim]... {result.num_rows - limit} more row(s) not shown (--limit)[/]")
