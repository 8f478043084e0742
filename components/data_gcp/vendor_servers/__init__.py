"""Local HTTP servers speaking each vendor's contract, with fault injection (tests, local runs)."""

from data_gcp.etl_core import email_hash  # how connectors store an e-mail (tests compare with it)
from data_gcp.vendor_servers.data import (
    SandboxData,
    fake_data,
    load_sandbox_data,
    user_email,
)
from data_gcp.vendor_servers.framework import (
    UNKNOWN_FIELDS,
    Fault,
    FaultPlan,
    Request,
    Response,
    VendorApp,
    VendorServer,
    empty_lists,
    json_error,
    with_unknown_fields,
)
from data_gcp.vendor_servers.gcs import FakeGcsClient
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
    "FakeGcsClient",
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
    "UNKNOWN_FIELDS",
    "with_unknown_fields",
    "json_error",
    "load_sandbox_data",
    "start_all",
    "start_vendor",
    "user_email",
]
