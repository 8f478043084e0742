"""Which vendor servers exist, and `start_all()` for tests and the local daily run."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from data_gcp.config import DataGcpError, Settings, temporary_env
from data_gcp.vendor_servers.data import SandboxData, load_sandbox_data
from data_gcp.vendor_servers.framework import VendorServer

# One line per vendor: module exposing `build(data: SandboxData, **options) -> VendorApp`.
VENDOR_MODULES: dict[str, str] = {
    "brevo": "data_gcp.vendor_servers.brevo",
    "contentful": "data_gcp.vendor_servers.contentful",
    "dms": "data_gcp.vendor_servers.dms",
    "qualtrics": "data_gcp.vendor_servers.qualtrics",
    "batch": "data_gcp.vendor_servers.batch",
    "siren": "data_gcp.vendor_servers.siren",
    "api_referentials": "data_gcp.vendor_servers.backend",
    "metabase": "data_gcp.vendor_servers.metabase",
    "adage": "data_gcp.vendor_servers.adage",
    "addresses": "data_gcp.vendor_servers.addresses",
    "appsflyer": "data_gcp.vendor_servers.appsflyer",
    "app_downloads": "data_gcp.vendor_servers.app_downloads",
}


def available_vendors() -> list[str]:
    out = []
    for name, module in VENDOR_MODULES.items():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        out.append(name)
    return out


def start_vendor(
    name: str, data: SandboxData | None = None, settings: Settings | None = None, **options: Any
) -> VendorServer:
    """Start one vendor's server (the caller stops it, or uses it as a context manager)."""
    if name not in VENDOR_MODULES:
        raise DataGcpError(f"no vendor server {name!r}: expected one of {', '.join(VENDOR_MODULES)}")
    module = importlib.import_module(VENDOR_MODULES[name])
    app = module.build(data or load_sandbox_data(settings), **options)
    return VendorServer(app).start()


@dataclass
class RunningVendors:
    servers: dict[str, VendorServer] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    @property
    def env(self) -> dict[str, str]:
        """Variables pointing each connector at its server (base URLs, local tokens, options)."""
        merged: dict[str, str] = {}
        for server in self.servers.values():
            merged.update(server.env)
        return merged

    @contextmanager
    def applied(self) -> Iterator[dict[str, str]]:
        """Set `env` in os.environ for the duration (restored afterwards)."""
        with temporary_env(self.env):
            yield self.env


@contextmanager
def start_all(
    systems: Iterable[str] | None = None,
    settings: Settings | None = None,
    data: SandboxData | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    apply_env: bool = False,
) -> Iterator[RunningVendors]:
    """Start every (or the named) vendor server on loopback; stop them all on exit.

    `apply_env=True` also sets the `DATA_GCP_<SYSTEM>_BASE_URL`, secret and option variables, so that
    `run_connector(...)` in this process talks to the local servers.
    """
    data = data or load_sandbox_data(settings)
    running = RunningVendors()
    try:
        for name in systems or available_vendors():
            running.servers[name] = start_vendor(name, data, settings, **(options or {}).get(name, {}))
        if apply_env:
            with running.applied():
                yield running
        else:
            yield running
    finally:
        for server in running.servers.values():
            server.stop()
