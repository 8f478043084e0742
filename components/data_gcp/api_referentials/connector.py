"""pass Culture backend referentials: offer subcategories and offer types into `raw.subcategories`
and `raw.offer_types` (full replace, weekly).

Contract (docs/reference source-systems.md, and the backend's public API): `GET
{backend}/native/v1/subcategories/v2`, public, no auth, one JSON answer with `subcategories` (id,
categoryId, appLabel, searchGroupName, homepageLabelName, isEvent, onlineOfflinePlatform, canBeDuo,
isDigitalDeposit, isPhysicalDeposit, reimbursementRule, ...), `searchGroups` ([{name, value}]) and
`genreTypes` ([{name: BOOK|MUSIC|SHOW|MOVIE, values: [{name, value}], trees: [{code, label,
children}]}]). Assumed where the reference is silent: offer types/genres come from the same answer's
`genreTypes` (the public backend has no other genre endpoint); `trees` give types and sub-types, and
a domain without `trees` is read from `values` (types only).

Why strict: the backend is our dependency, not our contract. A field we map that disappears or changes
type (a rename) is an error naming the field and the subcategory, never a NULL column; fields we do not
map yet are kept whole in `extra_fields` (JSON) and logged, so an addition is visible and documented.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from data_gcp.etl_core import Batch, Column, Connector, RunContext, TableSpec
from data_gcp.http_client import SourceError
from data_gcp.log import get_logger

log = get_logger(__name__)

SYSTEM = "api_referentials"
PATH = "native/v1/subcategories/v2"
ENDPOINT = f"GET /{PATH}"

# backend field -> (column, python type): every one is required in every subcategory
SUBCATEGORY_FIELDS: dict[str, tuple[str, type]] = {
    "id": ("id", str),
    "categoryId": ("category_id", str),
    "appLabel": ("app_label", str),
    "searchGroupName": ("search_group_name", str),
    "homepageLabelName": ("homepage_label_name", str),
    "isEvent": ("is_event", bool),
    "onlineOfflinePlatform": ("online_offline_platform", str),
    "canBeDuo": ("can_be_duo", bool),
    "isDigitalDeposit": ("is_digital_deposit", bool),
    "isPhysicalDeposit": ("is_physical_deposit", bool),
    "reimbursementRule": ("reimbursement_rule", str),
}
_COLUMN_TYPES = {str: "string", bool: "bool"}

SUBCATEGORIES = TableSpec(
    name="subcategories",
    object="subcategories",
    description="the offer referential: one row per subcategory, its category, search group and flags",
    columns=(
        *(Column(col, _COLUMN_TYPES[t], nullable=False) for col, t in SUBCATEGORY_FIELDS.values()),
        Column("search_group_label", description="label of the search group (null for the 'NONE' group)"),
        Column("extra_fields", "json", description="backend fields not mapped yet, as JSON ({} if none)"),
        Column("import_date", "date", nullable=False),
    ),
    write="replace",
    primary_key=("id",),
    allow_empty=False,
)

OFFER_TYPES = TableSpec(
    name="offer_types",
    object="offer_types",
    description="offer types and sub-types per domain (BOOK, MUSIC, SHOW, MOVIE) from the genre trees",
    columns=(
        Column("domain", nullable=False),
        Column("offer_type_id", nullable=False),
        Column("offer_type_label"),
        Column("offer_sub_type_id"),
        Column("offer_sub_type_label"),
        Column("import_date", "date", nullable=False),
    ),
    write="replace",
    primary_key=("domain", "offer_type_id", "offer_sub_type_id"),
    allow_empty=False,
)


def _fail(message: str) -> SourceError:
    return SourceError(
        SYSTEM,
        ENDPOINT,
        f"{message}; the backend's answer changed: map the change in "
        "components/data_gcp/api_referentials/connector.py (and the dbt source) before loading it",
    )


def _list(payload: Any, key: str) -> list[Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, list):
        raise _fail(
            f"the answer has no list {key!r} (keys: {sorted(payload) if isinstance(payload, dict) else '?'})"
        )
    return value


def subcategory_rows(payload: Any, import_date: dt.date) -> list[dict[str, Any]]:
    """The `subcategories` of an answer as rows of `raw.subcategories`; strict on mapped fields."""
    groups: dict[str, str | None] = {}
    for group in _list(payload, "searchGroups"):
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            raise _fail(f"a search group has no 'name': {json.dumps(group)[:200]}")
        groups[group["name"]] = group.get("value")
    rows, seen, unmapped = [], set(), set()
    for item in _list(payload, "subcategories"):
        if not isinstance(item, dict):
            raise _fail(f"a subcategory is not an object: {json.dumps(item)[:200]}")
        sub_id = item.get("id", "?")
        row: dict[str, Any] = {}
        for field_name, (column, kind) in SUBCATEGORY_FIELDS.items():
            if field_name not in item or item[field_name] is None:
                raise _fail(f"subcategory {sub_id!r} has no field {field_name!r} (renamed or removed?)")
            if not isinstance(item[field_name], kind):
                raise _fail(
                    f"subcategory {sub_id!r}: field {field_name!r} is {type(item[field_name]).__name__}, "
                    f"expected {kind.__name__}"
                )
            row[column] = item[field_name]
        if row["id"] in seen:
            raise _fail(f"subcategory {row['id']!r} appears twice")
        seen.add(row["id"])
        if row["search_group_name"] not in groups:
            raise _fail(
                f"subcategory {row['id']!r} names search group {row['search_group_name']!r}, "
                "which is not in 'searchGroups'"
            )
        extra = {k: v for k, v in item.items() if k not in SUBCATEGORY_FIELDS}
        unmapped.update(extra)
        row["search_group_label"] = groups[row["search_group_name"]]
        row["extra_fields"] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
        row["import_date"] = import_date
        rows.append(row)
    if unmapped:
        log.warning(
            "%s: the backend sends fields not mapped to columns yet (kept in extra_fields): %s",
            SYSTEM,
            ", ".join(sorted(unmapped)),
        )
    return rows


def offer_type_rows(payload: Any, import_date: dt.date) -> list[dict[str, Any]]:
    """The `genreTypes` of an answer as rows of `raw.offer_types` (one per type x sub-type)."""
    rows: list[dict[str, Any]] = []
    for genre in _list(payload, "genreTypes"):
        if not isinstance(genre, dict) or not isinstance(genre.get("name"), str):
            raise _fail(f"a genre type has no 'name': {json.dumps(genre)[:200]}")
        domain = genre["name"]
        base = {"domain": domain, "import_date": import_date}
        trees = genre.get("trees")
        if trees:
            for tree in trees:
                if "code" not in tree or "label" not in tree:
                    raise _fail(
                        f"genre type {domain}: a tree has no 'code'/'label': {json.dumps(tree)[:200]}"
                    )
                children = tree.get("children") or []
                kids = [(str(c["code"]), c.get("label")) for c in children] or [(None, None)]
                for sub_id, sub_label in kids:
                    rows.append(
                        base
                        | {
                            "offer_type_id": str(tree["code"]),
                            "offer_type_label": tree["label"],
                            "offer_sub_type_id": sub_id,
                            "offer_sub_type_label": sub_label,
                        }
                    )
        else:
            for value in genre.get("values") or []:
                if "name" not in value:
                    raise _fail(f"genre type {domain}: a value has no 'name': {json.dumps(value)[:200]}")
                rows.append(
                    base
                    | {
                        "offer_type_id": str(value["name"]),
                        "offer_type_label": value.get("value"),
                        "offer_sub_type_id": None,
                        "offer_sub_type_label": None,
                    }
                )
    return rows


def referential_tables(payload: Any, import_date: dt.date) -> dict[str, pa.Table]:
    """Both tables from one answer (also used to write a test warehouse from the local taxonomy)."""
    return {
        SUBCATEGORIES.name: SUBCATEGORIES.to_arrow(subcategory_rows(payload, import_date)),
        OFFER_TYPES.name: OFFER_TYPES.to_arrow(offer_type_rows(payload, import_date)),
    }


class ApiReferentialsConnector(Connector):
    """The backend's public referential (no auth, one request). See the module docstring."""

    name = SYSTEM
    description = "backend referentials: offer subcategories and offer types (full replace)"
    schedule = "0 3 * * 1"  # weekly, Monday 03:00
    default_base_url = "https://backend.passculture.app"
    tables = (SUBCATEGORIES, OFFER_TYPES)

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        with ctx.http() as http:
            payload = http.get_json(PATH)
        if ctx.wants("subcategories"):
            yield SUBCATEGORIES.name, SUBCATEGORIES.to_arrow(subcategory_rows(payload, ctx.window.end))
        if ctx.wants("offer_types"):
            yield OFFER_TYPES.name, OFFER_TYPES.to_arrow(offer_type_rows(payload, ctx.window.end))


CONNECTOR = ApiReferentialsConnector
