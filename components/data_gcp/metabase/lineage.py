"""Card -> warehouse table dependencies: parse a native card's SQL with sqlglot, read a GUI question's
source table. Why sqlglot: it parses BigQuery SQL (backticked `project.dataset.table`, CTEs) without a
warehouse connection; Metabase template syntax is removed first (`[[ optional ]]` clauses keep their
SQL, `{{variable}}` becomes a literal, `{{#123-name}}` is a reference to card 123).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPTIONAL = re.compile(r"\[\[|\]\]")
_CARD_REF = re.compile(r"\{\{\s*#(\d+)(?:-[^}]*)?\s*\}\}")
_SNIPPET = re.compile(r"\{\{\s*snippet:[^}]*\}\}")
_VARIABLE = re.compile(r"\{\{[^}]*\}\}")


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
