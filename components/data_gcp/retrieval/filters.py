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
Entries of one object are AND-ed.
"""

from __future__ import annotations

import datetime as dt
import math
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
    DATE = "date"


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
    "is_underage_recommendable": ColumnType.BOOL,
    "is_digital": ColumnType.BOOL,
    "is_event": ColumnType.BOOL,
    "stock_beginning_date": ColumnType.DATE,
    "offer_creation_date": ColumnType.DATE,
}

COMPARISONS = {"$eq": "=", "$ne": "!=", "$lt": "<", "$gt": ">", "$lte": "<=", "$gte": ">="}
LIST_OPS = {"$in", "$nin"}
OPERATORS = sorted([*COMPARISONS, *LIST_OPS, "$and", "$or"])
MAX_DEPTH = 6
MAX_CONDITIONS = 200
MAX_LIST = 1000
MAX_STRING = 500


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


Node = Cond | And | Or
TRUE = And(())


def _typed(column: str, value: Any, where: str) -> Any:
    kind = FILTER_COLUMNS[column]
    if value is None:
        return None
    if kind is ColumnType.STRING:
        if not isinstance(value, str):
            raise FilterError(f"{where}: {column} is a string column, got {type(value).__name__} {value!r}")
        if len(value) > MAX_STRING or "\x00" in value:
            raise FilterError(f"{where}: string value too long or with a NUL character")
        return value
    if kind is ColumnType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FilterError(f"{where}: {column} is a number column, got {type(value).__name__} {value!r}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise FilterError(f"{where}: {column} needs a finite number, got {str(value)[:40]}")
        return number
    if kind is ColumnType.BOOL:
        if not isinstance(value, bool):
            raise FilterError(f"{where}: {column} is a boolean column, got {type(value).__name__} {value!r}")
        return value
    if not isinstance(value, str):
        raise FilterError(f"{where}: {column} is a date column: give an ISO date 'YYYY-MM-DD', got {value!r}")
    try:
        return dt.date.fromisoformat(value) if len(value) <= 10 else dt.datetime.fromisoformat(value).date()
    except ValueError:
        raise FilterError(f"{where}: {column} needs an ISO date 'YYYY-MM-DD', got {value!r}") from None


class _Parser:
    def __init__(self) -> None:
        self.count = 0

    def obj(self, spec: Any, where: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FilterError(f"{where}: filters nested deeper than {MAX_DEPTH} levels")
        if not isinstance(spec, dict):
            raise FilterError(f"{where}: expected an object of conditions, got {type(spec).__name__}")
        parts: list[Node] = []
        for key, val in spec.items():
            here = f"{where}.{key}"
            if not isinstance(key, str):
                raise FilterError(f"{where}: keys must be strings")
            if key in ("$and", "$or"):
                if not isinstance(val, list) or not val:
                    raise FilterError(f"{here}: expected a non-empty list of condition objects")
                kids = tuple(self.obj(v, f"{here}[{i}]", depth + 1) for i, v in enumerate(val))
                parts.append(And(kids) if key == "$and" else Or(kids))
            elif key.startswith("$"):
                raise FilterError(
                    f"{here}: unknown operator {key!r} at this level; use a column name, $and or $or"
                )
            elif key not in FILTER_COLUMNS:
                raise FilterError(f"{here}: unknown column {key!r}; filterable: {', '.join(FILTER_COLUMNS)}")
            elif isinstance(val, dict):
                if not val:
                    raise FilterError(f"{here}: empty operator object")
                for op, operand in val.items():
                    parts.append(self.cond(key, op, operand, f"{here}.{op}"))
            else:
                parts.append(self.cond(key, "$eq", val, here))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def cond(self, column: str, op: Any, value: Any, where: str) -> Cond:
        self.count += 1
        if self.count > MAX_CONDITIONS:
            raise FilterError(f"{where}: more than {MAX_CONDITIONS} conditions")
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
            raise FilterError(f"{where}: unknown operator {op!r}; allowed: {', '.join(OPERATORS)}")
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
    values = tuple(_typed("item_id", v, "excluded_items") for v in ids)
    return And((Cond("item_id", "$nin", values), Cond("offer_id", "$nin", values)))


def columns_of(node: Node) -> set[str]:
    """The columns a filter reads (to evaluate it on just those)."""
    if isinstance(node, Cond):
        return {node.column}
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
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise FilterError(f"cannot write {type(value).__name__} as SQL")  # unreachable after parsing


def to_sql(node: Node) -> str | None:
    """The LanceDB `where` string, or None when nothing is filtered."""
    if node == TRUE:
        return None
    return _sql(node)


def _sql(node: Node) -> str:
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


def _arrow(node: Node) -> pc.Expression:
    if isinstance(node, Cond):
        f = pc.field(node.column)
        if node.op in LIST_OPS:
            in_set = f.isin(pa.array(list(node.value))) if node.value else pc.scalar(False)
            return in_set if node.op == "$in" else (~in_set & f.is_valid())
        if node.value is None:
            return f.is_valid() if node.op == "$ne" else f.is_null()
        v = pc.scalar(node.value)
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
