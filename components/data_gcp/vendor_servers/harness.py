"""A connector run against its local vendor server, for tests and benchmarks.

Why here and not in a conftest: every connector's tests (and `development/bench`) need the same few
lines, and test folders cannot import each other's conftest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from data_gcp.config import temporary_env
from data_gcp.vendor_servers.data import SandboxData, fake_data
from data_gcp.vendor_servers.framework import VendorServer
from data_gcp.vendor_servers.registry import start_vendor


class ConnectorHarness:
    """Runs `system` against `server` with a fake clock and a short timeout.

    `run(start, end, **kw)` -> RunResult; `extract(...)` -> {table: Arrow} without loading; `table(name)` -> the raw table (or `dataset.table`) as Arrow (sorted), or None.
    """

    def __init__(self, system: str, server: VendorServer, timeout: float = 2.0) -> None:
        from data_gcp.http_client import FakeClock, RetryPolicy

        self.system = system
        self.server = server
        self.timeout = timeout
        self.clock = FakeClock()
        self.policy = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=30)

    def reset(self) -> ConnectorHarness:
        """Forget the previous test: no faults left, no requests or sleeps recorded."""
        self.server.faults.clear()
        self.server.requests.clear()
        self.clock.sleeps.clear()
        return self

    def run(self, start: dt.date | str | None = None, end: dt.date | str | None = None, **kwargs: Any) -> Any:
        from data_gcp.etl_core import run_connector

        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("policy", self.policy)
        with temporary_env(self.server.env):
            return run_connector(self.system, start, end, **kwargs)

    def extract(
        self, start: dt.date | str | None = None, end: dt.date | str | None = None, **kwargs: Any
    ) -> dict[str, pa.Table]:
        """The run's tables without loading them (fast: no dlt), for HTTP-behaviour tests."""
        from data_gcp.etl_core import extract_tables

        kwargs.setdefault("clock", self.clock)
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("policy", self.policy)
        with temporary_env(self.server.env):
            return extract_tables(self.system, start, end, **kwargs)

    def table(self, name: str, order_by: str | None = None) -> pa.Table | None:
        from data_gcp.warehouse import get_warehouse

        wh = get_warehouse()
        qualified = name if "." in name else f"raw.{name}"  # `seed.regions`, or a raw table's name
        if not wh.table_exists(qualified):
            return None
        data = wh.query(f"SELECT * FROM {wh.physical(qualified)}")
        keys = [(c, "ascending") for c in (order_by.split(",") if order_by else data.column_names)]
        return data.sort_by(keys)


@contextmanager
def connector_harness(
    system: str, timeout: float = 2.0, data: SandboxData | None = None, **server_options: Any
) -> Iterator[ConnectorHarness]:
    """Start `system`'s vendor server on generated data (`fake_data()` unless given) and yield a harness."""
    with start_vendor(system, data or fake_data(), **server_options) as server:
        yield ConnectorHarness(system, server, timeout=timeout)
