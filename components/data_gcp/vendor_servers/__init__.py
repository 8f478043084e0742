"""Local HTTP servers speaking each vendor's contract, with fault injection (tests, local runs)."""

from data_gcp.vendor_servers.data import (
    SandboxData,
    email_hash,
    fake_data,
    load_sandbox_data,
    user_email,
)
from data_gcp.vendor_servers.framework import (
    Fault,
    FaultPlan,
    Request,
    Response,
    VendorApp,
    VendorServer,
    empty_lists,
    json_error,
)
from data_gcp.vendor_servers.harness import ConnectorHarness, connector_harness
from data_gcp.vendor_servers.registry import (
    VENDOR_MODULES,
    RunningVendors,
    available_vendors,
    start_all,
    start_vendor,
)

__all__ = [
    "ConnectorHarness",
    "connector_harness",
    "VENDOR_MODULES",
    "Fault",
    "FaultPlan",
    "Request",
    "Response",
    "RunningVendors",
    "SandboxData",
    "VendorApp",
    "VendorServer",
    "available_vendors",
    "email_hash",
    "fake_data",
    "empty_lists",
    "json_error",
    "load_sandbox_data",
    "start_all",
    "start_vendor",
    "user_email",
]
