"""pass Culture backend referentials: offer subcategories and offer types into `raw.subcategories`
and `raw.offer_types` (full replace, weekly).

Contract: `GET {backend}/native/v1/subcategories/v2`, public, no auth, one JSON answer, in the shape
the backend documents (its OpenAPI `SubcategoriesResponseModelv2`; the original platform's
`import_api_referentials` job reads the same route):
- `subcategories[]` has `id, categoryId, nativeCategoryId, appLabel, searchGroupName,
  homepageLabelName, isEvent, onlineOfflinePlatform` (required, except `nativeCategoryId`, which older
  backends do not send). `canBeDuo`, `isDigitalDeposit`, `isPhysicalDeposit`, `reimbursementRule` are
  not promised by v2 (the original job merged them from an older export): read when present, else null;
- `searchGroups[]` `{name, value}`;
- `genreTypes[]` `{name: BOOK|MUSIC|SHOW|MOVIE, values: [{name, value}], trees}`, a tree's shape
  depending on the domain: MUSIC/SHOW `{code, label, children: [{code, label, slug}]}`, MOVIE
  `{name, label}`, BOOK `{label, gtls, position, children: [{label, gtls, position}]}` (no code).
  A type's id is its `code`, else its `name`, else its `label`; a domain without `trees` is read from
  `values` (types only).

Why strict on the shape, lenient on a record: the backend is our dependency, not our contract. A
required field missing or of another type in one subcategory skips that subcategory with a warning
naming it (`etl_core.BadRecords`); in more than a tenth of them it is a rename, an error naming the
field, and nothing is written. Fields we do not map are kept whole in `extra_fields` (JSON) and logged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from data_gcp.etl_core import BadRecords, Batch, Column, Connector, RunContext, TableSpec
from data_gcp.http_client import SourceError
from data_gcp.log import get_logger

log = get_logger(__name__)

SYSTEM = "api_referentials"
PATH = "native/v1/subcategories/v2"
ENDPOINT = f"GET /{PATH}"

# backend field -> (column, python type): required in every subcategory (documented v2 model)
SUBCATEGORY_FIELDS: dict[str, tuple[str, type]] = {
    "id": ("id", str),
    "categoryId": ("category_id", str),
    "appLabel": ("app_label", str),
    "searchGroupName": ("search_group_name", str),
    "homepageLabelName": ("homepage_label_name", str),
    "isEvent": ("is_event", bool),
    "onlineOfflinePlatform": ("online_offline_platform", str),
}
# fields the v2 model does not promise: null when absent, type-checked when present
OPTIONAL_FIELDS: dict[str, tuple[str, type]] = {
    "nativeCategoryId": ("native_category_id", str),
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
        *(Column(col, _COLUMN_TYPES[t], description="null: not sent") for col, t in OPTIONAL_FIELDS.values()),
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


def _subcategory_row(item: Any, groups: dict[str, str | None]) -> dict[str, Any]:
    """One subcategory as a row; ValueError naming the field when it is unreadable."""
    if not isinstance(item, dict):
        raise ValueError(f"not an object: {json.dumps(item)[:200]}")
    row: dict[str, Any] = {}
    for fields, required in ((SUBCATEGORY_FIELDS, True), (OPTIONAL_FIELDS, False)):
        for field_name, (column, kind) in fields.items():
            value = item.get(field_name)
            if value is None:
                if required:
                    raise ValueError(f"no field {field_name!r} (renamed or removed?)")
                row[column] = None
            elif not isinstance(value, kind):
                raise ValueError(f"field {field_name!r} is {type(value).__name__}, expected {kind.__name__}")
            else:
                row[column] = value
    if row["search_group_name"] not in groups:
        raise ValueError(f"search group {row['search_group_name']!r} is not in 'searchGroups'")
    return row


def subcategory_rows(payload: Any, import_date: dt.date) -> list[dict[str, Any]]:
    """The `subcategories` of an answer as rows of `raw.subcategories` (a bad one skipped, see module)."""
    groups: dict[str, str | None] = {}
    for group in _list(payload, "searchGroups"):
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            raise _fail(f"a search group has no 'name': {json.dumps(group)[:200]}")
        groups[group["name"]] = group.get("value")
    items = _list(payload, "subcategories")
    bad = BadRecords(SYSTEM, "subcategories", error=_fail)
    rows, seen, unmapped = [], set(), set()
    known = set(SUBCATEGORY_FIELDS) | set(OPTIONAL_FIELDS)
    for item in items:
        sub_id = item.get("id", "?") if isinstance(item, dict) else "?"
        try:
            row = _subcategory_row(item, groups)
        except ValueError as err:
            bad.skip(repr(sub_id), f"subcategory {sub_id!r}: {err}")
            continue
        if row["id"] in seen:
            bad.skip(repr(row["id"]), "appears twice (the first is kept)")
            continue
        seen.add(row["id"])
        extra = {k: v for k, v in item.items() if k not in known}
        unmapped.update(extra)
        row["search_group_label"] = groups[row["search_group_name"]]
        row["extra_fields"] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
        row["import_date"] = import_date
        rows.append(row)
    bad.check(len(items))
    if unmapped:
        log.warning(
            "%s: the backend sends fields not mapped to columns yet (kept in extra_fields): %s",
            SYSTEM,
            ", ".join(sorted(unmapped)),
        )
    return rows


def _type_id(node: Any) -> tuple[str, str | None] | None:
    """(id, label) of a genre tree node: id = `code`, else `name`, else `label` (BOOK trees have none)."""
    if not isinstance(node, dict):
        return None
    for key in ("code", "name", "label"):
        if node.get(key) not in (None, ""):
            return str(node[key]), node.get("label")
    return None


def offer_type_rows(payload: Any, import_date: dt.date) -> list[dict[str, Any]]:
    """The `genreTypes` of an answer as rows of `raw.offer_types` (one per type x sub-type)."""
    rows: list[dict[str, Any]] = []
    bad = BadRecords(SYSTEM, "genre type nodes", error=_fail)
    total = 0
    for genre in _list(payload, "genreTypes"):
        if not isinstance(genre, dict) or not isinstance(genre.get("name"), str):
            raise _fail(f"a genre type has no 'name': {json.dumps(genre)[:200]}")
        domain = genre["name"]
        base = {"domain": domain, "import_date": import_date}
        trees = genre.get("trees")
        nodes = trees if trees else (genre.get("values") or [])
        for tree in nodes:
            total += 1
            parent = (
                _type_id(tree)
                if trees
                else (
                    (str(tree["name"]), tree.get("value"))
                    if isinstance(tree, dict) and tree.get("name")
                    else None
                )
            )
            if parent is None:
                bad.skip(
                    domain,
                    f"genre type {domain}: a node without code, name or label: {json.dumps(tree)[:200]}",
                )
                continue
            kids = []
            for child in (tree.get("children") or []) if trees else []:
                kid = _type_id(child)
                if kid is None:
                    bad.skip(domain, f"genre type {domain} {parent[0]}: a child without code or label")
                    continue
                kids.append(kid)
            for sub_id, sub_label in kids or [(None, None)]:
                rows.append(
                    base
                    | {
                        "offer_type_id": parent[0],
                        "offer_type_label": parent[1],
                        "offer_sub_type_id": sub_id,
                        "offer_sub_type_label": sub_label,
                    }
                )
    bad.check(total)
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
