"""Write an export family (dbt models `export.export__<table>`) as `exports/<family>/<YYYYMMDD>/<table>.parquet`."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_gcp.config import DataGcpError, Settings, get_settings
from data_gcp.log import get_logger

log = get_logger(__name__)

PSEUDONYM_KEY_SECRET = "export-pseudonym-key"


class ExportError(DataGcpError):
    """An export could not be written (missing model, missing key, bucket error)."""


@dataclass(frozen=True)
class ExportFamily:
    """Tables sent together to one partner; `pseudonymised` columns never leave in clear."""

    name: str
    tables: tuple[str, ...]
    pseudonymised: frozenset[str]


EXPORTS: dict[str, ExportFamily] = {
    "ministry": ExportFamily(
        name="ministry",
        tables=("user", "deposit", "booking", "offer", "venue", "offerer", "stock"),
        pseudonymised=frozenset({"user_id"}),
    ),
}


@dataclass(frozen=True)
class ExportedFile:
    table: str
    key: str
    rows: int
    bytes: int


def export_key(family: str, day: dt.date, table: str) -> str:
    """The bucket key of one exported table: the day in the path, so each day is a new folder."""
    return f"exports/{family}/{day:%Y%m%d}/{table}.parquet"


def pseudonymise(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """HMAC-SHA256 (hex) of each value's string form; nulls stay null. Same input, same pseudonym."""
    strings = pc.cast(values, pa.string()).to_pylist()
    return pa.array(
        [None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in strings],
        type=pa.string(),
    )


def _pseudonym_key(settings: Settings) -> bytes:
    """The secret key; locally, when no secret is set, one generated once per data folder.

    Why a local fallback: `data-gcp run` must work from a clean checkout; a key kept in the data folder
    keeps pseudonyms stable between local runs. In the cloud the secret is required.
    """
    from data_gcp.secrets import MissingSecretError, get_secret, has_secret

    if settings.is_cloud or has_secret(PSEUDONYM_KEY_SECRET, settings):
        try:
            return get_secret(PSEUDONYM_KEY_SECRET, settings).encode()
        except MissingSecretError as exc:
            raise ExportError(f"{exc}: exports need it to pseudonymise personal ids") from None
    path = settings.local_data_dir / "exports_pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def export_family(
    family: str = "ministry",
    day: dt.date | None = None,
    settings: Settings | None = None,
    warehouse: object | None = None,
    storage: object | None = None,
) -> list[ExportedFile]:
    """Write every table of `family` for `day` (default: today) and return what was written."""
    from data_gcp.storage import get_storage
    from data_gcp.warehouse import get_warehouse

    if family not in EXPORTS:
        raise ExportError(f"unknown export family {family!r}: expected one of {', '.join(EXPORTS)}")
    spec = EXPORTS[family]
    settings = settings or get_settings()
    day = day or dt.date.today()
    wh = warehouse or get_warehouse(settings)
    bucket = storage or get_storage(settings)
    key = _pseudonym_key(settings) if spec.pseudonymised else b""
    written = []
    for table in spec.tables:
        source = f"export.export__{table}"
        if not wh.table_exists(source):
            raise ExportError(
                f"{source} does not exist: build the dbt export models first "
                f"(`data-gcp dbt build --select export__{table}`)"
            )
        data = wh.query(f"select * from {wh.physical(source)}")
        for column in spec.pseudonymised & set(data.column_names):
            index = data.column_names.index(column)
            data = data.set_column(index, column, pseudonymise(data.column(column), key))
        buffer = io.BytesIO()
        pq.write_table(data, buffer, compression="zstd")
        target = export_key(family, day, table)
        bucket.put_bytes(target, buffer.getvalue())
        written.append(ExportedFile(table=table, key=target, rows=data.num_rows, bytes=buffer.tell()))
        log.info("export %s: %s rows -> %s", source, data.num_rows, bucket.uri(target))
    return written
