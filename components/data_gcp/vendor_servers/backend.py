"""The pass Culture backend's public referential (`GET /native/v1/subcategories/v2`), no auth.

Serves `offer_categories.backend_subcategories_v2()`: the taxonomy the sandbox uses, in the backend's
shape. Tests change the answer the way a backend release could through `server.app.state["answer"]`
(start from `server.app.state["original"]()`, a fresh copy).
"""

from __future__ import annotations

import copy
from typing import Any

from data_gcp.offer_categories import backend_subcategories_v2
from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp


def build(data: SandboxData, **_: Any) -> VendorApp:
    answer = backend_subcategories_v2()
    state: dict[str, Any] = {"answer": answer, "original": lambda: copy.deepcopy(answer)}

    def subcategories(request: Request) -> Response:
        return Response(200, state["answer"])

    return VendorApp(
        name="api_referentials",
        routes=[("GET", r"/native/v1/subcategories/v2", subcategories)],
        env={"DATA_GCP_API_REFERENTIALS_BASE_URL": "{base_url}"},
        state=state,
    )
