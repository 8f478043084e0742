"""Reading the app database into Arrow batches, plus the DuckDB casts that type them.

Fast paths, because row-by-row Python conversion is what costs time:
- ADBC (`adbc-driver-sqlite`, `adbc-driver-postgresql`): the driver turns rows into Arrow in C
  (PostgreSQL through `COPY ... (FORMAT binary)`), no Python object per row or value. SQLite types
  each column from its first rows, so a column that starts with NULLs would be typed int64 and fail
  on its first text: the query turns NULL text into a NUL character and NULL reals into infinity
  (never values of the app), and `typed_select` turns them back while casting to the spec's types.
- without ADBC (or `native=False`): PostgreSQL `COPY (SELECT ...) TO STDOUT (FORMAT csv)` streamed
  into pyarrow's CSV reader; SQLite and other databases through DBAPI `fetchmany` chunks.
`Prefetch` reads in a background thread (the drivers release the GIL) while the warehouse writes
the previous batches, so reading and writing use both cores; memory stays bounded by its queue.
"""

from __future__ import annotations

import datetime as dt
import io
import queue
import threading
from collections.abc import Iterator, Sequence
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
SQLITE_BATCH_ROWS = 65_536
PREFETCH_BATCHES = 4
DUCKDB_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "bool": "BOOLEAN",
    "ts": "TIMESTAMP",
    "date": "DATE",
    "json": "VARCHAR",
}
_TEXT = ("str", "json", "ts", "date")
_PLACEHOLDER = "\x00?"


def batch_schema(spec: TableSpec) -> pa.Schema:
    """The Arrow schema of a table's batches (all nullable: NOT NULL is the source's business)."""
    return pa.schema([pa.field(c.name, c.arrow_type) for c in spec.columns])


def typed_select(spec: TableSpec, relation: str, sentinels: bool) -> str:
    """DuckDB `SELECT` of `relation` cast to the spec's types (undoing the SQLite NULL sentinels)."""
    cols = []
    for c in spec.columns:
        expr = f'"{c.name}"'
        if sentinels and c.type in _TEXT:
            expr = f"NULLIF(CAST({expr} AS VARCHAR), chr(0))"
        elif sentinels and c.type == "float":
            expr = f"NULLIF(CAST({expr} AS DOUBLE), CAST('inf' AS DOUBLE))"
        cols.append(f'CAST({expr} AS {DUCKDB_TYPES[c.type]}) AS "{c.name}"')
    return f"SELECT {', '.join(cols)} FROM {relation}"


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
    """The app database, opened once for a whole import.

    `native` (default: when the ADBC driver of the dialect is installed) reads through ADBC;
    `sentinels` tells `typed_select` whether NULLs arrive as sentinels (ADBC SQLite).
    """

    def __init__(self, url: str, native: bool | None = None) -> None:
        self.engine = sa.create_engine(database_url(url), poolclass=sa.pool.NullPool)
        self.dialect = self.engine.dialect.name
        available = _adbc_module(self.dialect) is not None
        self.native = available if native is None else (native and available)
        self.sentinels = self.native and self.dialect == "sqlite"
        self._adbc: Any = None

    def close(self) -> None:
        if self._adbc is not None:
            self._adbc.close()
            self._adbc = None
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
        """The plan's rows as Arrow batches: the spec's schema, or (native) what `typed_select` casts."""
        if self.native:
            yield from self._read_adbc(plan)
        elif self.dialect == "postgresql":
            yield from self._read_postgres(plan)
        else:
            yield from self._read_dbapi(plan)

    def _adbc_connection(self) -> Any:
        if self._adbc is None:
            module = _adbc_module(self.dialect)
            url = self.engine.url
            if self.dialect == "sqlite":
                self._adbc = module.connect(url.database or ":memory:")
            else:
                uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
                self._adbc = module.connect(uri)
        return self._adbc

    def _read_adbc(self, plan: Plan) -> Iterator[pa.RecordBatch]:
        spec = plan.spec
        where, params = where_clause(plan, _PLACEHOLDER)
        for value in params:
            where = where.replace(_PLACEHOLDER, _literal(value, self.dialect), 1)
        if self.dialect == "sqlite":
            cols = []
            for c in spec.columns:
                if c.type in _TEXT:
                    cols.append(f'ifnull(CAST("{c.name}" AS TEXT), char(0)) AS "{c.name}"')
                elif c.type == "float":
                    cols.append(f'ifnull(CAST("{c.name}" AS REAL), 9e999) AS "{c.name}"')
                else:
                    cols.append(f'"{c.name}"')
            sql = f'SELECT {", ".join(cols)} FROM "{spec.name}"{where}'
        else:
            sql = self._select(spec, cast_json=True) + where
        try:
            cur = self._adbc_connection().cursor()
            if self.dialect == "sqlite":
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(SQLITE_BATCH_ROWS)})
            try:
                cur.execute(sql)
                yield from cur.fetch_record_batch()
            finally:
                cur.close()
        except Exception as err:  # noqa: BLE001 - the drivers raise their own error classes
            password = self.engine.url.password
            text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            if password:
                text = text.replace(str(password), "***")
            raise ImportError_(
                f"reading source table {spec.name!r} ({self.dialect}) failed: {text}; nothing was imported"
            ) from None

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


