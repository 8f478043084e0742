"""Writing and reading the synthetic app database (SQLite file or PostgreSQL), Arrow in, Arrow out.

Why raw DBAPI calls under SQLAlchemy: the engine gives us URL parsing and one code path for both
databases, while bulk writes need the fast native paths (sqlite3 `executemany`, PostgreSQL `COPY`).
Everything a run writes happens in one transaction: a failed generation leaves nothing behind.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import sqlalchemy as sa

from data_gcp.applicative_schema import (
    POSTGRES_TYPES,
    SQLITE_TYPES,
    TABLES,
    arrow_schema,
    database_url,
    table_spec,
)
from data_gcp.config import DataGcpError

META_TABLE = "sandbox_meta"


class SandboxError(DataGcpError):
    """The sandbox database is missing or not in the expected state; the message says what to run."""


def _q(name: str) -> str:
    return f'"{name}"'


class SourceDB:
    """One open connection and transaction on the sandbox database."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(database_url(url), poolclass=sa.pool.NullPool)
        self.dialect = self.engine.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise SandboxError(
                f"unsupported sandbox database {self.dialect!r}: use sqlite:/// or postgresql://"
            )
        try:
            self.raw = self.engine.raw_connection()
        except Exception as err:  # the URL may hold a password: name only the dialect
            raise SandboxError(
                f"cannot connect to the sandbox {self.dialect} database: {type(err).__name__}"
            ) from None
        if self.dialect == "sqlite":
            self.raw.execute("PRAGMA journal_mode=WAL")
            self.raw.execute("PRAGMA synchronous=OFF")

    # --- lifecycle -------------------------------------------------------------------------
    def commit(self) -> None:
        self.raw.commit()

    def close(self) -> None:
        try:
            self.raw.close()
        finally:
            self.engine.dispose()

    def __enter__(self) -> SourceDB:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None:
            self.raw.rollback()
        self.close()

    # --- schema ----------------------------------------------------------------------------
    def create_schema(self) -> None:
        """Drop and create every table of the spec plus the sandbox's own meta table."""
        types = SQLITE_TYPES if self.dialect == "sqlite" else POSTGRES_TYPES
        cur = self.raw.cursor()
        for spec in (*TABLES, None):
            name = spec.name if spec else META_TABLE
            cur.execute(f"DROP TABLE IF EXISTS {_q(name)}")
        for spec in TABLES:
            cols = [f"{_q(c.name)} {types[c.type]}{'' if c.nullable else ' NOT NULL'}" for c in spec.columns]
            if spec.primary_key:
                cols.append(f"PRIMARY KEY ({', '.join(_q(k) for k in spec.primary_key)})")
            cur.execute(f"CREATE TABLE {_q(spec.name)} ({', '.join(cols)})")
            for col in spec.indexes:
                cur.execute(f"CREATE INDEX {_q(f'ix_{spec.name}_{col}')} ON {_q(spec.name)} ({_q(col)})")
        cur.execute(f'CREATE TABLE {_q(META_TABLE)} ("key" TEXT PRIMARY KEY, "value" TEXT NOT NULL)')

    def has_schema(self) -> bool:
        return sa.inspect(self.engine).has_table(META_TABLE)

    # --- meta ------------------------------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        return dict(self.fetch(f'SELECT "key", "value" FROM {_q(META_TABLE)}'))

    def set_meta(self, values: dict[str, Any]) -> None:
        cur = self.raw.cursor()
        p = "?" if self.dialect == "sqlite" else "%s"
        for key, value in values.items():
            cur.execute(f'DELETE FROM {_q(META_TABLE)} WHERE "key" = {p}', (key,))
            cur.execute(f'INSERT INTO {_q(META_TABLE)} ("key", "value") VALUES ({p}, {p})', (key, str(value)))

    # --- reads -----------------------------------------------------------------------------
    def fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        cur = self.raw.cursor()
        cur.execute(sql if self.dialect == "sqlite" else sql.replace("?", "%s"), params)
        return cur.fetchall()

    # --- writes ----------------------------------------------------------------------------
    def conform(self, table: str, data: pa.Table) -> pa.Table:
        """The rows with the table's columns, order and Arrow types (missing columns as NULL)."""
        schema = arrow_schema(table_spec(table))
        if data.schema.equals(schema):
            return data
        missing = [n for n in schema.names if n not in data.column_names]
        for name in missing:
            data = data.append_column(name, pa.nulls(data.num_rows, schema.field(name).type))
        return data.select(schema.names).cast(schema)

    def _sqlite_rows(self, data: pa.Table) -> list[tuple]:
        cols = []
        for field, col in zip(data.schema, data.columns, strict=True):
            if pa.types.is_timestamp(field.type):
                col = col.cast(pa.timestamp("s")).cast(pa.string())
            elif pa.types.is_date(field.type):
                col = col.cast(pa.string())
            elif pa.types.is_boolean(field.type):
                col = col.cast(pa.int8())
            cols.append(col.to_pylist())
        return list(zip(*cols, strict=True))

    def insert(self, table: str, data: pa.Table) -> int:
        """Append rows (columns by name; missing nullable columns become NULL)."""
        data = self.conform(table, data)
        if not data.num_rows:
            return 0
        cols = ", ".join(_q(c) for c in data.column_names)
        if self.dialect == "sqlite":
            marks = ", ".join("?" * data.num_columns)
            self.raw.executemany(
                f"INSERT INTO {_q(table)} ({cols}) VALUES ({marks})", self._sqlite_rows(data)
            )
        else:
            self._copy(table, cols, data)
        return data.num_rows

    def _copy(self, table: str, cols: str, data: pa.Table) -> None:
        for i, col in enumerate(data.columns):
            if pa.types.is_timestamp(col.type):
                data = data.set_column(i, data.field(i).name, col.cast(pa.timestamp("s")).cast(pa.string()))
        buf = io.BytesIO()
        pcsv.write_csv(data, buf, pcsv.WriteOptions(include_header=False))
        cur = self.raw.cursor()
        with cur.copy(f"COPY {_q(table)} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buf.getvalue())

    def update(self, table: str, data: pa.Table) -> int:
        """Set the given columns of existing rows, matched on the table's primary key."""
        spec = table_spec(table)
        if not data.num_rows:
            return 0
        keys = list(spec.primary_key)
        sets = [c for c in data.column_names if c not in keys]
        schema = pa.schema([pa.field(c, spec.column(c).arrow_type) for c in data.column_names])
        data = data.cast(schema)
        if self.dialect == "sqlite":
            rows = self._sqlite_rows(data.select(sets + keys))
            assign = ", ".join(f"{_q(c)} = ?" for c in sets)
            where = " AND ".join(f"{_q(k)} = ?" for k in keys)
            self.raw.executemany(f"UPDATE {_q(table)} SET {assign} WHERE {where}", rows)
        else:
            tmp = f"_upd_{table}"
            cur = self.raw.cursor()
            cur.execute(f"CREATE TEMP TABLE {_q(tmp)} (LIKE {_q(table)} INCLUDING DEFAULTS) ON COMMIT DROP")
            cur.execute(f"TRUNCATE {_q(tmp)}")
            for c in spec.columns:
                if c.name not in data.column_names and not c.nullable:
                    cur.execute(f"ALTER TABLE {_q(tmp)} ALTER COLUMN {_q(c.name)} DROP NOT NULL")
            self._copy(tmp, ", ".join(_q(c) for c in data.column_names), data)
            assign = ", ".join(f"{_q(c)} = s.{_q(c)}" for c in sets)
            where = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in keys)
            cur.execute(f"UPDATE {_q(table)} t SET {assign} FROM {_q(tmp)} s WHERE {where}")
            cur.execute(f"DROP TABLE {_q(tmp)}")
        return data.num_rows


def timestamps_to_strings(col: pa.Array) -> pa.Array:
    """Second-resolution text, the form timestamps take in the SQLite file."""
    return pc.cast(pc.cast(col, pa.timestamp("s")), pa.string())
