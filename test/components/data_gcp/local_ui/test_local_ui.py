"""The portal and the port checks of `data-gcp ui`, without Airflow or a browser."""

from __future__ import annotations

import json
import re
import socket
import subprocess

import pytest
from fastapi.testclient import TestClient

from data_gcp.local_ui import PortTaken, find_reports, start_ui
from data_gcp.local_ui.core import portal_app


def _write_report(settings, model: str, run_id: str, text: str) -> None:
    path = settings.local_bucket_dir / "models" / model / run_id / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_taken_port_is_refused_with_the_option_to_change_it(settings) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(PortTaken, match=rf"port {port} on 127.0.0.1 for the Airflow UI .*--airflow-port"):
            start_ui(settings, airflow_port=port, portal_port=0)
        with pytest.raises(PortTaken, match=rf"port {port} on 127.0.0.1 for the portal .*--port"):
            start_ui(settings, airflow_port=0, portal_port=port)


def test_reports_newest_first_and_served_only_when_listed(settings) -> None:
    _write_report(settings, "two_tower", "20260101T000000-aaaaaa", "<p>old</p>")
    _write_report(settings, "two_tower", "20260301T000000-bbbbbb", "<p>new</p>")
    _write_report(settings, "ranker", "20260201T000000-cccccc", "<p>ranker</p>")
    assert [(r.model, r.run_id) for r in find_reports(settings)] == [
        ("two_tower", "20260301T000000-bbbbbb"),
        ("ranker", "20260201T000000-cccccc"),
        ("two_tower", "20260101T000000-aaaaaa"),
    ]
    client = TestClient(portal_app(settings, "http://127.0.0.1:1/", None))
    index = client.get("/").text
    assert index.index("20260301T000000-bbbbbb") < index.index("20260101T000000-aaaaaa")
    assert "dbt docs: not generated" in index
    assert client.get("/reports/ranker/20260201T000000-cccccc").text == "<p>ranker</p>"
    assert client.get("/reports/ranker/..%2F..%2Fwarehouse.duckdb").status_code == 404
    assert client.get("/reports/two_tower/nope").status_code == 404