def _adbc_module(dialect: str) -> Any:
    """The ADBC DBAPI module for a dialect, or None when it is not installed."""
    try:
        if dialect == "sqlite":
            import adbc_driver_sqlite.dbapi as module
        elif dialect == "postgresql":
            import adbc_driver_postgresql.dbapi as module
        else:
            return None
    except ImportError:
        return None
    return module


def _literal(value: Any, dialect: str) -> str:
    """A SQL literal for a plan's own values (dates, timestamps, ints: never user text)."""
    if isinstance(value, bool) or not isinstance(value, int | dt.date):
        raise TypeError(f"unexpected filter value {value!r}")
    if isinstance(value, int):
        return str(int(value))
    text = _sqlite_param(value)
    if dialect == "sqlite":
        return f"'{text}'"
    kind = "TIMESTAMP" if isinstance(value, dt.datetime) else "DATE"
    return f"{kind} '{value.isoformat(sep=' ') if isinstance(value, dt.datetime) else text}'"


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


class Prefetch:
    """Reads the plans' tables in order in a background thread, at most `depth` batches ahead.

    `tables()` yields each plan with a batch reader the warehouse consumes; a source error is
    raised in the consumer's thread (so the transaction rolls back), and `close()` stops the reader.
    """

    def __init__(self, reader: SourceReader, plans: Sequence[Plan], depth: int = PREFETCH_BATCHES) -> None:
        self._plans = list(plans)
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(reader,), name="import-prefetch", daemon=True)
        self._thread.start()

    def _put(self, item: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, reader: SourceReader) -> None:
        try:
            for i, plan in enumerate(self._plans):
                batches = reader.read(plan)
                first = next(batches, None)
                schema = first.schema if first is not None else batch_schema(plan.spec)
                if not self._put(("schema", i, schema)):
                    return
                if first is not None and first.num_rows and not self._put(("batch", i, first)):
                    return
                for batch in batches:
                    if batch.num_rows and not self._put(("batch", i, batch)):
                        return
                if not self._put(("end", i, None)):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, which raises it
            self._put(("error", -1, err))

    def _get(self, index: int) -> tuple[str, Any]:
        kind, i, value = self._queue.get()
        if kind == "error":
            raise value
        if i != index:
            raise RuntimeError(f"prefetch out of step: got table {i} while reading table {index}")
        return kind, value

    def tables(self) -> Iterator[tuple[Plan, pa.RecordBatchReader]]:
        for index, plan in enumerate(self._plans):
            kind, schema = self._get(index)
            done = threading.Event()

            def batches(index: int = index, done: threading.Event = done) -> Iterator[pa.RecordBatch]:
                while True:
                    kind, value = self._get(index)
                    if kind == "end":
                        done.set()
                        return
                    yield value

            gen = batches()
            yield plan, pa.RecordBatchReader.from_batches(schema, gen)
            if not done.is_set():
                for _ in gen:  # the consumer stopped early: skip to the next table
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
