"""Serve what a local run produced, on 127.0.0.1 only: Airflow's own API server/UI and a small portal.

Why in one process: both servers are uvicorn apps; running them in threads of the command's process
lets Ctrl-C stop everything at once, with no orphan server left on a port.

- Airflow (default port 8088): `airflow.api_fastapi` core app (UI + public REST API) on the SQLite
  metadata DB that `data-gcp run` fills, read live (a run started while the UI is up shows up in it).
  Auth: the simple auth manager with `simple_auth_manager_all_admins`, i.e. no login. Acceptable
  because the socket is bound to 127.0.0.1 only and the DB holds synthetic local runs; nothing here
  is reachable from another host.
- Portal (default port 8089): an index page linking everything, the dbt docs site (`/dbt-docs/`,
  static files generated into the data folder) and the model reports (`/reports/<model>/<run_id>`),
  read from the local bucket where `data-gcp ml train` writes them.
"""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from data_gcp.config import DataGcpError, Settings, get_settings

HOST = "127.0.0.1"
AIRFLOW_PORT = 8088
PORTAL_PORT = 8089
REPORT_FILE = "report.html"


class PortTaken(DataGcpError):
    """The port asked for is already in use on 127.0.0.1."""


@dataclass(frozen=True)
class Report:
    model: str
    run_id: str
    path: Path


def dbt_docs_dir(settings: Settings) -> Path:
    """The static dbt docs site of the data folder (`data-gcp dbt docs` writes it)."""
    from data_gcp import dbt_runner

    return dbt_runner.docs_site_dir(settings)


def ensure_dbt_docs(settings: Settings, on_step: Callable[[str], None] | None = None) -> Path:
    """The dbt docs folder; built once if missing (`data-gcp dbt docs` without compiling the models)."""
    from data_gcp import dbt_runner

    folder = dbt_docs_dir(settings)
    if (folder / "index.html").is_file() and (folder / "manifest.json").is_file():
        return folder
    if on_step:
        on_step(f"generate the dbt docs into {folder}")
    return dbt_runner.docs_site(settings=settings, compile=False)


def find_reports(settings: Settings) -> list[Report]:
    """Model reports in the local bucket (`models/<model>/<run_id>/report.html`), newest run first."""
    root = settings.local_bucket_dir / "models"
    found = [Report(p.parent.parent.name, p.parent.name, p) for p in root.glob(f"*/*/{REPORT_FILE}")]
    return sorted(found, key=lambda r: (r.run_id, r.model), reverse=True)


