"""`data-gcp ui` in a real browser, the way a new user meets it: started on a fresh folder, before any run.

While the UI is up (each step fails if the UI held the warehouse): the whole chain for one day through
`data-gcp run` (its runs watched while they run: real start times), a Trigger of the import clicked in
Airflow's UI meanwhile (its scheduler runs it once `data-gcp run` has let go of the warehouse), a
`data-gcp sql` query, a planted fault (a duplicated subcategory id: dbt's `unique`
test on the source fails, so the day's dbt_run fails), the day's dbt_run again without the fault, the
dbt docs, and three trainings (tracked in the local MLflow store). Then headless Chromium drives
Airflow's UI (with the link from the dbt task to its models), the health page, the ML runs, the dbt
docs and the reports. Any HTTP error, JavaScript console error or missing element fails the test.
Screenshots go to `<data folder>/screenshots/` (README's come from there). About 6 min on 2 cores.

Skips only outside CI when Chromium is missing (`apt-get install chromium`; `.ci/run` installs it).
"""

from __future__ import annotations

import datetime as dt
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
from zoneinfo import ZoneInfo

import pytest

from data_gcp.config import workspace_root

# Debian's package (`.ci/run` installs it); GitHub's runners ship Google Chrome.
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
DAY = "2026-03-02"
DAG_ID = "import_applicative_database"
TASK_ID = "import_applicative"
MART = "mrt_global__daily_booking_kpi"
PLANTED_TEST = "source_unique_raw_api_referentials_subcategories_id"

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="headless Chromium not installed (apt-get install chromium); required in CI",
    ),
    pytest.mark.timeout(1500),  # a hang guard: about 6 min on a quiet 2-core machine, 15 on a busy one
]

# The planted fault and its repair, straight in the warehouse (the UI must not be holding it).
PLANT = "INSERT INTO raw.subcategories SELECT * FROM raw.subcategories LIMIT 1"
REPAIR = "CREATE OR REPLACE TABLE raw.subcategories AS SELECT DISTINCT * FROM raw.subcategories"
DBT_RUN = """
import datetime as dt, sys, duckdb
from data_gcp.config import get_settings
from data_gcp.local_run import run_chain
con = duckdb.connect(str(get_settings().duckdb_path))
con.execute(sys.argv[2])
con.close()
report = run_chain([dt.date.fromisoformat(sys.argv[1])], scale=0.01, dag_ids=["dbt_run"])
assert report.ok == (sys.argv[3] == "ok"), [(t.task_id, t.state, t.error) for t in report.tasks]
"""
DOCS = "from data_gcp import dbt_runner; dbt_runner.docs_site(compile=False)"
TRAININGS = """
from data_gcp import two_tower
from data_gcp.planted_truth import make_inputs
two_tower.run_training(
    two_tower.TrainConfig(epochs=3, batch_size=128, max_steps_per_epoch=5), inputs=make_inputs(120, 200)
)
from data_gcp.ranking import TrainConfig
from data_gcp.planted_truth import synthetic_training_table
from data_gcp.ranking_job import TRAINING_TABLE, run_training
from data_gcp.warehouse import get_warehouse
get_warehouse().load(TRAINING_TABLE, synthetic_training_table(n_calls=100, per_call=12), mode="replace")
for rounds in (20, 30):
    run_training(TrainConfig(num_boost_round=rounds, num_leaves=7, num_threads=1))
"""


@dataclass
class Ui:
    data_dir: Path
    airflow: str
    portal: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)
    steps: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    started: dict[str, dt.datetime] = field(default_factory=dict)
    running: dict[str, dict] = field(default_factory=dict)  # run id -> the run seen while it ran
    triggered: dict = field(default_factory=dict)  # the run the Trigger button created, once ended


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATA_GCP_", "AIRFLOW", "MLFLOW"))}
    env.update(
        DATA_GCP_ENV="local",
        DATA_GCP_DATA_DIR=str(data_dir),
        DBT_TARGET_PATH=str(data_dir / "dbt-target"),
        DATA_GCP_WORKSPACE_ROOT=str(workspace_root()),
        COLUMNS="200",
    )
    return env


