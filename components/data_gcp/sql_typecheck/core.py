"""BigQuery's type rules, checked offline on every compiled dbt node (models, snapshots, tests).

Why: DuckDB (the local engine) and BigQuery emulators compare a STRING with an INT64 without a word,
BigQuery refuses the query ("No matching signature for operator ="). dbt compiles for the prod target
without a connection; sqlglot annotates each node's expressions with types, starting from the
declared tables (connector and app database TableSpecs, via `data_gcp.table_catalog`) and the models
already checked (their enforced contract when they have one, else the types their SQL yields), in
dependency order. A pair of types BigQuery has no common supertype for, met where BigQuery needs one
(a comparison or join condition, `IN`, `BETWEEN`, `COALESCE`/`IFNULL`/`IF`/`CASE` branches, `UNION`
columns, arithmetic, string functions), is a problem. So is an `*_id` column typed two ways across
the models (`id_type_problems`), and a model yielding other types than its enforced contract declares. Unknown types are never reported: the check
misses what sqlglot cannot type, it does not guess.
"""

from __future__ import annotations

import graphlib
import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from data_gcp.config import DataGcpError, Settings

T = exp.DataType.Type

# sqlglot type -> BigQuery type family (types outside these are not checked)
_FAMILY: dict[Any, str] = {}
for _t in (T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.UTINYINT, T.USMALLINT, T.UINT, T.UBIGINT):
    _FAMILY[_t] = "INT64"
for _t in (T.FLOAT, T.DOUBLE):
    _FAMILY[_t] = "FLOAT64"
for _t in (T.DECIMAL, T.BIGDECIMAL):
    _FAMILY[_t] = "NUMERIC"
for _t in (T.VARCHAR, T.TEXT, T.CHAR, T.NVARCHAR, T.NCHAR):
    _FAMILY[_t] = "STRING"
_FAMILY.update(
    {
        T.BOOLEAN: "BOOL",
        T.DATE: "DATE",
        T.DATETIME: "DATETIME",
        T.TIMESTAMP: "DATETIME",  # sqlglot's BigQuery dialect reads DATETIME as TIMESTAMP (naive)
        T.TIMESTAMPTZ: "TIMESTAMP",
        T.TIMESTAMPLTZ: "TIMESTAMP",
        T.TIME: "TIME",
        T.BINARY: "BYTES",
        T.VARBINARY: "BYTES",
        T.JSON: "JSON",
        T.GEOGRAPHY: "GEOGRAPHY",
        T.INTERVAL: "INTERVAL",
    }
)
_NUMERIC = {"INT64", "FLOAT64", "NUMERIC"}
# BigQuery's supertypes beyond the numeric ones: a DATE coerces to DATETIME
_COERCE = {frozenset({"DATE", "DATETIME"})}
# a string literal coerces to these where the other side has the type (`d >= '2024-01-01'`)
_LITERAL_TARGETS = {"DATE", "DATETIME", "TIMESTAMP", "TIME", "STRING", "BYTES"}


@dataclass(frozen=True)
class TypeProblem:
    node: str  # dbt unique id
    message: str
    sql: str  # the offending expression, as BigQuery SQL (shortened)

    def __str__(self) -> str:
        return f"{self.node}: {self.message}: {self.sql}"


@dataclass
class TypeReport:
    checked: int = 0
    problems: list[TypeProblem] = field(default_factory=list)
    unparsed: dict[str, str] = field(default_factory=dict)  # node -> why sqlglot could not check it
    schemas: dict[str, dict[str, str]] = field(default_factory=dict)  # relation -> column -> type

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unparsed


def family(node: exp.Expression | None) -> str | None:
    """The BigQuery family of an annotated expression's type, or None when unknown or untyped NULL."""
    if node is None:
        return None
    dtype = node.type
    if dtype is None or dtype.this in (T.UNKNOWN, T.NULL):
        return None
    if isinstance(_unwrap(node), exp.Null):  # an untyped NULL coerces to any type
        return None
    return _FAMILY.get(dtype.this)


def _unwrap(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Paren, exp.Alias)):
        node = node.this
    return node


def _literal_string(node: exp.Expression) -> bool:
    inner = _unwrap(node)
    return isinstance(inner, exp.Literal) and inner.is_string


def compatible(a: exp.Expression, b: exp.Expression) -> bool:
    """Whether BigQuery finds a common type for two expressions (unknown types pass)."""
    fa, fb = family(a), family(b)
    if fa is None or fb is None or fa == fb:
        return True
    if fa in _NUMERIC and fb in _NUMERIC:
        return True
    if frozenset({fa, fb}) in _COERCE:
        return True
    if _literal_string(a) and fb in _LITERAL_TARGETS:
        return True
    return _literal_string(b) and fa in _LITERAL_TARGETS