def bind(port: int, what: str, option: str) -> socket.socket:
    """A listening socket on 127.0.0.1:port (0: any free port); a taken port is a clear error."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # still refuses a port someone listens on
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(
                f"port {port} on {HOST} for the {what} is already in use (another `data-gcp ui` or "
                f"`serve`?): stop that process or choose another port with {option} N"
            ) from None
        raise DataGcpError(f"cannot listen on {HOST}:{port} for the {what}: {exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def airflow_app(settings: Settings, base_url: str) -> Any:
    """Airflow's API server app (UI + REST API, not the execution API) on the local metadata DB."""
    from data_gcp.local_run import configure_airflow, migrate_db

    configure_airflow(settings)
    os.environ.update(
        {
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__WEBSERVER__BASE_URL": base_url,
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # one line per HTTP request at INFO would bury the URLs printed in the terminal
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    migrate_db(settings)
    from airflow.api_fastapi.app import create_app

    return create_app(apps="core")


def _index(settings: Settings, airflow_url: str, docs_ok: bool) -> str:
    reports = find_reports(settings)
    items = "".join(
        f'<li><a class="report" href="/reports/{escape(r.model)}/{escape(r.run_id)}">{escape(r.model)} run '
        f"{escape(r.run_id)}</a></li>"
        for r in reports
    )
    docs = (
        '<a id="dbt-docs" href="/dbt-docs/">dbt docs</a> (models, lineage)'
        if docs_ok
        else "dbt docs: not generated (run `data-gcp dbt docs`)"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>data-gcp local UI</title>'
        '<link rel="icon" href="data:,">'
        "<style>body{font-family:system-ui,sans-serif;margin:24px}li{margin:4px 0}</style></head><body>"
        f"<h1>data-gcp, local</h1><ul>"
        f'<li><a id="airflow" href="{escape(airflow_url)}">Airflow</a> (DAGs, runs, task logs)</li>'
        f"<li>{docs}</li></ul>"
        f'<h2>Model reports</h2><ul id="reports">{items or "<li>none yet: run `data-gcp ml train two-tower`</li>"}'
        "</ul></body></html>"
    )


def portal_app(settings: Settings, airflow_url: str, docs: Path | None) -> Any:
    """The index page, the dbt docs (static) and the model reports (looked up at each request)."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.responses import FileResponse, HTMLResponse, Response
    from fastapi.staticfiles import StaticFiles

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return _index(settings, airflow_url, docs is not None)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/reports/{model}/{run_id}")
    def report(model: str, run_id: str) -> FileResponse:
        for r in find_reports(settings):
            if (r.model, r.run_id) == (model, run_id):  # only listed reports: no path from the URL
                return FileResponse(r.path, media_type="text/html")
        raise HTTPException(404, f"no report for {model} run {run_id} in {settings.local_bucket_dir}")

    @app.middleware("http")
    async def unrendered_templates(request: Request, call_next: Any) -> Any:
        # dbt docs' page asks for a few URLs before Angular renders them (`{{ getIcon(...) }}` image
        # sources, a `${require(...favicon.ico)}` link): answer "nothing here" rather than a 404 per view.
        path = request.url.path
        if path.startswith("/dbt-docs/") and ("{{" in path or "${" in path):
            return Response(status_code=204)
        return await call_next(request)

    if docs is not None:
        app.mount("/dbt-docs", StaticFiles(directory=docs, html=True), name="dbt-docs")
    return app


@dataclass
class _Server:
    name: str
    server: Any
    thread: threading.Thread
    url: str


@dataclass
class LocalUi:
    """Both servers, started; `stop()` (or leaving the `with` block) shuts them down."""

    airflow_url: str
    portal_url: str
    dbt_docs_url: str | None
    servers: list[_Server] = field(default_factory=list)

    @property
    def reports_url(self) -> str:
        return self.portal_url

    def alive(self) -> bool:
        return all(s.thread.is_alive() for s in self.servers)

    def wait(self) -> None:
        """Block until a server stops (or Ctrl-C, raised as KeyboardInterrupt in the main thread)."""
        while self.alive():
            time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        for s in self.servers:
            s.server.should_exit = True
        for s in self.servers:
            s.thread.join(timeout)

    def __enter__(self) -> LocalUi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serve(name: str, app: Any, sock: socket.socket, url: str, wait_seconds: float = 60.0) -> _Server:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"ui-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_seconds
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise DataGcpError(f"the {name} server did not start on {url} (see the messages above)")
        time.sleep(0.02)
    return _Server(name, server, thread, url)


def start_ui(
    settings: Settings | None = None,
    *,
    airflow_port: int = AIRFLOW_PORT,
    portal_port: int = PORTAL_PORT,
    generate_docs: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> LocalUi:
    """Check both ports, prepare the dbt docs, start Airflow's UI and the portal; returns their URLs."""
    settings = settings or get_settings()
    if settings.is_cloud:
        raise DataGcpError(
            f"`data-gcp ui` shows local runs; DATA_GCP_ENV={settings.env.value} has Cloud Composer's UI"
        )
    airflow_sock = bind(airflow_port, "Airflow UI", "--airflow-port")
    try:
        portal_sock = bind(portal_port, "portal (dbt docs, model reports)", "--port")
    except DataGcpError:
        airflow_sock.close()
        raise
    airflow_url = f"http://{HOST}:{airflow_sock.getsockname()[1]}/"
    portal_url = f"http://{HOST}:{portal_sock.getsockname()[1]}/"
    ui = LocalUi(airflow_url, portal_url, None)
    try:
        docs = None
        if generate_docs:
            try:
                docs = ensure_dbt_docs(settings, on_step)
            except DataGcpError as exc:  # the UI is still useful without the docs: say why they are missing
                if on_step:
                    on_step(f"no dbt docs: {exc}")
        if docs is None and (dbt_docs_dir(settings) / "index.html").is_file():
            docs = dbt_docs_dir(settings)
        ui.dbt_docs_url = f"{portal_url}dbt-docs/" if docs else None
        if on_step:
            on_step("start the Airflow API server (SQLite metadata DB)")
        ui.servers.append(_serve("Airflow", airflow_app(settings, airflow_url), airflow_sock, airflow_url))
        ui.servers.append(_serve("portal", portal_app(settings, airflow_url, docs), portal_sock, portal_url))
    except BaseException:
        ui.stop()
        airflow_sock.close()
        portal_sock.close()
        raise
    return ui
