"""Serve what a local run produced, on 127.0.0.1 only: Airflow's own API server/UI and a small portal.

Why in one process: both servers are uvicorn apps; running them in threads of the command's process
lets Ctrl-C stop everything at once, with no orphan server left on a port.

- Airflow (default port 8088): `airflow.api_fastapi` core app (UI + public REST API) on the SQLite
  metadata DB that `data-gcp run` fills, read live (a run started while the UI is up shows up in it).
  Auth: the simple auth manager with `simple_auth_manager_all_admins`, i.e. no login. Acceptable
  because the socket is bound to 127.0.0.1 only and the DB holds synthetic local runs; nothing here
  is reachable from another host.
- Portal (default port 8089): an index page linking everything, the data's health (`/health`, from
  the dbt artifacts each run keeps), the ML runs (`/ml`, the local MLflow store), the dbt docs site
  (`/dbt-docs/`, static files generated into the data folder) and the model reports
  (`/reports/<model>/<run_id>`), read from the local bucket where `data-gcp ml train` writes them.

Nothing here ever blocks a run: the UI never opens the DuckDB warehouse (DuckDB allows one writing
process and no reader beside it). The dbt docs are built by a child process that exits; the health
page reads the files `data-gcp run` leaves (`data_gcp.local_run.ui_record`).

The Airflow UI is read-only: runs come from `data-gcp run` (`dag.test()`), there is no scheduler to
carry out a Trigger, Clear or Pause, so those requests are refused with a message saying so.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
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


DOCS_BUILD = (
    "from data_gcp import dbt_runner; from data_gcp.config import get_settings; "
    "dbt_runner.docs_site(settings=get_settings(), compile=False)"
)


def ensure_dbt_docs(settings: Settings, on_step: Callable[[str], None] | None = None) -> Path | None:
    """The dbt docs folder; built once if missing, in a child process that exits (dbt's DuckDB
    connection goes with it: nothing stays open on the warehouse). None, with the reason told, when
    they cannot be built yet."""
    folder = dbt_docs_dir(settings)
    if (folder / "index.html").is_file() and (folder / "manifest.json").is_file():
        return folder
    if not settings.duckdb_path.is_file():
        if on_step:
            on_step(
                "no dbt docs yet: the warehouse is empty. Run `data-gcp run` first (it can run while the "
                "UI is up), then `data-gcp dbt docs` or restart `data-gcp ui`"
            )
        return None
    if on_step:
        on_step(f"generate the dbt docs into {folder} (a separate process)")
    done = subprocess.run(
        [sys.executable, "-c", DOCS_BUILD], capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    if done.returncode != 0 or not (folder / "index.html").is_file():
        lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
        why = next(
            (ln for ln in reversed(lines) if "Error" in ln or "error" in ln), lines[-1] if lines else ""
        )
        if on_step:
            on_step(
                f"no dbt docs: `dbt docs generate` failed ({why.strip()[:300]}); "
                "a run writing the warehouse right now? Try `data-gcp dbt docs` after it"
            )
        return None
    return folder


def find_reports(settings: Settings) -> list[Report]:
    """Model reports in the local bucket (`models/<model>/<run_id>/report.html`), newest run first."""
    root = settings.local_bucket_dir / "models"
    found = [Report(p.parent.parent.name, p.parent.name, p) for p in root.glob(f"*/*/{REPORT_FILE}")]
    return sorted(found, key=lambda r: (r.run_id, r.model), reverse=True)


def check_ports(airflow_port: int, portal_port: int) -> None:
    """Both ports valid TCP ports, and different (0, any free port, may be given twice)."""
    for port, option in ((airflow_port, "--airflow-port"), (portal_port, "--port")):
        if not 0 <= port <= 65535:
            raise DataGcpError(f"{option} {port} is not a TCP port: give 1-65535 (or 0 for any free port)")
    if airflow_port == portal_port != 0:
        raise DataGcpError(
            f"--airflow-port and --port are both {airflow_port}: the Airflow UI and the portal need two "
            "different ports (or 0 for any free port)"
        )


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


def airflow_app(settings: Settings, base_url: str, portal_url: str = "/") -> Any:
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

    return ReadOnlyAirflow(create_app(apps="core"), portal_url)


READ_ONLY_MESSAGE = (
    "This local Airflow UI is read-only: runs come from `data-gcp run` (e.g. `data-gcp run --date "
    "2026-03-01` for a past day); no scheduler runs here to carry out a trigger, clear, pause or edit."
)
# Requests the UI makes to read (the rest of POST/PUT/PATCH/DELETE change something).
READ_POSTS = ("/list", "/auth/", "/ui/structure", "/ui/grid")
# Airflow's UI keeps the chosen time zone in localStorage["timezone"] (JSON), default the browser's.
PARIS_DEFAULT = (
    '<script>try{if(!localStorage.getItem("timezone"))localStorage.setItem("timezone",'
    'JSON.stringify("Europe/Paris"))}catch(e){}</script>'
)
BANNER = (
    '<div id="data-gcp-read-only" style="position:fixed;bottom:6px;right:8px;z-index:99999;'
    "background:#fff8e1;border:1px solid #e0b84c;border-radius:6px;padding:3px 8px;"
    'font:12px system-ui,sans-serif;color:#5d4300">Read-only local view: runs come from '
    '<code>data-gcp run</code>; no scheduler here. <a href="{portal}">data health, ML runs</a></div>'
)


class ReadOnlyAirflow:
    """ASGI wrapper of Airflow's app: refuses the requests that change something (403 and why), and
    adds to each HTML page a read-only notice and Europe/Paris as the default time zone."""

    def __init__(self, app: Any, portal_url: str) -> None:
        self.app = app
        self.head = PARIS_DEFAULT.encode("utf-8")
        self.banner = BANNER.format(portal=escape(portal_url)).encode("utf-8")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        if method not in ("GET", "HEAD", "OPTIONS") and not any(p in path for p in READ_POSTS):
            from starlette.responses import JSONResponse

            return await JSONResponse({"detail": READ_ONLY_MESSAGE}, status_code=403)(scope, receive, send)
        if method != "GET" or path.startswith(("/api/", "/ui/", "/static/", "/auth/", "/execution/")):
            return await self.app(scope, receive, send)
        # a page: ask it uncompressed (Airflow gzips for browsers), to add the notice
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        return await self._with_banner({**scope, "headers": headers}, receive, send)

    async def _with_banner(self, scope: dict, receive: Any, send: Any) -> None:
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                return await send(message)
            headers = dict(start["headers"]) if start else {}
            if not headers.get(b"content-type", b"").startswith(b"text/html"):
                if start is not None:
                    await send(start)
                    start = None
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return None
            body = b"".join(chunks).replace(b"</head>", self.head + b"</head>", 1)
            body = body.replace(b"</body>", self.banner + b"</body>", 1)
            assert start is not None
            start["headers"] = [
                (k, str(len(body)).encode() if k == b"content-length" else v) for k, v in start["headers"]
            ]
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def _docs_ready(settings: Settings) -> bool:
    return (dbt_docs_dir(settings) / "index.html").is_file()


def _index(settings: Settings, airflow_url: str, docs_ok: bool) -> str:
    from data_gcp.local_run import TABLES_FILE, history_dir
    from data_gcp.local_ui.health import page

    reports = find_reports(settings)
    items = "".join(
        f'<li><a class="report" href="/reports/{escape(r.model)}/{escape(r.run_id)}">{escape(r.model)} run '
        f"{escape(r.run_id)}</a></li>"
        for r in reports
    )
    docs = (
        '<a id="dbt-docs" href="/dbt-docs/">dbt docs</a> (models, lineage)'
        if docs_ok
        else "dbt docs: not generated yet (after a <code>data-gcp run</code>: <code>data-gcp dbt docs</code>)"
    )
    first = (
        ""
        if (history_dir(settings) / TABLES_FILE).is_file()
        else '<p id="first-run"><b>No run yet.</b> Start one in a terminal: <code>data-gcp run</code> '
        "(it appears in Airflow while it runs; reload the pages).</p>"
    )
    return page(
        "data-gcp local UI",
        f"<h1>data-gcp, local</h1>{first}<ul>"
        f'<li><a id="airflow" href="{escape(airflow_url)}">Airflow</a> (DAGs, runs, task logs; read-only: '
        "runs come from <code>data-gcp run</code>, times in Europe/Paris, each run's note names the Paris "
        "day it processed)</li>"
        '<li><a id="health" href="/health">Data health</a> (dbt models and tests of the last run, source '
        "freshness, warehouse tables)</li>"
        '<li><a id="ml-runs" href="/ml">ML runs</a> (parameters, metrics, commit; compare two runs)</li>'
        f"<li>{docs}</li></ul>"
        f'<h2>Model reports</h2><ul id="reports">'
        f"{items or '<li>none yet: run <code>data-gcp ml train two-tower</code></li>'}</ul>",
    )


def portal_app(settings: Settings, airflow_url: str, docs: Path | None = None) -> Any:
    """The index, health and ML pages, the dbt docs (static) and the model reports (looked up at each
    request: what a run writes while the UI is up shows on reload)."""
    from fastapi import FastAPI, Query, Request
    from fastapi.responses import FileResponse, HTMLResponse, Response
    from fastapi.staticfiles import StaticFiles

    from data_gcp.local_ui.health import health_page, page
    from data_gcp.local_ui.ml_runs import compare_page, runs_page

    docs = docs or dbt_docs_dir(settings)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def not_found(title: str, text: str) -> HTMLResponse:
        body = f'<h1>{escape(title)}</h1><p id="not-found">{text}</p><p><a href="/">back to the index</a></p>'
        return HTMLResponse(page(title, body), status_code=404)

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return _index(settings, airflow_url, (docs / "index.html").is_file())

    @app.get("/health", response_class=HTMLResponse)
    def health() -> str:
        return health_page(settings, airflow_url, (docs / "index.html").is_file())

    @app.get("/ml", response_class=HTMLResponse)
    def ml() -> str:
        return runs_page(settings)

    @app.get("/ml/compare", response_class=HTMLResponse)
    def ml_compare(run: list[str] = Query(default=[])) -> Any:  # noqa: B008 - FastAPI's idiom
        html = compare_page(settings, run)
        if html is None:
            return not_found("Compare ML runs", 'Tick two runs in the <a href="/ml">ML runs</a> list.')
        return html

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/reports/{model}/{run_id}", response_model=None)
    def report(model: str, run_id: str) -> FileResponse | HTMLResponse:
        for r in find_reports(settings):
            if (r.model, r.run_id) == (model, run_id):  # only listed reports: no path from the URL
                return FileResponse(r.path, media_type="text/html")
        return not_found(
            "No such report",
            f"No report for {escape(model)} run {escape(run_id)}: the index lists the reports of "
            "<code>data-gcp ml train</code>.",
        )

    @app.middleware("http")
    async def docs_requests(request: Request, call_next: Any) -> Any:
        # dbt docs' page asks for a few URLs before Angular renders them (`{{ getIcon(...) }}` image
        # sources, a `${require(...favicon.ico)}` link): answer "nothing here" rather than a 404 per view.
        path = request.url.path
        if path.startswith("/dbt-docs") and ("{{" in path or "${" in path):
            return Response(status_code=204)
        if path.startswith("/dbt-docs") and not (docs / "index.html").is_file():
            return not_found(
                "dbt docs not generated",
                "Build them after a run: <code>data-gcp dbt docs</code> (or restart <code>data-gcp ui</code>).",
            )
        return await call_next(request)

    app.mount("/dbt-docs", StaticFiles(directory=docs, html=True, check_dir=False), name="dbt-docs")
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
    check_ports(airflow_port, portal_port)
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
        if generate_docs:
            ensure_dbt_docs(settings, on_step)  # the UI is still useful without the docs: it says why
        ui.dbt_docs_url = f"{portal_url}dbt-docs/" if _docs_ready(settings) else None
        if on_step:
            on_step("start the Airflow API server (SQLite metadata DB, read-only UI)")
        ui.servers.append(
            _serve("Airflow", airflow_app(settings, airflow_url, portal_url), airflow_sock, airflow_url)
        )
        ui.servers.append(_serve("portal", portal_app(settings, airflow_url), portal_sock, portal_url))
    except BaseException:
        ui.stop()
        airflow_sock.close()
        portal_sock.close()
        raise
    return ui
