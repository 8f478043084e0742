"""Request filters (`params`) -> a checked expression tree -> a LanceDB `where` string or an Arrow expression.

Why a tree and two back ends: the vector search needs a SQL predicate pushed into LanceDB, and the
"tops"/"filter" modes scan the in-memory catalogue with Arrow; both must mean the same thing, so they
are produced from one validated tree. Nothing from the request reaches SQL as text: column names come
from a whitelist, operators from a fixed table, values are type-checked per column and strings are
quoted with their quotes doubled.

Syntax (Mongo-like, as the reference service):
    {"category_id": "LIVRE"}                                  # $eq shorthand
    {"price": {"$lte": 20, "$gt": 0}, "is_digital": {"$eq": false}}
    {"$or": [{"subcategory_id": {"$in": ["LIVRE_PAPIER"]}}, {"is_event": true}]}
    {"offer_creation_date": {"$gte": "2026-01-11T12:00:00+01:00"}}   # instants; naive = UTC
    {"$geo": {"latitude": 48.85, "longitude": 2.35, "radius_km": 30}}  # digital offers always pass
Entries of one object are AND-ed.

Reference-service names are accepted as aliases: the operator `$neq` (= `$ne`), the columns
`category` (= category_id), `stock_price` (= price) and `is_geolocated` (= not is_digital), and
0/1 for booleans.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from data_gcp.config import DataGcpError


class FilterError(DataGcpError, ValueError):
    """A `params` filter that cannot be applied; the message says which part and why."""


class ColumnType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"  # an instant: timestamp with time zone (UTC), compared as such


# Item columns a caller may filter on (the `ml.ml_reco__recommendable_item` contract).
FILTER_COLUMNS: dict[str, ColumnType] = {
    "item_id": ColumnType.STRING,
    "offer_id": ColumnType.STRING,
    "offer_name": ColumnType.STRING,
    "category_id": ColumnType.STRING,
    "subcategory_id": ColumnType.STRING,
    "search_group_name": ColumnType.STRING,
    "venue_department_code": ColumnType.STRING,
    "price": ColumnType.NUMBER,
    "venue_latitude": ColumnType.NUMBER,
    "venue_longitude": ColumnType.NUMBER,
    "booking_count": ColumnType.NUMBER,
    "booking_count_last_7_days": ColumnType.NUMBER,
    "booking_trend": ColumnType.NUMBER,
    "venue_radius_km": ColumnType.NUMBER,
    "is_underage_recommendable": ColumnType.BOOL,
    "is_digital": ColumnType.BOOL,
    "is_event": ColumnType.BOOL,
    "stock_beginning_date": ColumnType.DATE,
    "offer_creation_date": ColumnType.DATE,
}

# The reference service's names: column -> (our column, whether boolean values are negated).
COLUMN_ALIASES: dict[str, tuple[str, bool]] = {
    "category": ("category_id", False),
    "stock_price": ("price", False),
    "is_geolocated": ("is_digital", True),
}
OPERATOR_ALIASES = {"$neq": "$ne"}
COMPARISONS = {"$eq": "=", "$ne": "!=", "$lt": "<", "$gt": ">", "$lte": "<=", "$gte": ">="}
LIST_OPS = {"$in", "$nin"}
GEO = "$geo"
OPERATORS = sorted([*COMPARISONS, *LIST_OPS, *OPERATOR_ALIASES, "$and", "$or", GEO])
MAX_DEPTH = 3  # params -> $and/$or -> ... : objects at depth 0..MAX_DEPTH
MAX_BRANCHES = 20  # conditions objects in one $and / $or list
MAX_LIST = 1000
MAX_STRING = 500
EARTH_RADIUS_KM = 6371.0088
GEO_RADIUS_COLUMN = "venue_radius_km"  # each offer's own radius, used when the request gives none
# the radius of a physical offer whose `venue_radius_km` is missing (null, or no such column): the
# app's default search radius, also what dbt writes for every physical offer
DEFAULT_VENUE_RADIUS_KM = 50.0
_FLOAT_MAX = 1.7976931348623157e308
INSTANT_MIN = dt.datetime(1700, 1, 1, tzinfo=dt.UTC)
INSTANT_MAX = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
INSTANT_TYPE = pa.timestamp("us", tz="UTC")
# ISO 8601 / RFC 3339 dates and date-times (time zone optional: naive means UTC)
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?)?")


@dataclass(frozen=True)
class Cond:
    column: str
    op: str
    value: Any  # typed: str | float | bool | date | None, or a tuple of those for $in/$nin


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Geo:
    """Offers within `radius_km` of a position (each offer's own `venue_radius_km` when None, and
    DEFAULT_VENUE_RADIUS_KM where that is missing); digital ones always."""

    latitude: float
    longitude: float
    radius_km: float | None


Node = Cond | And | Or | Geo
TRUE = And(())


def checked_string(value: str, where: str) -> str:
    """A string that can reach SQL, Arrow and a JSON answer: bounded, no NUL, valid UTF-8 (no lone
    surrogate such as "\\ud800", which Python's JSON reader lets through)."""
    if len(value) > MAX_STRING or "\x00" in value:
        raise FilterError(f"{where}: string value too long or with a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FilterError(f"{where}: string value is not valid Unicode (lone surrogate)") from None
    return value


def _shown(key: Any) -> str:
    """A caller's key as it may appear in an error message: short, and escaped unless valid UTF-8."""
    text = str(key)[:60]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return ascii(text)
    return text


def parse_instant(value: str, where: str) -> dt.datetime:
    """An ISO date or date-time as a UTC instant: a date is its midnight UTC, a naive time is UTC."""
    if not _INSTANT.fullmatch(value):
        raise FilterError(
            f"{where}: expected an ISO date 'YYYY-MM-DD' or date-time 'YYYY-MM-DDTHH:MM[:SS][+HH:MM]', "
            f"got {value[:40]!r}"
        )
    try:
        moment = dt.datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        raise FilterError(f"{where}: not a valid date or date-time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        moment = moment.astimezone(dt.UTC)
    except OverflowError:
        moment = INSTANT_MIN if moment.year < 2000 else INSTANT_MAX
    # clamped to what every back end represents (LanceDB's SQL literals are nanoseconds)
    return min(max(moment, INSTANT_MIN), INSTANT_MAX)


def _typed(column: str, value: Any, where: str) -> Any:
    kind = FILTER_COLUMNS[column]
    if value is None:
        return None
    if kind is ColumnType.STRING:
        if not isinstance(value, str):
            raise FilterError(f"{where}: {column} is a string column, got {type(value).__name__}")
        return checked_string(value, where)
    if kind is ColumnType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FilterError(f"{where}: {column} is a number column, got {type(value).__name__}")
        try:
            number = float(value)
        except OverflowError:  # a JSON integer beyond float range: as far as a float goes
            number = math.copysign(_FLOAT_MAX, value)
        if not math.isfinite(number):
            raise FilterError(f"{where}: {column} needs a finite number")
        return number
    if kind is ColumnType.BOOL:
        # 1 / 0 as the reference service's callers send them; not 2, not "0"
        if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        if not isinstance(value, bool):
            raise FilterError(f"{where}: {column} is a boolean column (true/false or 1/0)")
        return value
    if not isinstance(value, str):
        raise FilterError(f"{where}: {column} is a date column: give an ISO date or date-time string")
    return parse_instant(value, where)


def _number(spec: dict[str, Any], key: str, low: float, high: float, where: str) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FilterError(f"{where}.{key}: a number is required")
    number = float(value) if abs(value) < _FLOAT_MAX else math.inf
    if not low <= number <= high:
        raise FilterError(f"{where}.{key}: must be between {low} and {high}")
    return number


def _geo(spec: Any, where: str) -> Geo:
    if not isinstance(spec, dict) or not set(spec) <= {"latitude", "longitude", "radius_km"}:
        raise FilterError(f"{where}: expected {{latitude, longitude, radius_km?}}")
    radius = None
    if spec.get("radius_km") is not None:
        radius = _number(spec, "radius_km", 0.0, 20_100.0, where)
    return Geo(
        _number(spec, "latitude", -90.0, 90.0, where),
        _number(spec, "longitude", -180.0, 180.0, where),
        radius,
    )


class _Parser:
    def obj(self, spec: Any, where: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FilterError(f"{where}: filters nested deeper than {MAX_DEPTH} levels")
        if not isinstance(spec, dict):
            raise FilterError(f"{where}: expected an object of conditions, got {type(spec).__name__}")
        parts: list[Node] = []
        for key, val in spec.items():
            if not isinstance(key, str):
                raise FilterError(f"{where}: keys must be strings")
            here = f"{where}.{_shown(key)}"
            if key in ("$and", "$or"):
                if not isinstance(val, list) or not val or len(val) > MAX_BRANCHES:
                    raise FilterError(f"{here}: expected a list of 1 to {MAX_BRANCHES} condition objects")
                if depth == MAX_DEPTH:
                    raise FilterError(f"{here}: filters nested deeper than {MAX_DEPTH} levels")
                kids = tuple(self.obj(v, f"{here}[{i}]", depth + 1) for i, v in enumerate(val))
                parts.append(And(kids) if key == "$and" else Or(kids))
            elif key == GEO:
                parts.append(_geo(val, here))
            elif key.startswith("$"):
                raise FilterError(
                    f"{here}: unknown operator {key!r} at this level; use a column name, $and or $or"
                )
            elif key not in FILTER_COLUMNS and key not in COLUMN_ALIASES:
                raise FilterError(
                    f"{where}: unknown column {_shown(key)!r}; "
                    f"filterable: {', '.join([*FILTER_COLUMNS, *COLUMN_ALIASES])}"
                )
            elif isinstance(val, dict):
                if not val:
                    raise FilterError(f"{here}: empty operator object")
                for op, operand in val.items():
                    parts.append(self.aliased(key, op, operand, f"{here}.{_shown(op)}"))
            else:
                parts.append(self.aliased(key, "$eq", val, here))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def aliased(self, key: str, op: Any, value: Any, where: str) -> Cond:
        """A condition on a column or a reference alias (`is_geolocated` is `is_digital` negated)."""
        column, negate = COLUMN_ALIASES.get(key, (key, False))
        op = OPERATOR_ALIASES.get(op, op) if isinstance(op, str) else op
        cond = self.cond(column, op, value, where)
        if not negate:
            return cond
        if isinstance(cond.value, tuple):
            return Cond(column, cond.op, tuple(not v for v in cond.value))
        return Cond(column, cond.op, None if cond.value is None else not cond.value)

    def cond(self, column: str, op: Any, value: Any, where: str) -> Cond:
        if op in LIST_OPS:
            if not isinstance(value, list):
                raise FilterError(f"{where}: {op} needs a list of values")
            if len(value) > MAX_LIST:
                raise FilterError(f"{where}: {op} list longer than {MAX_LIST}")
            typed = tuple(_typed(column, v, where) for v in value)
            if any(v is None for v in typed):
                raise FilterError(f"{where}: null is not allowed inside {op}")
            return Cond(column, op, typed)
        if op not in COMPARISONS:
            shown = _shown(op) if isinstance(op, str) else type(op).__name__
            raise FilterError(f"{where}: unknown operator {shown!r}; allowed: {', '.join(OPERATORS)}")
        typed = _typed(column, value, where)
        if typed is None and op not in ("$eq", "$ne"):
            raise FilterError(f"{where}: null can only be compared with $eq or $ne")
        if FILTER_COLUMNS[column] is ColumnType.BOOL and op not in ("$eq", "$ne"):
            raise FilterError(f"{where}: boolean column {column} supports $eq, $ne, $in, $nin only")
        return Cond(column, op, typed)


def parse_filters(params: dict[str, Any] | None) -> Node:
    """Validate a `params` object into an expression tree (raises FilterError naming the bad part)."""
    if params is None or params == {}:
        return TRUE
    return _Parser().obj(params, "params", 0)


def exclude_items(ids: list[str] | None) -> Node:
    """Condition that drops the given item ids or offer ids (callers pass either)."""
    if not ids:
        return TRUE
    values = tuple(checked_string(v, "excluded_items") for v in ids)
    return And((Cond("item_id", "$nin", values), Cond("offer_id", "$nin", values)))


def columns_of(node: Node) -> set[str]:
    """The columns a filter reads (to evaluate it on just those)."""
    if isinstance(node, Cond):
        return {node.column}
    if isinstance(node, Geo):
        return {"is_digital", "venue_latitude", "venue_longitude", GEO_RADIUS_COLUMN}
    return set().union(*(columns_of(c) for c in node.children))


def conjoin(*nodes: Node) -> Node:
    kids = tuple(n for n in nodes if n != TRUE)
    return TRUE if not kids else kids[0] if len(kids) == 1 else And(kids)


# ---- LanceDB (DataFusion SQL) ------------------------------------------------------------------


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.astimezone(dt.UTC).isoformat(sep=' ')}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise FilterError(f"cannot write {type(value).__name__} as SQL")  # unreachable after parsing


def to_sql(node: Node) -> str | None:
    """The LanceDB `where` string, or None when nothing is filtered."""
    if node == TRUE:
        return None
    return _sql(node)


def _geo_bounds(geo: Geo) -> tuple[float, float | None]:
    """Half-widths in degrees of latitude and longitude of a box holding the circle (None: all longitudes)."""
    assert geo.radius_km is not None
    angle = min(geo.radius_km / EARTH_RADIUS_KM, math.pi)
    dlat = math.degrees(angle)
    if abs(geo.latitude) + dlat >= 89.0 or angle >= math.pi / 2:
        return dlat, None
    return dlat, math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(geo.latitude)))))


