"""Serve what a local run produced, on 127.0.0.1 only: Airflow's own API server/UI and a small portal.

Why in one process: both servers are uvicorn apps; running them in threads of the command's process
lets Ctrl-C stop everything at once, with no orphan server left on a port. The scheduler and the DAG
processor run beside them in child processes (`local_ui.scheduler`), stopped with them.

- Airflow (default port 8088): `airflow.api_fastapi` app (UI, public REST API, and the execution API
  the scheduler's tasks report to) on the SQLite metadata DB that `data-gcp run` fills too, read live
  (a run started while the UI is up shows up in it). Trigger, backfill and Clear work: the scheduler
  runs them on the local engines, one task at a time, taking turns with `data-gcp run` on the
  warehouse (`data_gcp.warehouse.warehouse_writer`).
  Auth: the simple auth manager with `simple_auth_manager_all_admins`, i.e. no login. Acceptable
  because the socket is bound to 127.0.0.1 only and the DB holds synthetic local runs; nothing here
  is reachable from another host.
- Portal (default port 8089): an index page linking everything, the data's health (`/health`, from
  the dbt artifacts each run keeps), the ML runs (`/ml`, the local MLflow store), the dbt docs site
  (`/dbt-docs/`, static files generated into the data folder) and the model reports
  (`/reports/<model>/<run_id>`), read from the local bucket where `data-gcp ml train` writes them.

Nothing the pages do ever blocks a run: they never open the DuckDB warehouse (DuckDB allows one
writing process and no reader beside it). The dbt docs are built by a child process that exits; the
health page reads the files each run leaves (`data_gcp.local_run.ui_record`, and each dbt task's
results kept by the task: `data_gcp.dbt_runner.keep_artifacts`).
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
    """Airflow's API server app (UI, REST API and the execution API the scheduler's tasks report to)
    on the local metadata DB."""
    from data_gcp.local_run import configure_airflow, migrate_db
    from data_gcp.local_ui.scheduler import child_environment

    configure_airflow(settings)
    env = child_environment(settings, base_url)
    os.environ.update(
        {k: v for k, v in env.items() if k.startswith("AIRFLOW__")}
        | {
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # one line per HTTP request at INFO would bury the URLs printed in the terminal
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    migrate_db(settings)
    from data_gcp.local_run import apply_airflow_compat

    apply_airflow_compat()  # the execution API's models need it in this process
    from airflow.api_fastapi.app import create_app

    return LocalAirflow(create_app(apps="all"), settings, portal_url)


IN_PROCESS_MESSAGE = (
    "`data-gcp run` (pid {pid}) is running this run in its own process, not through the scheduler: "
    "clear it once that command has ended, or trigger a new run"
)
# Airflow's UI keeps the chosen time zone in localStorage["timezone"] (JSON), default the browser's.
PARIS_DEFAULT = (
    '<script>try{if(!localStorage.getItem("timezone"))localStorage.setItem("timezone",'
    'JSON.stringify("Europe/Paris"))}catch(e){}</script>'
)
DBT_TASKS_PATH = "/data-gcp/dbt-tasks"
# A notice on every page, and on a task's page that ran dbt, a link to the models and tests it built
# (Airflow's UI is a single-page app: the script follows its route changes).
BANNER = (
    '<div id="data-gcp-local" style="position:fixed;bottom:6px;right:8px;z-index:99999;'
    "background:#eef6ff;border:1px solid #8ab4e8;border-radius:6px;padding:3px 8px;"
    'font:12px system-ui,sans-serif;color:#16365c">Local Airflow: Trigger and backfill run here '
    "(one task at a time, taking turns with <code>data-gcp run</code>). "
    '<a id="data-gcp-dbt-link" style="display:none;font-weight:bold" href="#">dbt models and tests of '
    'this task</a> <a href="{portal}">data health, ML runs</a></div>'
    "<script>(function(){{var tasks=null,last='';"
    "function check(){{var m=location.pathname.match(/\\/dags\\/([^/]+)\\/runs\\/([^/]+)\\/tasks\\/([^/]+)/);"
    "var a=document.getElementById('data-gcp-dbt-link');if(!a)return;"
    "if(!m){{a.style.display='none';return;}}"
    "var key=decodeURIComponent(m[1])+'/'+decodeURIComponent(m[2])+'/'+decodeURIComponent(m[3]);"
    "if(key===last&&tasks)return;last=key;"
    "fetch('{tasks_path}').then(function(r){{return r.json();}}).then(function(t){{tasks=t;"
    "if(t.indexOf(key)<0){{a.style.display='none';return;}}"
    "a.href='{portal}health/task?dag='+encodeURIComponent(decodeURIComponent(m[1]))+'&run='"
    "+encodeURIComponent(decodeURIComponent(m[2]))+'&task='+encodeURIComponent(decodeURIComponent(m[3]));"
    "a.style.display='inline';}}).catch(function(){{}});}}"
    "setInterval(check,700);check();}})();</script>"
)


class LocalAirflow:
    """ASGI wrapper of Airflow's app: adds to each HTML page a notice, the link from a dbt task to its
    models, and Europe/Paris as the default time zone; refuses only what cannot work here (clearing a
    run that `data-gcp run` is running in its own process)."""

    def __init__(self, app: Any, settings: Settings, portal_url: str) -> None:
        self.app = app
        self.settings = settings
        self.head = PARIS_DEFAULT.encode("utf-8")
        self.banner = BANNER.format(portal=escape(portal_url), tasks_path=DBT_TASKS_PATH).encode("utf-8")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method, path = scope["method"], scope["path"]
        if path == DBT_TASKS_PATH:
            from starlette.responses import JSONResponse

            from data_gcp.local_ui.health import dbt_task_keys

            return await JSONResponse(dbt_task_keys(self.settings))(scope, receive, send)
        if method == "POST" and path.endswith("/clear"):
            refusal = self._in_process_run(path)
            if refusal:
                from starlette.responses import JSONResponse

                return await JSONResponse({"detail": refusal}, status_code=409)(scope, receive, send)
        if method != "GET" or path.startswith(("/api/", "/ui/", "/static/", "/auth/", "/execution/")):
            return await self.app(scope, receive, send)
        # a page: ask it uncompressed (Airflow gzips for browsers), to add the notice
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        return await self._with_banner({**scope, "headers": headers}, receive, send)

    def _in_process_run(self, path: str) -> str | None:
        """The refusal of clearing `/api/v2/dags/<dag>/dagRuns/<run>/clear` while `data-gcp run` runs it."""
        from urllib.parse import unquote

        from data_gcp.local_ui.scheduler import RUN_HOLDER_PREFIX
        from data_gcp.warehouse import writer_lock_holder

        parts = path.split("/")
        if "dagRuns" not in parts or parts.index("dagRuns") + 1 >= len(parts):
            return None
        holder = writer_lock_holder(self.settings)
        if holder is None or not holder.what.startswith(RUN_HOLDER_PREFIX):
            return None
        dag_id, run_id = unquote(parts[parts.index("dags") + 1]), unquote(parts[parts.index("dagRuns") + 1])
        from airflow import settings as airflow_settings
        from airflow.models.dagrun import DagRun
        from airflow.utils.state import DagRunState
        from airflow.utils.types import DagRunTriggeredByType
        from sqlalchemy import select

        with airflow_settings.Session() as session:
            run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
            refused = (
                run is not None
                and run.triggered_by == DagRunTriggeredByType.TEST
                and run.state in (DagRunState.RUNNING, DagRunState.QUEUED)
            )
        return IN_PROCESS_MESSAGE.format(pid=holder.pid) if refused else None

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
        f'<li><a id="airflow" href="{escape(airflow_url)}">Airflow</a> (DAGs, runs, task logs; Trigger and backfill '
        "run here, taking turns with <code>data-gcp run</code>; times in Europe/Paris, each run's note "
        "names the Paris day it processed)</li>"
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

    @app.get("/health/task", response_class=HTMLResponse)
    def health_task(dag: str = "", run: str = "", task: str = "") -> Any:
        from data_gcp.local_ui.health import task_page

        html = task_page(settings, airflow_url, (docs / "index.html").is_file(), dag, run, task)
        if html is None:
            return not_found(
                "No dbt results for this task",
                f"Task {escape(dag)} / {escape(task)} of run {escape(run)} kept no dbt results (only the dbt "
                'tasks do). See <a href="/health">Data health</a>.',
            )
        return html

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
    children: list[Any] = field(default_factory=list)  # local_ui.scheduler.Child: scheduler, DAG processor

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
        from data_gcp.local_ui.scheduler import stop_children

        stop_children(self.children)  # first: their tasks report to the API server until they end
        self.children = []
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
            on_step(
                "start the Airflow API server, scheduler, DAG processor and triggerer (SQLite metadata DB)"
            )
        app = airflow_app(settings, airflow_url, portal_url)
        from data_gcp.local_ui.scheduler import start_children

        # before the servers' threads: a child is forked from a process with one thread
        ui.children = start_children(settings, airflow_url)
        if on_step:
            on_step(
                "scheduler, DAG processor and triggerer started (pids "
                + ", ".join(str(c.process.pid) for c in ui.children)
                + f"), their logs in {ui.children[0].log_path.parent}"
            )
        ui.servers.append(_serve("Airflow", app, airflow_sock, airflow_url))
        ui.servers.append(_serve("portal", portal_app(settings, airflow_url), portal_sock, portal_url))
    except BaseException:
        ui.stop()
        airflow_sock.close()
        portal_sock.close()
        raise
    return ui
