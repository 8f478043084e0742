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
MIN_KEY_BYTES = 32  # HMAC-SHA256's output size: a shorter key can be guessed offline from the pseudonyms
K_ANONYMITY = 5  # the fewest people a combination of an export's quasi-identifiers may describe


class ExportError(DataGcpError):
    """An export could not be written (missing model, missing key, bucket error)."""


@dataclass(frozen=True)
class QuasiIdentifiers:
    """The columns of one exported table that, together, describe a person (`person`: their id)."""

    person: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ExportFamily:
    """Tables sent together to one partner.

    `pseudonymised` columns (every id that joins back to a person) never leave in clear; each
    table of `quasi_identifiers` must have at least `k` people behind every combination of those
    columns, checked on the data before the file is written.
    """

    name: str
    tables: tuple[str, ...]
    pseudonymised: frozenset[str]
    quasi_identifiers: dict[str, QuasiIdentifiers]
    k: int = K_ANONYMITY


EXPORTS: dict[str, ExportFamily] = {
    "ministry": ExportFamily(
        name="ministry",
        tables=(
            "user",
            "deposit",
            "booking",
            "offer",
            "venue",
            "offerer",
            "stock",
            "favorite",
            "offer_metadata",
            "offer_removed",
            "venue_removed",
            "offerer_removed",
            "address",
            "offerer_representation_address",
            "venue_address",
            "user_address",
            "geo_iris",
        ),
        pseudonymised=frozenset({"user_id", "deposit_id", "booking_id", "favorite_id"}),
        quasi_identifiers={
            "user": QuasiIdentifiers(
                person="user_id",
                columns=(
                    "user_role",
                    "user_birth_year",
                    "user_department_code",
                    "user_region_name",
                    "user_creation_period",
                    "user_is_active",
                    "user_is_beneficiary",
                    "current_deposit_type",
                ),
            ),
            "deposit": QuasiIdentifiers(
                person="user_id",
                columns=(
                    "deposit_type",
                    "deposit_source",
                    "deposit_amount",
                    "deposit_creation_period",
                    "deposit_is_expired",
                    "user_age_at_deposit",
                ),
            ),
            "user_address": QuasiIdentifiers(
                person="user_id",
                columns=(
                    "user_geocode_type",
                    "user_iris_code",
                    "user_city_code",
                    "user_postal_code",
                    "user_department_code",
                    "user_region_name",
                    "user_in_qpv_postal_code",
                ),
            ),
        },
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


def check_key(key: bytes) -> bytes:
    """The key itself when it is long enough to pseudonymise with; never shown in the error."""
    if len(key) < MIN_KEY_BYTES:
        raise ExportError(
            f"the pseudonymisation key (secret {PSEUDONYM_KEY_SECRET}) has {len(key)} bytes: at least "
            f"{MIN_KEY_BYTES} are required; set a random one, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    return key


def pseudonymise(values: pa.Array | pa.ChunkedArray, key: bytes, kind: str) -> pa.Array:
    """HMAC-SHA256 (hex) of `<kind>:<value>`; nulls stay null.

    One keyed scheme for every personal id: the same user has the same pseudonym in every table and
    every day. `kind` (user, deposit, booking) separates the id spaces, so that user 7 and booking 7
    do not share a pseudonym.
    """
    check_key(key)
    strings = pc.cast(values, pa.string()).to_pylist()
    return pa.array(
        [
            None if v is None else hmac.new(key, f"{kind}:{v}".encode(), hashlib.sha256).hexdigest()
            for v in strings
        ],
        type=pa.string(),
    )


def id_kind(column: str) -> str:
    """The kind of id a column holds: `user_id` -> `user`."""
    return column.removesuffix("_id")


def smallest_class(data: pa.Table, qi: QuasiIdentifiers) -> tuple[int, dict | None]:
    """The fewest distinct people sharing one combination of `qi.columns` in `data`, and that
    combination (nulls are a value); (0, None) for an empty table."""
    if data.num_rows == 0:
        return 0, None
    counts = data.group_by(list(qi.columns), use_threads=False).aggregate([(qi.person, "count_distinct")])
    column = f"{qi.person}_count_distinct"
    index = pc.index(counts.column(column), pc.min(counts.column(column))).as_py()
    row = counts.slice(index, 1).to_pylist()[0]
    return row.pop(column), row


def _pseudonym_key(settings: Settings) -> bytes:
    """The secret key; locally, when no secret is set, one generated once per data folder.

    Why a local fallback: `data-gcp run` must work from a clean checkout; a key kept in the data folder
    keeps pseudonyms stable between local runs. In the cloud the secret is required.
    """
    from data_gcp.secrets import MissingSecretError, get_secret, has_secret

    if settings.is_cloud or has_secret(PSEUDONYM_KEY_SECRET, settings):
        try:
            return check_key(get_secret(PSEUDONYM_KEY_SECRET, settings).encode())
        except MissingSecretError as exc:
            raise ExportError(f"{exc}: exports need it to pseudonymise personal ids") from None
    path = settings.local_data_dir / "exports_pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return check_key(path.read_text().strip().encode())


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
        qi = spec.quasi_identifiers.get(table)
        if qi is not None:
            missing = sorted(set(qi.columns) - set(data.column_names))
            if missing:
                raise ExportError(
                    f"{source} lacks its quasi-identifier columns {missing}: rebuild it with dbt"
                )
            k, combination = smallest_class(data, qi)
            if data.num_rows and k < spec.k:
                raise ExportError(
                    f"{source} is not {spec.k}-anonymous: {k} people share {combination}; nothing was "
                    f"written. Generalise its quasi-identifiers (dbt test k_anonymous on export__{table})"
                )
        for column in sorted(spec.pseudonymised & set(data.column_names)):
            index = data.column_names.index(column)
            data = data.set_column(index, column, pseudonymise(data.column(column), key, id_kind(column)))
        buffer = io.BytesIO()
        pq.write_table(data, buffer, compression="zstd")
        target = export_key(family, day, table)
        bucket.put_bytes(target, buffer.getvalue())
        written.append(ExportedFile(table=table, key=target, rows=data.num_rows, bytes=buffer.tell()))
        log.info("export %s: %s rows -> %s", source, data.num_rows, bucket.uri(target))
    return written