def _hav_threshold(radius_km: float) -> float:
    """haversine(d) = sin^2(d / 2R): comparing it avoids asin/sqrt per row."""
    return 1.0 if radius_km >= math.pi * EARTH_RADIUS_KM else math.sin(radius_km / (2 * EARTH_RADIUS_KM)) ** 2


def _geo_sql(geo: Geo) -> str:
    lat, lon = repr(geo.latitude), repr(geo.longitude)
    hav = (
        f"(pow(sin(radians(venue_latitude - {lat}) / 2), 2) + {math.cos(math.radians(geo.latitude))!r}"
        f" * cos(radians(venue_latitude)) * pow(sin(radians(venue_longitude - {lon}) / 2), 2))"
    )
    if geo.radius_km is None:
        # a radius of half the Earth's circumference or more holds every point
        radius = f"coalesce({GEO_RADIUS_COLUMN}, {DEFAULT_VENUE_RADIUS_KM!r})"
        near = (
            f"({radius} >= 0 AND ({radius} >= {math.pi * EARTH_RADIUS_KM!r} OR "
            f"{hav} <= pow(sin({radius} / {2 * EARTH_RADIUS_KM!r}), 2)))"
        )
    else:
        dlat, dlon = _geo_bounds(geo)
        box = f"venue_latitude BETWEEN {geo.latitude - dlat!r} AND {geo.latitude + dlat!r}"
        if dlon is not None:
            box += f" AND venue_longitude BETWEEN {geo.longitude - dlon!r} AND {geo.longitude + dlon!r}"
            # a box crossing the antimeridian: the exact test below still decides
            if geo.longitude - dlon < -180 or geo.longitude + dlon > 180:
                box = f"venue_latitude BETWEEN {geo.latitude - dlat!r} AND {geo.latitude + dlat!r}"
        near = f"({box} AND {hav} <= {_hav_threshold(geo.radius_km)!r})"
    return f"((is_digital IS NOT NULL AND is_digital) OR {near})"


