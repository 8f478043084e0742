"""A small threaded HTTP server per vendor, with a fault-injection plan.

Why not a mock library: the connectors must be tested through real HTTP (headers, status codes,
truncated bodies, timeouts), and the same servers back the local daily run.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

FaultKind = Literal[
    "status",
    "timeout",
    "truncate",
    "empty",
    "invalid_json",
    "gzip",
    "corrupt_gzip",
    "repeat",
    "unknown_fields",
    "transform",
    "call",
    "redirect",
]
# what vendors add without notice: a new nested field, a null, accents and emoji
UNKNOWN_FIELDS = {"_addedByVendor": {"note": "champ ajouté 🎉", "values": [1, None]}, "_nullField": None}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_param(self, name: str, default: int) -> int:
        value = self.param(name)
        return int(value) if value not in (None, "") else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return json.dumps(self.body, separators=(",", ":")).encode(), self.content_type or "application/json"


def json_error(status: int, message: str, **headers: str) -> Response:
    return Response(status, {"code": status, "message": message}, dict(headers))


Handler = Callable[[Request], Response]


@dataclass
class Fault:
    """One injected fault.

    kind: `status` (answer `status`, with `retry_after` / `headers`; `retry_after_date=True` sends it
    as a lower-case `retry-after` HTTP date), `timeout` (answer after `delay` seconds, longer than the
    client's timeout), `truncate` (announce the full length, send half, close), `empty` (emptied
    lists of records, rest unchanged), `invalid_json` (a 200 with a cut JSON text), `gzip` (the answer
    gzip-compressed, `content-encoding: gzip`), `corrupt_gzip` (`content-encoding: gzip` over bytes
    that are not gzip), `repeat` (the previous answer of that path again: a server ignoring the
    offset), `unknown_fields` (every object gains fields the contract does not name, a null, accents
    and emoji), `transform` (`transform(body) -> body` rewrites the answer: cursor cycles...), `call`
    (`action(request)` runs before the answer: an edit during paging), `redirect` (a 302 to
    `location`, e.g. another host).
    route: a regex searched in the path (None: any). skip: matching requests let through first.
    times: how many requests get the fault (-1: all).
    """

    kind: FaultKind
    route: str | None = None
    status: int = 500
    retry_after: float | None = None
    retry_after_date: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    transform: Callable[[Any], Any] | None = None
    action: Callable[[Request], None] | None = None
    location: str = ""
    body: Any = None  # `status`: the answer's body instead of a JSON error (e.g. an HTML 404 page)
    delay: float = 1.0
    skip: int = 0
    times: int = 1
    method: str | None = None
    seen: int = 0
    fired: int = 0

    def matches(self, request: Request) -> bool:
        if self.method and request.method != self.method:
            return False
        return self.route is None or re.search(self.route, request.path) is not None


class FaultPlan:
    """Faults to inject, consumed in order; thread-safe."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: FaultKind, route: str | None = None, **kwargs: Any) -> Fault:
        fault = Fault(kind=kind, route=route, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def take(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times != -1 and fault.fired >= fault.times:
                    continue
                if not fault.matches(request):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                fault.fired += 1
                return fault
        return None


def with_unknown_fields(body: Any) -> Any:
    """Every object of a JSON body gains `UNKNOWN_FIELDS` (values unchanged)."""
    if isinstance(body, dict):
        return {**{k: with_unknown_fields(v) for k, v in body.items()}, **UNKNOWN_FIELDS}
    if isinstance(body, list):
        return [with_unknown_fields(v) for v in body]
    return body


def empty_lists(body: Any) -> Any:
    """Every list of objects in a JSON body replaced by [] (totals and cursors left as they were)."""
    if isinstance(body, dict):
        return {k: empty_lists(v) for k, v in body.items()}
    if isinstance(body, list):
        return [] if body and isinstance(body[0], dict) else body
    return body


@dataclass
class VendorApp:
    """A vendor's routes and auth. `auth(request)` returns an error Response or None.

    `env` is what a connector needs to talk to this server (base URL variable, secrets, options);
    `{base_url}` in a value is replaced by the server's URL.
    """

    name: str
    routes: list[tuple[str, str, Handler]]
    auth: Callable[[Request], Response | None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    base_path: str = ""
    # the server's mutable data, for tests that change it between runs (`server.app.state[...]`)
    state: dict[str, Any] = field(default_factory=dict)
    # test controls that change the served data while a client reads it (e.g. Contentful's `edit`)
    controls: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # what the `empty` fault turns an answer into (default: JSON lists emptied); CSV/TSV vendors
    # answer a header-only report instead
    emptied: Callable[[Response], Response] | None = None

    def empty(self, response: Response) -> Response:
        if self.emptied is not None:
            return self.emptied(response)
        return Response(response.status, empty_lists(response.body), response.headers, response.content_type)

    def route(self, request: Request) -> Response:
        if self.auth:
            refused = self.auth(request)
            if refused is not None:
                return refused
        for method, pattern, handler in self.routes:
            if method == request.method and re.fullmatch(self.base_path + pattern, request.path):
                return handler(request)
        return json_error(404, f"no route {request.method} {request.path}")


class VendorServer:
    """Serve a VendorApp on 127.0.0.1 (random port) in a daemon thread."""

    def __init__(self, app: VendorApp, port: int = 0) -> None:
        self.app = app
        self.faults = FaultPlan()
        self.requests: list[Request] = []
        self._last: dict[tuple[str, str], Response] = {}  # the last answer per (method, path): `repeat`
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.app.base_path}"

    @property
    def env(self) -> dict[str, str]:
        return {k: v.replace("{base_url}", self.url) for k, v in self.app.env.items()}

    def start(self) -> VendorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name=f"vendor-{self.app.name}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> VendorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, pattern: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if re.search(pattern, r.path)]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: with Nagle's algorithm on, a kept-alive
            # connection then waits for the client's delayed ACK (~40 ms) on every answer
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tests capture logs
                return

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with server._lock:
                    server.requests.append(request)
                fault = server.faults.take(request)
                kind = fault.kind if fault else None
                if fault and kind == "status":
                    headers = dict(fault.headers)
                    if fault.retry_after is not None and fault.retry_after_date:
                        headers["retry-after"] = email.utils.formatdate(
                            time.time() + fault.retry_after, usegmt=True
                        )
                    elif fault.retry_after is not None:
                        headers["Retry-After"] = f"{fault.retry_after:g}"
                    if fault.body is not None:
                        return self._send(Response(fault.status, fault.body, headers))
                    return self._send(json_error(fault.status, "injected fault", **headers))
                if fault and kind == "redirect":
                    return self._send(Response(302, b"", {"Location": fault.location}))
                if fault and kind == "timeout":
                    time.sleep(fault.delay)
                if fault and kind == "call" and fault.action:
                    fault.action(request)
                key = (request.method, request.path)
                with server._lock:
                    previous = server._last.get(key)
                if kind == "repeat" and previous is not None:
                    response = previous
                else:
                    try:
                        response = server.app.route(request)
                    except Exception as err:  # a handler bug shows up as a 500 in the client's error
                        response = json_error(500, f"vendor server error: {type(err).__name__}: {err}")
                    with server._lock:
                        server._last[key] = response
                if fault and kind == "transform" and fault.transform:
                    response = Response(response.status, fault.transform(response.body), response.headers)
                if fault and kind == "unknown_fields":
                    response = Response(response.status, with_unknown_fields(response.body), response.headers)
                if fault and kind in ("gzip", "corrupt_gzip"):
                    body, content_type = response.payload()
                    data = gzip.compress(body) if kind == "gzip" else b"\x1f\x8b\x08\x00not-gzip" + body[:64]
                    return self._send(
                        Response(
                            response.status,
                            data,
                            {**response.headers, "Content-Encoding": "gzip"},
                            content_type=content_type,
                        )
                    )
                if fault and kind == "empty":
                    response = server.app.empty(response)
                if fault and fault.kind == "invalid_json":
                    body, _ = response.payload()
                    return self._send(
                        Response(200, body[: max(1, len(body) // 2)], content_type="application/json")
                    )
                self._send(response, truncate=bool(fault and fault.kind == "truncate"))

            def _send(self, response: Response, truncate: bool = False) -> None:
                body, content_type = response.payload()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    if truncate:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2] if truncate else body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass
                if truncate:
                    self.close_connection = True

            do_GET = _handle
            do_POST = _handle
            do_PUT = _handle
            do_DELETE = _handle

        return _Handler
