"""Reference tables maintained by hand as files: the newest `{table}_YYYYMMDD.(csv|parquet)` under
`bigquery_imports/seed/{table}/` of the import bucket replaces `seed.{table}` (`seed_<env>` in BigQuery).

Contract (docs/reference source-systems.md, "cold data"): bucket `de-bigquery-data-import-<env>`
(`DATA_GCP_SEED_FILES_BUCKET` overrides it; locally a folder under the data folder), service-account
access, newest file per table, the table replaced. "Newest" is the date in the file name (not the
upload time: re-uploading an old file must not win); a name that does not follow the pattern is
ignored with a warning.

Every table has a declared schema, one small JSON file per table in `schemas/` (columns, types,
nullability, primary key, CSV delimiter). Tables are independent: a malformed file (header, column
count, a value of the wrong type, a duplicate key) fails its table with a message naming the file and
the line, that table keeps its previous content, the other tables load, then the run fails.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pyarrow as pa

from data_gcp.config import DataGcpError
from data_gcp.etl_core import Batch, Column, Connector, RunContext, TableSpec
from data_gcp.http_client import SourceError, call_source
from data_gcp.log import get_logger

log = get_logger(__name__)

PREFIX = "bigquery_imports/seed"
_TRUE, _FALSE = {"true", "t", "1", "yes", "oui"}, {"false", "f", "0", "no", "non"}


class SeedFileError(DataGcpError):
    """A seed file does not match its declared schema; names the file and the line."""


@dataclass(frozen=True)
class SeedTable:
    spec: TableSpec
    delimiter: str = ","

    @property
    def name(self) -> str:
        return self.spec.name

    def prefix(self) -> str:
        return f"{PREFIX}/{self.name}/"

    def file_pattern(self) -> re.Pattern[str]:
        return re.compile(rf"{re.escape(self.name)}_(\d{{8}})\.(csv|parquet)")


def _load_schemas() -> dict[str, SeedTable]:
    """The declared schemas shipped with this brick (read from the package, no network)."""
    tables = {}
    folder = resources.files(__package__) / "schemas"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        name = entry.name.removesuffix(".json")
        doc = json.loads(entry.read_text(encoding="utf-8"))
        spec = TableSpec(
            name=name,
            object=name,
            description=doc.get("description", ""),
            columns=tuple(
                Column(c["name"], c.get("type", "string"), c.get("description", ""), c.get("nullable", True))
                for c in doc["columns"]
            ),
            write="replace",
            primary_key=tuple(doc.get("primary_key", ())),
            allow_empty=False,
            dataset="seed",
        )
        tables[name] = SeedTable(spec, doc.get("delimiter", ","))
    return tables


SEED_TABLES: dict[str, SeedTable] = _load_schemas()


def newest_file(keys: list[str], table: SeedTable) -> tuple[str, dt.date] | None:
    """The key whose name carries the latest date (`{table}_YYYYMMDD.ext`), or None."""
    pattern = table.file_pattern()
    best: tuple[dt.date, str] | None = None
    for key in keys:
        base = key.rsplit("/", 1)[-1]
        match = pattern.fullmatch(base)
        if not match:
            log.warning("seed_files: ignoring %s (expected %s_YYYYMMDD.csv|parquet)", key, table.name)
            continue
        try:
            day = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            log.warning("seed_files: ignoring %s (%s is not a date)", key, match.group(1))
            continue
        # same date in csv and parquet: parquet wins (typed), deterministically
        if best is None or (day, base.endswith(".parquet")) > (best[0], best[1].endswith(".parquet")):
            best = (day, key)
    return (best[1], best[0]) if best else None


def _convert(value: str, column: Column) -> Any:
    if column.type == "string" or column.type == "json":
        return value
    if column.type == "int":
        return int(value)
    if column.type == "float":
        return float(value)
    if column.type == "bool":
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"not a boolean: {value!r}")
    if column.type == "date":
        return dt.date.fromisoformat(value)
    if column.type == "timestamp":
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)  # naive means UTC
    raise ValueError(f"unsupported type {column.type}")


def parse_csv(data: bytes, table: SeedTable, where: str) -> pa.Table:
    """A CSV file checked against its declared schema; `SeedFileError` names `where` and the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SeedFileError(f"{where}: not UTF-8 text (byte {err.start}); save the file as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=table.delimiter)
    header = next(reader, None)
    expected = [c.name for c in table.spec.columns]
    if header is None:
        raise SeedFileError(
            f"{where}: empty file (line 1 must be the header {table.delimiter.join(expected)})"
        )
    header = [h.strip() for h in header]
    if sorted(header) != sorted(expected) or len(header) != len(set(header)):
        missing = [c for c in expected if c not in header]
        extra = [c for c in header if c not in expected]
        raise SeedFileError(
            f"{where}, line 1: the header does not match the declared schema "
            f"(missing {missing}, unexpected {extra}, delimiter {table.delimiter!r}); "
            f"expected columns {expected} (components/data_gcp/seed_files/schemas/{table.name}.json)"
        )
    columns = {c.name: c for c in table.spec.columns}
    out: dict[str, list[Any]] = {name: [] for name in expected}
    seen: dict[tuple, int] = {}
    key = table.spec.primary_key
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue  # blank line
        if len(fields) != len(header):
            raise SeedFileError(f"{where}, line {line}: {len(fields)} fields, expected {len(header)}")
        row: dict[str, Any] = {}
        for name, raw in zip(header, fields, strict=True):
            column = columns[name]
            raw = raw.strip()
            if raw == "":
                if not column.nullable:
                    raise SeedFileError(f"{where}, line {line}: column {name!r} is empty but required")
                row[name] = None
                continue
            try:
                row[name] = _convert(raw, column)
            except ValueError:
                raise SeedFileError(
                    f"{where}, line {line}: column {name!r}: {raw!r} is not a valid {column.type}"
                ) from None
        if key:
            values = tuple(row[k] for k in key)
            if values in seen:
                raise SeedFileError(
                    f"{where}, line {line}: duplicate key {dict(zip(key, values, strict=True))} "
                    f"(first on line {seen[values]})"
                )
            seen[values] = line
        for name in expected:
            out[name].append(row[name])
    return table.spec.to_arrow(out)


def parse_parquet(data: bytes, table: SeedTable, where: str) -> pa.Table:
    """A Parquet file checked against the declared schema (columns present, castable, keys unique)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parsed = pq.read_table(io.BytesIO(data))
    except Exception as err:  # noqa: BLE001 - any reader error is a malformed file
        raise SeedFileError(f"{where}: not a readable Parquet file ({err})") from None
    expected = [c.name for c in table.spec.columns]
    missing = [c for c in expected if c not in parsed.column_names]
    extra = [c for c in parsed.column_names if c not in expected]
    if missing or extra:
        raise SeedFileError(
            f"{where}: columns do not match the declared schema (missing {missing}, unexpected {extra})"
        )
    schema = table.spec.arrow_schema
    try:
        typed = parsed.select(expected).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as err:
        raise SeedFileError(f"{where}: a column has the wrong type for the declared schema ({err})") from None
    for column in table.spec.columns:
        nulls = typed.column(column.name).null_count
        if not column.nullable and nulls:
            first = pc.index(pc.is_null(typed.column(column.name)), True).as_py()
            raise SeedFileError(f"{where}, row {first + 1}: column {column.name!r} is null but required")
    if table.spec.primary_key:
        n_keys = typed.group_by(list(table.spec.primary_key)).aggregate([]).num_rows
        if n_keys != typed.num_rows:
            raise SeedFileError(
                f"{where}: {typed.num_rows - n_keys} duplicate key(s) on {list(table.spec.primary_key)}"
            )
    return typed


def read_seed_file(data: bytes, key: str, table: SeedTable, where: str) -> pa.Table:
    table_ = parse_parquet(data, table, where) if key.endswith(".parquet") else parse_csv(data, table, where)
    if table_.num_rows == 0:
        raise SeedFileError(f"{where}: no data rows; a reference table is never empty")
    return table_


class SeedFilesConnector(Connector):
    """Newest file per reference table from the import bucket (see the module docstring)."""

    name = "seed_files"
    description = "reference tables from the import bucket's seed files (seed.<table>, replaced)"
    schedule = "0 1 * * *"  # daily 01:00
    default_base_url = ""  # not HTTP: the import bucket
    tables = tuple(t.spec for t in SEED_TABLES.values())
    settings_help = {
        "BUCKET": "import bucket (DATA_GCP_SEED_FILES_BUCKET; default de-bigquery-data-import-<env>)"
    }

    def extract(self, ctx: RunContext) -> Iterator[Batch]:
        from data_gcp.storage import get_storage

        bucket = ctx.option("bucket", f"de-bigquery-data-import-{ctx.settings.env.value}")
        storage = get_storage(ctx.settings, bucket=bucket)

        def read(operation: str, fn: Callable[[], Any]) -> Any:  # SDK errors: SourceError, retried
            return call_source("seed_files", operation, fn, policy=ctx.policy, clock=ctx.clock)

        for name, table in SEED_TABLES.items():
            if not ctx.wants(name):
                continue
            try:
                listed = read(f"list {storage.uri(table.prefix())}", lambda t=table: storage.list(t.prefix()))
            except SourceError as err:
                ctx.fail_table(name, str(err))
                continue
            keys = [o.key for o in listed]
            found = newest_file(keys, table)
            if found is None:
                ctx.fail_table(
                    name, f"no file {table.name}_YYYYMMDD.csv|parquet under {storage.uri(table.prefix())}"
                )
                continue
            key, day = found
            where = storage.uri(key)
            try:
                content = read(f"read {where}", lambda key=key: storage.get_bytes(key))
                data = read_seed_file(content, key, table, where)
            except SourceError as err:  # the bucket refused or kept failing: this table only
                log.error("%s", err)
                ctx.fail_table(name, str(err))
                continue
            except SeedFileError as err:
                log.error("seed_files: %s", err)
                ctx.fail_table(name, str(err))
                continue
            log.info("seed_files: seed.%s <- %s (%d rows, file of %s)", name, key, data.num_rows, day)
            yield name, data


CONNECTOR = SeedFilesConnector