def _sql(node: Node) -> str:
    if isinstance(node, Geo):
        return _geo_sql(node)
    if isinstance(node, Cond):
        col = node.column
        if col not in FILTER_COLUMNS:  # defensive: trees are only built by the parser
            raise FilterError(f"unknown column {col!r}")
        if node.op in LIST_OPS:
            if not node.value:
                return "FALSE" if node.op == "$in" else f"({col} IS NOT NULL)"
            items = ", ".join(_sql_literal(v) for v in node.value)
            return f"({col} {'IN' if node.op == '$in' else 'NOT IN'} ({items}))"
        if node.value is None:
            return f"({col} IS {'NOT ' if node.op == '$ne' else ''}NULL)"
        return f"({col} {COMPARISONS[node.op]} {_sql_literal(node.value)})"
    if not node.children:
        return "TRUE" if isinstance(node, And) else "FALSE"
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(_sql(c) for c in node.children) + ")"


# ---- Arrow (in-memory catalogue) ---------------------------------------------------------------


def to_arrow(node: Node) -> pc.Expression | None:
    """The same predicate as an Arrow expression (None when nothing is filtered), SQL null semantics."""
    if node == TRUE:
        return None
    return _arrow(node)


def _geo_arrow(geo: Geo) -> pc.Expression:
    lat, lon = pc.field("venue_latitude"), pc.field("venue_longitude")
    rad = math.pi / 180

    def sin2_half(delta: pc.Expression) -> pc.Expression:
        half = pc.sin(pc.multiply(delta, rad / 2))
        return pc.multiply(half, half)

    hav = pc.add(
        sin2_half(pc.subtract(lat, geo.latitude)),
        pc.multiply(
            pc.multiply(pc.cos(pc.multiply(lat, rad)), math.cos(math.radians(geo.latitude))),
            sin2_half(pc.subtract(lon, geo.longitude)),
        ),
    )
    if geo.radius_km is None:
        radius = pc.coalesce(pc.field(GEO_RADIUS_COLUMN), pc.scalar(DEFAULT_VENUE_RADIUS_KM))
        half = pc.sin(pc.divide(radius, 2 * EARTH_RADIUS_KM))
        near = (radius >= 0) & ((radius >= math.pi * EARTH_RADIUS_KM) | (hav <= pc.multiply(half, half)))
    else:
        near = hav <= _hav_threshold(geo.radius_km)
    digital = pc.coalesce(pc.field("is_digital"), pc.scalar(False))
    return digital | pc.coalesce(near, pc.scalar(False))


