"""The two ways to reach ClickHouse: a server over HTTP (clickhouse-connect, the cloud) and an
embedded engine in the data folder (chdb, local development).

Why an embedded engine locally: the statistics are written with ClickHouse's own SQL (MergeTree
partitions, REPLACE PARTITION), so a laptop must run ClickHouse itself, not an imitation; chdb is
ClickHouse as a library, with nothing to install or start. It is a development dependency (about
530 MB): it is imported by name where it is used, so that no image ships it; the ETL job's image
talks to the server.
"""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from data_gcp.config import DataGcpError, Settings

CLICKHOUSE_PASSWORD_SECRET = "clickhouse-password"
EMBEDDED_MODULE = "chdb"  # a development dependency: see the module docstring


class ClickHouseError(DataGcpError):
    """ClickHouse could not be reached or refused a statement."""


class ClickHouse(Protocol):
    """What the export needs from ClickHouse."""

    def command(self, sql: str) -> None: ...

    def insert_arrow(self, table: str, data: pa.Table) -> None: ...

    def query_arrow(self, sql: str) -> pa.Table: ...

    def close(self) -> None: ...


class EmbeddedClickHouse:
    """ClickHouse in this process (chdb), its data in `path` (kept between runs)."""

    def __init__(self, path: Path) -> None:
        try:
            session = importlib.import_module(f"{EMBEDDED_MODULE}.session")
        except ImportError:
            raise ClickHouseError(
                "the embedded ClickHouse (the `chdb` package, a development dependency) is not installed: "
                "run `uv sync` in the workspace, or set DATA_GCP_CLICKHOUSE_URL to a ClickHouse server"
            ) from None
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._session = session.Session(str(path))

    def command(self, sql: str) -> None:
        self._run(sql)

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        with tempfile.TemporaryDirectory(prefix="clickhouse-insert-") as folder:
            file = Path(folder) / "rows.parquet"
            pq.write_table(data, file)
            columns = ", ".join(f"`{c}`" for c in data.column_names)
            self._run(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM file('{file}', Parquet)")

    def query_arrow(self, sql: str) -> pa.Table:
        return self._run(sql, "ArrowTable")

    def _run(self, sql: str, fmt: str = "CSV") -> Any:
        try:
            return self._session.query(sql, fmt)
        except Exception as exc:  # chdb raises its own error type; the message is ClickHouse's
            raise ClickHouseError(f"embedded ClickHouse ({self.path}) refused: {exc}") from None

    def close(self) -> None:
        self._session.close()


class ServerClickHouse:
    """A ClickHouse server over HTTP(S) (clickhouse-connect)."""

    def __init__(self, url: str, password: str | None) -> None:
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import OperationalError

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClickHouseError(
                f"DATA_GCP_CLICKHOUSE_URL must be http(s)://user@host:port (got {safe_url(url)})"
            )
        self.where = safe_url(url)
        try:
            self._client = clickhouse_connect.get_client(
                host=parts.hostname,
                port=parts.port or (8443 if parts.scheme == "https" else 8123),
                username=parts.username or "default",
                password=password or parts.password or "",
                secure=parts.scheme == "https",
                connect_timeout=10,
            )
        except OperationalError as exc:
            raise ClickHouseError(
                f"cannot connect to ClickHouse at {self.where}: {str(exc).splitlines()[0]}. Check that the "
                "server runs and answers on that port, or point DATA_GCP_CLICKHOUSE_URL at one"
            ) from None

    def command(self, sql: str) -> None:
        self._call(self._client.command, sql)

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        self._call(self._client.insert_arrow, table, data)

    def query_arrow(self, sql: str) -> pa.Table:
        return self._call(self._client.query_arrow, sql)

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:  # clickhouse-connect's errors carry the server's message
            raise ClickHouseError(f"ClickHouse at {self.where} refused: {str(exc).splitlines()[0]}") from None

    def close(self) -> None:
        self._client.close()


def safe_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", "@")


def connect(settings: Settings) -> ClickHouse:
    """The server named by DATA_GCP_CLICKHOUSE_URL (required in the cloud), else the embedded engine."""
    if settings.clickhouse_url:
        password = None
        if settings.is_cloud:
            from data_gcp.secrets import get_secret

            password = get_secret(CLICKHOUSE_PASSWORD_SECRET, settings)
        return ServerClickHouse(settings.clickhouse_url, password)
    if settings.is_cloud:
        raise ClickHouseError(
            f"DATA_GCP_CLICKHOUSE_URL is required when DATA_GCP_ENV={settings.env.value}: the pro "
            "portal's ClickHouse server, https://user@host:8443 (password: secret clickhouse-password)"
        )
    return EmbeddedClickHouse(settings.local_data_dir / "clickhouse")
