"""The connector registry: system name -> component module exposing `CONNECTOR`.

Why a table of module names rather than imports: `etl_core` must not depend on the connectors (they
depend on it), and the DAG generator lists connectors without importing vendor code it does not need.
Importing a connector module does no I/O. A connector not yet written is simply absent.
"""

from __future__ import annotations

import importlib

from data_gcp.config import DataGcpError
from data_gcp.etl_core.spec import Connector

# One line per connector. The key is the name on the command line and in `raw.<name>_<object>`.
CONNECTOR_MODULES: dict[str, str] = {
    "brevo": "data_gcp.brevo",
    "qualtrics": "data_gcp.qualtrics",
    "dms": "data_gcp.dms",
    "contentful": "data_gcp.contentful",
    "batch": "data_gcp.batch",
    "siren": "data_gcp.siren",
    "api_referentials": "data_gcp.api_referentials",
    "seed_files": "data_gcp.seed_files",
    "metabase": "data_gcp.metabase",
    "adage": "data_gcp.adage",
    "addresses": "data_gcp.addresses",
    "appsflyer": "data_gcp.appsflyer",
    "app_downloads": "data_gcp.app_downloads",
}


def _load(name: str) -> type[Connector] | None:
    module_name = CONNECTOR_MODULES[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            return None
        raise
    connector = getattr(module, "CONNECTOR", None)
    if connector is None or connector.name != name:
        raise DataGcpError(f"{module_name} must expose CONNECTOR, a Connector subclass named {name!r}")
    return connector


def list_connectors() -> list[type[Connector]]:
    """Every available connector class (name, tables, schedule, secrets), in registry order."""
    return [c for c in (_load(n) for n in CONNECTOR_MODULES) if c is not None]


def get_connector(name: str) -> type[Connector]:
    if name not in CONNECTOR_MODULES:
        raise DataGcpError(
            f"unknown source system {name!r}: expected one of {', '.join(sorted(CONNECTOR_MODULES))}"
        )
    connector = _load(name)
    if connector is None:
        raise DataGcpError(f"source system {name!r} is registered but {CONNECTOR_MODULES[name]} is missing")
    return connector