def _arrow(node: Node) -> pc.Expression:
    if isinstance(node, Geo):
        return _geo_arrow(node)
    if isinstance(node, Cond):
        f = pc.field(node.column)
        if node.op in LIST_OPS:
            in_set = f.isin(pa.array(list(node.value))) if node.value else pc.scalar(False)
            return in_set if node.op == "$in" else (~in_set & f.is_valid())
        if node.value is None:
            return f.is_valid() if node.op == "$ne" else f.is_null()
        v = pc.scalar(
            pa.scalar(node.value, INSTANT_TYPE) if isinstance(node.value, dt.datetime) else node.value
        )
        return {
            "$eq": f == v,
            "$ne": f != v,
            "$lt": f < v,
            "$gt": f > v,
            "$lte": f <= v,
            "$gte": f >= v,
        }[node.op]
    if not node.children:
        return pc.scalar(isinstance(node, And))
    expr = _arrow(node.children[0])
    for child in node.children[1:]:
        expr = (expr & _arrow(child)) if isinstance(node, And) else (expr | _arrow(child))
    return expr


# ---- JSON schema (the OpenAPI document of `params`) ---------------------------------------------


def params_json_schema(ref_prefix: str = "#/components/schemas/") -> tuple[dict[str, Any], dict[str, Any]]:
    """`params` as a JSON schema that says exactly what `parse_filters` accepts: its columns (and
    aliases) with their value types, the operators per column type, `$geo`, and `$and`/`$or` nested
    at most MAX_DEPTH levels (unrolled, one definition per level). Returns (schema, definitions)."""
    string = {"type": "string", "maxLength": MAX_STRING, "pattern": "^[^\\u0000]*$"}
    scalar = {
        ColumnType.STRING: string,
        ColumnType.NUMBER: {"type": "number"},
        ColumnType.BOOL: {"anyOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]},
        ColumnType.DATE: {
            "type": "string",
            "anyOf": [{"format": "date"}, {"format": "date-time"}],
            "description": "ISO date or date-time; a date is its midnight UTC, a time without zone is UTC",
        },
    }
    defs: dict[str, Any] = {}
    for kind, value in scalar.items():
        nullable = {"anyOf": [value, {"type": "null"}]}
        ops: dict[str, Any] = {op: nullable for op in ("$eq", "$ne", *OPERATOR_ALIASES)}
        if kind is not ColumnType.BOOL:
            ops.update({op: value for op in COMPARISONS if op not in ops})
        ops.update({op: {"type": "array", "maxItems": MAX_LIST, "items": value} for op in sorted(LIST_OPS)})
        defs[f"FilterValue_{kind.value}"] = {
            "anyOf": [
                value,
                {"type": "null"},
                {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": ops},
            ]
        }
    defs["GeoFilter"] = {
        "type": "object",
        "description": "offers within radius_km of a position (each offer's venue_radius_km when absent, "
        f"{DEFAULT_VENUE_RADIUS_KM:g} km where an offer has none); digital offers always pass",
        "required": ["latitude", "longitude"],
        "additionalProperties": False,
        "properties": {
            "latitude": {"type": "number", "minimum": -90, "maximum": 90},
            "longitude": {"type": "number", "minimum": -180, "maximum": 180},
            "radius_km": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 20_100}, {"type": "null"}]},
        },
    }
    columns = {
        **{c: k for c, k in FILTER_COLUMNS.items()},
        **{a: FILTER_COLUMNS[c] for a, (c, _) in COLUMN_ALIASES.items()},
    }
    for depth in range(MAX_DEPTH + 1):
        props: dict[str, Any] = {
            c: {"$ref": f"{ref_prefix}FilterValue_{k.value}"} for c, k in columns.items()
        }
        props[GEO] = {"$ref": f"{ref_prefix}GeoFilter"}
        if depth < MAX_DEPTH:
            branch = {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BRANCHES,
                "items": {"$ref": f"{ref_prefix}Filters{depth + 1}"},
            }
            props["$and"] = props["$or"] = branch
        defs[f"Filters{depth}"] = {"type": "object", "additionalProperties": False, "properties": props}
    defs["Filters0"]["description"] = (
        "filters on item columns (AND-ed): a value ($eq), or an object of operators "
        "$eq $ne $lt $gt $lte $gte $in $nin ($neq = $ne); $and / $or lists; $geo"
    )
    return {"anyOf": [{"$ref": f"{ref_prefix}Filters0"}, {"type": "null"}]}, defs
