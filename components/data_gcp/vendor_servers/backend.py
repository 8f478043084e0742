"""The pass Culture backend's public referential (`GET /native/v1/subcategories/v2`), no auth.

The answer has the shape the backend documents in its OpenAPI schema (`SubcategoriesResponseModelv2`,
pass-culture-main `api/tests/routes/native/v1/openapi_test.py`), filled with the sandbox's taxonomy
(`offer_categories`):
- a subcategory (`SubcategoryResponseModelv2`) has exactly `id, categoryId, nativeCategoryId, appLabel,
  searchGroupName, homepageLabelName, isEvent, onlineOfflinePlatform`; the flags `canBeDuo`,
  `isDigitalDeposit`, `isPhysicalDeposit`, `reimbursementRule` are not part of it (the original
  platform merged them from an older export);
- `genreTypes[]` = `{name, values: [{name, value}], trees}` where a tree depends on the domain:
  BOOK `{label, gtls: [{code, label, level}], position, children: [{label, gtls, position}]}` (no
  code), MUSIC and SHOW `{code, label, children: [{code, label, slug}]}`, MOVIE `{name, label}`.
Tests change the answer the way a backend release could through `server.app.state["answer"]`
(start from `server.app.state["original"]()`, a fresh copy).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from data_gcp.offer_categories import backend_subcategories_v2
from data_gcp.vendor_servers.data import SandboxData
from data_gcp.vendor_servers.framework import Request, Response, VendorApp

# fields of the sandbox's producer that the documented v2 model does not have
UNDOCUMENTED = ("canBeDuo", "isDigitalDeposit", "isPhysicalDeposit", "reimbursementRule")


def _slug(label: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", label.upper()).strip("_")


def documented_answer() -> dict[str, Any]:
    """The sandbox's taxonomy in the backend's documented v2 shape."""
    answer = backend_subcategories_v2()
    for item in answer["subcategories"]:
        for name in UNDOCUMENTED:
            item.pop(name, None)
        item["nativeCategoryId"] = item["id"].split("_")[0]
    genres = []
    for genre in answer["genreTypes"]:
        name, trees = genre["name"], genre["trees"]
        if name == "BOOK":
            shaped = [
                {
                    "label": t["label"],
                    "gtls": [{"code": str(t["code"]), "label": t["label"], "level": 1}],
                    "position": i,
                    "children": [
                        {
                            "label": c["label"],
                            "gtls": [{"code": c["code"], "label": c["label"], "level": 2}],
                            "position": j,
                        }
                        for j, c in enumerate(t["children"])
                    ],
                }
                for i, t in enumerate(trees)
            ]
            values = [{"name": t["label"], "value": t["label"]} for t in trees]
        elif name == "MOVIE":
            shaped = [{"name": t["code"], "label": t["label"]} for t in trees]
            values = genre["values"]
        else:
            shaped = [
                {
                    "code": t["code"],
                    "label": t["label"],
                    "children": [dict(c, slug=_slug(c["label"])) for c in t["children"]],
                }
                for t in trees
            ]
            values = genre["values"]
        genres.append({"name": name, "values": values, "trees": shaped})
    answer["genreTypes"] = genres
    return answer


def build(data: SandboxData, **_: Any) -> VendorApp:
    answer = documented_answer()
    state: dict[str, Any] = {"answer": answer, "original": lambda: copy.deepcopy(answer)}

    def subcategories(request: Request) -> Response:
        return Response(200, state["answer"])

    return VendorApp(
        name="api_referentials",
        routes=[("GET", r"/native/v1/subcategories/v2", subcategories)],
        env={"DATA_GCP_API_REFERENTIALS_BASE_URL": "{base_url}"},
        state=state,
    )
