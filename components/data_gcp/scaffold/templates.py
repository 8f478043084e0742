"""File templates of the scaffolds (string.Template: `$name`, `$camel`, `$api`, `$project`, `$package`)."""

CONNECTOR_INIT = '''"""$title connector (see connector.py for the contract it follows)."""

from data_gcp.$name.connector import CONNECTOR, ITEMS, ${camel}Connector

__all__ = ["CONNECTOR", "ITEMS", "${camel}Connector"]
'''

CONNECTOR = '''"""$title connector.

Contract: TODO write the vendor's contract here (base URL, auth, pagination, incremental field,
raw tables, schedule), from `shared/reference/source-systems.md` or the vendor's public API docs.
The skeleton reads `GET /items?offset=&limit=` (offset+limit pagination, `items` in the answer) with
a bearer token from the secret `$secret`, and writes one snapshot a day to `raw.${name}_items`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa

from data_gcp.etl_core import Batch, Column, Connector, RunContext, TableSpec, utc_timestamp
from data_gcp.http_client import HttpClient

PAGE_SIZE = 100

ITEMS = TableSpec(
    name="${name}_items",
    object="items",
    description="$title items, one snapshot a day",
    columns=(
        Column("snapshot_date", "date", "day of the snapshot (the run's window end)", nullable=False),
        Column("item_id", "string", nullable=False),
        Column("item_name"),
        Column("updated_at", "timestamp"),
    ),
    write="snapshot_day",
    partition="snapshot_date",
    primary_key=("snapshot_date", "item_id"),
)


class ${camel}Connector(Connector):
    name = "$name"
    description = "$title items (skeleton: replace with the vendor's objects)"
    schedule = "0 2 * * *"
    default_base_url = "https://api.example.invalid/v1"
    secrets = ("$secret",)
    tables = (ITEMS,)

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        if ctx.wants("items"):
            token = ctx.secret("$secret")
            with ctx.http(secret_headers={"authorization": f"Bearer {token}"}) as http:
                yield ITEMS.name, self.items(http, ctx.window.end)

    def items(self, http: HttpClient, snapshot_date: dt.date) -> pa.Table:
        """Every item of the listing, as rows of `raw.${name}_items` dated `snapshot_date`."""
        rows = [
            {
                "snapshot_date": snapshot_date,
                "item_id": str(item["id"]),
                "item_name": item.get("name"),
                "updated_at": utc_timestamp(item.get("updated_at")),
            }
            for page in http.paginate_offset("items", "items", limit=PAGE_SIZE)
            for item in page
        ]
        return ITEMS.to_arrow(rows)


CONNECTOR = ${camel}Connector
'''

CONNECTOR_TEST = '''"""The $name connector against its local vendor server (docs/connectors.md, section 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from data_gcp.$name import CONNECTOR
from data_gcp.http_client import SourceError

DAY = "2026-11-20"
TABLE = "${name}_items"
HARNESS = {"system": "$name", "n_items": 250}  # the `vendor` fixture (test/conftest.py) serves it


@pytest.fixture
def harness(vendor):
    return vendor


def test_reads_every_page_into_the_snapshot(harness) -> None:
    table = harness.extract(DAY, DAY)[TABLE]
    assert table.num_rows == 250
    assert sorted(table.column("item_id").to_pylist(), key=int) == [str(i) for i in range(1, 251)]
    assert set(table.column("snapshot_date").to_pylist()) == {dt.date(2026, 11, 20)}
    assert len(harness.server.requests_to(r"/items")) == 3  # pages of 100


def test_429_waits_retry_after_then_succeeds(harness) -> None:
    harness.server.faults.add("status", r"/items", status=429, retry_after=7)
    assert harness.extract(DAY, DAY)[TABLE].num_rows == 250
    assert 7 in harness.clock.sleeps


def test_expired_token_fails_cleanly_and_writes_nothing(harness) -> None:
    harness.server.faults.add("status", r"/items", status=401, times=-1)
    with pytest.raises(SourceError, match=r"$name: GET /v1/items failed \\(HTTP 401\\)"):
        harness.run(DAY, DAY)
    assert harness.table(TABLE) is None


def test_run_loads_the_day_and_a_rerun_gives_the_same_rows(harness) -> None:
    harness.run(DAY, DAY)
    first = harness.table(TABLE)
    harness.run(DAY, DAY)
    assert first.num_rows == 250
    assert harness.table(TABLE).equals(first)


def test_registered_with_its_dag_schedule() -> None:
    from data_gcp.etl_core import get_connector
    from data_gcp.orchestration import etl_dag_id, schedule_table

    assert get_connector("$name") is CONNECTOR
    spec = schedule_table()[etl_dag_id("$name")]
    assert spec.job == "etl-job"
    assert all(cron == CONNECTOR.schedule for cron in spec.cron.values())
'''