def _short(node: exp.Expression) -> str:
    text = " ".join(node.sql(dialect="bigquery").split())
    return text if len(text) <= 160 else text[:157] + "..."


def _pairs(values: list[exp.Expression]) -> Iterable[tuple[exp.Expression, exp.Expression]]:
    typed = [v for v in values if family(v) is not None]
    for other in typed[1:]:
        yield typed[0], other


def _string_args(node: exp.Expression) -> list[exp.Expression]:
    """The arguments BigQuery requires to be STRING (or BYTES) in string functions and `||`."""
    if isinstance(node, (exp.DPipe, exp.Concat)):
        return [node.this, node.expression] if isinstance(node, exp.DPipe) else list(node.expressions)
    if isinstance(
        node, (exp.Lower, exp.Upper, exp.Length, exp.Substring, exp.StartsWith, exp.RegexpLike, exp.Trim)
    ):
        return [node.this]
    return []


def node_problems(tree: exp.Expression, node_id: str) -> list[TypeProblem]:
    """Every place in an annotated tree where BigQuery would find no matching signature."""
    problems: list[TypeProblem] = []

    def report(where: exp.Expression, what: str) -> None:
        problems.append(TypeProblem(node_id, what, _short(where)))

    for node in tree.walk():
        if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ)):
            if not compatible(node.this, node.expression):
                report(node, f"compares {family(node.this)} with {family(node.expression)}")
        elif isinstance(node, exp.In):
            query = node.args.get("query")
            values = list(node.expressions)
            if query is not None:
                select = query.this if isinstance(query, exp.Subquery) else query
                if isinstance(select, exp.Select) and len(select.selects) == 1:
                    values = [select.selects[0]]
            for value in values:
                if not compatible(node.this, value):
                    report(node, f"IN compares {family(node.this)} with {family(value)}")
                    break
        elif isinstance(node, exp.Between):
            for bound in (node.args.get("low"), node.args.get("high")):
                if bound is not None and not compatible(node.this, bound):
                    report(node, f"BETWEEN compares {family(node.this)} with {family(bound)}")
                    break
        elif isinstance(node, (exp.Coalesce, exp.If, exp.Case)):
            if isinstance(node, exp.Coalesce):
                values = [node.this, *node.expressions]
                name = "COALESCE"
            elif isinstance(node, exp.If):
                values = [node.args.get("true"), node.args.get("false")]
                name = "IF"
            else:
                values = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")]
                name = "CASE"
            values = [v for v in values if v is not None]
            for first, other in _pairs(values):
                if not compatible(first, other):
                    report(node, f"{name} mixes {family(first)} and {family(other)}")
                    break
        elif isinstance(node, exp.Union):
            left, right = node.left, node.right
            if isinstance(left, exp.Select) and isinstance(right, exp.Select):
                for i, (a, b) in enumerate(zip(left.selects, right.selects, strict=False)):
                    if not compatible(a, b):
                        report(
                            node, f"UNION column {i + 1} ({a.alias_or_name}) is {family(a)} then {family(b)}"
                        )
        elif isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
            for side in (node.this, node.expression):
                if family(side) in ("STRING", "BOOL", "BYTES", "JSON"):
                    report(node, f"arithmetic on {family(side)}")
                    break
        elif isinstance(node, (exp.Sum, exp.Avg)):
            if family(node.this) not in (None, *_NUMERIC, "INTERVAL"):
                report(node, f"{node.key.upper()} of {family(node.this)}")
        for arg in _string_args(node):
            if family(arg) not in (None, "STRING", "BYTES"):
                report(node, f"string function or || on {family(arg)}")
                break
    return problems


def _bq_type(data_type: str) -> exp.DataType | None:
    try:
        return exp.DataType.build(data_type, dialect="bigquery")
    except Exception:  # a type sqlglot cannot read is left unknown, not guessed
        return None


def _relation_key(node: Mapping[str, Any]) -> tuple[str, str, str]:
    return (node["database"], node["schema"], node.get("alias") or node.get("identifier") or node["name"])


Relation = tuple[str, str, str]  # (project, dataset, table)


