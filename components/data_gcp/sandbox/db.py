"""Writing and reading the synthetic app database (SQLite file or PostgreSQL), Arrow in, Arrow out.

Why these drivers: bulk writes are what a generation spends its time on, so each database gets its
native bulk path with no Python object per row or value. SQLite goes through ADBC
(`adbc-driver-sqlite`: Arrow batches bound to a prepared statement in C, for inserts and keyed
updates alike), PostgreSQL through psycopg's `COPY`. SQLAlchemy only parses the URL.

All or nothing: everything a run writes is one transaction, and a new SQLite database (`generate`)
is built in a temporary file next to the target, without journal, most indexes created once at the
end, then renamed over the target: a failed generation leaves the previous file as it was.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import Future, ThreadPoolExecutor
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
    Column,
    TableSpec,
    arrow_schema,
    database_url,
    table_spec,
)
from data_gcp.config import DataGcpError

META_TABLE = "sandbox_meta"
# App events recorded but not uploaded yet: they reach `app_event` on the day they arrive (`advance`).
LATE_EVENT_TABLE = "sandbox_late_app_event"
ARRIVAL_COLUMN = "event_arrival_timestamp"
# Indexes kept up to date while a new database is loaded: the rows come a day at a time, in the
# index's order (nearly), so each insert appends to the index; the background writer does that work
# while the next days are simulated instead of a sort of the whole table after the simulation.
IN_ORDER_INDEXES = (
    ("app_event", "event_date"),
    ("pro_app_event", "event_date"),
    ("reco_display_log", "displayed_at"),
)
SQLITE_CACHE_KIB = 256 * 1024  # page cache of the writing connection (SQLite's default is 2 MiB)


class SandboxError(DataGcpError):
    """The sandbox database is missing or not in the expected state; the message says what to run."""


def _q(name: str) -> str:
    return f'"{name}"'


def _late_spec() -> TableSpec:
    events = table_spec("app_event")
    return TableSpec(
        LATE_EVENT_TABLE,
        (*events.columns, Column(ARRIVAL_COLUMN, "ts", nullable=False)),
        (),
        local_only=True,
        indexes=(ARRIVAL_COLUMN,),
    )


# Rows the back office or pros deleted (`removals`), kept where the app keeps nothing: the world's
# arrays are indexed by id - 1 and `World.load` rebuilds them from the live rows plus these, so a
# deletion shifts no id and the deleted venue or offer never gets new activity. Never imported.
REMOVED_TABLES = ("venue", "offer", "stock", "favorite")


def removed_table(name: str) -> str:
    """The local table holding the deleted rows of app table `name` (same columns)."""
    return f"sandbox_removed_{name}"


def _removed_spec(name: str) -> TableSpec:
    spec = table_spec(name)
    return TableSpec(removed_table(name), spec.columns, spec.primary_key, local_only=True)


SANDBOX_TABLES: tuple[TableSpec, ...] = (*TABLES, _late_spec(), *(_removed_spec(n) for n in REMOVED_TABLES))
_SPECS = {t.name: t for t in SANDBOX_TABLES}


def _spec(name: str) -> TableSpec:
    return _SPECS.get(name) or table_spec(name)


class SourceDB:
    """One open connection and transaction on the sandbox database.

    `new=True` (generation): the database is rebuilt from scratch. For SQLite the rows go to a
    temporary file that replaces the target when the block exits without error.
    """

    def __init__(self, url: str, new: bool = False) -> None:
        self.url = url
        self.new = new
        self.engine = sa.create_engine(database_url(url), poolclass=sa.pool.NullPool)
        self.dialect = self.engine.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise SandboxError(
                f"unsupported sandbox database {self.dialect!r}: use sqlite:/// or postgresql://"
            )
        self.path: Path | None = None
        self.building: Path | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-writer")
        self._pending: Future | None = None
        if self.dialect == "sqlite":
            self._open_sqlite()
        else:
            try:
                self.raw = self.engine.raw_connection()
            except Exception as err:  # the URL may hold a password: name only the dialect
                raise SandboxError(
                    f"cannot connect to the sandbox {self.dialect} database: {type(err).__name__}"
                ) from None

    def _open_sqlite(self) -> None:
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        database = self.engine.url.database
        if not database or database == ":memory:":
            raise SandboxError("the sandbox needs a SQLite file: sqlite:///path/to/app.sqlite")
        self.path = Path(database)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        target = self.path
        if self.new:
            self.building = self.path.with_name(f"{self.path.name}.building")
            for stale in _sqlite_files(self.building):
                stale.unlink(missing_ok=True)
            target = self.building
        try:
            self.raw = adbc_sqlite.connect(str(target), autocommit=True)
        except Exception as err:
            raise SandboxError(f"cannot open the sandbox SQLite file {target}: {err}") from None
        cur = self.raw.cursor()
        # a file being built needs no journal (a failure deletes it); a live one keeps WAL
        pragmas = ("journal_mode=OFF", "locking_mode=EXCLUSIVE") if self.new else ("journal_mode=WAL",)
        for pragma in (*pragmas, "synchronous=OFF", f"cache_size=-{SQLITE_CACHE_KIB}", "temp_store=MEMORY"):
            cur.execute(f"PRAGMA {pragma}")
            cur.fetchall()
        cur.execute("BEGIN")
        cur.close()

    # --- lifecycle -------------------------------------------------------------------------
    def commit(self) -> None:
        self.wait()
        if self.dialect == "sqlite":
            self._exec("COMMIT")
            self._exec("BEGIN")
        else:
            self.raw.commit()

    def rollback(self) -> None:
        if self.dialect == "sqlite":
            self._exec("ROLLBACK")
        else:
            self.raw.rollback()

    def close(self) -> None:
        try:
            self._writer.shutdown(wait=True)
            self.raw.close()
        finally:
            self.engine.dispose()

    def __enter__(self) -> SourceDB:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        failure: BaseException | None = None
        try:
            self.wait()
        except BaseException as err:  # a background write failed: nothing is kept
            failure = err
        ok = exc_type is None and failure is None
        try:
            if ok and self.dialect == "sqlite":
                self._exec("COMMIT")
            elif not ok:
                self.rollback()
        finally:
            self.close()
            if self.building is not None:
                if ok:
                    self._publish()
                else:
                    for path in _sqlite_files(self.building):
                        path.unlink(missing_ok=True)
        if failure is not None and exc_type is None:
            raise failure

    # --- background writes -------------------------------------------------------------------
    def submit(self, writes: list[tuple[str, str, list[pa.Table]]]) -> None:
        """Write in the background, in order: ("insert" | "update", table, row batches).

        Why: the database's bulk paths release the GIL, so the rows of the next days are computed
        while these are written. One write job at a time (memory stays bounded); every other call
        on this object waits for it first, so reads and commits see everything submitted.
        """
        self.wait()
        self._pending = self._writer.submit(self._write_all, writes)

    def wait(self) -> None:
        """Block until the background write is done (its error, if any, is raised here)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write_all(self, writes: list[tuple[str, str, list[pa.Table]]]) -> None:
        for op, table, parts in writes:
            if op == "insert":
                self._insert(table, pa.concat_tables([self.conform(table, p) for p in parts]))
            else:
                for part in parts:
                    self._update(table, part)

    def _publish(self) -> None:
        """Put the built file in place of the target (its old WAL would otherwise replay onto it)."""
        assert self.building is not None and self.path is not None
        for path in _sqlite_files(self.path)[1:]:
            path.unlink(missing_ok=True)
        os.replace(self.building, self.path)

    # --- schema ----------------------------------------------------------------------------
    def create_schema(self, indexes: bool = True) -> None:
        """Drop and create every table of the spec plus the sandbox's own tables.

        `indexes=False` leaves the secondary indexes to `create_indexes` (faster bulk loading),
        except those of `IN_ORDER_INDEXES`.
        """
        for spec in (*SANDBOX_TABLES, None):
            name = spec.name if spec else META_TABLE
            self._exec(f"DROP TABLE IF EXISTS {_q(name)}")
        for spec in SANDBOX_TABLES:
            self._create(spec)
        self._exec(f'CREATE TABLE {_q(META_TABLE)} ("key" TEXT PRIMARY KEY, "value" TEXT NOT NULL)')
        if indexes:
            self.create_indexes()
        else:
            for table, col in IN_ORDER_INDEXES:
                self._create_index(table, col)

    def _create(self, spec: TableSpec) -> None:
        types = SQLITE_TYPES if self.dialect == "sqlite" else POSTGRES_TYPES
        cols = [f"{_q(c.name)} {types[c.type]}{'' if c.nullable else ' NOT NULL'}" for c in spec.columns]
        if spec.primary_key:
            cols.append(f"PRIMARY KEY ({', '.join(_q(k) for k in spec.primary_key)})")
        self._exec(f"CREATE TABLE {_q(spec.name)} ({', '.join(cols)})")

    def create_removed_tables(self) -> None:
        """The tables of deleted rows, for a sandbox generated before they existed (`advance`)."""
        for name in REMOVED_TABLES:
            if not self.has_table(removed_table(name)):
                self._create(_removed_spec(name))

    def create_indexes(self) -> None:
        for spec in SANDBOX_TABLES:
            for col in spec.indexes:
                self._create_index(spec.name, col)

    def _create_index(self, table: str, col: str) -> None:
        self._exec(f"CREATE INDEX IF NOT EXISTS {_q(f'ix_{table}_{col}')} ON {_q(table)} ({_q(col)})")

    def has_schema(self) -> bool:
        return self.has_table(META_TABLE)

    def has_table(self, name: str) -> bool:
        if self.dialect == "sqlite":
            return bool(
                self.fetch("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
            )
        return self.fetch("SELECT to_regclass(?)", (name,))[0][0] is not None

    # --- meta ------------------------------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        return dict(self.fetch(f'SELECT "key", "value" FROM {_q(META_TABLE)}'))

    def set_meta(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            self._exec(f'DELETE FROM {_q(META_TABLE)} WHERE "key" = ?', (key,))
            self._exec(f'INSERT INTO {_q(META_TABLE)} ("key", "value") VALUES (?, ?)', (key, str(value)))

    # --- reads -----------------------------------------------------------------------------
    @property
    def float_type(self) -> str:
        """The SQL type of a double on this database (for casts in queries)."""
        return "REAL" if self.dialect == "sqlite" else "DOUBLE PRECISION"

    def text(self, column: str) -> str:
        """SQL reading a column as text, '' for NULL (one Arrow type per column in `fetch_arrow`)."""
        return f"coalesce(CAST({column} AS TEXT), '')"

    def _exec(self, sql: str, params: tuple = ()) -> Any:
        self.wait()
        cur = self.raw.cursor()
        if self.dialect == "sqlite":
            cur.execute(sql, params or None)
        else:
            cur.execute(sql.replace("?", "%s"), params)
        return cur

    def execute(self, sql: str, params: tuple = ()) -> None:
        """A statement without result (`?` placeholders on both databases)."""
        self._exec(sql, params).close()

    def fetch(self, sql: str, params: tuple = ()) -> list[tuple]:
        """A query's rows as tuples of Python values."""
        if self.dialect == "sqlite":
            return list(zip(*self.fetch_columns(sql, params), strict=True))
        cur = self._exec(sql, params)
        try:
            return cur.fetchall()
        finally:
            cur.close()

    def fetch_columns(self, sql: str, params: tuple = ()) -> list[list]:
        """A query's result column by column, as lists of Python values ([] per column if no row).

        Why: on SQLite the driver's `fetchall` converts cell by cell (`as_py`), the slowest read of a
        generation; here the rows come as one Arrow table, converted a whole column at a time (same
        stream, same values, same Python types).
        """
        cur = self._exec(sql, params)
        try:
            if self.dialect == "sqlite":
                return [c.to_pylist() for c in cur.fetch_arrow_table().columns]
            rows = cur.fetchall()
            return [list(c) for c in zip(*rows, strict=True)] or [[] for _ in cur.description]
        finally:
            cur.close()

    def fetch_arrow(self, sql: str, params: tuple = ()) -> pa.Table:
        """A query's rows as Arrow columns (SQLite types each column from its first rows: keep one
        type per column, e.g. `coalesce(text, '')`, epoch seconds for timestamps)."""
        cur = self._exec(sql, params)
        try:
            if self.dialect == "sqlite":
                return cur.fetch_arrow_table()
            names = [d[0] for d in cur.description]
            cols = list(zip(*cur.fetchall(), strict=True)) or [() for _ in names]
            return pa.table({n: pa.array(list(c)) for n, c in zip(names, cols, strict=True)})
        finally:
            cur.close()

    # --- writes ----------------------------------------------------------------------------
    def conform(self, table: str, data: pa.Table) -> pa.Table:
        """The rows with the table's columns, order and Arrow types (missing columns as NULL)."""
        schema = arrow_schema(_spec(table))
        if data.schema.equals(schema):
            return data
        missing = [n for n in schema.names if n not in data.column_names]
        for name in missing:
            data = data.append_column(name, pa.nulls(data.num_rows, schema.field(name).type))
        return data.select(schema.names).cast(schema)

    @staticmethod
    def _sqlite_values(data: pa.Table) -> pa.Table:
        """Columns as the SQLite file stores them: second-resolution timestamp text, ISO dates, 0/1."""
        cols = []
        for field, col in zip(data.schema, data.columns, strict=True):
            if pa.types.is_timestamp(field.type):
                col = timestamps_to_strings(col)
            elif pa.types.is_date(field.type):
                col = col.cast(pa.string())
            elif pa.types.is_boolean(field.type):
                col = col.cast(pa.int8())
            cols.append(col)
        return pa.table(cols, names=data.column_names)

    def insert(self, table: str, data: pa.Table) -> int:
        """Append rows (columns by name; missing nullable columns become NULL), in the background
        (`submit`): the caller computes its next rows meanwhile, and must not change the arrays
        these rows were built from."""
        self.submit([("insert", table, [data])])
        return data.num_rows

    def _insert(self, table: str, data: pa.Table) -> int:
        if not data.num_rows:
            return 0
        if self.dialect == "sqlite":
            cur = self.raw.cursor()
            cur.adbc_ingest(table, self._sqlite_values(data), mode="append")
            cur.close()
        else:
            self._copy(table, ", ".join(_q(c) for c in data.column_names), data)
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
        self.wait()
        return self._update(table, data)

    def _update(self, table: str, data: pa.Table) -> int:
        spec = _spec(table)
        if not data.num_rows:
            return 0
        keys = list(spec.primary_key)
        sets = [c for c in data.column_names if c not in keys]
        schema = pa.schema([pa.field(c, spec.column(c).arrow_type) for c in data.column_names])
        data = data.cast(schema)
        if self.dialect == "sqlite":
            assign = ", ".join(f"{_q(c)} = ?" for c in sets)
            where = " AND ".join(f"{_q(k)} = ?" for k in keys)
            cur = self.raw.cursor()
            cur.executemany(
                f"UPDATE {_q(table)} SET {assign} WHERE {where}",
                self._sqlite_values(data.select(sets + keys)),
            )
            cur.close()
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


def _sqlite_files(path: Path) -> list[Path]:
    """A SQLite database file and its companions (write-ahead log, shared memory, rollback journal)."""
    return [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))]


def timestamps_to_strings(col: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Second-resolution text, the form timestamps take in the SQLite file."""
    return pc.cast(pc.cast(col, pa.timestamp("s")), pa.string())
