"""`data-gcp ui` in a real browser: headless Chromium drives the Airflow UI, the dbt docs and a model report.

Setup (about a minute on 2 cores): a small finished run (one connector DAG through `dag.test()`, so
the metadata DB has a DAG run, a task and its log), one two-tower and one ranker training on
synthetic data (their reports land in the local bucket), then `data-gcp ui` on free ports; the UI
generates the dbt docs itself. Any HTTP error, JavaScript console error or missing element fails the
test. Screenshots go to `<data folder>/screenshots/`.

Skips only outside CI when Chromium is missing (`apt-get install chromium`; `.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from data_gcp.config import workspace_root

# Debian's package (`.ci/run` installs it); GitHub's runners ship Google Chrome.
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
DAG_ID = "etl_brevo"
TASK_ID = "extract_load_brevo"
MART = "mrt_global__daily_booking_kpi"

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="headless Chromium not installed (apt-get install chromium); required in CI",
    ),
    pytest.mark.timeout(600),
]

SETUP = """
import datetime as dt, sys
from data_gcp.local_run import run_chain
report = run_chain([dt.date(2026, 3, 2)], scale=0.001, dag_ids=[sys.argv[1]])
assert report.ok, [(t.task_id, t.state, t.error) for t in report.tasks]

from data_gcp import two_tower
from data_gcp.planted_truth import make_inputs
two_tower.run_training(
    two_tower.TrainConfig(epochs=3, batch_size=128, max_steps_per_epoch=5), inputs=make_inputs(120, 200), track=False
)
from data_gcp.ranking import TrainConfig
from data_gcp.planted_truth import synthetic_training_table
from data_gcp.ranking_job import TRAINING_TABLE, run_training
from data_gcp.warehouse import get_warehouse
get_warehouse().load(TRAINING_TABLE, synthetic_training_table(n_calls=100, per_call=12), mode="replace")
run_training(TrainConfig(num_boost_round=20, num_leaves=7, num_threads=1), track=False)
"""


@dataclass
class Ui:
    data_dir: Path
    airflow: str
    portal: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATA_GCP_", "AIRFLOW"))}
    env.update(
        DATA_GCP_ENV="local",
        DATA_GCP_DATA_DIR=str(data_dir),
        DBT_TARGET_PATH=str(data_dir / "dbt-target"),
        DATA_GCP_WORKSPACE_ROOT=str(workspace_root()),
    )
    return env


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    data_dir = tmp_path_factory.mktemp("ui") / "data"
    env = _env(data_dir)
    started = time.monotonic()
    setup = subprocess.run(
        [sys.executable, "-c", SETUP, DAG_ID], env=env, capture_output=True, text=True, timeout=400
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    print(f"setup (one DAG run, two trainings): {time.monotonic() - started:.1f}s")
    started = time.monotonic()
    proc = subprocess.Popen(
        [shutil.which("data-gcp") or "data-gcp", "ui", "--airflow-port", "0", "--port", "0"],
        env=env | {"COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "ready in" in line or "error" in line.lower():
            break
    text = "".join(lines)
    airflow = re.search(r"Airflow\s+(http://127\.0\.0\.1:\d+/)", text)
    portal = re.search(r"model reports\s+(http://127\.0\.0\.1:\d+/)", text)
    if not (airflow and portal):
        proc.kill()
        pytest.fail(f"`data-gcp ui` did not print its URLs:\n{text[-3000:]}")
    print(f"`data-gcp ui` ready (with dbt docs generation): {time.monotonic() - started:.1f}s")
    handle = Ui(data_dir, airflow.group(1), portal.group(1), proc, lines)
    yield handle
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest[-3000:]
    assert "stopped" in rest


def test_ui_refuses_a_taken_port(ui: Ui) -> None:
    port = ui.airflow.rsplit(":", 1)[1].strip("/")
    res = subprocess.run(
        [shutil.which("data-gcp") or "data-gcp", "ui", "--airflow-port", port, "--port", "0"],
        env=_env(ui.data_dir) | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode != 0
    assert f"port {port} on 127.0.0.1 for the Airflow UI is already in use" in res.stdout + res.stderr


def test_pages_in_headless_chromium(ui: Ui) -> None:
    from playwright.sync_api import sync_playwright

    shots = ui.data_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(f"{ui.airflow}api/v2/dags/{DAG_ID}/dagRuns") as resp:  # noqa: S310 - loopback
        run_id = json.load(resp)["dag_runs"][0]["dag_run_id"]

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.on(
            "console",
            lambda m: (
                problems.append(f"console {m.type}: {m.text} ({m.location.get('url')})")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None
        )

        def visit(url: str, expect: str, shot: str) -> None:
            response = page.goto(url, wait_until="domcontentloaded")
            assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
            page.locator(expect).first.wait_for(state="visible", timeout=30_000)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(shots / shot))

        visit(f"{ui.airflow}dags", f"a:has-text('{DAG_ID}')", "airflow-dags.png")
        visit(f"{ui.airflow}dags/{DAG_ID}/runs/{run_id}", f"text={TASK_ID}", "airflow-run-grid.png")
        visit(
            f"{ui.airflow}dags/{DAG_ID}/runs/{run_id}/tasks/{TASK_ID}",
            "text=raw.brevo_newsletters=",
            "airflow-task-log.png",
        )
        visit(f"{ui.portal}dbt-docs/#!/model/model.data_gcp.{MART}", f"text={MART}", "dbt-docs-model.png")
        page.locator("a[title='View Lineage Graph']").click()
        page.locator("#cy canvas").first.wait_for(state="visible", timeout=30_000)
        page.mouse.move(600, 400)
        page.wait_for_timeout(1000)  # the graph's layout animation
        page.screenshot(path=str(shots / "dbt-docs-lineage.png"))
        visit(ui.portal, "a.report", "portal.png")
        for model in ("two_tower", "ranker"):
            page.goto(ui.portal)
            page.locator(f"a.report[href*='/reports/{model}/']").first.click()
            chart = "#metric-curves svg" if model == "two_tower" else "#calibration svg"
            page.locator(chart).first.wait_for(state="visible", timeout=30_000)
            page.screenshot(path=str(shots / f"report-{model}.png"), full_page=True)
        browser.close()
    assert not problems, "\n".join(problems)
    assert sorted(p.name for p in shots.glob("*.png")) == sorted(
        [
            "airflow-dags.png",
            "airflow-run-grid.png",
            "airflow-task-log.png",
            "dbt-docs-lineage.png",
            "dbt-docs-model.png",
            "portal.png",
            "report-ranker.png",
            "report-two_tower.png",
        ]
    )