def partition_filter_problems(
    tree: exp.Expression, node_id: str, required: Mapping[Relation, str]
) -> list[TypeProblem]:
    """Every read of a table with `require_partition_filter` filters its partition column.

    `tree`: a qualified query (every column names its table's alias). A read passes when the SELECT
    that reads the table compares that column in its WHERE or in the ON of a join, as BigQuery wants
    ("Cannot query over table ... without a filter over column(s) ... that can be used for partition
    elimination"); anything else is a full scan BigQuery refuses at run time.
    """
    problems = []
    for table in tree.find_all(exp.Table):
        column = required.get((table.catalog, table.db, table.name))
        if column is None:
            continue
        alias = table.alias_or_name
        select = table.find_ancestor(exp.Select)
        conditions = [select.args.get("where")] if select is not None else []
        conditions += (
            [j.args.get("on") for j in (select.args.get("joins") or [])] if select is not None else []
        )
        filtered = any(
            c.name == column and c.table in (alias, "")
            for cond in conditions
            if cond is not None
            for c in cond.find_all(exp.Column)
        )
        if not filtered:
            problems.append(
                TypeProblem(
                    node_id,
                    f"full scan of {table.db}.{table.name}: it requires a filter on {column} "
                    "(require_partition_filter; use in_run_days() or a date range)",
                    _short(select or table),
                )
            )
    return problems


def required_partition_filters(
    manifest: Mapping[str, Any], declared: Mapping[str, Any]
) -> dict[Relation, str]:
    """Relation -> partition column of the tables BigQuery refuses to scan whole: the declared
    tables with `require_partition_filter` (dbt sources) and the models configured with it."""
    out: dict[Relation, str] = {}
    for source in manifest["sources"].values():
        key = _relation_key(source)
        for name, table in declared.items():
            dataset, ident = name.split(".")
            if ident == key[2] and (key[1] == dataset or key[1].startswith(dataset + "_")):
                if getattr(table, "require_partition_filter", False) and table.partition:
                    out[key] = table.partition
    for node in manifest["nodes"].values():
        config = node.get("config") or {}
        partition = config.get("partition_by") or {}
        if node["resource_type"] == "model" and config.get("require_partition_filter") and partition:
            out[_relation_key(node)] = partition["field"]
    return out


def check_manifest(
    manifest: Mapping[str, Any],
    source_columns: Mapping[tuple[str, str, str], Mapping[str, str]],
    partition_filters: Mapping[Relation, str] | None = None,
) -> TypeReport:
    """Type-check every compiled model, snapshot and data test of a prod-compiled manifest.

    `source_columns`: (project, dataset, table) -> {column: BigQuery type} of every source relation.
    `partition_filters`: relation -> partition column of the tables every query must filter
    (`required_partition_filters`): a read without that filter is a problem too.
    """
    report = TypeReport()
    schema = MappingSchema(dialect="bigquery", normalize=False)
    for key, columns in source_columns.items():
        schema.add_table(exp.table_(key[2], db=key[1], catalog=key[0]), dict(columns), dialect="bigquery")
        report.schemas[".".join(key)] = dict(columns)
    nodes = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "snapshot", "test") and n.get("compiled_code")
    }
    order = graphlib.TopologicalSorter(
        {uid: [d for d in n["depends_on"]["nodes"] if d in nodes] for uid, n in nodes.items()}
    )
    for uid in order.static_order():
        node = nodes[uid]
        try:
            tree = sqlglot.parse_one(node["compiled_code"], read="bigquery")
            tree = qualify(
                tree,
                schema=schema,
                dialect="bigquery",
                validate_qualify_columns=False,
                identify=False,
                quote_identifiers=False,
            )
            tree = annotate_types(tree, schema=schema, dialect="bigquery")
        except Exception as err:  # noqa: BLE001 - reported per node, the check goes on
            report.unparsed[uid] = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
            continue
        report.checked += 1
        report.problems += node_problems(tree, uid)
        if partition_filters:
            report.problems += partition_filter_problems(tree, uid, partition_filters)
        if node["resource_type"] == "test":
            continue
        columns = _output_columns(tree)
        contract = (node.get("contract") or {}).get("enforced")
        if contract:
            for name, col in (node.get("columns") or {}).items():
                declared = _bq_type(col.get("data_type") or "")
                if declared is None:
                    continue
                inferred = columns.get(name)
                want, got = _FAMILY.get(declared.this), _FAMILY.get(inferred.this) if inferred else None
                if want and got and want != got:
                    # dbt's contract check on BigQuery compares types exactly: the build would fail
                    report.problems.append(
                        TypeProblem(uid, f"contract declares {name} {want}, the SQL yields {got}", name)
                    )
                columns[name] = declared
        if columns:
            key = _relation_key(node)
            schema.add_table(exp.table_(key[2], db=key[1], catalog=key[0]), columns, dialect="bigquery")
            report.schemas[".".join(key)] = {k: v.sql(dialect="bigquery") for k, v in columns.items()}
    report.problems += id_type_problems(manifest, report)
    return report