def test_dbt_docs_are_served_and_unrendered_template_urls_answer_empty(settings, tmp_path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.html").write_text("<html>dbt</html>", encoding="utf-8")
    (docs / "manifest.json").write_text("{}", encoding="utf-8")
    client = TestClient(portal_app(settings, "http://127.0.0.1:1/", docs))
    assert client.get("/dbt-docs/").text == "<html>dbt</html>"
    assert client.get("/dbt-docs/manifest.json").json() == {}
    assert client.get("/dbt-docs/{{ getIcon(item.type, 'on') }}").status_code == 204
    assert client.get("/dbt-docs/missing.json").status_code == 404
    assert 'id="dbt-docs"' in client.get("/").text


def _run_results(settings, run_id: str, statuses: dict[str, str], generated_at: str) -> None:
    """dbt's run_results.json (schema v6, the fields the page reads) kept as `data-gcp run` keeps it."""
    from urllib.parse import quote

    from data_gcp.local_run import history_dir

    path = (
        history_dir(settings) / "dbt" / "dbt_run" / quote(run_id, safe="") / "dbt_build" / "run_results.json"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    results = [
        {
            "unique_id": uid,
            "status": status,
            "execution_time": 0.5,
            "message": "Got 1 result, configured to fail if != 0" if status == "fail" else None,
            "failures": 1 if status == "fail" else 0 if uid.startswith("test.") else None,
        }
        for uid, status in statuses.items()
    ]
    path.write_text(json.dumps({"metadata": {"generated_at": generated_at}, "results": results}), "utf-8")


def test_health_page_shows_the_last_run_each_tests_history_and_earlier_failures(settings) -> None:
    test_id = "test.data_gcp.unique_mrt_kpi_day.abc123"
    _run_results(
        settings, "manual__1", {"model.data_gcp.mrt_kpi": "success", test_id: "pass"}, "2026-03-01T10:00:00Z"
    )
    _run_results(
        settings, "manual__2", {"model.data_gcp.mrt_kpi": "success", test_id: "fail"}, "2026-03-02T10:00:00Z"
    )
    _run_results(
        settings, "manual__3", {"model.data_gcp.mrt_kpi": "success", test_id: "pass"}, "2026-03-03T10:00:00Z"
    )
    client = TestClient(portal_app(settings, "http://127.0.0.1:1/"))
    html = client.get("/health").text
    row = html.split('id="nodes"')[1].split(f'data-id="{test_id}"')[1].split("</tr>")[0]
    assert re.findall(r'class="badge [a-z]+">([a-z]+)<', row) == [
        "pass",
        "pass",
        "fail",
        "pass",
    ]  # now, then history
    earlier = html.split('id="earlier"')[1].split("</table>")[0]
    assert "unique_mrt_kpi_day" in earlier and "manual__2" in earlier and "manual__1" not in earlier
    assert 'href="http://127.0.0.1:1/dags/dbt_run/runs/manual__3/tasks/dbt_build"' in html


def test_tables_record_keeps_the_last_load_of_an_unchanged_table(settings) -> None:
    import datetime as dt

    from data_gcp.local_run import record_tables

    t1, t2 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    record_tables(
        settings, [{"schema": "raw", "table": "a", "rows": 3}, {"schema": "raw", "table": "b", "rows": 1}], t1
    )
    path = record_tables(
        settings, [{"schema": "raw", "table": "a", "rows": 3}, {"schema": "raw", "table": "b", "rows": 2}], t2
    )
    loads = {t["table"]: t["last_load"] for t in json.loads(path.read_text("utf-8"))["tables"]}
    assert loads == {"a": "2026-03-01T00:00:00+00:00", "b": "2026-03-02T00:00:00+00:00"}


def test_ml_runs_list_and_compare_from_the_mlflow_store(settings, monkeypatch) -> None:
    from data_gcp.ml_tracking import track_run

    for rounds, ndcg in ((20, 0.41), (30, 0.44)):
        track_run(
            "ranker",
            f"run-{rounds}",
            {"num_boost_round": rounds, "num_leaves": 7},
            {"ndcg_at_10": ndcg},
            settings=settings,
            strict=True,
        )
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)  # set by track_run; the UI's process has not
    client = TestClient(portal_app(settings, "http://127.0.0.1:1/"))
    html = client.get("/ml").text
    ids = re.findall(r'name="run" value="([0-9a-f]+)"', html)
    assert len(ids) == 2 and "num_boost_round=30" in html and "ndcg_at_10=0.4400" in html
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout
    assert f"<code>{head[:12]}</code>" in html  # the commit each run was trained from
    compare = client.get("/ml/compare", params=[("run", i) for i in ids]).text
    params = compare.split('id="compare-params"')[1].split("</table>")[0]
    assert re.search(r'<tr class="diff"><td>num_boost_round</td><td>30</td><td>20</td>', params)
    assert '<tr class="same"><td>num_leaves</td>' in params
    assert client.get("/ml/compare", params={"run": ids[0]}).status_code == 404


def test_bad_ports_are_refused_before_anything_starts(settings) -> None:
    from data_gcp.config import DataGcpError

    with pytest.raises(DataGcpError, match="--airflow-port 70000 is not a TCP port"):
        start_ui(settings, airflow_port=70000, portal_port=0)
    with pytest.raises(DataGcpError, match="need two different ports"):
        start_ui(settings, airflow_port=18765, portal_port=18765)


def test_unknown_report_is_a_page_without_the_bucket_path(settings) -> None:
    client = TestClient(portal_app(settings, "http://127.0.0.1:1/"))
    res = client.get("/reports/ranker/nope")
    assert res.status_code == 404 and res.headers["content-type"].startswith("text/html")
    assert str(settings.local_data_dir) not in res.text


def test_docs_are_built_by_a_process_that_leaves_the_warehouse_free(settings) -> None:
    """After the UI built the docs, another process can write the warehouse (DuckDB: one writer)."""
    import subprocess
    import sys

    import duckdb

    from data_gcp.local_ui import ensure_dbt_docs

    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.duckdb_path))
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.t AS SELECT 1 AS a")
    con.close()
    steps: list[str] = []
    ensure_dbt_docs(settings, steps.append)
    writer = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import duckdb; duckdb.connect({str(settings.duckdb_path)!r}).execute('CREATE TABLE u AS SELECT 1')",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert writer.returncode == 0, writer.stderr[-2000:]
    assert steps and "separate process" in steps[0]


def test_no_docs_build_before_the_first_run(settings) -> None:
    from data_gcp.local_ui import ensure_dbt_docs

    steps: list[str] = []
    assert ensure_dbt_docs(settings, steps.append) is None
    assert "Run `data-gcp run` first" in steps[0]