VENDOR_SERVER = '''"""Local $title server for tests and `data-gcp run`: the skeleton's contract.

`GET /v1/items?offset=&limit=` with `Authorization: Bearer <token>`, answering `{"items": [...]}`
(offset+limit pagination, a short page ends the listing). Replace with the vendor's real contract.
"""

from __future__ import annotations

from typing import Any

from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp, json_error

LOCAL_KEY = "local-${dashed}-key-0001"


def build(data: SandboxData, n_items: int = 250, **_: Any) -> VendorApp:
    items = [
        {"id": i, "name": f"item {i}", "updated_at": "2026-11-01T10:00:00Z"} for i in range(1, n_items + 1)
    ]

    def auth(request: Request) -> Response | None:
        if request.header("authorization") == f"Bearer {LOCAL_KEY}":
            return None
        return json_error(401, "invalid token")

    def list_items(request: Request) -> Response:
        offset, limit = request.int_param("offset", 0), request.int_param("limit", 100)
        return Response(200, {"items": items[offset : offset + limit]})

    return VendorApp(
        name="$name",
        base_path="/v1",
        routes=[("GET", r"/items", list_items)],
        auth=auth,
        env={"DATA_GCP_${upper}_BASE_URL": "{base_url}", "${secret_env}": LOCAL_KEY},
    )
'''

ML_JOB_INIT = '''"""$title ML job (see job.py)."""

from data_gcp.$name.job import JobReport, fit, run

__all__ = ["JobReport", "fit", "run"]
'''

ML_JOB = '''"""$title: an ML job skeleton.

TODO say what it learns, from which `ml.*` table, and what it writes. The skeleton fits a baseline
(item popularity) so the job runs end to end: read a table from the warehouse, fit, write the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.config import Settings, get_settings
from data_gcp.warehouse import get_warehouse

SOURCE_TABLE = "ml.ml_reco__click_training"
OUTPUT_TABLE = "ml.${name}_item_score"


@dataclass(frozen=True)
class JobReport:
    rows_read: int
    rows_written: int


def fit(clicks: pa.Table) -> pa.Table:
    """Item scores: each item's share of the clicks (a popularity baseline), best first."""
    counts = clicks.group_by("item_id").aggregate([("item_id", "count")])
    total = max(clicks.num_rows, 1)
    scores = pc.divide(pc.cast(counts.column("item_id_count"), pa.float64()), float(total))
    table = pa.table({"item_id": counts.column("item_id"), "score": scores})
    return table.sort_by([("score", "descending"), ("item_id", "ascending")])


def run(settings: Settings | None = None) -> JobReport:
    """Read the training table, fit, replace the output table."""
    wh = get_warehouse(settings or get_settings())
    clicks = wh.query(f"select item_id from {wh.physical(SOURCE_TABLE)}")
    scores = fit(clicks)
    wh.load(OUTPUT_TABLE, scores, mode="replace")
    return JobReport(rows_read=clicks.num_rows, rows_written=scores.num_rows)
'''

