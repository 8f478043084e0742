"""Reading the app database into Arrow batches through SQLAlchemy.

Two fast paths behind one interface, because row-by-row Python conversion is what costs time:
- PostgreSQL: `COPY (SELECT ...) TO STDOUT (FORMAT csv)` streamed into pyarrow's CSV reader, so rows
  never become Python objects;
- SQLite (and any other SQLAlchemy database): DBAPI `fetchmany` in chunks, each column turned into
  an Arrow array at once (SQLite keeps timestamps as ISO text: Arrow parses them).
Memory stays flat: at most one chunk is held at a time.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa

from data_gcp.applicative_import.spec import (
    ImportError_,
    Plan,
    check_columns,
    sqlalchemy_family,
    where_clause,
)
from data_gcp.applicative_schema import TableSpec, database_url

CHUNK_ROWS = 100_000


def batch_schema(spec: TableSpec) -> pa.Schema:
    """The Arrow schema of a table's batches (all nullable: NOT NULL is the source's business)."""
    return pa.schema([pa.field(c.name, c.arrow_type) for c in spec.columns])


class _CopyStream(io.RawIOBase):
    """A file-like view of a psycopg COPY TO STDOUT, for pyarrow's streaming CSV reader.

    psycopg yields one row per block: rows are gathered until the reader's buffer is full, so the
    Python cost per row is one loop step.
    """

    def __init__(self, copy: Any) -> None:
        self._blocks = iter(copy)
        self._buf = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        want = len(b)
        if len(self._buf) - self._pos < want:
            parts = [self._buf[self._pos :]]
            size = len(parts[0])
            for block in self._blocks:
                parts.append(block)
                size += len(block)
                if size >= want:
                    break
            self._buf, self._pos = b"".join(parts), 0
        n = min(want, len(self._buf) - self._pos)
        b[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n


class SourceReader:
    """The app database, opened once for a whole import."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(database_url(url), poolclass=sa.pool.NullPool)
        self.dialect = self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def check(self, specs: tuple[TableSpec, ...]) -> tuple[TableSpec, ...]:
        """Every table present with the expected columns and types, before anything is read.

        Returns the tables to import: the sandbox's planted truth is skipped when the source is not
        a sandbox (a copy of the real app database has none); any app table missing is an error.
        """
        try:
            inspector = sa.inspect(self.engine)
            present = set(inspector.get_table_names())
        except sa.exc.OperationalError as err:
            first_line = str(err.orig or err).strip().splitlines()[0]
            host = self.engine.url.host or self.engine.url.database
            raise ImportError_(
                f"cannot read the app database ({self.dialect} at {host}): {first_line}; "
                "check --database-url / DATA_GCP_SOURCE_DATABASE_URL and that the server is up"
            ) from None
        kept = []
        for spec in specs:
            if spec.local_only and spec.name not in present:
                continue
            found = None
            if spec.name in present:
                found = {c["name"]: sqlalchemy_family(c["type"]) for c in inspector.get_columns(spec.name)}
            check_columns(spec, found)
            kept.append(spec)
        return tuple(kept)

    def read(self, plan: Plan) -> Iterator[pa.RecordBatch]:
        """The plan's rows as Arrow batches with the spec's schema."""
        if self.dialect == "postgresql":
            yield from self._read_postgres(plan)
        else:
            yield from self._read_dbapi(plan)

    def _select(self, spec: TableSpec, cast_json: bool = False) -> str:
        cols = ", ".join(
            f'"{c.name}"::text' if cast_json and c.type == "json" else f'"{c.name}"' for c in spec.columns
        )
        return f'SELECT {cols} FROM "{spec.name}"'

    def _read_dbapi(self, plan: Plan) -> Iterator[pa.RecordBatch]:
        spec = plan.spec
        schema = batch_schema(spec)
        where, params = where_clause(plan, "?" if self.dialect == "sqlite" else "%s")
        params = [_sqlite_param(p) for p in params] if self.dialect == "sqlite" else params
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(self._select(spec) + where, params)
            while True:
                rows = cur.fetchmany(CHUNK_ROWS)
                if not rows:
                    break
                columns = list(zip(*rows, strict=True))
                arrays = [_to_arrow(col, field.type) for col, field in zip(columns, schema, strict=True)]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            raw.close()

    def _read_postgres(self, plan: Plan) -> Iterator[pa.RecordBatch]:
        spec = plan.spec
        schema = batch_schema(spec)
        where, params = where_clause(plan, "%s")
        sql = f"COPY ({self._select(spec, cast_json=True)}{where}) TO STDOUT WITH (FORMAT csv)"
        convert = pcsv.ConvertOptions(
            column_types=schema,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
            true_values=["t"],
            false_values=["f"],
        )
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(sql, params) as copy:
                stream = io.BufferedReader(_CopyStream(copy), 1 << 20)
                if not stream.peek(1):
                    return  # no rows: pyarrow refuses an empty CSV
                reader = pcsv.open_csv(
                    stream,
                    read_options=pcsv.ReadOptions(
                        column_names=schema.names, block_size=16 << 20, use_threads=True
                    ),
                    parse_options=pcsv.ParseOptions(newlines_in_values=True),
                    convert_options=convert,
                )
                yield from reader
        finally:
            raw.close()


def _sqlite_param(value: Any) -> Any:
    """SQLite compares the ISO text it stores: pass dates and timestamps as such text."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _to_arrow(values: tuple, typ: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        sample = next((v for v in values if v is not None), None)
        if isinstance(sample, str):
            strings = pa.array(values, pa.string())
            if pa.types.is_date(typ):
                return strings.cast(typ)
            return strings.cast(pa.timestamp("us"))
        return pa.array(values, typ)
    if pa.types.is_boolean(typ):
        return pa.array([None if v is None else bool(v) for v in values], typ)
    return pa.array(values, typ)
