"""Card -> warehouse table dependencies: parse a native card's SQL with sqlglot, read a GUI question's
source table. Why sqlglot: it parses BigQuery SQL (backticked `project.dataset.table`, CTEs) without a
warehouse connection; Metabase template syntax is removed first (`[[ optional ]]` clauses keep their
SQL, `{{variable}}` becomes a literal, `{{#123-name}}` is a reference to card 123).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_OPTIONAL = re.compile(r"\[\[|\]\]")
_CARD_REF = re.compile(r"\{\{\s*#(\d+)(?:-[^}]*)?\s*\}\}")
_SNIPPET = re.compile(r"\{\{\s*snippet:[^}]*\}\}")
_VARIABLE = re.compile(r"\{\{[^}]*\}\}")


def card_source(card: dict[str, Any]) -> tuple[str, str | int | None]:
    """("native", SQL) or ("query", source table id or `card__<id>`) of a card, whatever its format:

    - MBQL 5 (Metabase >= 0.57): `dataset_query.stages[0]` is `{"lib/type": "mbql.stage/native",
      "native": "<sql>"}` or `{"lib/type": "mbql.stage/mbql", "source-table": id | "source-card": id}`;
    - legacy MBQL: `dataset_query.type` native (`native.query`) or query (`query.source-table`);
    - `legacy_query` (the legacy form Metabase >= 0.57 also sends, which the original platform read).
    ("unknown", None) when none of them is there.
    """
    for query in (card.get("dataset_query"), card.get("legacy_query")):
        if not isinstance(query, dict):
            continue
        stages = query.get("stages")
        if isinstance(stages, list) and stages and isinstance(stages[0], dict):
            stage = stages[0]
            native = stage.get("native")
            if str(stage.get("lib/type", "")).endswith("native") or native is not None:
                sql = native.get("query") if isinstance(native, dict) else native
                return "native", sql if isinstance(sql, str) else ""
            if stage.get("source-card") is not None:
                return "query", f"card__{stage['source-card']}"
            return "query", stage.get("source-table", card.get("table_id"))
        if query.get("type") == "native":
            return "native", (query.get("native") or {}).get("query") or ""
        if query.get("type") == "query":
            return "query", (query.get("query") or {}).get("source-table", card.get("table_id"))
    if card.get("table_id") is not None:
        return "query", card.get("table_id")
    return "unknown", None


@dataclass(frozen=True)
class Dependency:
    kind: str  # "table" or "card"
    schema_name: str | None = None
    table_name: str | None = None
    project: str | None = None
    card_id: int | None = None


def native_dependencies(sql: str, dialect: str = "bigquery") -> tuple[list[Dependency], str | None]:
    """(dependencies, parse error or None) of a native query; CTE names are not tables."""
    import sqlglot
    from sqlglot import exp

    deps: list[Dependency] = [Dependency("card", card_id=int(m)) for m in _CARD_REF.findall(sql)]
    text = _CARD_REF.sub(lambda m: f"__metabase_card_{m.group(1)}", sql)
    text = _VARIABLE.sub("NULL", _SNIPPET.sub("", _OPTIONAL.sub("", text)))
    try:
        statements = sqlglot.parse(text, read=dialect)
    except sqlglot.errors.SqlglotError as err:
        return deps, str(err).splitlines()[0][:300]
    seen = set()
    for statement in statements:
        if statement is None:
            continue
        ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
        for table in statement.find_all(exp.Table):
            name = table.name
            if not name or name in ctes or name.startswith("__metabase_card_"):
                continue
            key = (table.catalog or None, table.db or None, name)
            if key in seen:
                continue
            seen.add(key)
            deps.append(Dependency("table", schema_name=key[1], table_name=name, project=key[0]))
    return deps, None