ML_JOB_TEST = '''"""The $name job skeleton on the local warehouse."""

from __future__ import annotations

import pyarrow as pa

from data_gcp.$name import fit, run
from data_gcp.warehouse import get_warehouse


def test_fit_scores_items_by_click_share() -> None:
    scores = fit(pa.table({"item_id": ["a", "b", "a", "a"]}))
    assert scores.column("item_id").to_pylist() == ["a", "b"]
    assert scores.column("score").to_pylist() == [0.75, 0.25]


def test_run_reads_the_training_table_and_writes_scores(settings) -> None:
    wh = get_warehouse(settings)
    wh.load("ml.ml_reco__click_training", pa.table({"item_id": ["x", "y", "y"]}), mode="replace")
    report = run(settings)
    assert (report.rows_read, report.rows_written) == (3, 2)
    ranked = wh.query("select item_id from ml.${name}_item_score order by score desc")
    assert ranked.column(0).to_pylist() == ["y", "x"]
'''

SERVICE_INIT = '''"""$title service: a FastAPI app served on port 8080 by its Cloud Run project."""

from data_gcp.$api.app import create_app

__all__ = ["create_app"]
'''

SERVICE_APP = '''"""The $title HTTP app. A base: it wires routes to components, no business logic here."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from data_gcp.config import get_settings


class Health(BaseModel):
    status: str
    env: str


def create_app() -> FastAPI:
    """The app (a factory: `uvicorn data_gcp.$api.app:create_app --factory`)."""
    app = FastAPI(title="$title")

    @app.get("/isalive")
    def isalive() -> Health:
        return Health(status="ok", env=get_settings().env.value)

    return app
'''

SERVICE_TEST = '''"""The $title app skeleton answers its health check."""

from fastapi.testclient import TestClient

from data_gcp.$api import create_app


def test_isalive_reports_the_env() -> None:
    response = TestClient(create_app()).get("/isalive")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "env": "local"}


def test_unknown_route_is_404() -> None:
    assert TestClient(create_app()).get("/nope").status_code == 404
'''

SERVICE_PYPROJECT = """[build-system]
requires = ["hatchling", "hatch-polylith-bricks"]
build-backend = "hatchling.build"

[project]
name = "$package"
dynamic = ["version"]
description = "Cloud Run service: $title (FastAPI)"
requires-python = ">=3.11"
dependencies = []

[tool.hatch.version]
# 0.1.0+g<commit>: a code change always changes the version (see ../version.py).
source = "code"
path = "../version.py"

[tool.hatch.build.targets.wheel]
packages = ["data_gcp"]

[tool.hatch.build.hooks.polylith-bricks]

# Written by `data-gcp projects sync` from the import graph of the roots below; do not edit by hand.
[tool.polylith.bricks]

[tool.data-gcp]
roots = ["bases/data_gcp/$api"]
extra-dependencies = ["uvicorn"]
exclude-dependencies = []

[tool.data-gcp.deploy]
target = "cloud-run-service"
name = "$dashed"
memory = "2Gi"
cpu = "1"
port = 8080
min-instances = 0
max-instances = 10
"""

SERVICE_DOCKERFILE = """# Cloud Run service image: the $title FastAPI app on port 8080. Built by `data-gcp deploy`
# from dist/$project/ (the project's wheel and its requirements exported from the one lock).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PORT=8080

RUN groupadd --system --gid 10001 app \\
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app app

WORKDIR /home/app

COPY dist/$project/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --requirement /tmp/requirements.txt && rm /tmp/requirements.txt

COPY dist/$project/*.whl /tmp/wheels/
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels

USER 10001:10001
EXPOSE 8080
CMD ["uvicorn", "data_gcp.$api.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8080"]
"""

SERVICE_DOCKERIGNORE = """# Build context = the workspace root; only these paths reach the image.
*
!dist/$project/
"""
