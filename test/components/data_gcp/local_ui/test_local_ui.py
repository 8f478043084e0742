"""The portal and the port checks of `data-gcp ui`, without Airflow or a browser."""

from __future__ import annotations

import socket

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