def id_type_problems(manifest: Mapping[str, Any], report: TypeReport) -> list[TypeProblem]:
    """One type per id across the project: a column named `*_id` has the same type in every model.

    Why: an id typed one way here and another way there is a join BigQuery refuses, waiting for the
    model that brings the two together. Snapshots are left out: they keep their source's types, as
    their tables hold years of history in them.
    """
    seen: dict[str, dict[str, list[str]]] = {}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        columns = report.schemas.get(".".join(_relation_key(node)), {})
        for name, kind in columns.items():
            if name.endswith("_id") and kind.upper() not in ("UNKNOWN", "NULL"):
                seen.setdefault(name, {}).setdefault(kind.upper(), []).append(uid)
    problems = []
    for name, kinds in sorted(seen.items()):
        if len(kinds) > 1:
            fewest = min(kinds, key=lambda k: len(kinds[k]))
            others = ", ".join(f"{k} in {len(v)} model(s)" for k, v in sorted(kinds.items()))
            for uid in sorted(kinds[fewest]):
                problems.append(
                    TypeProblem(uid, f"{name} is {fewest} here, one type per id ({others})", name)
                )
    return problems


def _output_columns(tree: exp.Expression) -> dict[str, exp.DataType]:
    """Name -> type of a query's result columns (a union: its first branch; unknown where untyped)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.left
    if not isinstance(select, exp.Select):
        select = select.find(exp.Select) or select
    out: dict[str, exp.DataType] = {}
    for projection in getattr(select, "selects", []):
        name = projection.alias_or_name
        if not name or name == "*":
            continue
        dtype = projection.type
        out[name] = dtype if dtype is not None else exp.DataType.build("unknown")
    return out


def check_sql(sql: str, tables: Mapping[str, Mapping[str, str]], node_id: str = "sql") -> list[TypeProblem]:
    """One query against `tables` ({"project.dataset.table": {column: BigQuery type}}): its problems."""
    schema = MappingSchema(dialect="bigquery", normalize=False)
    for name, columns in tables.items():
        catalog, db, table = name.split(".")
        schema.add_table(exp.table_(table, db=db, catalog=catalog), dict(columns), dialect="bigquery")
    tree = sqlglot.parse_one(sql, read="bigquery")
    tree = qualify(
        tree, schema=schema, dialect="bigquery", validate_qualify_columns=False, quote_identifiers=False
    )
    return node_problems(annotate_types(tree, schema=schema, dialect="bigquery"), node_id)


def source_columns(
    manifest: Mapping[str, Any], declared: Mapping[str, Any]
) -> dict[tuple[str, str, str], dict[str, str]]:
    """(project, dataset, table) -> {column: BigQuery type} of each dbt source, from the declared tables.

    `declared`: `table_catalog.declared_tables()`. A source no producer declares is an error: its
    types would be unknown, and nothing would create it in a fresh warehouse.
    """
    out: dict[tuple[str, str, str], dict[str, str]] = {}
    missing = []
    for source in manifest["sources"].values():
        key = _relation_key(source)
        match = [
            t
            for name, t in declared.items()
            if name.split(".")[1] == key[2]
            and (key[1] == name.split(".")[0] or key[1].startswith(name.split(".")[0] + "_"))
        ]
        if not match:
            missing.append(f"{source['source_name']}.{source['name']} ({key[1]}.{key[2]})")
            continue
        out[key] = match[0].bigquery_columns()
    if missing:
        raise DataGcpError(
            "dbt sources no producer declares (add a TableSpec to the connector or the import): "
            + ", ".join(sorted(missing))
        )
    return out


def check_project(
    target: str = "prod", target_path: Path | None = None, settings: Settings | None = None
) -> TypeReport:
    """Compile the dbt project for a BigQuery target offline, then type-check every node.

    Raises DbtRunError when the project does not compile (nothing to check then).
    """
    from data_gcp import dbt_runner
    from data_gcp.table_catalog import declared_tables

    with tempfile.TemporaryDirectory(prefix="dbt_typecheck_") as tmp:
        path = target_path or Path(tmp)
        dbt_runner.compile_offline(target=target, target_path=path, settings=settings)
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    declared = declared_tables()
    return check_manifest(
        manifest, source_columns(manifest, declared), required_partition_filters(manifest, declared)
    )