def _cli(*args: str, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    command = [shutil.which("data-gcp") or "data-gcp", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def _python(code: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600
    )


def _get(url: str) -> dict:
    with urllib.request.urlopen(url) as resp:  # noqa: S310 - loopback
        return json.load(resp)


def _lock_holder(data_dir: Path) -> str:
    """What the warehouse's writer lock names (empty: nobody)."""
    for path in data_dir.rglob("*.writer.lock"):
        text = path.read_text("utf-8")
        if text:
            return json.loads(text)["what"]
    return ""


def _click_trigger(airflow: str) -> None:
    """Trigger the import from Airflow's UI as a user does: its page, Trigger, the dialog's Trigger
    (default logical date: now, so the run processes yesterday, Paris)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 760}, timezone_id="UTC")
        posts: list = []
        page.on("request", lambda r: posts.append(r) if r.method == "POST" and "/dagRuns" in r.url else None)
        page.goto(f"{airflow}dags/{DAG_ID}", wait_until="networkidle")
        dialog = page.locator("[role=dialog][data-state=open]")
        # On a busy machine a click can land before the page or the dialog reacts to it: click again
        # (as a user would) until the dialog's Trigger has sent its one POST.
        for _ in range(5):
            if not dialog.count():
                page.locator("button:has-text('Trigger')").first.click()
                dialog.first.wait_for(state="visible", timeout=30_000)
            dialog.locator("button:has-text('Trigger')").last.click()
            deadline = time.monotonic() + 15
            while not posts and time.monotonic() < deadline:
                page.wait_for_timeout(250)
            if posts:
                break
        assert len(posts) == 1, f"{len(posts)} trigger request(s) sent"
        response = posts[0].response()
        assert response is not None and response.status == 200, response and response.text()
        browser.close()


def _wait_for(predicate, what: str, timeout: float = 300.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1.0)
    pytest.fail(f"timed out waiting for {what}")


def _log(url: str) -> str:
    """A task's log as the UI reads it (Airflow's JSON log lines), one event a line."""
    content = _get(f"{url}?full_content=true")["content"]
    return "\n".join(str(line.get("event", "")) if isinstance(line, dict) else str(line) for line in content)


def _ok(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    data_dir = tmp_path_factory.mktemp("ui") / "data"
    env = _env(data_dir)
    started = time.monotonic()
    proc = subprocess.Popen(
        [shutil.which("data-gcp") or "data-gcp", "ui", "--airflow-port", "0", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "ready in" in line or line.startswith("error"):
            break
    text = "".join(lines)
    airflow = re.search(r"Airflow\s+(http://127\.0\.0\.1:\d+/)", text)
    portal = re.search(r"model reports\s+(http://127\.0\.0\.1:\d+/)", text)
    if not (airflow and portal):
        proc.kill()
        pytest.fail(f"`data-gcp ui` did not print its URLs:\n{text[-3000:]}")
    print(f"`data-gcp ui` ready on a fresh folder: {time.monotonic() - started:.1f}s")
    handle = Ui(data_dir, airflow.group(1), portal.group(1), proc, lines)
    try:
        started = time.monotonic()
        handle.started["run"] = dt.datetime.now(dt.UTC)
        out = data_dir.parent / "run.out"
        with out.open("w") as sink:
            run = subprocess.Popen(
                [
                    shutil.which("data-gcp") or "data-gcp",
                    "run",
                    "--date",
                    DAY,
                ],  # the default scale: a day of 0.001 is noise to the volume tests
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )
            # once `data-gcp run` writes the warehouse and its DAGs are known: the Trigger button
            _wait_for(
                lambda: _lock_holder(data_dir).startswith("`data-gcp run`") or run.poll() is not None, "run"
            )
            _wait_for(lambda: _get(f"{handle.airflow}api/v2/dags?dag_id_pattern={DAG_ID}")["dags"], "the DAG")
            handle.started["trigger"] = dt.datetime.now(dt.UTC)
            _click_trigger(handle.airflow)
            while run.poll() is None:  # the runs of `data-gcp run`, as the UI shows them while they run
                for r in _get(f"{handle.airflow}api/v2/dags/~/dagRuns?state=running")["dag_runs"]:
                    handle.running.setdefault(r["dag_run_id"], r)
                time.sleep(0.5)
        handle.steps["run"] = subprocess.CompletedProcess(run.args, run.returncode, out.read_text(), "")

        def triggered() -> dict | None:
            runs = _get(f"{handle.airflow}api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"]
            ui_runs = [r for r in runs if r["triggered_by"] == "ui"]
            return ui_runs[0] if ui_runs and ui_runs[0]["state"] in ("success", "failed") else None

        handle.triggered = _wait_for(triggered, "the run triggered from the UI to end")
        handle.steps["sql"] = _cli("sql", "SELECT count(*) AS n FROM raw.subcategories", env=env, timeout=120)
        handle.steps["planted"] = _python(DBT_RUN, DAY, PLANT, "failed", env=env)
        handle.started["repaired"] = dt.datetime.now(dt.UTC)
        handle.steps["repaired"] = _python(DBT_RUN, DAY, REPAIR, "ok", env=env)
        handle.steps["docs"] = _python(DOCS, env=env)
        handle.steps["train"] = _python(TRAININGS, env=env)
        print(f"runs, query, docs, trainings while the UI is up: {time.monotonic() - started:.1f}s")
        yield handle
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest[-3000:]
    assert "stopped" in rest
    # Ctrl-C stopped every process it started: no scheduler, DAG processor or worker left behind
    deadline = time.monotonic() + 10
    while (left := _processes_of(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, left


def _processes_of(data_dir: Path) -> list[str]:
    """Command lines of the processes whose environment points at this data folder."""
    found = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            environ = (proc_dir / "environ").read_bytes().split(b"\0")
            if f"DATA_GCP_DATA_DIR={data_dir}".encode() in environ:
                found.append(
                    (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
        except OSError:
            continue
    return found


def test_a_fresh_folder_says_a_run_comes_first(ui: Ui) -> None:
    text = "".join(ui.output)
    assert "Run `data-gcp run` first" in text, text
    assert "Traceback" not in text


def test_runs_queries_and_trainings_work_while_the_ui_is_up(ui: Ui) -> None:
    for name in ("run", "sql", "planted", "repaired", "docs", "train"):
        _ok(ui.steps[name])
    assert "20 task(s) run" in ui.steps["run"].stdout + ui.steps["run"].stderr


def test_airflow_keeps_every_run_with_its_real_times_and_paris_day(ui: Ui) -> None:
    runs = _get(f"{ui.airflow}api/v2/dags/dbt_run/dagRuns?order_by=start_date")["dag_runs"]
    # the failed run of the day stays beside the later runs of the same day
    assert [r["state"] for r in runs] == ["success", "failed", "success"], runs
    for r in runs:
        assert r["note"] == f"Paris day {DAY} (data-gcp run)"
        start, end = dt.datetime.fromisoformat(r["start_date"]), dt.datetime.fromisoformat(r["end_date"])
        assert ui.started["run"] <= start < end, r  # not the logical date (midnight, in March)
        assert (end - start).total_seconds() < 600, r
    assert dt.datetime.fromisoformat(runs[2]["start_date"]) >= ui.started["repaired"]
    # the task's duration as the terminal printed it, within the listener's rounding
    tis = _get(f"{ui.airflow}api/v2/dags/{DAG_ID}/dagRuns/~/taskInstances")["task_instances"]
    ti = next(t for t in tis if t["dag_run_id"] != ui.triggered["dag_run_id"])
    printed = re.search(rf"{TASK_ID} (\d+\.\d)s", ui.steps["run"].stdout + ui.steps["run"].stderr)
    assert printed, ui.steps["run"].stdout[-2000:]
    assert abs(float(printed.group(1)) - ti["duration"]) < 1.0, (printed.group(0), ti["duration"])
    # while they ran, the runs showed their real start (not the logical date, midnight in March)
    seen = [r for r in ui.running.values() if r["triggered_by"] == "test"]
    assert seen, "no run of `data-gcp run` seen while it ran"
    for r in seen:
        assert dt.datetime.fromisoformat(r["start_date"]) >= ui.started["run"], r


def test_a_trigger_from_the_ui_runs_after_data_gcp_run_and_processes_yesterday(ui: Ui) -> None:
    run = ui.triggered
    assert run["state"] == "success", run
    start, end = dt.datetime.fromisoformat(run["start_date"]), dt.datetime.fromisoformat(run["end_date"])
    assert ui.started["trigger"] <= start < end, run
    # one writer at a time: its import waited for `data-gcp run` to let go of the warehouse
    tis = _get(f"{ui.airflow}api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances")[
        "task_instances"
    ]
    assert [t["state"] for t in tis] == ["success"], tis
    task_end = dt.datetime.fromisoformat(tis[0]["end_date"])
    chain_end = max(  # the end of the last run of `data-gcp run` started before the import ended
        dt.datetime.fromisoformat(r["end_date"])
        for r in _get(f"{ui.airflow}api/v2/dags/~/dagRuns?limit=100")["dag_runs"]
        if r["triggered_by"] == "test" and dt.datetime.fromisoformat(r["start_date"]) < task_end
    )
    assert task_end > chain_end, (tis[0], chain_end)
    log = _log(f"{ui.airflow}api/v2/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances/{TASK_ID}/logs/1")
    assert "waiting for the warehouse: `data-gcp run`" in log, log[-2000:]
    # no logical date picked: it processes the Paris day before it started
    yesterday = (start.astimezone(ZoneInfo("Europe/Paris")).date() - dt.timedelta(days=1)).isoformat()
    assert f"--date {yesterday}" in log, log[-2000:]
    assert run["note"] == f"Paris day {yesterday}", run


def test_ui_refuses_a_taken_port_and_bad_ports(ui: Ui) -> None:
    port = ui.airflow.rsplit(":", 1)[1].strip("/")
    env = _env(ui.data_dir)
    res = _cli("ui", "--airflow-port", port, "--port", "0", env=env, timeout=60)
    assert res.returncode != 0
    assert f"port {port} on 127.0.0.1 for the Airflow UI is already in use" in res.stdout + res.stderr
    res = _cli("ui", "--airflow-port", "70000", env=env, timeout=60)
    assert res.returncode != 0 and "Traceback" not in res.stdout + res.stderr
    assert "--airflow-port 70000 is not a TCP port" in res.stdout + res.stderr
    res = _cli("ui", "--airflow-port", "18765", "--port", "18765", env=env, timeout=60)
    assert res.returncode != 0 and "need two different ports" in res.stdout + res.stderr


def test_pages_in_headless_chromium(ui: Ui) -> None:
    from playwright.sync_api import sync_playwright

    shots = ui.data_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    runs = _get(f"{ui.airflow}api/v2/dags/dbt_run/dagRuns?order_by=start_date")["dag_runs"]
    failed = next(r["dag_run_id"] for r in runs if r["state"] == "failed")
    last_dbt = runs[-1]["dag_run_id"]
    triggered = ui.triggered["dag_run_id"]
    health = _get(f"{ui.airflow}api/v2/monitor/health")
    assert health["scheduler"]["status"] == health["dag_processor"]["status"] == "healthy", health

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        # a browser in UTC: the UI still shows Europe/Paris
        page = browser.new_page(viewport={"width": 1280, "height": 760}, timezone_id="UTC")
        page.on(
            "console",
            lambda m: (
                problems.append(f"console {m.type}: {m.text} ({m.location.get('url')})")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def on_response(r: object) -> None:
            if r.status >= 400:
                problems.append(f"HTTP {r.status} {r.url}")

        page.on("response", on_response)

        def visit(url: str, expect: str, shot: str | None) -> None:
            response = page.goto(url, wait_until="domcontentloaded")
            assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
            page.locator(expect).first.wait_for(state="visible", timeout=30_000)
            page.wait_for_load_state("networkidle")
            if shot:
                page.screenshot(path=str(shots / shot))

        visit(ui.airflow, "text=Scheduler", "airflow-home.png")  # scheduler and DAG processor up
        visit(f"{ui.airflow}dags", "a:has-text('dbt_run')", "airflow-dags.png")
        assert page.evaluate("localStorage.getItem('timezone')") == '"Europe/Paris"'
        assert page.locator("#data-gcp-local").is_visible()
        visit(f"{ui.airflow}dags/dbt_run/runs", f"text={failed}", "airflow-runs.png")
        visit(f"{ui.airflow}dags/dbt_run/runs/{failed}", "text=dbt_build", "airflow-run-grid.png")
        # the run's note, the Paris day it processed: Airflow 3.3 shows it in the run's header
        page.locator(f"text=Paris day {DAY}").first.wait_for(state="visible", timeout=15_000)
        page.screenshot(path=str(shots / "airflow-run-note.png"))
        # the run the Trigger button created, run by the scheduler once `data-gcp run` let go
        visit(
            f"{ui.airflow}dags/{DAG_ID}/runs/{triggered}",
            f"text={ui.triggered['note']}",
            "airflow-triggered-run.png",
        )
        # the log view opens at its end and renders only the lines on screen: scroll to its top
        visit(f"{ui.airflow}dags/{DAG_ID}/runs/{triggered}/tasks/{TASK_ID}", "text=Post Execute", None)
        # (no such button while the log is still loading or fits the screen: scroll up with the wheel)
        line = page.locator("text=waiting for the warehouse").first
        top = page.get_by_role("button", name=re.compile("scroll to top", re.I)).first
        deadline = time.monotonic() + 60
        while not line.is_visible():
            assert time.monotonic() < deadline, "the task log never showed 'waiting for the warehouse'"
            if top.is_visible():
                top.click()
            else:
                page.locator("text=Post Execute").first.hover()
                page.mouse.wheel(0, -20_000)
            page.wait_for_timeout(1_000)
        page.screenshot(path=str(shots / "airflow-task-log.png"))
        # from the dbt task in Airflow to the models and tests it built, and back
        visit(
            f"{ui.airflow}dags/dbt_run/runs/{last_dbt}/tasks/dbt_build",
            "#data-gcp-dbt-link",
            "airflow-dbt-task.png",
        )
        page.locator("#data-gcp-dbt-link").click()
        page.locator(f"#task-nodes a[href*='model.data_gcp.{MART}']").first.wait_for(
            state="visible", timeout=30_000
        )
        assert page.locator("#task-nodes tr.node").count() > 100
        page.screenshot(path=str(shots / "health-task.png"))
        page.locator("#airflow-task").click()
        page.locator("#data-gcp-dbt-link").wait_for(state="visible", timeout=30_000)

        visit(ui.portal, "#health", "portal.png")
        visit(f"{ui.portal}health", "#nodes", "health.png")
        # the planted fault: failed in the earlier run, passed in the last, its history shows both
        planted = page.locator(f"#earlier tr.fail[data-id^='test.data_gcp.{PLANTED_TEST}']")
        assert planted.count() == 1 and "1" in planted.locator("td").nth(2).inner_text()
        history = page.locator(f"#nodes tr[data-id^='test.data_gcp.{PLANTED_TEST}'] td").last
        assert history.locator(".badge").all_inner_texts() == ["pass", "fail", "pass"]
        page.locator("#nodes tr.node").first.wait_for(state="visible")
        assert page.locator("#freshness tr.source").count() > 0
        assert page.locator("#tables tr.table").count() > 100
        # from a dbt result to its Airflow task, and back to the model in the dbt docs
        page.locator("#dbt-tasks a").first.click()
        page.locator("text=dbt_build").first.wait_for(state="visible", timeout=30_000)
        visit(f"{ui.portal}health", "#nodes", None)
        page.locator(f"#nodes a[href*='model.data_gcp.{MART}']").first.click()
        page.locator(f"text={MART}").first.wait_for(state="visible", timeout=30_000)

        visit(f"{ui.portal}ml", "#ml-runs", "ml-runs.png")
        ranker_runs = page.locator("tr.ml-run", has_text="ranker")
        assert ranker_runs.count() == 2 and page.locator("tr.ml-run").count() == 3
        for i in range(2):
            ranker_runs.nth(i).locator("input").check()
        page.locator("#compare").click()
        page.locator("#compare-params tr.diff").first.wait_for(state="visible", timeout=30_000)
        assert "num_boost_round" in page.locator("#compare-params tr.diff").first.inner_text()
        page.screenshot(path=str(shots / "ml-compare.png"), full_page=True)

        visit(f"{ui.portal}dbt-docs/#!/model/model.data_gcp.{MART}", f"text={MART}", "dbt-docs-model.png")
        page.locator("a[title='View Lineage Graph']").click()
        page.locator("#cy canvas").first.wait_for(state="visible", timeout=30_000)
        page.mouse.move(600, 400)
        page.wait_for_timeout(1000)  # the graph's layout animation
        page.screenshot(path=str(shots / "dbt-docs-lineage.png"))
        for model in ("two_tower", "ranker"):
            page.goto(ui.portal)
            page.locator(f"a.report[href*='/reports/{model}/']").first.click()
            chart = "#metric-curves svg" if model == "two_tower" else "#calibration svg"
            page.locator(chart).first.wait_for(state="visible", timeout=30_000)
            page.screenshot(path=str(shots / f"report-{model}.png"), full_page=True)
        assert page.locator("#params-table").is_visible()
        response = page.goto(f"{ui.portal}reports/ranker/nope")
        assert response is not None and response.status == 404
        assert str(ui.data_dir) not in page.content()
        problems[:] = [p for p in problems if "/reports/ranker/nope" not in p]
        browser.close()
    assert not problems, "\n".join(problems)
